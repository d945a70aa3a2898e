/* attention public functions: the KV cache (ring, f16/s8 conversion on append), tk_attend and the tk_attention_f32 baseline. */
#if defined(__linux__)
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include <sys/mman.h>
#endif
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention/attention_cache.h"
#include "attention/attention_kernels.h"
#include "int8/int8_kernels.h"
#include "size.h"

#define LOG2E 1.44269504088896340736

/* tk_attend's query and result rows fit a stack buffer up to this many floats
   (32 KiB: a decode step of 32 heads x 128 dims); beyond it (prefills) they
   are allocated per call. */
#define TK_ATT_STACK_FLOATS 8192

/* Keep every partial dot product of q and k below 2^100 (and every sum of
   weights times V): far from FLT_MAX ~ 2^128 whatever the summation order. */
#define TK_ATT_SAFE_LOG2 100

static size_t elem_size(tk_dtype dt) {
  return dt == TK_DTYPE_F32 ? sizeof(float) : dt == TK_DTYPE_F16 ? sizeof(uint16_t) : 1;
}

static size_t padded_dim(size_t head_dim) {
  return (head_dim + TK_ATT_ALIGN - 1) / TK_ATT_ALIGN * TK_ATT_ALIGN;
}

/* K and V arrays of at least TK_ATT_HUGE bytes start on a TK_ATT_HUGE
   boundary and fill whole multiples of it (less than TK_ATT_HUGE more per
   array), and Linux is asked to back them with transparent huge pages (a
   hint; without it the system's default pages are used). A decode step
   streams the whole cache once: with 4 KiB pages every 4 KiB of K or V (8
   f32 rows of 128) costs a TLB miss and restarts the hardware prefetchers.
   Measured on Zen 3, f32 decode from DRAM: 1.1-1.3x faster. */
#define TK_ATT_HUGE ((size_t)2 << 20)

static void *alloc_rows(size_t *bytes) {
  if (*bytes < TK_ATT_HUGE) return aligned_alloc(64, *bytes);
  *bytes = (*bytes + TK_ATT_HUGE - 1) / TK_ATT_HUGE * TK_ATT_HUGE;
  void *p = aligned_alloc(TK_ATT_HUGE, *bytes);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (p) madvise(p, *bytes, MADV_HUGEPAGE);
#endif
  return p;
}

static void free_cache(tk_kv_cache *c) {
  free(c->k);
  free(c->v);
  free(c->k_scale);
  free(c->v_scale);
  free(c->s8_row);
  free(c);
}

tk_status tk_kv_cache_create(const tk_kv_config *cfg, tk_kv_cache **out) {
  if (!cfg || !out) return TK_ERR_ARG;
  if (!cfg->n_kv_heads || !cfg->head_dim || !cfg->capacity) return TK_ERR_ARG;
  if (cfg->dtype != TK_DTYPE_F32 && cfg->dtype != TK_DTYPE_F16 && cfg->dtype != TK_DTYPE_S8)
    return TK_ERR_ARG;
  if (cfg->head_dim > SIZE_MAX - TK_ATT_ALIGN) return TK_ERR_OVERFLOW;
  const size_t stride = padded_dim(cfg->head_dim);
  const bool s8 = cfg->dtype == TK_DTYPE_S8;
  if (s8 && cfg->capacity > SIZE_MAX - TK_ATT_S8_KT) return TK_ERR_OVERFLOW;
  const size_t slots = s8 ? (cfg->capacity + TK_ATT_S8_KT - 1) / TK_ATT_S8_KT * TK_ATT_S8_KT
                          : cfg->capacity;
  size_t rows, elems, bytes, scale_bytes = 0;
  /* Rows are stored whole, so a 64-byte aligned allocation rounded up to 64 bytes. */
  if (tk_mul_overflows(cfg->n_kv_heads, slots, &rows) ||
      tk_mul_overflows(rows, stride, &elems) ||
      tk_mul_overflows(elems, elem_size(cfg->dtype), &bytes) || bytes > SIZE_MAX / 2 - 64 ||
      tk_mul_overflows(rows, sizeof(float), &scale_bytes))
    return TK_ERR_OVERFLOW;
  bytes = (bytes + 63) / 64 * 64;
  if (bytes > SIZE_MAX / 2 - TK_ATT_HUGE) return TK_ERR_OVERFLOW;
  tk_kv_cache *c = calloc(1, sizeof *c);
  if (!c) return TK_ERR_NOMEM;
  c->cfg = *cfg;
  c->stride = stride;
  c->slots = slots;
  /* Not zeroed: append writes whole rows (padding included) and attend reads
     only the slots of held positions. (The s8 kernels read whole tiles and
     give the slots of other positions weight 0; their scales start at 0 so
     that the weight times the scale stays 0.) */
  c->k = alloc_rows(&bytes);
  c->v = alloc_rows(&bytes);
  bool ok = c->k && c->v;
  if (s8) {
    c->k_scale = calloc(rows, sizeof(float));
    c->v_scale = calloc(rows, sizeof(float));
    c->s8_row = malloc(stride);
    ok = ok && c->k_scale && c->v_scale && c->s8_row;
  } else {
    scale_bytes = 0;
  }
  if (!ok) {
    free_cache(c);
    return TK_ERR_NOMEM;
  }
  c->bytes = sizeof *c + 2 * bytes + 2 * scale_bytes + (s8 ? stride : 0);
  *out = c;
  return TK_OK;
}

