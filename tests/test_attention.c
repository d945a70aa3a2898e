/* Attention: KV cache storage, tk_attend and tk_attention_f32 on every variant against a double reference, plus bad input. */
#include <float.h>
#include <math.h>

#include "attention/attention_cache.h"
#include "attention/attention_kernels.h"
#include "tk_guard.h"
#include "tk_test.h"

static const char *dtype_name(tk_dtype dt) {
  return dt == TK_DTYPE_F32 ? "f32" : dt == TK_DTYPE_F16 ? "f16" : "s8";
}

static void *xmalloc(size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  assert_non_null(p);
  return p;
}

static void fill(tk_rng *r, float *x, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; i++) x[i] = tk_rng_f32(r, lo, hi);
}

/* ---- double reference ---- */

/* Attention of one query row (head h, n_heads heads) over the positions
   [first, last] of a sequence k, v [pos][n_kv][d], in double. Also returns, per
   element, sum_j p_j |v_j| (the scale of the rounding errors of the sum). */
static void ref_row(const float *q, const float *k, const float *v, size_t n_kv, size_t n_heads,
                    size_t d, size_t h, size_t first, size_t last, double *out, double *scale) {
  const size_t g = h / (n_heads / n_kv), n = last - first + 1;
  double *s = xmalloc(n * sizeof(double));
  double m = -INFINITY;
  for (size_t j = 0; j < n; j++) {
    const float *kr = k + ((first + j) * n_kv + g) * d;
    double dot = 0.0;
    for (size_t e = 0; e < d; e++) dot += (double)q[e] * kr[e];
    s[j] = dot / sqrt((double)d);
    if (s[j] > m) m = s[j];
  }
  double l = 0.0;
  for (size_t e = 0; e < d; e++) out[e] = scale[e] = 0.0;
  for (size_t j = 0; j < n; j++) {
    const double p = exp(s[j] - m);
    const float *vr = v + ((first + j) * n_kv + g) * d;
    l += p;
    for (size_t e = 0; e < d; e++) {
      out[e] += p * vr[e];
      scale[e] += p * fabs((double)vr[e]);
    }
  }
  for (size_t e = 0; e < d; e++) out[e] /= l, scale[e] /= l;
  free(s);
}

/* Errors of a result against the reference: the largest element error
   relative to its rounding scale (f32 criterion) and the normalised MSE
   (f16 / s8 criterion), accumulated over several rows. */
typedef struct err_acc {
  double max_rel, sq_err, sq_ref;
  bool nonfinite;
} err_acc;

static void err_add(err_acc *a, const float *got, const double *ref, const double *scale,
                    size_t d) {
  for (size_t e = 0; e < d; e++) {
    if (!isfinite(got[e])) a->nonfinite = true;
    const double diff = fabs((double)got[e] - ref[e]);
    const double rel = diff / (scale[e] > 1e-30 ? scale[e] : 1e-30);
    if (rel > a->max_rel) a->max_rel = rel;
    a->sq_err += diff * diff;
    a->sq_ref += ref[e] * ref[e];
  }
}

static double err_nmse(const err_acc *a) { return a->sq_ref > 0 ? a->sq_err / a->sq_ref : a->sq_err; }

/* f32 storage: 1e-5 relative; f16, s8: normalised MSE 5e-4. */
static bool err_ok(const err_acc *a, tk_dtype dt) {
  if (a->nonfinite) return false;
  return dt == TK_DTYPE_F32 ? a->max_rel <= 1e-5 : err_nmse(a) <= 5e-4;
}

/* ---- a cache plus the history of everything appended to it ---- */

typedef struct shape {
  tk_dtype dt;
  size_t n_kv, n_heads, d, cap;
  bool sliding;
} shape;

typedef struct history {
  shape sh;
  size_t n, max;
  float *k, *v; /* [max][n_kv][d] */
} history;

static history hist_new(shape sh, size_t max) {
  history h = {sh, 0, max, NULL, NULL};
  h.k = xmalloc(max * sh.n_kv * sh.d * sizeof(float));
  h.v = xmalloc(max * sh.n_kv * sh.d * sizeof(float));
  return h;
}

static void hist_free(history *h) {
  free(h->k);
  free(h->v);
}

/* Appends n new random tokens to the history and, through table kt, to c. */
static void append_tokens(const tk_kernels *kt, tk_kv_cache *c, history *h, tk_rng *r, size_t n) {
  assert_true(h->n + n <= h->max);
  const size_t row = h->sh.n_kv * h->sh.d;
  float *k = h->k + h->n * row, *v = h->v + h->n * row;
  fill(r, k, n * row, -1.0f, 1.0f);
  fill(r, v, n * row, -1.0f, 1.0f);
  assert_int_equal(tk_kv_cache_append_with(kt, c, k, v, n), TK_OK);
  h->n += n;
}

/* Checks tk_attend for the last n_q positions against the reference; the
   window is the last len positions of the history. */
static void check_attend(tk_isa isa, const tk_kv_cache *c, const history *h, tk_rng *r,
                         size_t n_q, const char *when) {
  const shape *sh = &h->sh;
  const size_t len = tk_kv_cache_len(c), rows = n_q * sh->n_heads, d = sh->d;
  float *q = xmalloc(rows * d * sizeof(float)), *out = xmalloc((rows * d + 1) * sizeof(float));
  double *ref = xmalloc(d * sizeof(double)), *scale = xmalloc(d * sizeof(double));
  fill(r, q, rows * d, -2.0f, 2.0f);
  out[rows * d] = 42.0f;
  assert_int_equal(tk_attend_with(tk_test_table(isa), c, q, n_q, sh->n_heads, out), TK_OK);
  assert_true(out[rows * d] == 42.0f);
  err_acc acc = {0};
  for (size_t t = 0; t < n_q; t++) {
    const size_t pos = h->n - n_q + t;
    for (size_t hh = 0; hh < sh->n_heads; hh++) {
      const size_t row = t * sh->n_heads + hh;
      ref_row(q + row * d, h->k, h->v, sh->n_kv, sh->n_heads, d, hh, h->n - len, pos, ref, scale);
      err_add(&acc, out + row * d, ref, scale, d);
    }
  }
  if (!err_ok(&acc, sh->dt)) {
    print_error("tk_attend %s (%s) %s: kv_heads=%zu heads=%zu head_dim=%zu capacity=%zu%s "
                "len=%zu n_q=%zu (%s): max rel err %.3g, nmse %.3g%s\n",
                tk_isa_name(isa), tk_test_kind(isa), dtype_name(sh->dt), sh->n_kv, sh->n_heads,
                d, sh->cap, sh->sliding ? " sliding" : "", len, n_q, when, acc.max_rel,
                err_nmse(&acc), acc.nonfinite ? ", NON-FINITE" : "");
    fail();
  }
  free(q);
  free(out);
  free(ref);
  free(scale);
}

static tk_kv_cache *cache_new(const shape *sh) {
  tk_kv_config cfg = {sh->n_kv, sh->d, sh->cap, sh->dt, sh->sliding, TK_KV_MEMORY_DEFAULT};
  tk_kv_cache *c = NULL;
  assert_int_equal(tk_kv_cache_create(&cfg, &c), TK_OK);
  assert_non_null(c);
  return c;
}

/* Lengths 1, 2, capacity, and (sliding) after the ring wrapped several times,
   reached by appends of mixed sizes; decode and multi-token queries at each. */
static void run_lengths(tk_isa isa, shape sh, tk_rng *r) {
  const tk_kernels *kt = tk_test_table(isa);
  tk_kv_cache *c = cache_new(&sh);
  history h = hist_new(sh, 4 * sh.cap + 8);
  size_t stops[] = {1, 2, sh.cap, 2 * sh.cap + 1, 4 * sh.cap + 5};
  const size_t n_stops = sh.sliding ? 5 : 3;
  for (size_t i = 0; i < n_stops; i++) {
    if (stops[i] <= h.n) continue;
    /* Odd steps in one append (more than the capacity on the last stops). */
    const size_t want = stops[i] - h.n;
    if (i % 2) {
      append_tokens(kt, c, &h, r, want);
    } else {
      for (size_t t = 0; t < want; t++) append_tokens(kt, c, &h, r, 1);
    }
    const size_t len = tk_kv_cache_len(c);
    assert_int_equal(len, h.n < sh.cap ? h.n : sh.cap);
    char when[48];
    snprintf(when, sizeof when, "after %zu appended", h.n);
    check_attend(isa, c, &h, r, 1, when);
    check_attend(isa, c, &h, r, len, when);
    if (len > 3) check_attend(isa, c, &h, r, 3, when);
  }
  hist_free(&h);
  tk_kv_cache_destroy(c);
}

static const size_t head_dims[] = {1, 3, 8, 36, 64, 80, 100, 128, 256};
static const size_t ratios[] = {1, 2, 4, 8};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* f32 storage: every head_dim x every ratio; sliding and not, capacities below
   and above one block of positions (64) so blocks also split at the ring end. */
static void attend_f32_every_head_dim_and_ratio(tk_isa isa) {
  tk_rng r = {11};
  for (size_t di = 0; di < COUNT(head_dims); di++)
    for (size_t ri = 0; ri < COUNT(ratios); ri++) {
      const size_t n_kv = 1 + (di + ri) % 2;
      shape sh = {TK_DTYPE_F32, n_kv, n_kv * ratios[ri], head_dims[di], 5 + di + ri,
                  (di + ri) % 3 != 0};
      run_lengths(isa, sh, &r);
    }
  shape big = {TK_DTYPE_F32, 2, 8, 36, 150, true};
  run_lengths(isa, big, &r);
}

