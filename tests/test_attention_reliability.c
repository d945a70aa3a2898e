/* Attention reliability (issue 13): huge magnitudes with small logits, sliding caches that forget, s8 query precision, initialised s8 tiles, bounded stack, misaligned caller arrays. */
#include <float.h>
#include <math.h>
#include <limits.h>
#include <pthread.h>

#include "attention/attention_cache.h"
#include "attention/attention_kernels.h"
#include "tk_test.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const tk_dtype dtypes[] = {TK_DTYPE_F32, TK_DTYPE_F16, TK_DTYPE_S8};

static const char *dtype_name(tk_dtype dt) {
  return dt == TK_DTYPE_F32 ? "f32" : dt == TK_DTYPE_F16 ? "f16" : "s8";
}

static void *xmalloc(size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  assert_non_null(p);
  return p;
}

static tk_kv_cache *cache_new(size_t n_kv, size_t d, size_t cap, tk_dtype dt, bool sliding) {
  tk_kv_config cfg = {n_kv, d, cap, dt, sliding, TK_KV_MEMORY_DEFAULT};
  tk_kv_cache *c = NULL;
  assert_int_equal(tk_kv_cache_create(&cfg, &c), TK_OK);
  return c;
}

/* softmax(q k^T / sqrt(d)) v of one query row over n positions (one kv
   head, rows of d), in double. */
static void ref_attend(const float *q, const float *k, const float *v, size_t n, size_t d,
                       double *out) {
  double m = -INFINITY, l = 0.0;
  double *s = xmalloc(n * sizeof(double));
  for (size_t j = 0; j < n; j++) {
    double dot = 0.0;
    for (size_t e = 0; e < d; e++) dot += (double)q[e] * k[j * d + e];
    s[j] = dot / sqrt((double)d);
    m = fmax(m, s[j]);
  }
  for (size_t e = 0; e < d; e++) out[e] = 0.0;
  for (size_t j = 0; j < n; j++) {
    const double p = exp(s[j] - m);
    l += p;
    for (size_t e = 0; e < d; e++) out[e] += p * v[j * d + e];
  }
  for (size_t e = 0; e < d; e++) out[e] /= l;
  free(s);
}

static void expect_close(const char *what, tk_isa isa, tk_dtype dt, const float *got,
                         const double *want, size_t n, double tol) {
  for (size_t e = 0; e < n; e++)
    if (!isfinite(got[e]) || !(fabs(got[e] - want[e]) <= tol)) {
      print_error("%s %s (%s) %s: element %zu got %.6g want %.6g (tolerance %.3g)\n", what,
                  tk_isa_name(isa), tk_test_kind(isa), dtype_name(dt), e, (double)got[e],
                  want[e], tol);
      fail();
    }
}

/* ---- (1) huge magnitudes, ordinary logits ---- */

/* head_dim 3, q = {2^104, 0, 4} against K rows {0, 2^104, 0}, {0, 0, 1},
   {0, 0, 2}, V = identity: the logits are 0, 4 / sqrt(3), 8 / sqrt(3), and
   the softmax [0.009 0.090 0.902]. One scalar bound on |q| |k| used to divide
   these logits by 2^9 ([0.332 0.333 0.335]). */