void tk_kv_cache_destroy(tk_kv_cache *c) {
  if (c) free_cache(c);
}

size_t tk_kv_cache_len(const tk_kv_cache *c) { return c ? c->len : 0; }

size_t tk_kv_cache_bytes(const tk_kv_cache *c) { return c ? c->bytes : 0; }

void tk_kv_cache_reset(tk_kv_cache *c) {
  if (!c) return;
  c->len = 0;
  c->next = 0;
  c->max_k = c->max_v = 0.0f;
}

/* Stores one head_dim row x (finite) of kv head g at `slot` of storage
   `base` (K when is_k), padding zeroed; s8 also stores the row's scale. */
static void store_row(const tk_kernels *kt, const tk_kv_cache *c, bool is_k, size_t g,
                      size_t slot, const float *x) {
  const size_t d = c->cfg.head_dim, stride = c->stride, pad = stride - d;
  const size_t row = g * c->slots + slot;
  void *base = is_k ? c->k : c->v;
  switch (c->cfg.dtype) {
    case TK_DTYPE_F32: {
      float *dst = (float *)base + row * stride;
      memcpy(dst, x, d * sizeof(float));
      memset(dst + d, 0, pad * sizeof(float));
      break;
    }
    case TK_DTYPE_F16: {
      uint16_t *dst = (uint16_t *)base + row * stride;
      kt->f32_to_f16(x, d, dst);
      memset(dst + d, 0, pad * sizeof(uint16_t));
      break;
    }
    case TK_DTYPE_S8: {
      /* Quantized whole into the cache's row buffer (the tk_quantize_s8 rule
         cannot fail on the finite rows the caller checked), then spread into
         the tiles, padding included. */
      int8_t *q = c->s8_row, *dst = (int8_t *)base + g * c->slots * stride;
      float *scale = (is_k ? c->k_scale : c->v_scale) + row;
      (void)tk_quantize_s8_with(kt, x, d, q, scale);
      memset(q + d, 0, pad);
      /* An all-zero V row keeps scale 0, not the rule's 1: the kernels carry
         each weight times its row's V scale with 14 bits relative to the
         block's largest, and a 1 there would crowd out the rows of small V. */
      if (!is_k && *scale == 1.0f) {
        size_t e = 0;
        while (e < d && q[e] == 0) e++;
        if (e == d) *scale = 0.0f;
      }
      if (is_k)
        for (size_t e = 0; e < stride; e++) dst[tk_att_s8_k_at(stride, slot, e)] = q[e];
      else
        for (size_t e = 0; e < stride; e++) dst[tk_att_s8_v_at(stride, slot, e)] = q[e];
      break;
    }
  }
}

tk_status tk_kv_cache_append(tk_kv_cache *c, const float *k, const float *v, size_t n_tokens) {
  return tk_kv_cache_append_with(tk_active(), c, k, v, n_tokens);
}