/* f16 and s8 storage: every head_dim, ratios in turn. */
static void attend_f16_s8_every_head_dim(tk_isa isa) {
  tk_rng r = {12};
  const tk_dtype dts[] = {TK_DTYPE_F16, TK_DTYPE_S8};
  for (size_t ti = 0; ti < 2; ti++)
    for (size_t di = 0; di < COUNT(head_dims); di++) {
      const size_t ratio = ratios[(di + ti) % COUNT(ratios)], n_kv = 1 + di % 2;
      shape sh = {dts[ti], n_kv, n_kv * ratio, head_dims[di], 6 + di, di % 2 == 0};
      run_lengths(isa, sh, &r);
    }
  for (size_t ti = 0; ti < 2; ti++) {
    shape big = {dts[ti], 1, 4, 64, 140, true};
    run_lengths(isa, big, &r);
  }
}

/* s8 scores sum int8 products in int32 chunks of 131072 dims added in float:
   at 140000 dims of +-127 a single int32 sum would wrap (140000 * 127 * 127
   > 2^31) and turn the winning position's score negative. q.k0 is the huge
   positive score, q.k1 the negative one: the result must be v0. */
static void s8_scores_exact_past_int32(tk_isa isa) {
  enum { D = 140000 };
  float *q = xmalloc(D * sizeof(float)), *k = xmalloc(2 * D * sizeof(float));
  float *v = xmalloc(2 * D * sizeof(float)), *out = xmalloc(D * sizeof(float));
  for (size_t e = 0; e < D; e++) {
    q[e] = 1.0f;
    k[e] = 1.0f, k[D + e] = -1.0f;
    v[e] = 0.25f, v[D + e] = -0.75f;
  }
  const tk_kernels *kt = tk_test_table(isa);
  shape sh = {TK_DTYPE_S8, 1, 1, D, 2, false};
  tk_kv_cache *c = cache_new(&sh);
  assert_int_equal(tk_kv_cache_append_with(kt, c, k, v, 2), TK_OK);
  assert_int_equal(tk_attend_with(kt, c, q, 1, 1, out), TK_OK);
  for (size_t e = 0; e < D; e++)
    if (!(fabsf(out[e] - 0.25f) <= 1e-6f)) {
      print_error("tk_attend s8 %s (%s) head_dim=%d len=2: element %zu got %g want 0.25\n",
                  tk_isa_name(isa), tk_test_kind(isa), D, e, (double)out[e]);
      fail();
    }
  tk_kv_cache_destroy(c);
  free(q), free(k), free(v), free(out);
}

/* s8 carries the softmax weights of a 64-position block as integers relative
   to the block's largest: 63 positions at 0.0038 of a peak each (below the
   1/254 that 7 bits would round to 0) still hold 19% of the mass. V is -1 at
   the peak and +1 elsewhere, so losing the tail moves the result by 0.2. */
static void s8_weight_tails_keep_their_mass(tk_isa isa) {
  enum { D = 8, N = 64 };
  const double r = 0.0038, c = log(r) * sqrt((double)D);
  float q[D] = {1.0f}, k[N * D] = {0}, v[N * D], out[D];
  for (size_t t = 0; t < N; t++)
    for (size_t e = 0; e < D; e++) {
      k[t * D + e] = t > 0 && e == 0 ? (float)c : 0.0f;
      v[t * D + e] = t == 0 ? -1.0f : 1.0f;
    }
  const double want = (-1.0 + (N - 1) * r) / (1.0 + (N - 1) * r);
  const tk_kernels *kt = tk_test_table(isa);
  shape sh = {TK_DTYPE_S8, 1, 1, D, N, false};
  tk_kv_cache *c8 = cache_new(&sh);
  assert_int_equal(tk_kv_cache_append_with(kt, c8, k, v, N), TK_OK);
  assert_int_equal(tk_attend_with(kt, c8, q, 1, 1, out), TK_OK);
  for (size_t e = 0; e < D; e++)
    if (!(fabs(out[e] - want) <= 2e-3)) {
      print_error("tk_attend s8 %s (%s) head_dim=%d len=%d: element %zu got %g want %g\n",
                  tk_isa_name(isa), tk_test_kind(isa), D, N, e, (double)out[e], want);
      fail();
    }
  tk_kv_cache_destroy(c8);
}

/* More query rows than one pass holds (32): 64 heads on one kv head. */
static void attend_many_heads_per_kv_head(tk_isa isa) {
  tk_rng r = {13};
  shape sh = {TK_DTYPE_F32, 1, 64, 16, 9, true};
  run_lengths(isa, sh, &r);
}

/* Decode step after step (append one token, attend its query) equals full
   causal attention over the same sequence: tk_attention_f32 for f32 storage,
   and the reference for every storage type. */
static void decode_steps_equal_full_causal_attention(tk_isa isa) {
  tk_rng r = {14};
  enum { N = 70 };
  const shape shapes[] = {
      {TK_DTYPE_F32, 2, 8, 64, N, false},
      {TK_DTYPE_F32, 3, 3, 20, N, false},
      {TK_DTYPE_F16, 2, 4, 36, N, false},
      {TK_DTYPE_S8, 1, 2, 80, N, false},
  };
  const tk_kernels *kt = tk_test_table(isa);
  for (size_t si = 0; si < COUNT(shapes); si++) {
    const shape sh = shapes[si];
    const size_t qrow = sh.n_heads * sh.d, kvrow = sh.n_kv * sh.d;
    float *q = xmalloc(N * qrow * sizeof(float)), *k = xmalloc(N * kvrow * sizeof(float));
    float *v = xmalloc(N * kvrow * sizeof(float));
    float *step = xmalloc(N * qrow * sizeof(float)), *full = xmalloc(N * qrow * sizeof(float));
    double *ref = xmalloc(sh.d * sizeof(double)), *scale = xmalloc(sh.d * sizeof(double));
    fill(&r, q, N * qrow, -2.0f, 2.0f);
    fill(&r, k, N * kvrow, -1.0f, 1.0f);
    fill(&r, v, N * kvrow, -1.0f, 1.0f);
    tk_kv_cache *c = cache_new(&sh);
    for (size_t t = 0; t < N; t++) {
      assert_int_equal(tk_kv_cache_append_with(kt, c, k + t * kvrow, v + t * kvrow, 1), TK_OK);
      assert_int_equal(tk_attend_with(kt, c, q + t * qrow, 1, sh.n_heads, step + t * qrow),
                       TK_OK);
    }
    err_acc to_ref = {0}, to_full = {0};
    if (sh.dt == TK_DTYPE_F32)
      assert_int_equal(tk_attention_f32_with(kt, q, k, v, N, sh.n_heads, sh.n_kv, sh.d, true,
                                             full),
                       TK_OK);
    for (size_t t = 0; t < N; t++)
      for (size_t h = 0; h < sh.n_heads; h++) {
        const size_t row = t * sh.n_heads + h;
        ref_row(q + row * sh.d, k, v, sh.n_kv, sh.n_heads, sh.d, h, 0, t, ref, scale);
        err_add(&to_ref, step + row * sh.d, ref, scale, sh.d);
        if (sh.dt == TK_DTYPE_F32) {
          double *f = xmalloc(sh.d * sizeof(double));
          for (size_t e = 0; e < sh.d; e++) f[e] = full[row * sh.d + e];
          err_add(&to_full, step + row * sh.d, f, scale, sh.d);
          free(f);
        }
      }
    if (!err_ok(&to_ref, sh.dt) || !err_ok(&to_full, TK_DTYPE_F32)) {
      print_error("decode steps %s (%s) %s kv_heads=%zu heads=%zu head_dim=%zu: vs reference "
                  "max rel %.3g nmse %.3g; vs tk_attention_f32 max rel %.3g\n",
                  tk_isa_name(isa), tk_test_kind(isa), dtype_name(sh.dt), sh.n_kv, sh.n_heads,
                  sh.d, to_ref.max_rel, err_nmse(&to_ref), to_full.max_rel);
      fail();
    }
    tk_kv_cache_destroy(c);
    free(q), free(k), free(v), free(step), free(full), free(ref), free(scale);
  }
}

/* tk_attention_f32, causal and not, against the reference: sequences longer
   than one block (64) and more rows than one pass (32). */
static void attention_f32_matches_reference(tk_isa isa) {
  tk_rng r = {15};
  const struct {
    size_t seq, n_heads, n_kv, d;
  } cases[] = {{1, 1, 1, 1}, {2, 2, 1, 3}, {7, 4, 2, 8}, {33, 8, 1, 100}, {97, 4, 4, 36},
               {70, 8, 2, 128}};
  const tk_kernels *kt = tk_test_table(isa);
  for (size_t ci = 0; ci < COUNT(cases); ci++)
    for (int causal = 0; causal < 2; causal++) {
      const size_t seq = cases[ci].seq, nh = cases[ci].n_heads, nkv = cases[ci].n_kv,
                   d = cases[ci].d;
      float *q = xmalloc(seq * nh * d * sizeof(float)), *k = xmalloc(seq * nkv * d * sizeof(float));
      float *v = xmalloc(seq * nkv * d * sizeof(float)), *out = xmalloc(seq * nh * d * sizeof(float));
      double *ref = xmalloc(d * sizeof(double)), *scale = xmalloc(d * sizeof(double));
      fill(&r, q, seq * nh * d, -2.0f, 2.0f);
      fill(&r, k, seq * nkv * d, -1.0f, 1.0f);
      fill(&r, v, seq * nkv * d, -1.0f, 1.0f);
      assert_int_equal(tk_attention_f32_with(kt, q, k, v, seq, nh, nkv, d, causal, out), TK_OK);
      err_acc acc = {0};
      for (size_t t = 0; t < seq; t++)
        for (size_t h = 0; h < nh; h++) {
          const size_t row = t * nh + h;
          ref_row(q + row * d, k, v, nkv, nh, d, h, 0, causal ? t : seq - 1, ref, scale);
          err_add(&acc, out + row * d, ref, scale, d);
        }
      if (!err_ok(&acc, TK_DTYPE_F32)) {
        print_error("tk_attention_f32 %s (%s) seq=%zu heads=%zu kv_heads=%zu head_dim=%zu "
                    "causal=%d: max rel err %.3g\n",
                    tk_isa_name(isa), tk_test_kind(isa), seq, nh, nkv, d, causal, acc.max_rel);
        fail();
      }
      free(q), free(k), free(v), free(out), free(ref), free(scale);
    }
}

