/* Tests of the Llama example: logits against a plain double-precision forward on every ISA, prefill vs decode, threads, tokenizer, hostile files. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "model.h"
#include "sampler.h"
#include "synth.h"
#include "tokenizer.h"

/* Every allocation the test, the example and tinykern (linked statically into
   this binary with -Wl,--wrap=...: see meson.build) make, counted; libc's and
   pthreadpool's inner ones are not seen. */
static atomic_size_t allocations;
#if LLAMA_WRAP_MALLOC
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t n);

void *__wrap_malloc(size_t n) {
  atomic_fetch_add(&allocations, 1);
  return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size) {
  atomic_fetch_add(&allocations, 1);
  return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n) {
  atomic_fetch_add(&allocations, 1);
  return __real_realloc(p, n);
}
void *__wrap_aligned_alloc(size_t align, size_t n) {
  atomic_fetch_add(&allocations, 1);
  return __real_aligned_alloc(align, n);
}
#endif

/* The test shapes: "tiny" (grouped-query, separate classifier, hidden 172)
   and a shared-classifier one with as many kv heads as heads. */
static const llama_shape SHARED = {"tiny-shared", "tests", 32, 48, 2, 2, 2, 512, 32};

/* Checkpoint and tokenizer files of this process, in the working directory. */
static char tiny_path[64], shared_path[64], tok_path[64], scratch_path[64];

static void write_or_fail(const llama_shape *s, const char *path) {
  llama_err err;
  if (!llama_write_checkpoint(s, 7, path, &err)) fail_msg("%s", err.msg);
}

static int setup_files(void **state) {
  (void)state;
  int pid = (int)getpid();
  snprintf(tiny_path, sizeof tiny_path, "llama-test-%d-tiny.bin", pid);
  snprintf(shared_path, sizeof shared_path, "llama-test-%d-shared.bin", pid);
  snprintf(tok_path, sizeof tok_path, "llama-test-%d-tok.bin", pid);
  snprintf(scratch_path, sizeof scratch_path, "llama-test-%d-scratch.bin", pid);
  llama_err err;
  write_or_fail(llama_shape_named("tiny"), tiny_path);
  write_or_fail(&SHARED, shared_path);
  return llama_write_tokenizer(512, tok_path, &err) ? 0 : -1;
}

static int remove_files(void **state) {
  (void)state;
  remove(tiny_path);
  remove(shared_path);
  remove(tok_path);
  remove(scratch_path);
  return 0;
}

/* ---- the reference: llama2.c's forward, in double, one token at a time ---- */

/* With `quantized`, every matrix product is done as tk_qlinear documents it
   (weights and each input row quantized symmetrically to [-127, 127] with
   scale max|row| / 127 in fp32, exact integer sums), so the int8 model can be
   held to rounding-level agreement instead of to its quantization error. */
typedef struct reference {
  const llama_config *c;
  const llama_weights *w;
  bool quantized;
  double *k, *v; /* [layers][seq][kv_dim] */
} reference;

/* Quantizes a row by the tk_quantize_s8 rule; returns its scale. */
static float quantize_row(const float *x, size_t n, int32_t *q) {
  float max = 0.0f;
  for (size_t i = 0; i < n; i++) max = fmaxf(max, fabsf(x[i]));
  float scale = max > 0.0f ? max / 127.0f : 1.0f;
  for (size_t i = 0; i < n; i++) q[i] = (int32_t)fmaxf(-127.0f, fminf(127.0f, nearbyintf(x[i] / scale)));
  return scale;
}

/* y [out] = W [out][in] x [in]. */
static void ref_matvec(const reference *r, const float *W, size_t out, size_t in, const double *x, double *y) {
  if (!r->quantized) {
    for (size_t o = 0; o < out; o++) {
      double s = 0.0;
      for (size_t i = 0; i < in; i++) s += (double)W[o * in + i] * x[i];
      y[o] = s;
    }
    return;
  }
  float *xf = malloc(in * sizeof *xf);
  int32_t *qx = malloc(in * sizeof *qx), *qw = malloc(in * sizeof *qw);
  for (size_t i = 0; i < in; i++) xf[i] = (float)x[i];
  float sx = quantize_row(xf, in, qx);
  for (size_t o = 0; o < out; o++) {
    float sw = quantize_row(W + o * in, in, qw);
    int64_t s = 0;
    for (size_t i = 0; i < in; i++) s += (int64_t)qw[i] * qx[i];
    y[o] = (double)s * sw * sx;
  }
  free(xf);
  free(qx);
  free(qw);
}

static void ref_rmsnorm(const double *x, const float *w, size_t n, double *o) {
  double ss = 0.0;
  for (size_t i = 0; i < n; i++) ss += x[i] * x[i];
  double inv = 1.0 / sqrt(ss / (double)n + 1e-5);
  for (size_t i = 0; i < n; i++) o[i] = w[i] * inv * x[i];
}