tk_status tk_kv_cache_append_with(const tk_kernels *kt, tk_kv_cache *c, const float *k,
                                  const float *v, size_t n_tokens) {
  if (!c) return TK_ERR_ARG;
  if (!n_tokens) return TK_OK;
  if (!k || !v) return TK_ERR_ARG;
  const size_t n_kv = c->cfg.n_kv_heads, d = c->cfg.head_dim, cap = c->cfg.capacity;
  size_t n;
  if (tk_mul_overflows(n_tokens, n_kv * d, &n)) return TK_ERR_OVERFLOW;
  if (!c->cfg.sliding && n_tokens > cap - c->len) return TK_ERR_OVERFLOW;
  /* Everything is checked before the first write: on error the cache is unchanged. */
  bool k_finite = true, v_finite = true;
  float mk = kt->absmax_f32(k, n, &k_finite), mv = kt->absmax_f32(v, n, &v_finite);
  if (!k_finite || !v_finite) return TK_ERR_ARG;
  /* More tokens than a sliding cache holds: only the last `cap` can stay. */
  for (size_t t = n_tokens > cap ? n_tokens - cap : 0; t < n_tokens; t++) {
    const size_t slot = (c->next + t) % cap;
    for (size_t g = 0; g < n_kv; g++) {
      const size_t src = (t * n_kv + g) * d;
      store_row(kt, c, true, g, slot, k + src);
      store_row(kt, c, false, g, slot, v + src);
    }
  }
  c->next += n_tokens;
  c->len = n_tokens >= cap - c->len ? cap : c->len + n_tokens;
  if (c->cfg.dtype == TK_DTYPE_F16) {
    mk = fminf(mk, 65504.0f);
    mv = fminf(mv, 65504.0f);
  }
  c->max_k = fmaxf(c->max_k, mk);
  c->max_v = fmaxf(c->max_v, mv);
  return TK_OK;
}

/* The exponent e >= 0 such that bound * 2^-e <= 2^TK_ATT_SAFE_LOG2. */
static int scale_exponent(double bound) {
  if (!(bound > 0x1p100)) return 0;
  return (int)ceil(log2(bound)) - TK_ATT_SAFE_LOG2;
}

/* Query rows for the kernels: [n_kv_heads][n_q][heads per kv head][stride],
   so the rows of one kv head are consecutive; times `scale`, padding zero. */
static void pack_queries(const float *q, size_t n_q, size_t n_heads, size_t n_kv, size_t d,
                         size_t stride, double scale, bool in_double, float *dst) {
  const size_t group = n_heads / n_kv;
  const float fscale = (float)scale;
  for (size_t g = 0; g < n_kv; g++)
    for (size_t t = 0; t < n_q; t++)
      for (size_t i = 0; i < group; i++) {
        const float *src = q + (t * n_heads + g * group + i) * d;
        float *row = dst + ((g * n_q + t) * group + i) * stride;
        /* A scale below FLT_MIN (huge q and k) is applied in double. */
        if (in_double)
          for (size_t e = 0; e < d; e++) row[e] = (float)((double)src[e] * scale);
        else
          for (size_t e = 0; e < d; e++) row[e] = src[e] * fscale;
        memset(row + d, 0, (stride - d) * sizeof(float));
      }
}

/* The inverse of pack_queries for the results (padding dropped). */
static void unpack_results(const float *src, size_t n_q, size_t n_heads, size_t n_kv, size_t d,
                           size_t stride, float *out) {
  const size_t group = n_heads / n_kv;
  for (size_t g = 0; g < n_kv; g++)
    for (size_t t = 0; t < n_q; t++)
      for (size_t i = 0; i < group; i++)
        memcpy(out + (t * n_heads + g * group + i) * d,
               src + ((g * n_q + t) * group + i) * stride, d * sizeof(float));
}

tk_status tk_attend(const tk_kv_cache *c, const float *q, size_t n_q_tokens, size_t n_heads,
                    float *out) {
  return tk_attend_with(tk_active(), c, q, n_q_tokens, n_heads, out);
}