/* ---- storage ---- */

/* The bytes of the held positions (K, V rows with padding, s8 scales), the
   counters and the held spans' maxima. */
static bool same_cache(const tk_kv_cache *a, const tk_kv_cache *b, char *why, size_t why_size) {
  bool spans = true;
  for (size_t g = 0; g < a->cfg.n_kv_heads; g++)
    for (size_t p = a->next - a->len; p < a->next && a->len == b->len && a->next == b->next; p++) {
      const size_t sp = p % a->cfg.capacity / TK_ATT_SPAN;
      spans = spans && a->k_span[g * a->n_spans + sp] == b->k_span[g * b->n_spans + sp] &&
              a->v_span[g * a->n_spans + sp] == b->v_span[g * b->n_spans + sp];
    }
  if (a->len != b->len || a->next != b->next || a->stride != b->stride || !spans) {
    snprintf(why, why_size, "counters differ (len %zu/%zu next %zu/%zu)", a->len, b->len,
             a->next, b->next);
    return false;
  }
  const size_t cap = a->cfg.capacity, es = a->cfg.dtype == TK_DTYPE_F32   ? 4
                                           : a->cfg.dtype == TK_DTYPE_F16 ? 2
                                                                          : 1;
  for (size_t p = a->next - a->len; p < a->next; p++)
    for (size_t g = 0; g < a->cfg.n_kv_heads; g++) {
      const size_t slot = p % cap, row = g * a->slots + slot;
      bool same = !a->k_scale || (a->k_scale[row] == b->k_scale[row] && a->v_scale[row] == b->v_scale[row]);
      for (size_t e = 0; e < a->stride && same; e++) {
        const size_t ik = tk_att_elem(a, true, g, slot, e) * es, iv = tk_att_elem(a, false, g, slot, e) * es;
        same = !memcmp((const char *)a->k + ik, (const char *)b->k + ik, es) &&
               !memcmp((const char *)a->v + iv, (const char *)b->v + iv, es);
      }
      if (!same) {
        snprintf(why, why_size, "position %zu kv head %zu differs", p, g);
        return false;
      }
    }
  return true;
}

/* ---- truncate ---- */

/* Appends n tokens of magnitude `mag` at the history's position (through kt). */
static void append_scaled(const tk_kernels *kt, tk_kv_cache *c, history *h, tk_rng *r, size_t n,
                          float mag) {
  assert_true(h->n + n <= h->max);
  const size_t row = h->sh.n_kv * h->sh.d;
  float *k = h->k + h->n * row, *v = h->v + h->n * row;
  fill(r, k, n * row, -mag, mag);
  fill(r, v, n * row, -mag, mag);
  assert_int_equal(tk_kv_cache_append_with(kt, c, k, v, n), TK_OK);
  h->n += n;
}

/* P tokens appended (those at positions >= n huge, 1e30 or f16's largest),
   truncated to n, A tokens appended: the cache holds the positions the
   header says, answers like the double reference, and bit for bit like a
   cache y that holds the same positions by another history: a fresh cache
   given them when nothing was evicted; else one that held other huge values
   in every slot, truncated to empty at the first held position (or n) and
   given the held positions then. */
static void truncate_case(tk_isa isa, shape sh, size_t P, size_t n, size_t A, tk_rng *r) {
  const tk_kernels *kt = tk_test_table(isa);
  const float huge = sh.dt == TK_DTYPE_F16 ? 65504.0f : 1e30f;
  tk_kv_cache *x = cache_new(&sh), *y = cache_new(&sh);
  history h = hist_new(sh, P + A + sh.cap + 1), junk = hist_new(sh, P + sh.cap + 1);
  const size_t keep = n < P ? n : P;
  append_scaled(kt, x, &h, r, keep / 2, 1.0f);
  append_scaled(kt, x, &h, r, keep - keep / 2, 1.0f);
  append_scaled(kt, x, &h, r, P - keep, huge);
  const size_t first = P - tk_kv_cache_len(x), want_len = n > first ? n - first : 0;
  assert_int_equal(tk_kv_cache_position(x), P);
  assert_int_equal(tk_kv_cache_truncate(x, n), TK_OK);
  char when[96];
  snprintf(when, sizeof when, "%zu appended, truncated to %zu, %zu appended", P, n, A);
  if (tk_kv_cache_position(x) != n || tk_kv_cache_len(x) != want_len) {
    print_error("truncate %s (%s) %s capacity %zu%s, %s: position %zu len %zu, want %zu %zu\n",
                tk_isa_name(isa), tk_test_kind(isa), dtype_name(sh.dt), sh.cap,
                sh.sliding ? " sliding" : "", when, tk_kv_cache_position(x), tk_kv_cache_len(x),
                n, want_len);
    fail();
  }
  h.n = n;
  if (A) append_scaled(kt, x, &h, r, A, 1.0f);
  /* y: empty at position f = min(first, n), then the held positions [f, n + A). */
  const size_t f = first < n ? first : n;
  if (f) {
    append_scaled(kt, y, &junk, r, f + sh.cap, huge);
    assert_int_equal(tk_kv_cache_truncate(y, f), TK_OK);
    assert_int_equal(tk_kv_cache_len(y), 0);
  }
  const size_t row = sh.n_kv * sh.d;
  if (n + A > f)
    assert_int_equal(tk_kv_cache_append_with(kt, y, h.k + f * row, h.v + f * row, n + A - f), TK_OK);
  char why[96];
  if (!same_cache(x, y, why, sizeof why)) {
    print_error("truncate %s (%s) %s capacity %zu%s, %s: %s\n", tk_isa_name(isa),
                tk_test_kind(isa), dtype_name(sh.dt), sh.cap, sh.sliding ? " sliding" : "", when, why);
    fail();
  }
  const size_t len = tk_kv_cache_len(x);
  const size_t nqs[3] = {1, len < 3 ? len : 3, len};
  for (size_t i = 0; i < 3 && len; i++) {
    const size_t rows = nqs[i] * sh.n_heads * sh.d;
    float *q = xmalloc(rows * sizeof(float)), *ox = xmalloc(rows * sizeof(float)),
          *oy = xmalloc(rows * sizeof(float));
    fill(r, q, rows, -2.0f, 2.0f);
    assert_int_equal(tk_attend_with(kt, x, q, nqs[i], sh.n_heads, ox), TK_OK);
    assert_int_equal(tk_attend_with(kt, y, q, nqs[i], sh.n_heads, oy), TK_OK);
    if (memcmp(ox, oy, rows * sizeof(float))) {
      print_error("truncate %s (%s) %s capacity %zu%s, %s: tk_attend of %zu tokens differs from "
                  "a cache holding the same positions\n",
                  tk_isa_name(isa), tk_test_kind(isa), dtype_name(sh.dt), sh.cap,
                  sh.sliding ? " sliding" : "", when, nqs[i]);
      fail();
    }
    free(q), free(ox), free(oy);
    check_attend(isa, x, &h, r, nqs[i], when);
  }
  hist_free(&h);
  hist_free(&junk);
  tk_kv_cache_destroy(x);
  tk_kv_cache_destroy(y);
}

/* Truncating every dtype's linear and sliding caches: to 0, to len, to the
   position (nothing to do), into the held positions and below the evicted
   ones; capacities within one span of maxima and across two (70: s8 tiles
   cut too). */
static void truncate_answers_like_a_cache_holding_the_same_positions(tk_isa isa) {
  const tk_dtype dts[] = {TK_DTYPE_F32, TK_DTYPE_F16, TK_DTYPE_S8};
  const size_t caps[] = {7, 70};
  tk_rng r = {24};
  for (size_t di = 0; di < 3; di++)
    for (size_t ci = 0; ci < 2; ci++)
      for (int sliding = 0; sliding < 2; sliding++) {
        const size_t C = caps[ci];
        const shape sh = {dts[di], 2, 4, 19, C, sliding};
        /* {P, n, A}: linear (or not yet wrapped) ... */
        const size_t plain[][3] = {{C, 0, C}, {C, C / 2, C - C / 2}, {C, C, 0}, {C - 1, C - 1, 1},
                                   {C, 1, 0}, {3, 2, 0}, {C, C - 1, 1}};
        for (size_t i = 0; i < COUNT(plain); i++)
          truncate_case(isa, sh, plain[i][0], plain[i][1], plain[i][2], &r);
        if (!sliding) continue;
        /* ... and a ring that wrapped: P = 3C + 2 holds [2C + 2, 3C + 2). */
        const size_t P = 3 * C + 2;
        const size_t ring[][3] = {{P, P - 1, 1},     {P, P - C / 2, C + 3}, {P, P - C / 2, 2},
                                  {P, P - C + 1, 0}, {P, P - C, 2},         {P, C, 5},
                                  {P, 0, 4},         {P, P, 3},             {P, 2 * C + 5, C - 1}};
        for (size_t i = 0; i < COUNT(ring); i++)
          truncate_case(isa, sh, ring[i][0], ring[i][1], ring[i][2], &r);
      }
}

/* Multi-token appends (more tokens than the capacity included) give the same
   cache as token-by-token ones, and the variant stores the same bits as
   scalar (f16 conversion and s8 quantization are exact functions). */