static void ref_rope(double *v, size_t width, size_t head_size, size_t pos) {
  for (size_t i = 0; i < width; i += 2) {
    double a = (double)pos * pow(10000.0, -(double)(i % head_size) / (double)head_size);
    double x = v[i], y = v[i + 1];
    v[i] = x * cos(a) - y * sin(a);
    v[i + 1] = x * sin(a) + y * cos(a);
  }
}

/* out [dim] = attention of q over positions 0..pos of layer l's k, v. */
static void ref_attention(const reference *r, size_t l, size_t pos, const double *q, double *out) {
  const llama_config *c = r->c;
  size_t hs = c->head_size, group = c->n_heads / c->n_kv_heads;
  double *p = malloc((pos + 1) * sizeof *p);
  for (size_t h = 0; h < c->n_heads; h++) {
    const double *K = r->k + l * c->seq_len * c->kv_dim + (h / group) * hs;
    const double *V = r->v + l * c->seq_len * c->kv_dim + (h / group) * hs;
    double max = -INFINITY, sum = 0.0;
    for (size_t t = 0; t <= pos; t++) {
      double s = 0.0;
      for (size_t i = 0; i < hs; i++) s += q[h * hs + i] * K[t * c->kv_dim + i];
      p[t] = s / sqrt((double)hs);
      max = fmax(max, p[t]);
    }
    for (size_t t = 0; t <= pos; t++) sum += p[t] = exp(p[t] - max);
    for (size_t i = 0; i < hs; i++) {
      double acc = 0.0;
      for (size_t t = 0; t <= pos; t++) acc += p[t] / sum * V[t * c->kv_dim + i];
      out[h * hs + i] = acc;
    }
  }
  free(p);
}

/* Logits [vocab] of the token at position pos (earlier positions already run). */
static void ref_forward(reference *r, int32_t token, size_t pos, double *logits) {
  const llama_config *c = r->c;
  const llama_weights *w = r->w;
  size_t D = c->dim, KV = c->kv_dim, H = c->hidden_dim;
  double *x = malloc(D * sizeof *x), *xb = malloc(D * sizeof *xb), *q = malloc(D * sizeof *q);
  double *att = malloc(D * sizeof *att), *h1 = malloc(H * sizeof *h1), *h3 = malloc(H * sizeof *h3);
  for (size_t i = 0; i < D; i++) x[i] = w->token_embedding[(size_t)token * D + i];
  for (size_t l = 0; l < c->n_layers; l++) {
    double *k = r->k + (l * c->seq_len + pos) * KV, *v = r->v + (l * c->seq_len + pos) * KV;
    ref_rmsnorm(x, w->rms_att + l * D, D, xb);
    ref_matvec(r, w->wq + l * D * D, D, D, xb, q);
    ref_matvec(r, w->wk + l * KV * D, KV, D, xb, k);
    ref_matvec(r, w->wv + l * KV * D, KV, D, xb, v);
    ref_rope(q, D, c->head_size, pos);
    ref_rope(k, KV, c->head_size, pos);
    ref_attention(r, l, pos, q, att);
    ref_matvec(r, w->wo + l * D * D, D, D, att, xb);
    for (size_t i = 0; i < D; i++) x[i] += xb[i];
    ref_rmsnorm(x, w->rms_ffn + l * D, D, xb);
    ref_matvec(r, w->w1 + l * H * D, H, D, xb, h1);
    ref_matvec(r, w->w3 + l * H * D, H, D, xb, h3);
    for (size_t i = 0; i < H; i++) h1[i] = h1[i] / (1.0 + exp(-h1[i])) * h3[i];
    ref_matvec(r, w->w2 + l * D * H, D, H, h1, xb);
    for (size_t i = 0; i < D; i++) x[i] += xb[i];
  }
  ref_rmsnorm(x, w->rms_final, D, xb);
  ref_matvec(r, w->classifier, c->vocab_size, D, xb, logits);
  free(x);
  free(xb);
  free(q);
  free(att);
  free(h1);
  free(h3);
}

/* ---- the model against the reference ---- */

enum { PROMPT = 9, DECODE = 6 };
static const int32_t PROMPT_IDS[PROMPT] = {1, 300, 45, 123, 7, 400, 259, 260, 99};

static tk_isa original_isa;

static int restore_isa(void **state) {
  (void)state;
  return tk_isa_select(original_isa) == TK_OK ? 0 : -1;
}

/* Everything one model run needs. */
typedef struct fixture {
  llama_checkpoint ck;
  llama_model model;
  llama_session session;
  float *logits;
} fixture;