static void huge_magnitudes_with_ordinary_logits_give_the_softmax(tk_isa isa) {
  const float q[3] = {0x1p104f, 0.0f, 4.0f};
  const float k[9] = {0.0f, 0x1p104f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 2.0f};
  const float v[9] = {1.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 1.0f};
  double want[3];
  ref_attend(q, k, v, 3, 3, want);
  assert_true(fabs(want[2] - 0.902) < 1e-3);
  const tk_kernels *kt = tk_test_table(isa);
  float out[3];
  tk_kv_cache *c = cache_new(1, 3, 3, TK_DTYPE_F32, false);
  assert_int_equal(tk_kv_cache_append_with(kt, c, k, v, 3), TK_OK);
  assert_int_equal(tk_attend_with(kt, c, q, 1, 1, out), TK_OK);
  expect_close("tk_attend q={2^104,0,4}", isa, TK_DTYPE_F32, out, want, 3, 1e-6);
  tk_kv_cache_destroy(c);
  /* The same in a sliding ring that has wrapped (the rows at other slots). */
  c = cache_new(1, 3, 3, TK_DTYPE_F32, true);
  assert_int_equal(tk_kv_cache_append_with(kt, c, v, k, 2), TK_OK);
  assert_int_equal(tk_kv_cache_append_with(kt, c, k, v, 3), TK_OK);
  assert_int_equal(tk_attend_with(kt, c, q, 1, 1, out), TK_OK);
  expect_close("tk_attend q={2^104,0,4} (wrapped)", isa, TK_DTYPE_F32, out, want, 3, 1e-6);
  tk_kv_cache_destroy(c);
  float full_q[9] = {0}, full[9];
  memcpy(full_q + 6, q, sizeof q);
  assert_int_equal(tk_attention_f32_with(kt, full_q, k, v, 3, 1, 1, 3, true, full), TK_OK);
  expect_close("tk_attention_f32 q={2^104,0,4}", isa, TK_DTYPE_F32, full + 6, want, 3, 1e-6);
}

/* Random cases of the same kind: q and K each have a huge part (2^90 ..
   2^126) on dims where the other is zero, plus ordinary values elsewhere, so
   the logits stay ordinary; the result must match the double reference to
   fp32 accuracy, for decode and multi-token queries. Finite always. */
static void huge_disjoint_parts_match_the_reference(tk_isa isa) {
  enum { D = 24, N = 40, NQ = 3 };
  tk_rng r = {131};
  float *k = xmalloc(N * D * sizeof(float)), *v = xmalloc(N * D * sizeof(float));
  float q[NQ * D], out[NQ * D];
  double want[D];
  for (int round = 0; round < 6; round++) {
    const float huge = ldexpf(1.0f, 90 + 6 * round);
    for (size_t i = 0; i < N * D; i++) {
      const size_t e = i % D;
      k[i] = e < 8 ? tk_rng_f32(&r, -1.0f, 1.0f) * huge : e < 16 ? 0.0f : tk_rng_f32(&r, -1.0f, 1.0f);
      v[i] = tk_rng_f32(&r, -1.0f, 1.0f);
    }
    for (size_t i = 0; i < NQ * D; i++) {
      const size_t e = i % D;
      q[i] = e < 8 ? 0.0f : e < 16 ? tk_rng_f32(&r, -1.0f, 1.0f) * huge : tk_rng_f32(&r, -3.0f, 3.0f);
    }
    const tk_kernels *kt = tk_test_table(isa);
    tk_kv_cache *c = cache_new(1, D, N, TK_DTYPE_F32, false);
    assert_int_equal(tk_kv_cache_append_with(kt, c, k, v, N), TK_OK);
    assert_int_equal(tk_attend_with(kt, c, q, NQ, 1, out), TK_OK);
    for (size_t t = 0; t < NQ; t++) {
      ref_attend(q + t * D, k, v, N - NQ + 1 + t, D, want);
      expect_close("tk_attend huge disjoint parts", isa, TK_DTYPE_F32, out + t * D, want, D,
                   1e-5);
    }
    tk_kv_cache_destroy(c);
  }
  free(k), free(v);
}

/* One kv head, two query heads: q0 = {1e30, 0} meets K = {1e30, 0} (a logit
   of ~7e59, which the scaling compresses), q1 = {0, 3} meets only ordinary
   values. Each row is scaled for itself: q1's softmax is exact. (Found by
   fuzz_kv: one exponent per kv head compressed q1's logits with q0's.) */
static void one_huge_row_leaves_the_others_exact(tk_isa isa) {
  const float k[6] = {0.0f, 1.0f, 0.0f, -1.0f, 1e30f, 0.0f};
  const float v[6] = {1.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f};
  const float q[4] = {1e30f, 0.0f, 0.0f, 3.0f};
  double want[2];
  ref_attend(q + 2, k, v, 3, 2, want);
  const tk_kernels *kt = tk_test_table(isa);
  for (size_t ti = 0; ti < 2; ti++) { /* f32, and s8 (exact K and V here) */
    const tk_dtype dt = ti ? TK_DTYPE_S8 : TK_DTYPE_F32;
    float out[4];
    tk_kv_cache *c = cache_new(1, 2, 3, dt, false);
    assert_int_equal(tk_kv_cache_append_with(kt, c, k, v, 3), TK_OK);
    assert_int_equal(tk_attend_with(kt, c, q, 1, 2, out), TK_OK);
    expect_close("q1={0,3} beside q0={1e30,0}", isa, dt, out + 2, want, 2,
                 dt == TK_DTYPE_S8 ? 2e-3 : 1e-6);
    tk_kv_cache_destroy(c);
  }
}