static void appends_in_any_chunks_give_the_scalar_cache(tk_isa isa) {
  const tk_dtype dts[] = {TK_DTYPE_F32, TK_DTYPE_F16, TK_DTYPE_S8};
  enum { CAP = 7, N = 40, NKV = 2, D = 19 };
  tk_rng r = {16};
  float *k = xmalloc(N * NKV * D * sizeof(float)), *v = xmalloc(N * NKV * D * sizeof(float));
  /* Values across f16's range: tiny (subnormal halves), ties, beyond 65504. */
  for (size_t i = 0; i < N * NKV * D; i++) {
    const float scale[] = {1.0f, 1e-6f, 70000.0f, 3e-8f, 1000.0f};
    k[i] = tk_rng_f32(&r, -1.0f, 1.0f) * scale[i % 5];
    v[i] = tk_rng_f32(&r, -1.0f, 1.0f) * scale[(i + 2) % 5];
  }
  k[3] = 65519.0f, k[4] = -65520.0f, k[5] = 1.0f + 0x1p-11f, k[6] = 0x1p-25f, k[7] = 0x1.8p-24f;
  const size_t chunks[] = {3, 1, 2 * CAP + 3, 5, 1, N - 3 - 1 - (2 * CAP + 3) - 5 - 1};
  for (size_t ti = 0; ti < 3; ti++) {
    shape sh = {dts[ti], NKV, NKV, D, CAP, true};
    tk_kv_cache *base = cache_new(&sh);
    size_t done = 0;
    for (size_t ci = 0; ci < COUNT(chunks); ci++) {
      assert_int_equal(tk_kv_cache_append_with(tk_test_table(TK_ISA_SCALAR), base,
                                               k + done * NKV * D, v + done * NKV * D, chunks[ci]),
                       TK_OK);
      done += chunks[ci];
    }
    const tk_kernels *kt = tk_test_table(isa);
    tk_kv_cache *one = cache_new(&sh), *multi = cache_new(&sh);
    for (size_t t = 0; t < N; t++)
      assert_int_equal(tk_kv_cache_append_with(kt, one, k + t * NKV * D, v + t * NKV * D, 1),
                       TK_OK);
    done = 0;
    for (size_t ci = 0; ci < COUNT(chunks); ci++) {
      assert_int_equal(tk_kv_cache_append_with(kt, multi, k + done * NKV * D,
                                               v + done * NKV * D, chunks[ci]),
                       TK_OK);
      done += chunks[ci];
    }
    char why[96];
    if (!same_cache(one, multi, why, sizeof why) || !same_cache(one, base, why, sizeof why)) {
      print_error("append %s (%s) %s: %s\n", tk_isa_name(isa), tk_test_kind(isa),
                  dtype_name(sh.dt), why);
      fail();
    }
    tk_kv_cache_destroy(one);
    tk_kv_cache_destroy(multi);
    tk_kv_cache_destroy(base);
  }
  free(k);
  free(v);
}

/* Round to nearest even half, computed in double (independent of SIMDe and
   F16C): the documented f16 storage of x after clamping to +-65504. */
static uint16_t ref_f16(float xf) {
  double x = xf > 65504.0f ? 65504.0 : xf < -65504.0f ? -65504.0 : xf;
  uint16_t sign = signbit(x) ? 0x8000 : 0;
  x = fabs(x);
  if (x == 0.0) return sign;
  int e = ilogb(x);
  if (e < -14) e = -14;                     /* subnormal halves: ulp 2^-24 */
  double h = rint(ldexp(x, 10 - e));        /* units of the ulp, ties to even */
  h = ldexp(h, e - 10);
  if (h < 0x1p-14) return sign | (uint16_t)ldexp(h, 24);
  e = ilogb(h);
  return sign | (uint16_t)((e + 15) << 10) | (uint16_t)(ldexp(h, 10 - e) - 1024.0);
}

static void f32_to_f16_rounds_to_nearest_even_and_saturates(tk_isa isa) {
  enum { N = 4000 };
  float *x = xmalloc(N * sizeof(float));
  uint16_t *h = xmalloc((N + 1) * sizeof(uint16_t));
  tk_rng r = {17};
  const float special[] = {0.0f, -0.0f, 65504.0f, -65504.0f, 65519.0f, 65520.0f, -70000.0f,
                           3e38f, -3e38f, 0x1p-24f, 0x1p-25f, 0x1.8p-24f, 0x1p-26f, 0x1p-14f,
                           0x1.ff8p-15f, 1.0f + 0x1p-11f, 1.0f + 0x3p-11f, 2049.0f, 2051.0f,
                           FLT_TRUE_MIN, -FLT_MIN};
  for (size_t i = 0; i < N; i++) {
    if (i < COUNT(special)) {
      x[i] = special[i];
    } else {
      /* Random magnitudes 2^-30 .. 2^17, random exact ties among them. */
      float m = ldexpf(tk_rng_f32(&r, 1.0f, 2.0f), (int)(tk_rng_next(&r) % 48) - 30);
      if (i % 3 == 0) m = ldexpf((float)(2 * (tk_rng_next(&r) % 1024) + 2049), (int)(tk_rng_next(&r) % 30) - 30);
      x[i] = (i % 2) ? -m : m;
    }
  }
  for (size_t n = 0; n <= N; n += (n < 20 ? 1 : 997)) {
    for (size_t i = 0; i <= N; i++) h[i] = 0x5555;
    tk_test_table(isa)->f32_to_f16(x, n, h);
    for (size_t i = 0; i < n; i++)
      if (h[i] != ref_f16(x[i])) {
        print_error("f32_to_f16 %s (%s) n=%zu x=%a: got 0x%04x want 0x%04x\n", tk_isa_name(isa),
                    tk_test_kind(isa), n, (double)x[i], h[i], ref_f16(x[i]));
        fail();
      }
    for (size_t i = n; i <= N; i++) assert_int_equal(h[i], 0x5555);
  }
  free(x);
  free(h);
}

/* The value of a finite half, in double. */
static double half_value(uint16_t h) {
  const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  const double x = e ? ldexp(1024 + m, e - 25) : ldexp(m, -24);
  return (h & 0x8000) ? -x : x;
}

/* With one position the softmax weight is exactly 1, so tk_attend returns the
   stored V row bit for bit: f32 as given, every f16 pattern (subnormal halves
   included) decoded exactly. s8 gives q * scale within 2 ulp: its weight 1
   times the row's scale is carried as the integer 127 times scale / 127. */
static void single_position_returns_stored_v_exactly(tk_isa isa) {
  enum { D = 1021, NH = 2 };
  tk_rng r = {23};
  float *k = xmalloc(D * sizeof(float)), *v = xmalloc(D * sizeof(float));
  float *q = xmalloc(NH * D * sizeof(float)), *out = xmalloc(NH * D * sizeof(float));
  float *want = xmalloc(D * sizeof(float));
  int8_t *q8 = xmalloc(D);
  fill(&r, k, D, -1.0f, 1.0f);
  fill(&r, q, NH * D, -1.0f, 1.0f);
  const tk_dtype dts[] = {TK_DTYPE_F32, TK_DTYPE_F16, TK_DTYPE_S8};
  const tk_kernels *kt = tk_test_table(isa);
  for (size_t ti = 0; ti < 3; ti++) {
    for (size_t e = 0; e < D; e++) {
      /* Half patterns: all 1024 subnormals and zero, then normals up to 65504. */
      uint16_t h = (uint16_t)(e < 1024 ? e : (e * 61) % 0x7c00);
      v[e] = (float)half_value((uint16_t)(h | (e % 2 ? 0x8000 : 0)));
      want[e] = v[e];
    }
    if (dts[ti] == TK_DTYPE_S8) {
      float scale;
      assert_int_equal(tk_quantize_s8(v, D, q8, &scale), TK_OK);
      for (size_t e = 0; e < D; e++) want[e] = (float)q8[e] * scale;
    }
    shape sh = {dts[ti], 1, NH, D, 3, false};
    tk_kv_cache *c = cache_new(&sh);
    assert_int_equal(tk_kv_cache_append_with(kt, c, k, v, 1), TK_OK);
    assert_int_equal(tk_attend_with(kt, c, q, 1, NH, out), TK_OK);
    for (size_t h = 0; h < NH; h++)
      for (size_t e = 0; e < D; e++)
        if (dts[ti] == TK_DTYPE_S8 ? !(fabsf(out[h * D + e] - want[e]) <= 0x1p-22f * fabsf(want[e]))
                                   : memcmp(&out[h * D + e], &want[e], sizeof(float)) != 0) {
          print_error("tk_attend %s (%s) %s one position: element %zu got %a want %a\n",
                      tk_isa_name(isa), tk_test_kind(isa), dtype_name(dts[ti]), e,
                      (double)out[h * D + e], (double)want[e]);
          fail();
        }
    tk_kv_cache_destroy(c);
  }
  free(k), free(v), free(q), free(out), free(want), free(q8);
}

/* s8 storage: each (position, kv head) row is tk_quantize_s8 of the input row. */
static void s8_storage_is_per_row_symmetric_quantization(tk_isa isa) {
  enum { NKV = 3, D = 37, CAP = 4, N = 6 };
  tk_rng r = {18};
  float k[N * NKV * D], v[N * NKV * D];
  fill(&r, k, N * NKV * D, -3.0f, 3.0f);
  fill(&r, v, N * NKV * D, -0.01f, 0.01f);
  for (size_t e = 0; e < D; e++) k[(5 * NKV + 1) * D + e] = 0.0f; /* an all-zero row */
  shape sh = {TK_DTYPE_S8, NKV, NKV, D, CAP, true};
  tk_kv_cache *c = cache_new(&sh);
  assert_int_equal(tk_kv_cache_append_with(tk_test_table(isa), c, k, v, N), TK_OK);
  for (size_t t = N - CAP; t < N; t++)
    for (size_t g = 0; g < NKV; g++) {
      const size_t slot = t % CAP, row = g * c->slots + slot;
      int8_t want[D], got[48];
      float ws;
      assert_true(c->stride <= 48);
      assert_int_equal(tk_quantize_s8(k + (t * NKV + g) * D, D, want, &ws), TK_OK);
      for (size_t e = 0; e < c->stride; e++) got[e] = ((const int8_t *)c->k)[tk_att_elem(c, true, g, slot, e)];
      if (memcmp(got, want, D) || c->k_scale[row] != ws) {
        print_error("s8 storage %s (%s) position %zu kv head %zu differs from tk_quantize_s8\n",
                    tk_isa_name(isa), tk_test_kind(isa), t, g);
        fail();
      }
      for (size_t e = D; e < c->stride; e++) assert_int_equal(got[e], 0);
      assert_int_equal(tk_quantize_s8(v + (t * NKV + g) * D, D, want, &ws), TK_OK);
      for (size_t e = 0; e < c->stride; e++) got[e] = ((const int8_t *)c->v)[tk_att_elem(c, false, g, slot, e)];
      assert_memory_equal(got, want, D);
      for (size_t e = D; e < c->stride; e++) assert_int_equal(got[e], 0);
      assert_true(c->v_scale[row] == ws);
    }
  tk_kv_cache_destroy(c);
}