/* pool NULL: on the calling thread. */
static void fixture_open_on(fixture *f, const char *path, bool f32, tk_dtype cache, size_t batch,
                            tk_pool *pool) {
  llama_err err;
  if (!llama_checkpoint_open(path, &f->ck, &err)) fail_msg("%s", err.msg);
  if (!llama_model_load(&f->ck, f32, &f->model, &err)) fail_msg("%s", err.msg);
  tk_exec threads = tk_pool_exec(pool);
  if (!llama_session_create(&f->model, f->ck.cfg.seq_len, batch, cache, TK_KV_MEMORY_DEFAULT, &threads, &f->session, &err))
    fail_msg("%s", err.msg);
  f->logits = malloc(f->ck.cfg.vocab_size * sizeof *f->logits);
}

static void fixture_open(fixture *f, const char *path, bool f32, tk_dtype cache, size_t batch) {
  fixture_open_on(f, path, f32, cache, batch, NULL);
}

static void fixture_close(fixture *f) {
  llama_session_free(&f->session);
  llama_model_free(&f->model);
  llama_checkpoint_close(&f->ck);
  free(f->logits);
}

static void forward_or_fail(fixture *f, const int32_t *ids, size_t n) {
  llama_err err;
  if (!llama_forward(&f->model, &f->session, ids, n, f->logits, &err)) fail_msg("%s", err.msg);
}

static int32_t argmax_f(const float *x, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (x[i] > x[best]) best = i;
  return (int32_t)best;
}

/* max |got - want| / max |want| */
static double relative_error(const float *got, const double *want, size_t n) {
  double err = 0.0, mag = 0.0;
  for (size_t i = 0; i < n; i++) {
    err = fmax(err, fabs(got[i] - want[i]));
    mag = fmax(mag, fabs(want[i]));
  }
  return err / mag;
}

/* Prefill of PROMPT tokens, then DECODE greedy steps; after each, the logits
   against the reference fed the same tokens; returns the worst error. */
static double worst_error_vs_reference(const char *path, bool f32, bool quantized_reference) {
  fixture f = {0};
  fixture_open(&f, path, f32, TK_DTYPE_F32, PROMPT);
  const llama_config *c = &f.ck.cfg;
  reference r = {c, &f.ck.w, quantized_reference, NULL, NULL};
  r.k = malloc(c->n_layers * c->seq_len * c->kv_dim * sizeof *r.k);
  r.v = malloc(c->n_layers * c->seq_len * c->kv_dim * sizeof *r.v);
  double *want = malloc(c->vocab_size * sizeof *want), worst = 0.0;
  forward_or_fail(&f, PROMPT_IDS, PROMPT);
  for (size_t t = 0; t < PROMPT; t++) ref_forward(&r, PROMPT_IDS[t], t, want);
  worst = relative_error(f.logits, want, c->vocab_size);
  for (size_t t = PROMPT; t < PROMPT + DECODE; t++) {
    int32_t next = argmax_f(f.logits, c->vocab_size);
    forward_or_fail(&f, &next, 1);
    ref_forward(&r, next, t, want);
    worst = fmax(worst, relative_error(f.logits, want, c->vocab_size));
  }
  free(want);
  free(r.k);
  free(r.v);
  fixture_close(&f);
  return worst;
}

static bool select_or_skip(tk_isa isa) {
  if (!tk_isa_available(isa)) {
    print_message("  [skip] %s: not available on this CPU or build\n", tk_isa_name(isa));
    return false;
  }
  assert_int_equal(tk_isa_select(isa), TK_OK);
  return true;
}

/* fp32 weights: rounding only, 1e-4 of the largest logit. */
static void f32_logits_match_reference(void **state) {
  tk_isa isa = *(tk_isa *)*state;
  if (!select_or_skip(isa)) skip();
  const char *paths[] = {tiny_path, shared_path};
  for (int i = 0; i < 2; i++) {
    double e = worst_error_vs_reference(paths[i], true, false);
    print_message("  %s f32 %s: %.2e of the largest logit\n", tk_isa_name(isa), paths[i], e);
    if (e > 1e-4) fail_msg("%s f32 logits of %s: %.3e > 1e-4", tk_isa_name(isa), paths[i], e);
  }
}

/* int8 weights: against the reference doing tk_qlinear's arithmetic, the
   difference is fp32 rounding plus the rare activation whose rounding to
   int8 flips by one step (1e-3 of the largest logit); against the exact
   reference, the quantization error itself (allowed 5%). */
static void int8_logits_match_reference(void **state) {
  tk_isa isa = *(tk_isa *)*state;
  if (!select_or_skip(isa)) skip();
  const char *paths[] = {tiny_path, shared_path};
  for (int i = 0; i < 2; i++) {
    double e = worst_error_vs_reference(paths[i], false, true);
    double q = worst_error_vs_reference(paths[i], false, false);
    print_message("  %s int8 %s: %.2e vs int8 reference, %.2e vs exact\n", tk_isa_name(isa),
                  paths[i], e, q);
    if (e > 1e-3)
      fail_msg("%s int8 logits of %s vs int8 reference: %.3e > 1e-3", tk_isa_name(isa), paths[i], e);
    if (q > 5e-2) fail_msg("%s int8 logits of %s vs exact: %.3e > 5e-2", tk_isa_name(isa), paths[i], q);
  }
}