/* ---- (2) a sliding cache depends on the positions it holds ---- */

/* Capacity 2: K = {1e30, 0} first, then 10 ordinary tokens (K {0, 1} and
   {0, -1} in turn, V {1, 0} and {0, 1}); q = {1e31, 4}. The two held
   positions give logits +-4 / sqrt(2): out[0] = 0.9965, as in a fresh cache
   holding them. A max |k| kept since the reset (1e30, evicted long ago)
   scaled these logits down (0.587). */
static void sliding_cache_forgets_evicted_keys(tk_isa isa) {
  const float big_k[2] = {1e30f, 0.0f}, big_v[2] = {0.5f, 0.5f};
  float k[20], v[20];
  for (size_t t = 0; t < 10; t++) {
    k[2 * t] = 0.0f, k[2 * t + 1] = t % 2 ? -1.0f : 1.0f;
    v[2 * t] = t % 2 ? 0.0f : 1.0f, v[2 * t + 1] = t % 2 ? 1.0f : 0.0f;
  }
  const float q[2] = {1e31f, 4.0f};
  double want[2];
  ref_attend(q, k + 16, v + 16, 2, 2, want);
  assert_true(fabs(want[0] - 0.9965) < 1e-4);
  const tk_kernels *kt = tk_test_table(isa);
  for (size_t ti = 0; ti < COUNT(dtypes); ti++) {
    float got[2], fresh_out[2];
    tk_kv_cache *c = cache_new(1, 2, 2, dtypes[ti], true);
    assert_int_equal(tk_kv_cache_append_with(kt, c, big_k, big_v, 1), TK_OK);
    for (size_t t = 0; t < 10; t++)
      assert_int_equal(tk_kv_cache_append_with(kt, c, k + 2 * t, v + 2 * t, 1), TK_OK);
    assert_int_equal(tk_attend_with(kt, c, q, 1, 1, got), TK_OK);
    tk_kv_cache *fresh = cache_new(1, 2, 2, dtypes[ti], true);
    assert_int_equal(tk_kv_cache_append_with(kt, fresh, k + 16, v + 16, 2), TK_OK);
    assert_int_equal(tk_attend_with(kt, fresh, q, 1, 1, fresh_out), TK_OK);
    const double f[2] = {fresh_out[0], fresh_out[1]};
    expect_close("sliding cache vs fresh cache", isa, dtypes[ti], got, f, 2, 1e-6);
    /* f32 and f16 store these values exactly; s8 quantizes q = {1e31, 4}
       with 15 bits, which loses the 4 (its documented error bound). */
    if (dtypes[ti] != TK_DTYPE_S8)
      expect_close("sliding cache q={1e31,4}", isa, dtypes[ti], got, want, 2, 1e-5);
    tk_kv_cache_destroy(c);
    tk_kv_cache_destroy(fresh);
  }
}

/* The same for V: a huge V evicted long ago must not change the weights'
   scaling (and so the result) of the positions held now. */