/* Very large logits and values: never NaN or Inf, the result stays a convex
   combination of V (inside [min v, max v] per element); logits of ~1e4 still
   match the reference. */
static void huge_logits_and_values_stay_finite(tk_isa isa) {
  enum { NKV = 2, NH = 4, D = 24, CAP = 9, N = 13 };
  tk_rng r = {19};
  const tk_dtype dts[] = {TK_DTYPE_F32, TK_DTYPE_F16, TK_DTYPE_S8};
  const float mags[][3] = {/* q, k, v */ {100.0f, 100.0f, 1.0f},
                           {1e30f, 1e30f, 1e30f},
                           {3e38f, 3e38f, 3e38f},
                           {1e-30f, 1e30f, 3e38f}};
  float k[N * NKV * D], v[N * NKV * D], q[2 * NH * D], out[2 * NH * D];
  double ref[D], scale[D];
  const tk_kernels *kt = tk_test_table(isa);
  for (size_t ti = 0; ti < 3; ti++)
    for (size_t mi = 0; mi < COUNT(mags); mi++) {
      /* (hi - lo would overflow for +-3e38: scale a unit draw instead) */
      fill(&r, k, N * NKV * D, -1.0f, 1.0f);
      fill(&r, v, N * NKV * D, -1.0f, 1.0f);
      fill(&r, q, 2 * NH * D, -1.0f, 1.0f);
      for (size_t i = 0; i < N * NKV * D; i++) k[i] *= mags[mi][1], v[i] *= mags[mi][2];
      for (size_t i = 0; i < 2 * NH * D; i++) q[i] *= mags[mi][0];
      shape sh = {dts[ti], NKV, NH, D, CAP, true};
      tk_kv_cache *c = cache_new(&sh);
      assert_int_equal(tk_kv_cache_append_with(kt, c, k, v, N), TK_OK);
      assert_int_equal(tk_attend_with(kt, c, q, 2, NH, out), TK_OK);
      err_acc acc = {0};
      for (size_t t = 0; t < 2; t++)
        for (size_t h = 0; h < NH; h++) {
          const size_t row = t * NH + h, g = h / (NH / NKV);
          for (size_t e = 0; e < D; e++) {
            float lo = INFINITY, hi = -INFINITY;
            for (size_t j = N - CAP; j <= N - 2 + t; j++) {
              float x = v[(j * NKV + g) * D + e];
              if (dts[ti] == TK_DTYPE_F16) x = fminf(fmaxf(x, -65504.0f), 65504.0f);
              lo = fminf(lo, x), hi = fmaxf(hi, x);
            }
            /* Beyond the rounding of the stored values: f16 2^-11 relative, s8
               half a step of max|row| / 127. */
            const float m = fmaxf(fabsf(lo), fabsf(hi));
            const float slack = dts[ti] == TK_DTYPE_F32   ? 1e-5f * m
                                : dts[ti] == TK_DTYPE_F16 ? 1e-3f * m
                                                          : 0.005f * mags[mi][2];
            const float got = out[row * D + e];
            if (!isfinite(got) || got < lo - slack || got > hi + slack) {
              print_error("tk_attend %s (%s) %s |q|,|k|,|v| <= %g,%g,%g: out %g outside "
                          "[%g, %g]\n",
                          tk_isa_name(isa), tk_test_kind(isa), dtype_name(dts[ti]),
                          (double)mags[mi][0], (double)mags[mi][1], (double)mags[mi][2],
                          (double)got, (double)lo, (double)hi);
              fail();
            }
          }
          if (mi == 0 && dts[ti] == TK_DTYPE_F32) {
            ref_row(q + row * D, k, v, NKV, NH, D, h, N - CAP, N - 2 + t, ref, scale);
            err_add(&acc, out + row * D, ref, scale, D);
          }
        }
      if (mi == 0 && dts[ti] == TK_DTYPE_F32 && !err_ok(&acc, TK_DTYPE_F32)) {
        print_error("tk_attend %s (%s) f32 kv_heads=%d heads=%d head_dim=%d capacity=%d sliding "
                    "logits ~1e4: max rel err %.3g\n",
                    tk_isa_name(isa), tk_test_kind(isa), NKV, NH, D, CAP, acc.max_rel);
        fail();
      }
      tk_kv_cache_destroy(c);
    }
}

/* out may be q: the same result as into a separate buffer. */
static void attend_in_place(void **state) {
  (void)state;
  enum { NKV = 2, NH = 4, D = 20, N = 6 };
  float k[N * NKV * D], v[N * NKV * D], q[3 * NH * D], out[3 * NH * D];
  tk_rng r = {24};
  fill(&r, k, N * NKV * D, -1.0f, 1.0f);
  fill(&r, v, N * NKV * D, -1.0f, 1.0f);
  fill(&r, q, 3 * NH * D, -1.0f, 1.0f);
  shape sh = {TK_DTYPE_F16, NKV, NH, D, N, false};
  tk_kv_cache *c = cache_new(&sh);
  assert_int_equal(tk_kv_cache_append(c, k, v, N), TK_OK);
  assert_int_equal(tk_attend(c, q, 3, NH, out), TK_OK);
  assert_int_equal(tk_attend(c, q, 3, NH, q), TK_OK);
  assert_memory_equal(q, out, sizeof out);
  tk_kv_cache_destroy(c);
}

/* ---- bad input ---- */

typedef struct snapshot {
  tk_kv_cache c;
  char *k, *v;
  float *ks, *vs;
} snapshot;

/* Fills a new cache's K/V storage (never-written slots included: the
   allocation leaves them undefined) with a finite byte pattern, so that a
   snapshot compares defined bytes and a stray write to a slot shows. */
static void poison_storage(tk_kv_cache *c) {
  const size_t es = c->cfg.dtype == TK_DTYPE_F32 ? 4 : c->cfg.dtype == TK_DTYPE_F16 ? 2 : 1;
  const size_t bytes = c->cfg.n_kv_heads * c->slots * c->stride * es;
  memset(c->k, 0x5a, bytes);
  memset(c->v, 0x5a, bytes);
}

static snapshot snap(const tk_kv_cache *c) {
  snapshot s = {*c, NULL, NULL, NULL, NULL};
  const size_t es = c->cfg.dtype == TK_DTYPE_F32 ? 4 : c->cfg.dtype == TK_DTYPE_F16 ? 2 : 1;
  const size_t bytes = c->cfg.n_kv_heads * c->slots * c->stride * es;
  s.k = xmalloc(bytes);
  s.v = xmalloc(bytes);
  memcpy(s.k, c->k, bytes);
  memcpy(s.v, c->v, bytes);
  if (c->k_scale) {
    s.ks = xmalloc(c->cfg.n_kv_heads * c->slots * sizeof(float));
    s.vs = xmalloc(c->cfg.n_kv_heads * c->slots * sizeof(float));
    memcpy(s.ks, c->k_scale, c->cfg.n_kv_heads * c->slots * sizeof(float));
    memcpy(s.vs, c->v_scale, c->cfg.n_kv_heads * c->slots * sizeof(float));
  }
  return s;
}

static void assert_unchanged(snapshot *s, const tk_kv_cache *c, const char *what) {
  const size_t es = c->cfg.dtype == TK_DTYPE_F32 ? 4 : c->cfg.dtype == TK_DTYPE_F16 ? 2 : 1;
  const size_t bytes = c->cfg.n_kv_heads * c->slots * c->stride * es;
  const size_t nsc = c->cfg.n_kv_heads * c->slots * sizeof(float);
  if (s->c.len != c->len || s->c.next != c->next || s->c.s8_ready != c->s8_ready ||
      memcmp(s->k, c->k, bytes) || memcmp(s->v, c->v, bytes) ||
      (s->ks && (memcmp(s->ks, c->k_scale, nsc) || memcmp(s->vs, c->v_scale, nsc)))) {
    print_error("%s (%s storage) changed the cache\n", what, dtype_name(c->cfg.dtype));
    fail();
  }
}

static void snap_free(snapshot *s) {
  free(s->k), free(s->v), free(s->ks), free(s->vs);
}

static void bad_create_arguments(void **state) {
  (void)state;
  tk_kv_cache *sentinel = (tk_kv_cache *)(uintptr_t)0x1234, *c = sentinel;
  tk_kv_config ok = {2, 8, 4, TK_DTYPE_F32, false, TK_KV_MEMORY_DEFAULT};
  assert_int_equal(tk_kv_cache_create(NULL, &c), TK_ERR_ARG);
  assert_int_equal(tk_kv_cache_create(&ok, NULL), TK_ERR_ARG);
  tk_kv_config bad[] = {{0, 8, 4, TK_DTYPE_F32, false, TK_KV_MEMORY_DEFAULT},
                        {2, 0, 4, TK_DTYPE_F16, true, TK_KV_MEMORY_DEFAULT},
                        {2, 8, 0, TK_DTYPE_S8, false, TK_KV_MEMORY_DEFAULT},
                        {2, 8, 4, (tk_dtype)7, false, TK_KV_MEMORY_DEFAULT},
                        {2, 8, 4, TK_DTYPE_F32, false, (tk_kv_memory)3}};
  for (size_t i = 0; i < COUNT(bad); i++) assert_int_equal(tk_kv_cache_create(&bad[i], &c), TK_ERR_ARG);
  tk_kv_config huge[] = {{SIZE_MAX / 4, 64, SIZE_MAX / 4, TK_DTYPE_F32, false, TK_KV_MEMORY_DEFAULT},
                         {1, SIZE_MAX, 1, TK_DTYPE_S8, false, TK_KV_MEMORY_DEFAULT},
                         {1, SIZE_MAX / 16, 16, TK_DTYPE_F16, true, TK_KV_MEMORY_HUGE}};
  for (size_t i = 0; i < COUNT(huge); i++)
    assert_int_equal(tk_kv_cache_create(&huge[i], &c), TK_ERR_OVERFLOW);
  assert_ptr_equal(c, sentinel);
  /* NULL-safe queries and destroy. */
  assert_int_equal(tk_kv_cache_len(NULL), 0);
  assert_int_equal(tk_kv_cache_bytes(NULL), 0);
  assert_int_equal(tk_kv_cache_position(NULL), 0);
  tk_kv_cache_reset(NULL);
  tk_kv_cache_destroy(NULL);
}