/* ---- prefill and decode ---- */

/* One prefill of PROMPT tokens then DECODE steps equals PROMPT + DECODE
   single steps, for each weight type and cache storage. */
static void prefill_then_decode_equals_token_by_token(void **state) {
  (void)state;
  static const tk_dtype caches[] = {TK_DTYPE_F32, TK_DTYPE_F16, TK_DTYPE_S8};
  static const char *const cache_names[] = {"f32", "f16", "s8"};
  for (int f32 = 0; f32 < 2; f32++)
    for (int d = 0; d < 3; d++) {
      fixture a = {0}, b = {0};
      fixture_open(&a, tiny_path, f32, caches[d], PROMPT);
      fixture_open(&b, tiny_path, f32, caches[d], 1);
      size_t vocab = a.ck.cfg.vocab_size;
      double *want = malloc(vocab * sizeof *want), worst = 0.0;
      forward_or_fail(&a, PROMPT_IDS, PROMPT);
      for (size_t t = 0; t < PROMPT; t++) forward_or_fail(&b, &PROMPT_IDS[t], 1);
      for (size_t step = 0;; step++) {
        for (size_t i = 0; i < vocab; i++) want[i] = b.logits[i];
        worst = fmax(worst, relative_error(a.logits, want, vocab));
        if (step == DECODE) break;
        int32_t next = argmax_f(a.logits, vocab);
        forward_or_fail(&a, &next, 1);
        forward_or_fail(&b, &next, 1);
      }
      print_message("  %s weights, %s cache: prefill vs single steps %.2e\n", f32 ? "f32" : "int8",
                    cache_names[d], worst);
      if (worst > 1e-5)
        fail_msg("%s weights, %s cache: prefill then decode differs from single steps by %.3e",
                 f32 ? "f32" : "int8", cache_names[d], worst);
      free(want);
      fixture_close(&a);
      fixture_close(&b);
    }
}

/* The f16 and s8 caches change the logits by their storage rounding only. */
static void cache_storage_changes_logits_a_little(void **state) {
  (void)state;
  static const tk_dtype caches[] = {TK_DTYPE_F16, TK_DTYPE_S8};
  static const double allowed[] = {1e-3, 3e-2};
  for (int d = 0; d < 2; d++) {
    fixture a = {0}, b = {0};
    fixture_open(&a, tiny_path, true, TK_DTYPE_F32, PROMPT);
    fixture_open(&b, tiny_path, true, caches[d], PROMPT);
    size_t vocab = a.ck.cfg.vocab_size;
    double *want = malloc(vocab * sizeof *want);
    forward_or_fail(&a, PROMPT_IDS, PROMPT);
    forward_or_fail(&b, PROMPT_IDS, PROMPT);
    for (size_t i = 0; i < vocab; i++) want[i] = a.logits[i];
    double e = relative_error(b.logits, want, vocab);
    print_message("  %s cache vs f32 cache: %.2e\n", d == 0 ? "f16" : "s8", e);
    if (e > allowed[d]) fail_msg("%s cache: %.3e > %.0e", d == 0 ? "f16" : "s8", e, allowed[d]);
    free(want);
    fixture_close(&a);
    fixture_close(&b);
  }
}

/* A full context is an error, not an overrun. */
static void full_context_is_an_error(void **state) {
  (void)state;
  fixture f = {0};
  fixture_open(&f, tiny_path, false, TK_DTYPE_F32, PROMPT);
  llama_err err = {{0}};
  size_t seq = f.ck.cfg.seq_len;
  int32_t one = 5;
  for (size_t t = 0; t < seq; t++) forward_or_fail(&f, &one, 1);
  assert_false(llama_forward(&f.model, &f.session, &one, 1, f.logits, &err));
  assert_non_null(strstr(err.msg, "context full"));
  int32_t bad = 100000;
  llama_session_reset(&f.session);
  assert_false(llama_forward(&f.model, &f.session, &bad, 1, f.logits, &err));
  assert_non_null(strstr(err.msg, "vocabulary"));
  fixture_close(&f);
}

/* ---- threads ---- */

/* Prefill, then DECODE greedy steps, on pool's threads (NULL: none): the
   logits after every step, logits [1 + DECODE][vocab], and the tokens picked. */
static void run_on(tk_pool *pool, bool f32, tk_dtype cache, float *logits, int32_t *tokens) {
  fixture f = {0};
  fixture_open_on(&f, tiny_path, f32, cache, PROMPT, pool);
  size_t vocab = f.ck.cfg.vocab_size;
  forward_or_fail(&f, PROMPT_IDS, PROMPT);
  for (size_t step = 0;; step++) {
    memcpy(logits + step * vocab, f.logits, vocab * sizeof *logits);
    tokens[step] = argmax_f(f.logits, vocab);
    if (step == DECODE) break;
    forward_or_fail(&f, &tokens[step], 1);
  }
  fixture_close(&f);
}

