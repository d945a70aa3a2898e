/* libFuzzer harness: a KV cache driven by a fuzzed sequence of create/append/attend/truncate/reset calls, against a model, a double reference and a fresh cache. */
#include <stdbool.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "tinykern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_POS = 160 };

/* The model: the values of every position below the cache's position
   (total), as given (fp32); the cache holds [start, total). */
typedef struct model {
  size_t hk, d, cap, total, start;
  bool sliding;
  float *k, *v; /* [MAX_POS][hk][d] */
} model;

static size_t model_len(const model *m) { return m->total - m->start; }

/* The value the cache stores for x in row `row` (n floats) of storage dt:
   f32 as is, s8 by the tk_quantize_s8 rule (f16 is not modelled: NAN). */
static void stored_row(tk_dtype dt, const float *row, size_t n, double *out) {
  if (dt == TK_DTYPE_F32) {
    for (size_t i = 0; i < n; i++) out[i] = row[i];
  } else if (dt == TK_DTYPE_S8) {
    int8_t q8[64];
    float scale;
    if (n > 64 || tk_quantize_s8(row, n, q8, &scale) != TK_OK) abort();
    for (size_t i = 0; i < n; i++) out[i] = (double)q8[i] * scale;
  } else {
    for (size_t i = 0; i < n; i++) out[i] = NAN;
  }
}

/* Checks out [nq][h][d] against softmax(q k / sqrt(d)) v over the positions
   each query sees, and fills tol[] with how far each element may be from
   the exact result of the stored values (INFINITY: no bound checked).
   Always (f16, s8, huge values): finite and inside the range of the
   attended v values, widened by the storage's rounding step and by fp32
   rounding. f32 with moderate values: within 1e-4 of the double result,
   relative to max|v|. f32 and s8 whenever the logit error bound is below 1
   (huge q and k included, tinykern.h's accuracy rule): each logit may be off
   by (d + 8) ulps of sum_e |q_e k_e| / sqrt(d) (fp32 sums; the exp argument
   is relative to the max logit, so also 4 ulps of that), plus the scaling's
   subnormal query elements (2^(a-149) ||k||_1), plus for s8 the 15-bit query
   (max|q| / 32766 * ||k||_1 / sqrt(d)); the weights then move by a factor
   exp(+-2 dl) at most, and s8's 14-bit weights by half a step of the block's
   largest each (n / 32766 of max|v| in all). Past the header's limit
   (sum_e |q_e| max|k_e| / sqrt(d) > 2^200, a > 100) the logits are
   compressed as documented: only finiteness and the range are checked. */