tk_status tk_attend_with(const tk_kernels *kt, const tk_kv_cache *c, const float *q,
                         size_t n_q_tokens, size_t n_heads, float *out) {
  if (!c || !n_heads || n_heads % c->cfg.n_kv_heads) return TK_ERR_ARG;
  if (!n_q_tokens) return TK_OK;
  if (!q || !out || n_q_tokens > c->len) return TK_ERR_ARG;
  const size_t n_kv = c->cfg.n_kv_heads, d = c->cfg.head_dim, stride = c->stride;
  const size_t cap = c->cfg.capacity, group = n_heads / n_kv;
  size_t rows, n_in, n_buf;
  if (tk_mul_overflows(n_q_tokens, n_heads, &rows) || tk_mul_overflows(rows, d, &n_in) ||
      tk_mul_overflows(rows, stride, &n_buf) || n_buf > SIZE_MAX / 4 / sizeof(float))
    return TK_ERR_OVERFLOW;
  bool finite = true;
  const float max_q = kt->absmax_f32(q, n_in, &finite);
  if (!finite) return TK_ERR_ARG;

  /* Finite inputs give a finite result, huge ones included: q is scaled by
     2^-a so that |q.k| <= sqrt(d) max|q| max|k| 2^-a stays below 2^100 (the
     softmax gets 2^a back in its exponent multiplier, capped: beyond logits of
     ~2^200 softmax is a one-hot anyway), and the weights by 2^-b so that
     len * max|v| * 2^-b does too (2^-b cancels in the final division). */
  const int a = scale_exponent(sqrt((double)d) * max_q * c->max_k);
  const int b = scale_exponent((double)c->len * c->max_v);

  /* Floats: q and result rows; s8 adds the quantized rows (n_buf bytes),
     their scales and the kernel's int16 copy of TK_ATT_ROWS rows (all three
     within 2 * n_buf floats, rows <= n_buf). */
  const bool s8 = c->cfg.dtype == TK_DTYPE_S8;
  const size_t n_floats = s8 ? 4 * n_buf : 2 * n_buf;
  _Alignas(64) float stack_buf[TK_ATT_STACK_FLOATS];
  float *buf = stack_buf;
  if (n_floats > TK_ATT_STACK_FLOATS) {
    buf = malloc(n_floats * sizeof(float));
    if (!buf) return TK_ERR_NOMEM;
  }
  float *qb = buf, *ob = buf + n_buf, *q_scale = buf + 2 * n_buf;
  int8_t *q8 = (int8_t *)(q_scale + rows);
  void *qx = q8 + n_buf;
  /* q is read whole here, before anything is written to out: out may be q. */
  pack_queries(q, n_q_tokens, n_heads, n_kv, d, stride, ldexp(1.0 / sqrt((double)d), -a), a > 0,
               qb);
  /* s8: the finite rows cannot fail the tk_quantize_s8 rule. */
  if (s8)
    for (size_t r = 0; r < rows; r++)
      (void)tk_quantize_s8_with(kt, qb + r * stride, stride, q8 + r * stride, &q_scale[r]);

  void (*attend)(const tk_att_job *) = c->cfg.dtype == TK_DTYPE_F32   ? kt->attend_f32
                                       : c->cfg.dtype == TK_DTYPE_F16 ? kt->attend_f16
                                                                      : kt->attend_s8;
  const size_t es = elem_size(c->cfg.dtype), kv_rows = n_q_tokens * group;
  for (size_t g = 0; g < n_kv; g++) {
    tk_att_job job = {
        .k = (const char *)c->k + g * c->slots * stride * es,
        .v = (const char *)c->v + g * c->slots * stride * es,
        .k_scale = s8 ? c->k_scale + g * c->slots : NULL,
        .v_scale = s8 ? c->v_scale + g * c->slots : NULL,
        .stride = stride,
        .head_dim = d,
        .capacity = cap,
        .lo = c->next - c->len,
        .first_hi = c->next - n_q_tokens + 1,
        .rows_per_token = group,
        .rows = kv_rows,
        .q = qb + g * kv_rows * stride,
        .q8 = s8 ? q8 + g * kv_rows * stride : NULL,
        .q_scale = s8 ? q_scale + g * kv_rows : NULL,
        .qx = s8 ? qx : NULL,
        .out = ob + g * kv_rows * stride,
        .exp_mul = (float)ldexp(LOG2E, a < TK_ATT_SAFE_LOG2 ? a : TK_ATT_SAFE_LOG2),
        .exp_bias = -(float)b,
        .out_max = FLT_MAX,
    };
    attend(&job);
  }
  unpack_results(ob, n_q_tokens, n_heads, n_kv, d, stride, out);
  if (buf != stack_buf) free(buf);
  return TK_OK;
}