static tk_pool *pool_or_skip(size_t n_threads) {
  tk_pool *pool = NULL;
  tk_status st = tk_pool_create(n_threads, &pool);
  if (st == TK_ERR_UNSUPPORTED) {
    print_message("  [skip] tinykern built without its pool (pthreadpool)\n");
    skip();
  }
  assert_int_equal(st, TK_OK);
  return pool;
}

/* 1, 2 and 3 threads pick the tokens one thread picks, with every cache
   storage: int8 weights with bit-identical logits (tk_qlinear_forward_ex
   promises it), fp32 ones within rounding (a part of tk_linear_f32_ex may sum
   in another order). The tiny layers have 4 to 32 tile pairs: every part
   gets rows. */
static void threads_give_the_tokens_of_one(void **state) {
  (void)state;
  static const tk_dtype caches[] = {TK_DTYPE_F32, TK_DTYPE_F16, TK_DTYPE_S8};
  size_t vocab = (size_t)-llama_shape_named("tiny")->vocab_size, n = (1 + DECODE) * vocab;
  float *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
  int32_t want_tokens[1 + DECODE], got_tokens[1 + DECODE];
  for (size_t threads = 1; threads <= 3; threads++) {
    tk_pool *pool = pool_or_skip(threads);
    for (int f32 = 0; f32 < 2; f32++)
      for (int d = 0; d < 3; d++) {
        run_on(NULL, f32, caches[d], want, want_tokens);
        run_on(pool, f32, caches[d], got, got_tokens);
        const char *what = f32 ? "f32" : "int8";
        if (memcmp(got_tokens, want_tokens, sizeof want_tokens) != 0)
          fail_msg("%zu threads, %s weights, cache %d: other tokens than one thread", threads, what, d);
        double worst = 0.0;
        for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs((double)got[i] - want[i]));
        print_message("  %zu threads, %s weights, cache %d: logits differ by %.2e\n", threads, what,
                      d, worst);
        if (f32 ? worst > 1e-5 : memcmp(got, want, n * sizeof *got) != 0)
          fail_msg("%zu threads, %s weights, cache %d: logits differ by %.3e", threads, what, d, worst);
      }
    tk_pool_destroy(pool);
  }
  free(want);
  free(got);
}

/* A decode step (forward and sampling, as tinykern-llama runs it) allocates
   nothing on 1, 2 or 3 threads: the session preallocates every buffer and
   tinykern's workspace. Counted through the --wrap'ed allocators. */
static void decode_steps_allocate_nothing(void **state) {
  (void)state;
#if !LLAMA_WRAP_MALLOC
  print_message("  [skip] the linker cannot wrap malloc here\n");
  skip();
#endif
  for (size_t threads = 1; threads <= 3; threads++) {
    tk_pool *pool = threads > 1 ? pool_or_skip(threads) : NULL;
    for (int f32 = 0; f32 < 2; f32++) {
      fixture f = {0};
      fixture_open_on(&f, tiny_path, f32, TK_DTYPE_S8, PROMPT, pool);
      llama_sampler sampler;
      llama_err err;
      assert_true(llama_sampler_init(&sampler, f.ck.cfg.vocab_size, 0.8f, 0.9f, 1, &err));
      forward_or_fail(&f, PROMPT_IDS, PROMPT);
      size_t before = atomic_load(&allocations);
      for (int step = 0; step < DECODE; step++) {
        int32_t next = llama_sample(&sampler, f.logits);
        forward_or_fail(&f, &next, 1);
      }
      size_t during = atomic_load(&allocations) - before;
      if (during) fail_msg("%zu threads, %s weights: %zu allocations in %d decode steps", threads,
                           f32 ? "f32" : "int8", during, DECODE);
      llama_sampler_free(&sampler);
      fixture_close(&f);
    }
    tk_pool_destroy(pool);
  }
}

/* ---- tokenizer ---- */

static void load_tokenizer(llama_tokenizer *t) {
  llama_err err;
  if (!llama_tokenizer_load(tok_path, 512, t, &err)) fail_msg("%s", err.msg);
}

static void encode_or_fail(const llama_tokenizer *t, const char *text, int32_t **ids, size_t *n) {
  llama_err err;
  if (!llama_encode(t, text, true, ids, n, &err)) fail_msg("%s", err.msg);
}

/* decode(encode(text)) == text, byte for byte, for ASCII, control
   characters and UTF-8 the vocabulary lacks (byte fallback). */