static void sliding_cache_forgets_evicted_values(tk_isa isa) {
  enum { D = 4, CAP = 5, N = 23 };
  tk_rng r = {132};
  float k[N * D], v[N * D], q[D], got[D], fresh_out[D];
  for (size_t i = 0; i < N * D; i++) {
    k[i] = tk_rng_f32(&r, -3.0f, 3.0f);
    v[i] = tk_rng_f32(&r, -1.0f, 1.0f);
  }
  for (size_t e = 0; e < D; e++) v[e] = 3e38f, k[e] = 1e30f; /* position 0: evicted */
  for (size_t e = 0; e < D; e++) q[e] = tk_rng_f32(&r, -30.0f, 30.0f);
  const tk_kernels *kt = tk_test_table(isa);
  for (size_t ti = 0; ti < COUNT(dtypes); ti++) {
    tk_kv_cache *c = cache_new(1, D, CAP, dtypes[ti], true);
    tk_kv_cache *fresh = cache_new(1, D, CAP, dtypes[ti], true);
    assert_int_equal(tk_kv_cache_append_with(kt, c, k, v, 3), TK_OK);
    assert_int_equal(tk_kv_cache_append_with(kt, c, k + 3 * D, v + 3 * D, N - 3), TK_OK);
    assert_int_equal(tk_attend_with(kt, c, q, 1, 1, got), TK_OK);
    assert_int_equal(tk_kv_cache_append_with(kt, fresh, k + (N - CAP) * D, v + (N - CAP) * D, CAP),
                     TK_OK);
    assert_int_equal(tk_attend_with(kt, fresh, q, 1, 1, fresh_out), TK_OK);
    const double f[D] = {fresh_out[0], fresh_out[1], fresh_out[2], fresh_out[3]};
    expect_close("sliding cache (evicted huge V) vs fresh cache", isa, dtypes[ti], got, f, D,
                 dtypes[ti] == TK_DTYPE_S8 ? 1e-3 : 1e-6);
    tk_kv_cache_destroy(c);
    tk_kv_cache_destroy(fresh);
  }
}

/* ---- (3) the s8 cache's query precision ---- */

/* head_dim 2, K = {0, 1}, {0, -1}, V = {1, 0}, {0, 1}, q = {1000, 1}: the
   logits are +-1 / sqrt(2), the softmax [0.804 0.196]; f32 and f16 give it.
   An 8-bit query lost the 1 ([0.5 0.5]). s8 keeps the query with 15 bits
   (error max|q| / 32766 per element): its logits may move by at most
   max|q| / 32766 * ||k||_1 / sqrt(d) (here K and V are exact in int8), and
   the weights by that much twice over (a factor exp(2 dl)). */
static void s8_outlier_query_keeps_its_small_parts(tk_isa isa) {
  const float k[4] = {0.0f, 1.0f, 0.0f, -1.0f}, v[4] = {1.0f, 0.0f, 0.0f, 1.0f};
  const float q[2] = {1000.0f, 1.0f};
  double want[2];
  ref_attend(q, k, v, 2, 2, want);
  assert_true(fabs(want[0] - 0.804) < 1e-3);
  const double dl = 1000.0 / 32766.0 * 1.0 / sqrt(2.0);
  const double bound = (exp(2.0 * dl) - 1.0) * 0.25; /* p (1 - p) <= 1/4 */
  const tk_kernels *kt = tk_test_table(isa);
  for (size_t ti = 0; ti < COUNT(dtypes); ti++) {
    float out[2];
    tk_kv_cache *c = cache_new(1, 2, 4, dtypes[ti], false);
    assert_int_equal(tk_kv_cache_append_with(kt, c, k, v, 2), TK_OK);
    assert_int_equal(tk_attend_with(kt, c, q, 1, 1, out), TK_OK);
    expect_close("q={1000,1}", isa, dtypes[ti], out, want, 2,
                 dtypes[ti] == TK_DTYPE_S8 ? bound : 1e-5);
    tk_kv_cache_destroy(c);
  }
}

/* Random outlier queries (one element 1000x the others) on s8 at head_dim
   64: the result stays within the documented bound of the reference computed
   on the s8-stored K and V (so only the query's quantization and fp32
   rounding are measured). */