static void check_attend(const model *m, tk_dtype dt, const float *q, size_t nq, size_t h,
                         const float *out, bool moderate, double *tol) {
  size_t d = m->d, group = h / m->hk, end = m->total, start = end - model_len(m);
  double *p = malloc(MAX_POS * sizeof *p), *ks = malloc(MAX_POS * d * sizeof *ks);
  double *vs = malloc(MAX_POS * d * sizeof *vs), *dimmax = malloc(d * sizeof *dimmax);
  if (!p || !ks || !vs || !dimmax) abort();
  for (size_t t = 0; t < nq; t++) {
    size_t last = end - nq + t; /* the query's own position */
    for (size_t hh = 0; hh < h; hh++) {
      size_t kh = hh / group;
      const float *qv = q + (t * h + hh) * d;
      double mx = -INFINITY, sum = 0.0, emax = 0.0, k1max = 0.0, qmax = 0.0, q1 = 0.0, bound;
      for (size_t i = 0; i < d; i++) qmax = fmax(qmax, fabs(qv[i])), q1 += fabs(qv[i]), dimmax[i] = 0.0;
      /* The stored K and V of the held positions; the per-dim maxima over
         all held positions decide the query's scaling 2^-a. */
      for (size_t pos = start; pos < end; pos++) {
        stored_row(dt, m->k + (pos * m->hk + kh) * d, d, ks + (pos - start) * d);
        stored_row(dt, m->v + (pos * m->hk + kh) * d, d, vs + (pos - start) * d);
        for (size_t i = 0; i < d; i++) dimmax[i] = fmax(dimmax[i], fabs(m->k[(pos * m->hk + kh) * d + i]));
      }
      bound = dt == TK_DTYPE_S8 ? 127.0 * q1 / sqrt((double)d) : 0.0;
      double b = 0.0;
      for (size_t i = 0; i < d; i++) b += fabs(qv[i]) * dimmax[i];
      bound = fmax(bound, b / sqrt((double)d));
      const int a = bound > 0x1p100 ? (int)ceil(log2(bound)) - 100 : 0;
      for (size_t pos = start; pos <= last; pos++) {
        const float *kv = m->k + (pos * m->hk + kh) * d;
        const double *kst = ks + (pos - start) * d;
        double s = 0.0, e = 0.0, k1 = 0.0;
        for (size_t i = 0; i < d; i++) {
          const double kk = dt == TK_DTYPE_F16 ? kv[i] : kst[i];
          s += (double)qv[i] * kk, e += fabs(qv[i] * kk), k1 += fabs(kk);
        }
        p[pos - start] = s / sqrt((double)d);
        emax = fmax(emax, e / sqrt((double)d));
        k1max = fmax(k1max, k1);
        if (p[pos - start] > mx) mx = p[pos - start];
      }
      double dl = (double)(d + 8) * 0x1p-23 * emax + 4 * 0x1p-23 * fabs(mx) +
                  ldexp(k1max, a - 149) / sqrt((double)d);
      if (dt == TK_DTYPE_S8) dl += qmax / 32766.0 * k1max / sqrt((double)d);
      /* The exact result of the stored values (f16: of the given ones). */
      double *want = malloc(d * sizeof *want);
      if (!want) abort();
      for (size_t i = 0; i < d; i++) want[i] = 0.0;
      for (size_t pos = start; pos <= last; pos++) {
        sum += p[pos - start] = exp(p[pos - start] - mx);
        for (size_t i = 0; i < d; i++) {
          const double x = dt == TK_DTYPE_F16 ? m->v[(pos * m->hk + kh) * d + i] : vs[(pos - start) * d + i];
          want[i] += p[pos - start] * x;
        }
      }
      for (size_t i = 0; i < d; i++) {
        double lo = INFINITY, hi = -INFINITY, vmax = 0.0;
        for (size_t pos = start; pos <= last; pos++) {
          const float *vrow = m->v + (pos * m->hk + kh) * d;
          double x = vrow[i];
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
        if (dt == TK_DTYPE_F32 && moderate && fabs(got - want[i] / sum) > 1e-4 * vmax + 1e-30) abort();
        /* f16 gets the same bound against its own stored values, checked
           only between caches (the caller's fresh-cache comparison). */
        double t_el = INFINITY;
        if (dl < 1.0 && vmax < 1e300 && a <= 100) {
          t_el = (exp(2.0 * dl) - 1.0) * vmax + ulps + 1e-6 * vmax + 1e-30;
          if (dt == TK_DTYPE_S8) t_el += (double)(last - start + 1) / 32766.0 * vmax;
          if (dt != TK_DTYPE_F16 && fabs(got - want[i] / sum) > t_el) abort();
        }
        tol[(t * h + hh) * d + i] = t_el;
      }
      free(want);
    }
  }
  free(p), free(ks), free(vs), free(dimmax);
}

/* The cache holds the positions it should and nothing else: a fresh cache
   given only those positions answers the same query alike (within both
   results' tolerance: block boundaries, and so rounding, differ). */
static void check_fresh(const model *m, const tk_kv_config *cfg, const float *q, size_t nq,
                        size_t h, const float *out, const double *tol) {
  const size_t row = m->hk * m->d, len = model_len(m), n = nq * h * m->d;
  tk_kv_cache *f = NULL;
  float *fo = malloc((n + 1) * sizeof *fo);
  if (!fo || tk_kv_cache_create(cfg, &f) != TK_OK) abort();
  if (tk_kv_cache_append(f, m->k + (m->total - len) * row, m->v + (m->total - len) * row, len) != TK_OK ||
      tk_attend(f, q, nq, h, fo) != TK_OK)
    abort();
  for (size_t i = 0; i < n; i++)
    if (isfinite(tol[i]) && !(fabs((double)out[i] - fo[i]) <= 2.0 * tol[i])) abort();
  tk_kv_cache_destroy(f);
  free(fo);
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
  model m = {hk, d, cfg.capacity, 0, 0, cfg.sliding, calloc(MAX_POS * row, 4), calloc(MAX_POS * row, 4)};
  size_t buf_n = (cfg.capacity + 4) * 8 * d;
  float *k = malloc(buf_n * 4), *v = malloc(buf_n * 4), *q = malloc(buf_n * 4), *out = malloc((buf_n + 1) * 4);
  double *tol = malloc(buf_n * sizeof *tol);
  if (!m.k || !m.v || !k || !v || !q || !out || !tol) abort();
  bool moderate = true;

  for (int op = 0; op < 12 && in.left; op++) {
    switch (fz_u8(&in) % 5) {
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
          m.total = m.start = 0;
          moderate = true;
          break;
        }
        if (s != TK_OK) abort();
        memcpy(m.k + m.total * row, k, n * row * 4);
        memcpy(m.v + m.total * row, v, n * row * 4);
        m.total += n;
        if (m.total - m.start > cfg.capacity) m.start = m.total - cfg.capacity; /* sliding */
        moderate = moderate && all_moderate(k, n * row) && all_moderate(v, n * row);
        if (tk_kv_cache_len(c) != model_len(&m) || tk_kv_cache_position(c) != m.total) abort();
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
        check_attend(&m, cfg.dtype, q, nq, h, out, moderate && all_moderate(q, nq * h * d), tol);
        check_fresh(&m, &cfg, q, nq, h, out, tol);
        break;
      }
      case 3: { /* truncate to n: positions >= n dropped, the held ones below kept */
        size_t n = fz_below(&in, m.total + 3);
        s = tk_kv_cache_truncate(c, n);
        if (n > m.total) {
          if (s != TK_ERR_ARG) abort();
        } else {
          if (s != TK_OK) abort();
          m.start = n > m.start ? m.start : n;
          m.total = n;
        }
        if (tk_kv_cache_len(c) != model_len(&m) || tk_kv_cache_position(c) != m.total) abort();
        break;
      }
      default: /* reset */
        tk_kv_cache_reset(c);
        m.total = m.start = 0;
        moderate = true;
        if (tk_kv_cache_len(c) != 0) abort();
        break;
    }
  }
  tk_kv_cache_destroy(c);
  free(m.k), free(m.v), free(k), free(v), free(q), free(out), free(tol);
  return 0;
}