static void bad_append_changes_nothing(void **state) {
  (void)state;
  enum { NKV = 2, D = 5, CAP = 3 };
  const tk_dtype dts[] = {TK_DTYPE_F32, TK_DTYPE_F16, TK_DTYPE_S8};
  float k[4 * NKV * D], v[4 * NKV * D];
  tk_rng r = {20};
  fill(&r, k, 4 * NKV * D, -1.0f, 1.0f);
  fill(&r, v, 4 * NKV * D, -1.0f, 1.0f);
  const float bad[] = {NAN, INFINITY, -INFINITY};
  for (size_t ti = 0; ti < 3; ti++)
    for (int sliding = 0; sliding < 2; sliding++) {
      shape sh = {dts[ti], NKV, NKV, D, CAP, sliding};
      tk_kv_cache *c = cache_new(&sh);
      poison_storage(c);
      assert_int_equal(tk_kv_cache_append(c, k, v, 1), TK_OK);
      snapshot s = snap(c);
      assert_int_equal(tk_kv_cache_append(NULL, k, v, 1), TK_ERR_ARG);
      assert_int_equal(tk_kv_cache_append(c, NULL, v, 1), TK_ERR_ARG);
      assert_int_equal(tk_kv_cache_append(c, k, NULL, 1), TK_ERR_ARG);
      assert_int_equal(tk_kv_cache_append(c, k, v, SIZE_MAX), TK_ERR_OVERFLOW);
      /* A non-finite value anywhere (also in the last token, after valid ones). */
      for (size_t b = 0; b < 3; b++)
        for (size_t pos = 0; pos < 2 * NKV * D; pos += 3) {
          float kk[2 * NKV * D], vv[2 * NKV * D];
          memcpy(kk, k, sizeof kk), memcpy(vv, v, sizeof vv);
          (pos % 2 ? kk : vv)[pos] = bad[b];
          assert_int_equal(tk_kv_cache_append(c, kk, vv, 2), TK_ERR_ARG);
        }
      assert_unchanged(&s, c, "bad append");
      assert_int_equal(tk_kv_cache_append(c, NULL, NULL, 0), TK_OK);
      assert_unchanged(&s, c, "empty append");
      /* Not sliding: two more tokens fit (capacity 3), three do not. */
      if (!sliding) {
        assert_int_equal(tk_kv_cache_append(c, k, v, 3), TK_ERR_OVERFLOW);
        assert_unchanged(&s, c, "append past capacity");
        assert_int_equal(tk_kv_cache_append(c, k, v, 2), TK_OK);
        snap_free(&s);
        s = snap(c);
        assert_int_equal(tk_kv_cache_append(c, k, v, 1), TK_ERR_OVERFLOW);
        assert_unchanged(&s, c, "append to a full cache");
        tk_kv_cache_reset(c);
        assert_int_equal(tk_kv_cache_len(c), 0);
        assert_int_equal(tk_kv_cache_append(c, k, v, CAP), TK_OK);
        assert_int_equal(tk_kv_cache_len(c), CAP);
      } else {
        assert_int_equal(tk_kv_cache_append(c, k, v, 4), TK_OK);
        assert_int_equal(tk_kv_cache_len(c), CAP);
      }
      snap_free(&s);
      tk_kv_cache_destroy(c);
    }
}

/* Truncating past the position (or a NULL cache) fails and changes nothing;
   to the position changes nothing either. */
static void bad_truncate_changes_nothing(void **state) {
  (void)state;
  enum { NKV = 2, D = 5, CAP = 3 };
  const tk_dtype dts[] = {TK_DTYPE_F32, TK_DTYPE_F16, TK_DTYPE_S8};
  float k[5 * NKV * D], v[5 * NKV * D];
  tk_rng r = {25};
  fill(&r, k, 5 * NKV * D, -1.0f, 1.0f);
  fill(&r, v, 5 * NKV * D, -1.0f, 1.0f);
  assert_int_equal(tk_kv_cache_truncate(NULL, 0), TK_ERR_ARG);
  for (size_t ti = 0; ti < 3; ti++)
    for (int sliding = 0; sliding < 2; sliding++) {
      shape sh = {dts[ti], NKV, NKV, D, CAP, sliding};
      tk_kv_cache *c = cache_new(&sh);
      poison_storage(c);
      assert_int_equal(tk_kv_cache_truncate(c, 1), TK_ERR_ARG);
      assert_int_equal(tk_kv_cache_truncate(c, 0), TK_OK);
      const size_t n = sliding ? 5 : 2;
      assert_int_equal(tk_kv_cache_append(c, k, v, n), TK_OK);
      assert_int_equal(tk_kv_cache_position(c), n);
      snapshot s = snap(c);
      assert_int_equal(tk_kv_cache_truncate(c, n + 1), TK_ERR_ARG);
      assert_int_equal(tk_kv_cache_truncate(c, SIZE_MAX), TK_ERR_ARG);
      assert_unchanged(&s, c, "bad truncate");
      assert_int_equal(tk_kv_cache_truncate(c, n), TK_OK);
      assert_unchanged(&s, c, "truncate to the position");
      snap_free(&s);
      tk_kv_cache_destroy(c);
    }
}

static void bad_attend_writes_nothing(void **state) {
  (void)state;
  enum { NKV = 2, NH = 4, D = 6, CAP = 5 };
  float k[3 * NKV * D], v[3 * NKV * D], q[4 * NH * D], out[4 * NH * D];
  tk_rng r = {21};
  fill(&r, k, 3 * NKV * D, -1.0f, 1.0f);
  fill(&r, v, 3 * NKV * D, -1.0f, 1.0f);
  fill(&r, q, 4 * NH * D, -1.0f, 1.0f);
  const tk_dtype dts[] = {TK_DTYPE_F32, TK_DTYPE_F16, TK_DTYPE_S8};
  for (size_t ti = 0; ti < 3; ti++) {
    shape sh = {dts[ti], NKV, NH, D, CAP, true};
    tk_kv_cache *c = cache_new(&sh);
    poison_storage(c);
    assert_int_equal(tk_kv_cache_append(c, k, v, 3), TK_OK);
    snapshot s = snap(c);
    for (size_t i = 0; i < 4 * NH * D; i++) out[i] = -7.0f;
    assert_int_equal(tk_attend(NULL, q, 1, NH, out), TK_ERR_ARG);
    assert_int_equal(tk_attend(c, NULL, 1, NH, out), TK_ERR_ARG);
    assert_int_equal(tk_attend(c, q, 1, NH, NULL), TK_ERR_ARG);
    assert_int_equal(tk_attend(c, q, 1, 0, out), TK_ERR_ARG);
    assert_int_equal(tk_attend(c, q, 1, 3, out), TK_ERR_ARG); /* not a multiple of 2 */
    assert_int_equal(tk_attend(c, q, 1, 1, out), TK_ERR_ARG); /* fewer heads than kv heads */
    assert_int_equal(tk_attend(c, q, 4, NH, out), TK_ERR_ARG); /* n_q_tokens > len (3) */
    assert_int_equal(tk_attend(c, q, SIZE_MAX, NH, out), TK_ERR_ARG);
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (size_t b = 0; b < 3; b++)
      for (size_t pos = 0; pos < 3 * NH * D; pos += 5) {
        float qq[3 * NH * D];
        memcpy(qq, q, sizeof qq);
        qq[pos] = bad[b];
        assert_int_equal(tk_attend(c, qq, 3, NH, out), TK_ERR_ARG);
      }
    /* n_q_tokens == 0: nothing to do, NULL arrays accepted. */
    assert_int_equal(tk_attend(c, NULL, 0, NH, NULL), TK_OK);
    for (size_t i = 0; i < 4 * NH * D; i++) assert_true(out[i] == -7.0f);
    /* A valid call leaves the cache unchanged too (tk_attend only reads it). */
    assert_int_equal(tk_attend(c, q, 3, NH, out), TK_OK);
    assert_true(out[3 * NH * D] == -7.0f);
    assert_unchanged(&s, c, "tk_attend");
    snap_free(&s);
    tk_kv_cache_reset(c);
    assert_int_equal(tk_attend(c, q, 1, NH, out), TK_ERR_ARG); /* empty cache */
    tk_kv_cache_destroy(c);
  }
}