static void tokenizer_round_trip(void **state) {
  (void)state;
  static const char *const texts[] = {
      "", "a", "Once upon a time", " leading space", "two  spaces\tand a tab\nnewline",
      "w\xc3\xb6rld \xe2\x80\x94 \xc3\xbcn\303\257code \xe2\x9c\x93 \xf0\x9f\x98\x80", "~!@#$%^&*()_+{}|:\"<>?",
      "<0x41> is not a byte token in text", "\xff\xfe stray bytes \x80"};
  llama_tokenizer t;
  load_tokenizer(&t);
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    int32_t *ids;
    size_t n;
    encode_or_fail(&t, texts[i], &ids, &n);
    assert_true(n >= 1 && ids[0] == LLAMA_TOKEN_BOS);
    char out[256] = "";
    size_t len = 0;
    for (size_t k = 1; k < n; k++) {
      size_t piece_len;
      const char *piece = llama_decode_piece(&t, ids[k - 1], ids[k], &piece_len);
      memcpy(out + len, piece, piece_len);
      len += piece_len;
    }
    if (len != strlen(texts[i]) || memcmp(out, texts[i], len) != 0)
      fail_msg("round trip of \"%s\" gave \"%.*s\"", texts[i], (int)len, out);
    free(ids);
  }
  llama_tokenizer_free(&t);
}

/* BPE merges by score: "abc" is the dummy-prefixed " a" (merged first: it
   scores higher) and "bc"; an unknown character becomes its bytes. */
static void tokenizer_merges_by_score(void **state) {
  (void)state;
  llama_tokenizer t;
  load_tokenizer(&t);
  int32_t *ids;
  size_t n;
  encode_or_fail(&t, "abc", &ids, &n);
  assert_int_equal(n, 3);
  assert_int_equal(ids[1], llama_lookup(&t, " a", 2));
  assert_int_equal(ids[2], llama_lookup(&t, "bc", 2));
  free(ids);
  encode_or_fail(&t, "\xc3\xa9", &ids, &n); /* e acute: not in the vocabulary */
  assert_int_equal(n, 4);
  assert_int_equal(ids[1], llama_lookup(&t, " ", 1));
  assert_int_equal(ids[2], LLAMA_TOKEN_BYTE0 + 0xC3);
  assert_int_equal(ids[3], LLAMA_TOKEN_BYTE0 + 0xA9);
  free(ids);
  llama_tokenizer_free(&t);
}

/* Reads a whole file into memory (4-byte aligned: malloc). */
static unsigned char *read_file(const char *path, size_t *bytes) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  *bytes = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *data = malloc(*bytes + 64);
  assert_int_equal(fread(data, 1, *bytes, f), *bytes);
  fclose(f);
  return data;
}

static void expect_tokenizer_rejected(const unsigned char *data, size_t bytes, size_t vocab,
                                      const char *what) {
  llama_tokenizer t;
  llama_err err = {{0}};
  if (llama_tokenizer_parse(data, bytes, vocab, &t, &err)) {
    llama_tokenizer_free(&t);
    fail_msg("tokenizer %s accepted", what);
  }
  assert_true(err.msg[0] != '\0');
}

static void hostile_tokenizers_are_rejected(void **state) {
  (void)state;
  size_t bytes;
  unsigned char *data = read_file(tok_path, &bytes);
  for (size_t cut = 0; cut < bytes; cut += 1 + cut / 3) expect_tokenizer_rejected(data, cut, 512, "truncated");
  expect_tokenizer_rejected(data, bytes - 1, 512, "missing its last byte");
  expect_tokenizer_rejected(data, bytes + 1, 512, "with a byte more");
  expect_tokenizer_rejected(data, bytes, 511, "of another vocabulary size");
  expect_tokenizer_rejected(data, bytes, 200, "without byte tokens");
  unsigned char *bad = malloc(bytes);
  const int32_t lengths[] = {-1, 7, INT32_MAX, INT32_MIN};
  for (size_t i = 0; i < 4; i++) { /* the first token's length field: bytes 8..11 */
    memcpy(bad, data, bytes);
    memcpy(bad + 8, &lengths[i], 4);
    expect_tokenizer_rejected(bad, bytes, 512, "with a bad token length");
  }
  const float nan = NAN;
  memcpy(bad, data, bytes);
  memcpy(bad + 4, &nan, 4);
  expect_tokenizer_rejected(bad, bytes, 512, "with a NaN score");
  const int32_t max_lengths[] = {0, -5, INT32_MAX};
  for (size_t i = 0; i < 3; i++) {
    memcpy(bad, data, bytes);
    memcpy(bad, &max_lengths[i], 4);
    expect_tokenizer_rejected(bad, bytes, 512, "with a bad max_token_length");
  }
  free(bad);
  free(data);
}

/* ---- sampling ---- */

