/* libFuzzer harness: a KV cache driven by a fuzzed sequence of create/append/attend/reset calls, against a model and a double reference. */
#include <stdbool.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "tinykern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_POS = 160 };

/* The model: every position appended since the last reset, as given (fp32). */
typedef struct model {
  size_t hk, d, cap, total;
  bool sliding;
  float *k, *v; /* [MAX_POS][hk][d] */
} model;

static size_t model_len(const model *m) { return m->sliding && m->total > m->cap ? m->cap : m->total; }

/* Checks out [nq][h][d] against softmax(q k / sqrt(d)) v over the positions
   each query sees. f32 storage with moderate values: within 1e-4 of the double
   result, relative to max|v|. Always (f16, s8, huge values): finite and inside
   the range of the attended v values, widened by the storage's rounding step
   and by fp32 rounding. */
static void check_attend(const model *m, tk_dtype dt, const float *q, size_t nq, size_t h,
                         const float *out, bool moderate) {
  size_t d = m->d, group = h / m->hk, end = m->total, start = end - model_len(m);
  double *p = malloc(MAX_POS * sizeof *p);
  if (!p) abort();
  for (size_t t = 0; t < nq; t++) {
    size_t last = end - nq + t; /* the query's own position */
    for (size_t hh = 0; hh < h; hh++) {
      size_t kh = hh / group;
      const float *qv = q + (t * h + hh) * d;
      double mx = -INFINITY, sum = 0.0;
      for (size_t pos = start; pos <= last; pos++) {
        const float *kv = m->k + (pos * m->hk + kh) * d;
        double s = 0.0;
        for (size_t i = 0; i < d; i++) s += (double)qv[i] * kv[i];
        p[pos - start] = s / sqrt((double)d);
        if (p[pos - start] > mx) mx = p[pos - start];
      }
      for (size_t pos = start; pos <= last; pos++) sum += p[pos - start] = exp(p[pos - start] - mx);
      for (size_t i = 0; i < d; i++) {
        double want = 0.0, lo = INFINITY, hi = -INFINITY, vmax = 0.0;
        for (size_t pos = start; pos <= last; pos++) {
          const float *vrow = m->v + (pos * m->hk + kh) * d;
          double x = vrow[i];
          want += p[pos - start] / sum * x;
          lo = x < lo ? x : lo;
          hi = x > hi ? x : hi;
          for (size_t j = 0; j < d; j++) vmax = fmax(vmax, fabs(vrow[j]));
        }
        double got = out[(t * h + hh) * d + i];
        /* f16 saturates at +-65504, then rounds by at most 2^-11 relative; s8
           rounds each value by at most max|row| / 254. */
        if (dt == TK_DTYPE_F16) {
          lo = fmin(fmax(lo, -65504.0), 65504.0);
          hi = fmin(fmax(hi, -65504.0), 65504.0);
        }
        double step = dt == TK_DTYPE_S8    ? vmax / 127.0
                      : dt == TK_DTYPE_F16 ? fmax(fabs(hi), fabs(lo)) / 1024.0
                                           : 0.0;
        /* fp32 rounding: a few ulps per attended position (sums of weights
           and of weights times V, rescaled per block, then divided). */
        const double ulps = vmax * (double)(last - start + 8) * 0x1p-23;
        if (!isfinite(got)) abort();
        if (got < lo - step - ulps - 1e-30 || got > hi + step + ulps + 1e-30) abort();
        if (dt == TK_DTYPE_F32 && moderate && fabs(got - want) > 1e-4 * vmax + 1e-30) abort();
      }
    }
  }
  free(p);
}

static bool all_finite(const float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i])) return false;
  return true;
}