static void s8_outlier_queries_within_the_documented_bound(tk_isa isa) {
  enum { D = 64, N = 30 };
  tk_rng r = {133};
  float k[N * D], v[N * D], kd[N * D], vd[N * D], q[D], out[D];
  double want[D];
  for (size_t i = 0; i < N * D; i++) k[i] = tk_rng_f32(&r, -1.0f, 1.0f), v[i] = tk_rng_f32(&r, -1.0f, 1.0f);
  /* The stored values: each row by the tk_quantize_s8 rule. */
  for (size_t t = 0; t < N; t++) {
    int8_t q8[D];
    float sc;
    assert_int_equal(tk_quantize_s8(k + t * D, D, q8, &sc), TK_OK);
    for (size_t e = 0; e < D; e++) kd[t * D + e] = (float)q8[e] * sc;
    assert_int_equal(tk_quantize_s8(v + t * D, D, q8, &sc), TK_OK);
    for (size_t e = 0; e < D; e++) vd[t * D + e] = (float)q8[e] * sc;
  }
  const tk_kernels *kt = tk_test_table(isa);
  tk_kv_cache *c = cache_new(1, D, N, TK_DTYPE_S8, false);
  assert_int_equal(tk_kv_cache_append_with(kt, c, k, v, N), TK_OK);
  for (int round = 0; round < 8; round++) {
    for (size_t e = 0; e < D; e++) q[e] = tk_rng_f32(&r, -2.0f, 2.0f);
    q[(size_t)round * 7 % D] = round % 2 ? -2000.0f : 2000.0f;
    ref_attend(q, kd, vd, N, D, want);
    double qmax = 0.0, k1 = 0.0, vmax = 0.0;
    for (size_t e = 0; e < D; e++) qmax = fmax(qmax, fabs(q[e]));
    for (size_t i = 0; i < N * D; i += D) {
      double s = 0.0;
      for (size_t e = 0; e < D; e++) s += fabs(kd[i + e]), vmax = fmax(vmax, fabs(vd[i + e]));
      k1 = fmax(k1, s);
    }
    const double dl = qmax / 32766.0 * k1 / sqrt((double)D);
    /* Weights within exp(+-2 dl), plus the 14-bit weights (2^-14 of a
       block's largest each) and fp32 rounding. */
    const double tol = ((exp(2.0 * dl) - 1.0) + 1e-3) * vmax;
    assert_int_equal(tk_attend_with(kt, c, q, 1, 1, out), TK_OK);
    expect_close("s8 outlier query", isa, TK_DTYPE_S8, out, want, D, tol);
  }
  tk_kv_cache_destroy(c);
}

/* ---- (7) s8 tiles are initialised where the kernels read them ---- */

/* Capacity 16, 3 tokens appended: the kernels read the first K tile (8
   slots) and V groups whole, giving slots 3..7 weight 0. Those bytes must be
   initialised (valgrind and MSan flagged the results of reading them): they
   are zero, and the result is the reference's. */
static void s8_partly_filled_tiles_are_initialised(tk_isa isa) {
  enum { D = 40, CAP = 16, N = 3, NH = 2 };
  tk_rng r = {134};
  float k[N * D], v[N * D], q[NH * D], out[NH * D];
  for (size_t i = 0; i < N * D; i++) k[i] = tk_rng_f32(&r, -1.0f, 1.0f), v[i] = tk_rng_f32(&r, 0.1f, 1.0f);
  for (size_t i = 0; i < NH * D; i++) q[i] = tk_rng_f32(&r, -1.0f, 1.0f);
  const tk_kernels *kt = tk_test_table(isa);
  tk_kv_cache *c = cache_new(1, D, CAP, TK_DTYPE_S8, false);
  assert_int_equal(tk_kv_cache_append_with(kt, c, k, v, N), TK_OK);
  for (size_t slot = N; slot < TK_ATT_S8_KT; slot++)
    for (size_t e = 0; e < c->stride; e++) {
      assert_int_equal(((const int8_t *)c->k)[tk_att_elem(c, true, 0, slot, e)], 0);
      assert_int_equal(((const int8_t *)c->v)[tk_att_elem(c, false, 0, slot, e)], 0);
    }
  assert_int_equal(tk_attend_with(kt, c, q, 1, NH, out), TK_OK);
  size_t positive = 0;
  for (size_t i = 0; i < NH * D; i++)
    if (out[i] > 0.0f) positive++; /* a branch on the result, as valgrind saw it */
  assert_int_equal(positive, NH * D);
  tk_kv_cache_destroy(c);
}

/* ---- (8) bounded stack ---- */

typedef struct stack_job {
  const tk_kv_cache *c;
  const float *q;
  size_t n_q, n_heads;
  float *out;
  tk_status status;
} stack_job;

static void *run_attend(void *arg) {
  stack_job *j = arg;
  j->status = tk_attend(j->c, j->q, j->n_q, j->n_heads, j->out);
  return NULL;
}