static void sampling_greedy_and_top_p(void **state) {
  (void)state;
  enum { V = 1000 };
  float logits[V], work[V];
  for (int i = 0; i < V; i++) logits[i] = (float)((i * 7919) % V) / 100.0f; /* 1000 distinct values, 0 .. 9.99 */
  int32_t best = argmax_f(logits, V);
  llama_sampler greedy, a, b;
  llama_err err;
  assert_true(llama_sampler_init(&greedy, V, 0.0f, 0.9f, 1, &err));
  memcpy(work, logits, sizeof work);
  assert_int_equal(llama_sample(&greedy, work), best);
  /* top-p 0.9 at temperature 0.5 keeps the few highest: every draw is one of
     them, and the same seed draws the same sequence */
  assert_true(llama_sampler_init(&a, V, 0.5f, 0.9f, 42, &err));
  assert_true(llama_sampler_init(&b, V, 0.5f, 0.9f, 42, &err));
  for (int k = 0; k < 500; k++) {
    memcpy(work, logits, sizeof work);
    int32_t x = llama_sample(&a, work);
    memcpy(work, logits, sizeof work);
    assert_int_equal(llama_sample(&b, work), x);
    assert_true(logits[x] >= logits[best] - 1.5f); /* within the nucleus at T = 0.5 */
  }
  assert_false(llama_sampler_init(&greedy, V, -1.0f, 0.9f, 1, &err));
  assert_false(llama_sampler_init(&greedy, V, 1.0f, 1.5f, 1, &err));
  llama_sampler_free(&greedy);
  llama_sampler_free(&a);
  llama_sampler_free(&b);
}

/* ---- hostile checkpoints ---- */

static void expect_parse_rejected(const unsigned char *data, size_t bytes, const char *what) {
  llama_config c;
  llama_weights w;
  llama_err err = {{0}};
  if (llama_checkpoint_parse(data, bytes, &c, &w, &err)) fail_msg("checkpoint %s accepted", what);
  assert_true(err.msg[0] != '\0');
}

/* Writes the bytes to the scratch file; opening it must fail with a message. */
static void expect_open_rejected(const unsigned char *data, size_t bytes, const char *what) {
  FILE *f = fopen(scratch_path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, bytes, f), bytes);
  fclose(f);
  llama_checkpoint ck;
  llama_err err = {{0}};
  if (llama_checkpoint_open(scratch_path, &ck, &err)) {
    llama_checkpoint_close(&ck);
    fail_msg("checkpoint file %s accepted", what);
  }
  assert_true(err.msg[0] != '\0');
  assert_null(ck.map);
}

static void truncated_and_oversized_checkpoints_are_rejected(void **state) {
  (void)state;
  size_t bytes;
  unsigned char *data = read_file(tiny_path, &bytes);
  for (size_t cut = 0; cut < bytes; cut += 1 + cut / 2) expect_parse_rejected(data, cut, "truncated");
  const size_t cuts[] = {0, 1, 27, 28, 29, bytes / 2, bytes - 4, bytes - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) expect_open_rejected(data, cuts[i], "truncated");
  memset(data + bytes, 0, 64);
  expect_parse_rejected(data, bytes + 4, "with 4 bytes more");
  expect_open_rejected(data, bytes + 1, "with 1 byte more");
  expect_open_rejected(data, bytes + 64, "with 64 bytes more");
  free(data);
}

/* Every header field at values a checkpoint cannot have, and head counts
   that do not divide: each is refused before any size is trusted. */
static void bad_header_fields_are_rejected(void **state) {
  (void)state;
  size_t bytes;
  unsigned char *data = read_file(tiny_path, &bytes);
  unsigned char *bad = malloc(bytes);
  const int32_t values[] = {0, -1, INT32_MIN, INT32_MAX, 1 << 20, 3};
  for (int field = 0; field < 7; field++)
    for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
      memcpy(bad, data, bytes);
      memcpy(bad + 4 * field, &values[v], 4);
      char what[64];
      snprintf(what, sizeof what, "with field %d = %d", field, (int)values[v]);
      expect_parse_rejected(bad, bytes, what);
    }
  static const int32_t headers[][7] = {
      {64, 172, 2, 4, 3, -512, 64},  /* 4 heads on 3 kv heads */
      {64, 172, 2, 2, 4, -512, 64},  /* more kv heads than heads */
      {66, 172, 2, 4, 2, -512, 64},  /* dim not a multiple of heads */
      {12, 172, 2, 4, 2, -512, 64},  /* odd head size */
      {0x34326b61, 1, 2, 3, 4, 5, 6}, /* llama2.c's newer export ("ak42", version 1) */
  };
  for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
    memcpy(bad, data, bytes);
    memcpy(bad, headers[i], sizeof headers[i]);
    expect_parse_rejected(bad, bytes, "with inconsistent heads");
  }
  free(bad);
  free(data);
}