static void bad_attention_f32_writes_nothing(void **state) {
  (void)state;
  float q[2 * 4 * 3] = {0}, k[2 * 2 * 3] = {0}, v[2 * 2 * 3] = {0}, out[2 * 4 * 3];
  for (size_t i = 0; i < COUNT(out); i++) out[i] = -7.0f;
  assert_int_equal(tk_attention_f32(NULL, k, v, 2, 4, 2, 3, true, out), TK_ERR_ARG);
  assert_int_equal(tk_attention_f32(q, NULL, v, 2, 4, 2, 3, true, out), TK_ERR_ARG);
  assert_int_equal(tk_attention_f32(q, k, NULL, 2, 4, 2, 3, true, out), TK_ERR_ARG);
  assert_int_equal(tk_attention_f32(q, k, v, 2, 4, 2, 3, true, NULL), TK_ERR_ARG);
  assert_int_equal(tk_attention_f32(q, k, v, 2, 0, 2, 3, true, out), TK_ERR_ARG);
  assert_int_equal(tk_attention_f32(q, k, v, 2, 4, 0, 3, true, out), TK_ERR_ARG);
  assert_int_equal(tk_attention_f32(q, k, v, 2, 4, 3, 3, true, out), TK_ERR_ARG);
  assert_int_equal(tk_attention_f32(q, k, v, 2, 4, 2, 0, false, out), TK_ERR_ARG);
  assert_int_equal(tk_attention_f32(q, k, v, SIZE_MAX / 2, 4, 2, 3, true, out), TK_ERR_OVERFLOW);
  assert_int_equal(tk_attention_f32(q, k, v, 2, 4, 2, SIZE_MAX, true, out), TK_ERR_OVERFLOW);
  for (size_t i = 0; i < COUNT(out); i++) assert_true(out[i] == -7.0f);
  assert_int_equal(tk_attention_f32(NULL, NULL, NULL, 0, 4, 2, 3, true, NULL), TK_OK);
}

/* The public functions, through dispatch, under each ISA this CPU runs:
   decode steps against tk_attention_f32 and the reference; bytes and len. */
static void public_attention(tk_isa isa) {
  tk_test_use_isa(isa);
  enum { NKV = 2, NH = 8, D = 40, N = 20 };
  static float q[N * NH * D], k[N * NKV * D], v[N * NKV * D], step[N * NH * D], full[N * NH * D];
  tk_rng r = {22};
  fill(&r, q, N * NH * D, -2.0f, 2.0f);
  fill(&r, k, N * NKV * D, -1.0f, 1.0f);
  fill(&r, v, N * NKV * D, -1.0f, 1.0f);
  tk_kv_config cfg = {NKV, D, N, TK_DTYPE_F32, false, TK_KV_MEMORY_DEFAULT};
  tk_kv_cache *c = NULL;
  assert_int_equal(tk_kv_cache_create(&cfg, &c), TK_OK);
  assert_true(tk_kv_cache_bytes(c) >= 2 * NKV * N * D * sizeof(float));
  for (size_t t = 0; t < N; t++) {
    assert_int_equal(tk_kv_cache_append(c, k + t * NKV * D, v + t * NKV * D, 1), TK_OK);
    assert_int_equal(tk_kv_cache_len(c), t + 1);
    assert_int_equal(tk_attend(c, q + t * NH * D, 1, NH, step + t * NH * D), TK_OK);
  }
  assert_int_equal(tk_attention_f32(q, k, v, N, NH, NKV, D, true, full), TK_OK);
  double ref[D], scale[D];
  err_acc a = {0};
  for (size_t t = 0; t < N; t++)
    for (size_t h = 0; h < NH; h++) {
      const size_t row = t * NH + h;
      ref_row(q + row * D, k, v, NKV, NH, D, h, 0, t, ref, scale);
      err_add(&a, step + row * D, ref, scale, D);
      err_add(&a, full + row * D, ref, scale, D);
    }
  if (!err_ok(&a, TK_DTYPE_F32)) {
    print_error("public tk_attend / tk_attention_f32 under %s, kv_heads=%d heads=%d head_dim=%d "
                "len=%d: max rel err %.3g\n",
                tk_isa_name(isa), NKV, NH, D, N, a.max_rel);
    fail();
  }
  tk_kv_cache_destroy(c);
}

/* ---- guard pages: no kernel reads or writes outside its arrays ---- */

/* A cache of at least 2 MiB per array, under each memory policy: with
   TK_KV_MEMORY_HUGE its arrays are 2 MiB aligned and rounded up (huge pages
   asked for), by default only as large as needed; decode steps on it match
   the reference, for every storage type. */
static void large_cache_attends_like_the_reference(void **state) {
  (void)state;
  enum { NKV = 2, NH = 4, D = 64, CAP = 4200, N = 12 };
  static float q[N * NH * D], k[N * NKV * D], v[N * NKV * D], out[NH * D];
  tk_rng r = {23};
  fill(&r, q, N * NH * D, -2.0f, 2.0f);
  fill(&r, k, N * NKV * D, -1.0f, 1.0f);
  fill(&r, v, N * NKV * D, -1.0f, 1.0f);
  static const tk_dtype dts[] = {TK_DTYPE_F32, TK_DTYPE_F16, TK_DTYPE_S8};
  static const tk_kv_memory policies[] = {TK_KV_MEMORY_DEFAULT, TK_KV_MEMORY_PAGES, TK_KV_MEMORY_HUGE};
  for (size_t i = 0; i < 3 * COUNT(policies); i++) {
    const size_t pi = i / 3, di = i % 3;
    tk_kv_config cfg = {NKV, D, CAP, dts[di], false, policies[pi]};
    tk_kv_cache *c = NULL;
    assert_int_equal(tk_kv_cache_create(&cfg, &c), TK_OK);
    const size_t es = dts[di] == TK_DTYPE_F32 ? 4 : dts[di] == TK_DTYPE_F16 ? 2 : 1;
    const size_t need = NKV * CAP * D * es, huge = (size_t)2 << 20;
    if (policies[pi] == TK_KV_MEMORY_HUGE && need >= huge) {
      assert_true((uintptr_t)c->k % huge == 0);
      assert_true((uintptr_t)c->v % huge == 0);
      assert_true(tk_kv_cache_bytes(c) >= 2 * (need + huge - 1) / huge * huge);
    } else {
      /* Nothing rounded: the arrays plus their per-row maxima or scales. */
      assert_true(tk_kv_cache_bytes(c) >= 2 * need && tk_kv_cache_bytes(c) < 2 * need + need / 4);
    }
    err_acc a = {0};
    double ref[D], scale[D];
    for (size_t t = 0; t < N; t++) {
      assert_int_equal(tk_kv_cache_append(c, k + t * NKV * D, v + t * NKV * D, 1), TK_OK);
      assert_int_equal(tk_attend(c, q + t * NH * D, 1, NH, out), TK_OK);
      for (size_t h = 0; h < NH; h++) {
        ref_row(q + (t * NH + h) * D, k, v, NKV, NH, D, h, 0, t, ref, scale);
        err_add(&a, out + h * D, ref, scale, D);
      }
    }
    if (!err_ok(&a, dts[di])) {
      print_error("large cache (%zu positions, dtype %d, memory %d): error too large\n",
                  (size_t)CAP, (int)dts[di], (int)policies[pi]);
      fail();
    }
    tk_kv_cache_destroy(c);
  }
}

static void f32_to_f16_stays_inside_its_arrays(tk_isa isa) {
  for (int side = 0; side < 2; side++)
    for (size_t n = 0; n <= 35; n++) {
      tk_guard gx, gh;
      float *x = tk_guard_alloc(&gx, n * sizeof(float), (tk_guard_side)side);
      uint16_t *h = tk_guard_alloc(&gh, n * sizeof(uint16_t), (tk_guard_side)side);
      for (size_t i = 0; i < n; i++) x[i] = (float)i - 7.5f;
      if (n) tk_test_table(isa)->f32_to_f16(x, n, h);
      for (size_t i = 0; i < n; i++) assert_int_equal(h[i], ref_f16(x[i]));
      tk_guard_free(&gx);
      tk_guard_free(&gh);
    }
}

/* The attention kernels on jobs whose every array (K, V, scales, q, out) ends
   at (or starts after) an inaccessible page: rings that wrap, blocks cut at
   the ring's end, head_dim filling the padded rows or not. */
static void attend_kernels_stay_inside_their_arrays(tk_isa isa) {
  const size_t dims[] = {1, 8, 13, 64};
  const size_t caps[] = {1, 5, 70};
  const tk_kernels *kt = tk_test_table(isa);
  void (*const fns[3])(const tk_att_job *) = {kt->attend_f32, kt->attend_f16, kt->attend_s8};
  for (int side = 0; side < 2; side++)
    for (size_t di = 0; di < COUNT(dims); di++)
      for (size_t ci = 0; ci < COUNT(caps); ci++)
        for (size_t dt = 0; dt < 3; dt++) {
          const size_t d = dims[di], cap = caps[ci], stride = (d + TK_ATT_ALIGN - 1) / TK_ATT_ALIGN * TK_ATT_ALIGN, rows = 6;
          const size_t es = dt == 0 ? 4 : dt == 1 ? 2 : 1;
          /* s8: whole tiles of 8 slots, scales 0 past the capacity. */
          const size_t slots = dt == 2 ? (cap + 7) / 8 * 8 : cap;
          tk_guard gk, gv, gks, gvs, gq, go, gq16, gqs, gw;
          char *k = tk_guard_alloc(&gk, slots * stride * es, (tk_guard_side)side);
          char *v = tk_guard_alloc(&gv, slots * stride * es, (tk_guard_side)side);
          float *ks = tk_guard_alloc(&gks, slots * sizeof(float), (tk_guard_side)side);
          float *vs = tk_guard_alloc(&gvs, slots * sizeof(float), (tk_guard_side)side);
          float *q = tk_guard_alloc(&gq, rows * stride * sizeof(float), (tk_guard_side)side);
          float *o = tk_guard_alloc(&go, rows * stride * sizeof(float), (tk_guard_side)side);
          int16_t *q16 = tk_guard_alloc(&gq16, rows * stride * sizeof(int16_t), (tk_guard_side)side);
          float *qs = tk_guard_alloc(&gqs, rows * sizeof(float), (tk_guard_side)side);
          tk_att_scratch *w = tk_guard_alloc(&gw, sizeof(tk_att_scratch), (tk_guard_side)side);
          memset(k, 0, slots * stride * es);
          memset(v, 0, slots * stride * es);
          for (size_t i = 0; i < slots; i++) ks[i] = vs[i] = i < cap ? 0.5f : 0.0f;
          for (size_t i = 0; i < rows * stride; i++) q[i] = (i % stride) < d ? 0.25f : 0.0f;
          for (size_t i = 0; i < rows * stride; i++) q16[i] = (i % stride) < d ? TK_ATT_Q16_MAX : 0;
          for (size_t i = 0; i < rows; i++) qs[i] = 0.25f / TK_ATT_Q16_MAX;
          /* 2 query tokens x 3 heads, the last 2 of 2 * cap + 1 positions
             (the whole ring held): the ring has wrapped twice. */
          const float muls[6] = {1.4426950f, 1.4426950f, 1.4426950f, 1.4426950f, 1.4426950f, 1.4426950f};
          tk_att_job job = {.k = k, .v = v, .k_scale = dt == 2 ? ks : NULL,
                            .v_scale = dt == 2 ? vs : NULL, .stride = stride, .head_dim = d,
                            .capacity = cap, .lo = cap + 1, .first_hi = 2 * cap,
                            .rows_per_token = 3, .rows = rows, .q = q, .out = o,
                            .q16 = dt == 2 ? q16 : NULL, .q_scale = dt == 2 ? qs : NULL,
                            .scratch = w,
                            .exp_mul = muls, .exp_bias = 0.0f, .out_max = FLT_MAX};
          if (cap == 1) job.first_hi = job.lo + 1, job.rows_per_token = rows;
          fns[dt](&job);
          for (size_t i = 0; i < rows * stride; i++) assert_true(o[i] == 0.0f);
          tk_guard_free(&gk), tk_guard_free(&gv), tk_guard_free(&gks), tk_guard_free(&gvs);
          tk_guard_free(&gq), tk_guard_free(&go), tk_guard_free(&gq16), tk_guard_free(&gqs);
          tk_guard_free(&gw);
        }
}