tk_status tk_attention_f32(const float *q, const float *k, const float *v, size_t seq,
                           size_t n_heads, size_t n_kv_heads, size_t head_dim, bool causal,
                           float *out) {
  return tk_attention_f32_with(tk_active(), q, k, v, seq, n_heads, n_kv_heads, head_dim, causal,
                               out);
}

tk_status tk_attention_f32_with(const tk_kernels *kt, const float *q, const float *k,
                                const float *v, size_t seq, size_t n_heads, size_t n_kv_heads,
                                size_t head_dim, bool causal, float *out) {
  if (!n_heads || !n_kv_heads || !head_dim || n_heads % n_kv_heads) return TK_ERR_ARG;
  if (!seq) return TK_OK;
  if (!q || !k || !v || !out) return TK_ERR_ARG;
  if (head_dim > SIZE_MAX - TK_ATT_ALIGN) return TK_ERR_OVERFLOW;
  const size_t stride = padded_dim(head_dim), group = n_heads / n_kv_heads;
  size_t q_rows, kv_rows, n_q, n_kv, total;
  if (tk_mul_overflows(seq, n_heads, &q_rows) || tk_mul_overflows(q_rows, stride, &n_q) ||
      tk_mul_overflows(seq, n_kv_heads, &kv_rows) || tk_mul_overflows(kv_rows, stride, &n_kv) ||
      n_q > SIZE_MAX / 8 || n_kv > SIZE_MAX / 8 ||
      tk_mul_overflows(2 * (n_q + n_kv), sizeof(float), &total))
    return TK_ERR_OVERFLOW;
  float *buf = malloc(total);
  if (!buf) return TK_ERR_NOMEM;
  float *qb = buf, *ob = qb + n_q, *kb = ob + n_q, *vb = kb + n_kv;
  /* K and V repacked per kv head, contiguous over positions with padded rows:
     the layout of the cache, so the same kernel runs (the copy is O(seq), the
     attention O(seq^2)). */
  for (size_t g = 0; g < n_kv_heads; g++)
    for (size_t t = 0; t < seq; t++) {
      const size_t src = (t * n_kv_heads + g) * head_dim, dst = (g * seq + t) * stride;
      memcpy(kb + dst, k + src, head_dim * sizeof(float));
      memcpy(vb + dst, v + src, head_dim * sizeof(float));
      memset(kb + dst + head_dim, 0, (stride - head_dim) * sizeof(float));
      memset(vb + dst + head_dim, 0, (stride - head_dim) * sizeof(float));
    }
  pack_queries(q, seq, n_heads, n_kv_heads, head_dim, stride, 1.0 / sqrt((double)head_dim), false,
               qb);
  for (size_t g = 0; g < n_kv_heads; g++) {
    tk_att_job job = {
        .k = kb + g * seq * stride,
        .v = vb + g * seq * stride,
        .stride = stride,
        .head_dim = head_dim,
        .capacity = seq,
        .lo = 0,
        /* Causal: row r (token r / group) sees positions [0, r / group]; else all. */
        .first_hi = causal ? 1 : seq,
        .rows_per_token = causal ? group : seq * group,
        .rows = seq * group,
        .q = qb + g * seq * group * stride,
        .out = ob + g * seq * group * stride,
        .exp_mul = (float)LOG2E,
        .exp_bias = 0.0f,
        /* Inputs are not scanned here: no clamp, Inf stays Inf. */
        .out_max = INFINITY,
    };
    kt->attend_f32(&job);
  }
  unpack_results(ob, seq, n_heads, n_kv_heads, head_dim, stride, out);
  free(buf);
  return TK_OK;
}