/* tk_attend (a decode step of 32 heads x 128 on 8 kv heads, and a prefill of
   6 tokens) on a thread with TK_TEST_STACK bytes of stack gives what it gives
   on the main thread. TK_ATTENTION_STACK_BYTES (tinykern.h) is what the
   calls may use; the rest is the thread's own (glibc keeps its TLS and
   descriptor there). Sanitizers' instrumentation takes several times more stack. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TK_TEST_STACK (256 << 10)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define TK_TEST_STACK (256 << 10)
#endif
#endif
#ifndef TK_TEST_STACK
#define TK_TEST_STACK (32 << 10)
#endif

static void attend_runs_on_a_small_thread_stack(tk_isa isa) {
  enum { NKV = 8, NH = 32, D = 128, N = 40, NQ = 6 };
  tk_test_use_isa(isa); /* the public functions, natively only */
  tk_rng r = {135};
  float *k = xmalloc(N * NKV * D * sizeof(float)), *v = xmalloc(N * NKV * D * sizeof(float));
  float *q = xmalloc(NQ * NH * D * sizeof(float));
  float *a = xmalloc(NQ * NH * D * sizeof(float)), *b = xmalloc(NQ * NH * D * sizeof(float));
  for (size_t i = 0; i < N * NKV * D; i++) k[i] = tk_rng_f32(&r, -1.0f, 1.0f), v[i] = tk_rng_f32(&r, -1.0f, 1.0f);
  for (size_t i = 0; i < NQ * NH * D; i++) q[i] = tk_rng_f32(&r, -1.0f, 1.0f);
  assert_true(TK_ATTENTION_STACK_BYTES <= 16 << 10);
  for (size_t ti = 0; ti < COUNT(dtypes); ti++) {
    tk_kv_cache *c = cache_new(NKV, D, N, dtypes[ti], false);
    assert_int_equal(tk_kv_cache_append(c, k, v, N), TK_OK);
    const size_t nqs[] = {1, NQ};
    for (size_t i = 0; i < COUNT(nqs); i++) {
      assert_int_equal(tk_attend(c, q, nqs[i], NH, a), TK_OK);
      pthread_attr_t attr;
      pthread_t th;
      stack_job j = {c, q, nqs[i], NH, b, TK_ERR_ARG};
      assert_int_equal(pthread_attr_init(&attr), 0);
      /* At least the platform's minimum (128 KiB on aarch64 glibc: 64 KiB pages). */
      const size_t stack = TK_TEST_STACK < PTHREAD_STACK_MIN ? PTHREAD_STACK_MIN : TK_TEST_STACK;
      assert_int_equal(pthread_attr_setstacksize(&attr, stack), 0);
      assert_int_equal(pthread_create(&th, &attr, run_attend, &j), 0);
      assert_int_equal(pthread_join(th, NULL), 0);
      pthread_attr_destroy(&attr);
      assert_int_equal(j.status, TK_OK);
      assert_memory_equal(a, b, nqs[i] * NH * D * sizeof(float));
    }
    tk_kv_cache_destroy(c);
  }
  free(k), free(v), free(q), free(a), free(b);
}

/* ---- (5) caller arrays at any byte offset ---- */

/* Every array argument (k and v of append, q and out of tk_attend, q, k, v
   and out of tk_attention_f32) at byte offsets 1..7 from an aligned block:
   the same results, bit for bit, as aligned arrays, on every variant. (The
   API asks no alignment; under -fsanitize=alignment a float load from such
   a pointer is reported.) */