/* The s8 kernel on the integer extremes: K and V of -128 and 127, query
   integers of +-TK_ATT_Q16_MAX, against a double reference on the same
   integers. head_dim 1040 sums two int32 chunks (TK_ATT_S8_KGROUPS groups,
   then 4); the lengths give odd and even K tile counts and blocks cut at a
   tile's middle; 6 rows are a 4-row tile and two single rows. The scales
   keep the scores within +-8, so a wrong integer sum shows; the tolerance
   is the 14-bit weights' rounding. */
static void s8_kernel_extremes_match_reference(tk_isa isa) {
  const size_t dims[] = {16, 48, 1040}, lens[] = {1, 9, 16, 70, 133};
  enum { ROWS = 6 };
  const tk_kernels *kt = tk_test_table(isa);
  for (size_t di = 0; di < COUNT(dims); di++)
    for (size_t li = 0; li < COUNT(lens); li++) {
      const size_t d = dims[di], n = lens[li], stride = d, slots = (n + 7) / 8 * 8;
      int8_t *k = xmalloc(slots * stride), *v = xmalloc(slots * stride);
      float *ks = xmalloc(slots * sizeof(float)), *vs = xmalloc(slots * sizeof(float));
      int16_t *q16 = xmalloc(ROWS * stride * sizeof(int16_t));
      float *qs = xmalloc(ROWS * sizeof(float)), *q = xmalloc(ROWS * stride * sizeof(float));
      float *o = xmalloc(ROWS * stride * sizeof(float));
      tk_att_scratch *w = xmalloc(sizeof(tk_att_scratch));
      memset(k, 0, slots * stride), memset(v, 0, slots * stride);
      for (size_t t = 0; t < slots; t++) {
        ks[t] = t < n ? 8.0f / (128.0f * (float)d) : 0.0f;
        vs[t] = t < n ? 0.5f : 0.0f;
        for (size_t e = 0; e < d && t < n; e++) {
          k[tk_att_s8_k_at(stride, t, e)] = (t * 7 + e * 3) % 5 < 2 ? -128 : 127;
          v[tk_att_s8_v_at(stride, t, e)] = (t * 5 + e) % 3 == 0 ? -128 : 127;
        }
      }
      for (size_t r = 0; r < ROWS; r++) {
        qs[r] = 1.0f / TK_ATT_Q16_MAX;
        for (size_t e = 0; e < d; e++) {
          const bool neg = (r + e) % (r + 2) == 0;
          q16[r * stride + e] = (int16_t)(neg ? -TK_ATT_Q16_MAX : TK_ATT_Q16_MAX);
          q[r * stride + e] = (float)q16[r * stride + e] * qs[r];
        }
      }
      const float muls[ROWS] = {1.4426950f, 1.4426950f, 1.4426950f,
                                1.4426950f, 1.4426950f, 1.4426950f};
      tk_att_job job = {.k = k, .v = v, .k_scale = ks, .v_scale = vs, .stride = stride,
                        .head_dim = d, .capacity = n, .lo = 0, .first_hi = n,
                        .rows_per_token = ROWS, .rows = ROWS, .q = q, .out = o, .q16 = q16,
                        .q_scale = qs, .scratch = w, .exp_mul = muls, .exp_bias = 0.0f,
                        .out_max = FLT_MAX};
      kt->attend_s8(&job);
      double *sc = xmalloc(n * sizeof(double));
      for (size_t r = 0; r < ROWS; r++) {
        double m = -INFINITY, l = 0.0;
        for (size_t t = 0; t < n; t++) {
          int64_t dot = 0;
          for (size_t e = 0; e < d; e++)
            dot += (int64_t)q16[r * stride + e] * k[tk_att_s8_k_at(stride, t, e)];
          sc[t] = (double)dot * qs[r] * ks[t];
          if (sc[t] > m) m = sc[t];
        }
        for (size_t t = 0; t < n; t++) l += exp(sc[t] - m);
        for (size_t e = 0; e < d; e++) {
          double want = 0.0;
          for (size_t t = 0; t < n; t++)
            want += exp(sc[t] - m) / l * v[tk_att_s8_v_at(stride, t, e)] * vs[t];
          if (!(fabs(o[r * stride + e] - want) <= 64.0 * 2e-4)) {
            print_error("s8 kernel %s (%s) head_dim=%zu len=%zu row %zu dim %zu: got %g want %g\n",
                        tk_isa_name(isa), tk_test_kind(isa), d, n, r, e,
                        (double)o[r * stride + e], want);
            fail();
          }
        }
      }
      free(sc), free(k), free(v), free(ks), free(vs), free(q16), free(qs), free(q), free(o),
          free(w);
    }
}

/* The public functions with caller arrays against guard pages (the front
   copies them into padded rows: it must read exactly n_tokens / seq of them). */
static void public_attention_stays_inside_caller_arrays(void **state) {
  (void)state;
  enum { NKV = 1, NH = 3, D = 13, N = 4 };
  const tk_dtype dts[] = {TK_DTYPE_F32, TK_DTYPE_F16, TK_DTYPE_S8};
  for (int side = 0; side < 2; side++)
    for (size_t ti = 0; ti < 3; ti++) {
      tk_guard gk, gv, gq, go;
      float *k = tk_guard_alloc(&gk, N * NKV * D * sizeof(float), (tk_guard_side)side);
      float *v = tk_guard_alloc(&gv, N * NKV * D * sizeof(float), (tk_guard_side)side);
      float *q = tk_guard_alloc(&gq, N * NH * D * sizeof(float), (tk_guard_side)side);
      float *o = tk_guard_alloc(&go, N * NH * D * sizeof(float), (tk_guard_side)side);
      for (size_t i = 0; i < N * NKV * D; i++) k[i] = v[i] = (float)i * 0.01f;
      for (size_t i = 0; i < N * NH * D; i++) q[i] = (float)i * 0.02f;
      shape sh = {dts[ti], NKV, NH, D, 3, true};
      tk_kv_cache *c = cache_new(&sh);
      assert_int_equal(tk_kv_cache_append(c, k, v, N), TK_OK);
      assert_int_equal(tk_attend(c, q + NH * D, 3, NH, o + NH * D), TK_OK);
      if (dts[ti] == TK_DTYPE_F32)
        assert_int_equal(tk_attention_f32(q, k, v, N, NH, NKV, D, true, o), TK_OK);
      tk_kv_cache_destroy(c);
      tk_guard_free(&gk), tk_guard_free(&gv), tk_guard_free(&gq), tk_guard_free(&go);
    }
}

int main(void) {
  const tk_test_case tests[] = {
      TK_VARIANT_TEST(attend_f32_every_head_dim_and_ratio),
      TK_VARIANT_TEST(attend_f16_s8_every_head_dim),
      TK_VARIANT_TEST(s8_scores_exact_past_int32),
      TK_VARIANT_TEST(s8_weight_tails_keep_their_mass),
      TK_VARIANT_TEST(attend_many_heads_per_kv_head),
      TK_VARIANT_TEST(decode_steps_equal_full_causal_attention),
      TK_VARIANT_TEST(attention_f32_matches_reference),
      TK_VARIANT_TEST(appends_in_any_chunks_give_the_scalar_cache),
      TK_VARIANT_TEST(truncate_answers_like_a_cache_holding_the_same_positions),
      TK_VARIANT_TEST(f32_to_f16_rounds_to_nearest_even_and_saturates),
      TK_VARIANT_TEST(single_position_returns_stored_v_exactly),
      TK_VARIANT_TEST(s8_storage_is_per_row_symmetric_quantization),
      TK_VARIANT_TEST(huge_logits_and_values_stay_finite),
      TK_TEST(attend_in_place),
      TK_TEST(bad_create_arguments),
      TK_TEST(bad_append_changes_nothing),
      TK_TEST(bad_truncate_changes_nothing),
      TK_TEST(bad_attend_writes_nothing),
      TK_TEST(bad_attention_f32_writes_nothing),
      TK_VARIANT_TEST(public_attention),
      TK_TEST(large_cache_attends_like_the_reference),
      TK_VARIANT_TEST(f32_to_f16_stays_inside_its_arrays),
      TK_VARIANT_TEST(attend_kernels_stay_inside_their_arrays),
      TK_VARIANT_TEST(s8_kernel_extremes_match_reference),
      TK_TEST(public_attention_stays_inside_caller_arrays),
  };
  return TK_RUN_TESTS("attention", tests);
}