static bool all_moderate(const float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!(fabsf(x[i]) <= 100.0f)) return false;
  return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tk_fuzz_in in = {data, size};
  fz_select_isa(&in);

  tk_kv_config cfg = {
      .n_kv_heads = fz_below(&in, 4), /* 0 is invalid */
      .head_dim = fz_below(&in, 40),
      .capacity = fz_below(&in, 24),
      .dtype = (tk_dtype)fz_below(&in, 4), /* 3 is invalid */
      .sliding = fz_u8(&in) & 1,
  };
  tk_kv_cache *c = (tk_kv_cache *)(uintptr_t)0x1;
  tk_status s = tk_kv_cache_create(&cfg, &c);
  bool valid = cfg.n_kv_heads && cfg.head_dim && cfg.capacity && cfg.dtype <= TK_DTYPE_S8;
  if (!valid) {
    if (s != TK_ERR_ARG || c != (tk_kv_cache *)(uintptr_t)0x1) abort();
    return 0;
  }
  if (s != TK_OK) abort();
  size_t hk = cfg.n_kv_heads, d = cfg.head_dim, row = hk * d;
  model m = {hk, d, cfg.capacity, 0, cfg.sliding, calloc(MAX_POS * row, 4), calloc(MAX_POS * row, 4)};
  size_t buf_n = (cfg.capacity + 4) * 8 * d;
  float *k = malloc(buf_n * 4), *v = malloc(buf_n * 4), *q = malloc(buf_n * 4), *out = malloc((buf_n + 1) * 4);
  if (!m.k || !m.v || !k || !v || !q || !out) abort();
  bool moderate = true;

  for (int op = 0; op < 12 && in.left; op++) {
    switch (fz_u8(&in) % 4) {
      case 0:
      case 1: { /* append */
        size_t n = fz_below(&in, cfg.capacity + 4);
        for (size_t i = 0; i < n * row; i++) k[i] = fz_float(&in), v[i] = fz_float(&in);
        size_t len_before = tk_kv_cache_len(c);
        s = tk_kv_cache_append(c, k, v, n);
        bool fin = all_finite(k, n * row) && all_finite(v, n * row);
        bool fits = cfg.sliding || model_len(&m) + n <= cfg.capacity;
        if (!fin || !fits || m.total + n > MAX_POS) {
          if (!fin && s != TK_ERR_ARG && !(s == TK_ERR_OVERFLOW && !fits)) abort();
          if (fin && !fits && s != TK_ERR_OVERFLOW) abort();
          if (s != TK_OK) {
            if (tk_kv_cache_len(c) != len_before) abort();
            break;
          }
          /* Accepted but beyond the model's room: start over. */
          tk_kv_cache_reset(c);
          m.total = 0;
          moderate = true;
          break;
        }
        if (s != TK_OK) abort();
        memcpy(m.k + m.total * row, k, n * row * 4);
        memcpy(m.v + m.total * row, v, n * row * 4);
        m.total += n;
        moderate = moderate && all_moderate(k, n * row) && all_moderate(v, n * row);
        if (tk_kv_cache_len(c) != model_len(&m)) abort();
        break;
      }
      case 2: { /* attend */
        size_t ratio = 1 + fz_below(&in, 3), h = hk * ratio + (fz_u8(&in) % 8 == 0);
        size_t len = model_len(&m), nq = fz_below(&in, len + 2);
        if (nq * h * d > buf_n) nq = buf_n / (h * d);
        for (size_t i = 0; i < nq * h * d; i++) q[i] = fz_float(&in);
        for (size_t i = 0; i <= nq * h * d; i++) out[i] = 555.0f;
        s = tk_attend(c, q, nq, h, out);
        bool ok = h % hk == 0 && nq <= len && all_finite(q, nq * h * d);
        if (!ok) {
          if (s != TK_ERR_ARG) abort();
          for (size_t i = 0; i <= nq * h * d; i++)
            if (out[i] != 555.0f) abort();
          break;
        }
        if (s != TK_OK || out[nq * h * d] != 555.0f) abort();
        check_attend(&m, cfg.dtype, q, nq, h, out, moderate && all_moderate(q, nq * h * d));
        break;
      }
      default: /* reset */
        tk_kv_cache_reset(c);
        m.total = 0;
        moderate = true;
        if (tk_kv_cache_len(c) != 0) abort();
        break;
    }
  }
  tk_kv_cache_destroy(c);
  free(m.k), free(m.v), free(k), free(v), free(q), free(out);
  return 0;
}