/* Random bytes of random lengths: never accepted, never a crash. */
static void garbage_is_rejected(void **state) {
  (void)state;
  uint64_t s = 12345;
  uint32_t *buf = malloc(1 << 16);
  for (int trial = 0; trial < 300; trial++) {
    size_t bytes = 0;
    for (size_t i = 0; i < (1 << 16) / 4; i++) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      buf[i] = (uint32_t)(s >> 32);
    }
    bytes = (size_t)(s >> 20) % (1 << 16);
    expect_parse_rejected((const unsigned char *)buf, bytes, "of random bytes");
    expect_parse_rejected((const unsigned char *)buf, bytes % 64, "of a few random bytes");
  }
  free(buf);
}

/* A well-formed file with non-finite weights is refused when loading, with
   either weight type; huge finite weights give an error or logits, never a crash. */
static void bad_weights_fail_cleanly(void **state) {
  (void)state;
  size_t bytes;
  unsigned char *data = read_file(tiny_path, &bytes);
  llama_config c;
  llama_weights w;
  llama_err err = {{0}};
  for (int f32 = 0; f32 < 2; f32++) {
    unsigned char *copy = malloc(bytes);
    memcpy(copy, data, bytes);
    memset(copy + bytes / 2, 0xFF, 64); /* NaN bit patterns somewhere in the weights */
    llama_checkpoint ck = {0};
    assert_true(llama_checkpoint_parse(copy, bytes, &c, &w, &err));
    ck.cfg = c;
    ck.w = w;
    llama_model m;
    if (llama_model_load(&ck, f32, &m, &err)) fail_msg("NaN weights accepted (f32 %d)", f32);
    assert_non_null(strstr(err.msg, f32 ? "not finite" : "tk_qlinear_create_rows"));
    /* every weight times 1e30: finite, but products overflow fp32 */
    float *fw = (float *)(void *)(copy + 28);
    memcpy(copy, data, bytes);
    for (size_t i = 0; i < (bytes - 28) / 4; i++) fw[i] *= 1e30f;
    assert_true(llama_checkpoint_parse(copy, bytes, &c, &w, &err));
    ck.cfg = c;
    ck.w = w;
    assert_true(llama_model_load(&ck, f32, &m, &err));
    llama_session s;
    assert_true(llama_session_create(&m, c.seq_len, PROMPT, TK_DTYPE_S8, TK_KV_MEMORY_DEFAULT, NULL, &s, &err));
    float *logits = malloc(c.vocab_size * sizeof *logits);
    if (!llama_forward(&m, &s, PROMPT_IDS, PROMPT, logits, &err)) {
      assert_true(err.msg[0] != '\0');
      print_message("  huge weights (%s): %s\n", f32 ? "f32" : "int8", err.msg);
    }
    free(logits);
    llama_session_free(&s);
    llama_model_free(&m);
    free(copy);
  }
  free(data);
}

/* Each per-ISA case's state: its ISA (one case per ISA, every one tinykern
   lists: a failing variant never hides another, an unavailable one shows as
   skipped). */
static tk_isa ISAS[TK_ISA_COUNT];
static char isa_case_names[2][TK_ISA_COUNT][64];

/* The per-ISA cases of fn, named "<fn>/<isa>", into cases[0 .. TK_ISA_COUNT). */
static void each_isa(struct CMUnitTest *cases, char names[][64], const char *fn_name,
                     CMUnitTestFunction fn) {
  for (int i = 0; i < TK_ISA_COUNT; i++) {
    ISAS[i] = (tk_isa)i;
    snprintf(names[i], 64, "%s/%s", fn_name, tk_isa_name((tk_isa)i));
    cases[i] = (struct CMUnitTest){names[i], fn, NULL, restore_isa, &ISAS[i]};
  }
}

int main(void) {
  original_isa = tk_isa_active();
  struct CMUnitTest tests[2 * TK_ISA_COUNT + 13] = {
      [2 * TK_ISA_COUNT] = cmocka_unit_test(prefill_then_decode_equals_token_by_token),
      cmocka_unit_test(cache_storage_changes_logits_a_little),
      cmocka_unit_test(full_context_is_an_error),
      cmocka_unit_test(threads_give_the_tokens_of_one),
      cmocka_unit_test(decode_steps_allocate_nothing),
      cmocka_unit_test(tokenizer_round_trip),
      cmocka_unit_test(tokenizer_merges_by_score),
      cmocka_unit_test(hostile_tokenizers_are_rejected),
      cmocka_unit_test(sampling_greedy_and_top_p),
      cmocka_unit_test(truncated_and_oversized_checkpoints_are_rejected),
      cmocka_unit_test(bad_header_fields_are_rejected),
      cmocka_unit_test(garbage_is_rejected),
      cmocka_unit_test(bad_weights_fail_cleanly),
  };
  each_isa(tests, isa_case_names[0], "f32_logits_match_reference", f32_logits_match_reference);
  each_isa(tests + TK_ISA_COUNT, isa_case_names[1], "int8_logits_match_reference",
           int8_logits_match_reference);
  return cmocka_run_group_tests(tests, setup_files, remove_files);
}