static void misaligned_caller_arrays(tk_isa isa) {
  enum { NKV = 2, NH = 4, D = 13, N = 9, NQ = 2 };
  tk_rng r = {136};
  const size_t nkv = N * NKV * D, nq = N * NH * D;
  float *k = xmalloc(nkv * sizeof(float)), *v = xmalloc(nkv * sizeof(float));
  float *q = xmalloc(nq * sizeof(float)), *want = xmalloc(nq * sizeof(float));
  float *got = xmalloc(nq * sizeof(float));
  char *bk = xmalloc(nkv * sizeof(float) + 8), *bv = xmalloc(nkv * sizeof(float) + 8);
  char *bq = xmalloc(nq * sizeof(float) + 8), *bo = xmalloc(nq * sizeof(float) + 8);
  for (size_t i = 0; i < nkv; i++) k[i] = tk_rng_f32(&r, -1.0f, 1.0f), v[i] = tk_rng_f32(&r, -1.0f, 1.0f);
  for (size_t i = 0; i < nq; i++) q[i] = tk_rng_f32(&r, -1.0f, 1.0f);
  const tk_kernels *kt = tk_test_table(isa);
  for (size_t ti = 0; ti < COUNT(dtypes); ti++) {
    tk_kv_cache *c = cache_new(NKV, D, 6, dtypes[ti], true);
    assert_int_equal(tk_kv_cache_append_with(kt, c, k, v, N), TK_OK);
    assert_int_equal(tk_attend_with(kt, c, q, NQ, NH, want), TK_OK);
    for (size_t off = 1; off < 8; off++) {
      memcpy(bk + off, k, nkv * sizeof(float));
      memcpy(bv + off, v, nkv * sizeof(float));
      memcpy(bq + off, q, nq * sizeof(float));
      tk_kv_cache *m = cache_new(NKV, D, 6, dtypes[ti], true);
      assert_int_equal(tk_kv_cache_append_with(kt, m, (const float *)(void *)(bk + off),
                                               (const float *)(void *)(bv + off), N),
                       TK_OK);
      assert_int_equal(tk_attend_with(kt, m, (const float *)(void *)(bq + off), NQ, NH,
                                      (float *)(void *)(bo + off)),
                       TK_OK);
      memcpy(got, bo + off, NQ * NH * D * sizeof(float));
      if (memcmp(got, want, NQ * NH * D * sizeof(float))) {
        print_error("tk_attend %s (%s) %s, arrays at byte offset %zu: result differs\n",
                    tk_isa_name(isa), tk_test_kind(isa), dtype_name(dtypes[ti]), off);
        fail();
      }
      tk_kv_cache_destroy(m);
    }
    tk_kv_cache_destroy(c);
  }
  assert_int_equal(tk_attention_f32_with(kt, q, k, v, N, NH, NKV, D, true, want), TK_OK);
  for (size_t off = 1; off < 8; off++) {
    memcpy(bk + off, k, nkv * sizeof(float));
    memcpy(bv + off, v, nkv * sizeof(float));
    memcpy(bq + off, q, nq * sizeof(float));
    assert_int_equal(tk_attention_f32_with(kt, (const float *)(void *)(bq + off),
                                           (const float *)(void *)(bk + off),
                                           (const float *)(void *)(bv + off), N, NH, NKV, D,
                                           true, (float *)(void *)(bo + off)),
                     TK_OK);
    memcpy(got, bo + off, nq * sizeof(float));
    if (memcmp(got, want, nq * sizeof(float))) {
      print_error("tk_attention_f32 %s (%s), arrays at byte offset %zu: result differs\n",
                  tk_isa_name(isa), tk_test_kind(isa), off);
      fail();
    }
  }
  free(k), free(v), free(q), free(want), free(got), free(bk), free(bv), free(bq), free(bo);
}

int main(void) {
  const tk_test_case tests[] = {
      TK_VARIANT_TEST(huge_magnitudes_with_ordinary_logits_give_the_softmax),
      TK_VARIANT_TEST(huge_disjoint_parts_match_the_reference),
      TK_VARIANT_TEST(one_huge_row_leaves_the_others_exact),
      TK_VARIANT_TEST(sliding_cache_forgets_evicted_keys),
      TK_VARIANT_TEST(sliding_cache_forgets_evicted_values),
      TK_VARIANT_TEST(s8_outlier_query_keeps_its_small_parts),
      TK_VARIANT_TEST(s8_outlier_queries_within_the_documented_bound),
      TK_VARIANT_TEST(s8_partly_filled_tiles_are_initialised),
      TK_VARIANT_TEST(attend_runs_on_a_small_thread_stack),
      TK_VARIANT_TEST(misaligned_caller_arrays),
  };
  return TK_RUN_TESTS("attention_reliability", tests);
}
