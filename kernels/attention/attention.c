/* attention public functions: the KV cache (ring, f16/s8 conversion on append), tk_attend and the tk_attention_f32 baseline. */
#if defined(__linux__)
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include <sys/mman.h>
#endif
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "attention/attention_cache.h"
#include "attention/attention_kernels.h"
#include "int8/int8_kernels.h"
#include "exec.h"
#include "size.h"

#define LOG2E 1.44269504088896340736

/* Keep every partial dot product of q and k below 2^100 (and every sum of
   weights times V): far from FLT_MAX ~ 2^128 whatever the summation order. */
#define TK_ATT_SAFE_LOG2 100

/* Caller arrays need no alignment (API rule): they are only read and written
   through memcpy, by bytes, into the cache's row buffer or tk_attend's rows,
   where the kernels work. The row buffer holds at least this many floats. */
#define TK_ATT_ROW_FLOATS 256

static size_t elem_size(tk_dtype dt) {
  return dt == TK_DTYPE_F32 ? sizeof(float) : dt == TK_DTYPE_F16 ? sizeof(uint16_t) : 1;
}

static size_t padded_dim(size_t head_dim) {
  return (head_dim + TK_ATT_ALIGN - 1) / TK_ATT_ALIGN * TK_ATT_ALIGN;
}

static size_t round64(size_t n) { return (n + 63) / 64 * 64; }

/* max of two non-negative floats (no NaN here): a compare, where fmaxf is a
   libm call (a quarter of an s8 decode step's front cost at L = 64). */
static float max_nn(float a, float b) { return a > b ? a : b; }

/* TK_KV_MEMORY_HUGE: K and V arrays of at least TK_ATT_HUGE bytes start on
   a TK_ATT_HUGE boundary and fill whole multiples of it (less than
   TK_ATT_HUGE more per array), and Linux is asked to back them with
   transparent huge pages (a hint; without it the system's default pages are
   used). A decode step streams the whole cache once: with 4 KiB pages every
   4 KiB of K or V costs a TLB miss. */
#define TK_ATT_HUGE ((size_t)2 << 20)

static void *alloc_rows(size_t *bytes, tk_kv_memory memory) {
  if (memory != TK_KV_MEMORY_HUGE || *bytes < TK_ATT_HUGE) return aligned_alloc(64, *bytes);
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
  free(c->k_amax);
  free(c->v_amax);
  free(c->k_span);
  free(c->v_span);
  free(c->row);
  free(c->s8_row);
  free(c);
}

tk_status tk_kv_cache_create(const tk_kv_config *cfg, tk_kv_cache **out) {
  if (!cfg || !out) return TK_ERR_ARG;
  if (!cfg->n_kv_heads || !cfg->head_dim || !cfg->capacity) return TK_ERR_ARG;
  if (cfg->dtype != TK_DTYPE_F32 && cfg->dtype != TK_DTYPE_F16 && cfg->dtype != TK_DTYPE_S8)
    return TK_ERR_ARG;
  if (cfg->memory != TK_KV_MEMORY_DEFAULT && cfg->memory != TK_KV_MEMORY_PAGES &&
      cfg->memory != TK_KV_MEMORY_HUGE)
    return TK_ERR_ARG;
  if (cfg->head_dim > SIZE_MAX / 8 - TK_ATT_ALIGN) return TK_ERR_OVERFLOW;
  const size_t stride = padded_dim(cfg->head_dim);
  const bool s8 = cfg->dtype == TK_DTYPE_S8;
  if (cfg->capacity > SIZE_MAX - TK_ATT_SPAN) return TK_ERR_OVERFLOW;
  const size_t slots = s8 ? (cfg->capacity + TK_ATT_S8_KT - 1) / TK_ATT_S8_KT * TK_ATT_S8_KT
                          : cfg->capacity;
  const size_t n_spans = (cfg->capacity + TK_ATT_SPAN - 1) / TK_ATT_SPAN;
  size_t rows, elems, bytes, row_bytes, span_bytes;
  /* Rows are stored whole, so a 64-byte aligned allocation rounded up to 64 bytes. */
  if (tk_mul_overflows(cfg->n_kv_heads, slots, &rows) ||
      tk_mul_overflows(rows, stride, &elems) ||
      tk_mul_overflows(elems, elem_size(cfg->dtype), &bytes) || bytes > SIZE_MAX / 2 - 64 ||
      tk_mul_overflows(rows, sizeof(float), &row_bytes) ||
      tk_mul_overflows(cfg->n_kv_heads, n_spans * sizeof(float), &span_bytes))
    return TK_ERR_OVERFLOW;
  bytes = round64(bytes);
  if (bytes > SIZE_MAX / 2 - TK_ATT_HUGE) return TK_ERR_OVERFLOW;
  tk_kv_cache *c = calloc(1, sizeof *c);
  if (!c) return TK_ERR_NOMEM;
  c->cfg = *cfg;
  c->stride = stride;
  c->slots = slots;
  c->n_spans = n_spans;
  /* Not zeroed: append writes whole rows (padding included) and attend reads
     only the slots of held positions; s8 tiles, read whole, are zeroed as
     appends first reach them (s8_ready), so no unwritten byte is ever read
     (valgrind, MSan) and a large cache commits no memory it does not use. */
  const tk_kv_memory memory = cfg->memory == TK_KV_MEMORY_DEFAULT ? TK_KV_MEMORY_PAGES : cfg->memory;
  c->k = alloc_rows(&bytes, memory);
  c->v = alloc_rows(&bytes, memory);
  const size_t row_floats = stride > TK_ATT_ROW_FLOATS ? stride : TK_ATT_ROW_FLOATS;
  c->row = aligned_alloc(64, round64(row_floats * sizeof(float)));
  c->k_span = malloc(span_bytes);
  c->v_span = malloc(span_bytes);
  bool ok = c->k && c->v && c->row && c->k_span && c->v_span;
  if (s8) {
    /* Scales 0 past the capacity: weight times scale stays 0 there. */
    c->k_scale = calloc(rows, sizeof(float));
    c->v_scale = calloc(rows, sizeof(float));
    c->s8_row = malloc(stride);
    ok = ok && c->k_scale && c->v_scale && c->s8_row;
  } else {
    c->k_amax = malloc(row_bytes);
    c->v_amax = malloc(row_bytes);
    ok = ok && c->k_amax && c->v_amax;
  }
  if (!ok) {
    free_cache(c);
    return TK_ERR_NOMEM;
  }
  c->bytes = sizeof *c + 2 * bytes + 2 * row_bytes + 2 * span_bytes +
             round64(row_floats * sizeof(float)) + (s8 ? stride : 0);
  *out = c;
  return TK_OK;
}

void tk_kv_cache_destroy(tk_kv_cache *c) {
  if (c) free_cache(c);
}

size_t tk_kv_cache_len(const tk_kv_cache *c) { return c ? c->len : 0; }

size_t tk_kv_cache_bytes(const tk_kv_cache *c) { return c ? c->bytes : 0; }

size_t tk_kv_cache_position(const tk_kv_cache *c) { return c ? c->next : 0; }

void tk_kv_cache_reset(tk_kv_cache *c) {
  if (!c) return;
  c->len = 0;
  c->next = 0;
}

/* Max |stored value| of the row of kv head g at `slot` (s8: the largest its
   scale allows, 127 * scale: |q| <= 127). */
static float row_amax(const tk_kv_cache *c, bool is_k, size_t g, size_t slot) {
  const size_t row = g * c->slots + slot;
  if (c->cfg.dtype == TK_DTYPE_S8) return 127.0f * (is_k ? c->k_scale : c->v_scale)[row];
  return (is_k ? c->k_amax : c->v_amax)[row];
}

/* The held positions [next - len, next) as ranges of slots: from (next -
   len) % capacity on, len of them, wrapping at the capacity (see
   attention_cache.h); r[i] = [begin, end). Returns how many: 0 (empty), 1 or 2. */
static int held_ranges(const tk_kv_cache *c, size_t r[2][2]) {
  const size_t cap = c->cfg.capacity, first = (c->next - c->len) % cap;
  if (!c->len) return 0;
  r[0][0] = first;
  if (c->len <= cap - first) {
    r[0][1] = first + c->len;
    return 1;
  }
  r[0][1] = cap;
  r[1][0] = 0;
  r[1][1] = c->len - (cap - first);
  return 2;
}

/* Recomputes span sp's maxima over its held slots (0 if none), for every kv head. */
static void span_update(tk_kv_cache *c, size_t sp) {
  const size_t lo = sp * TK_ATT_SPAN, cap = c->cfg.capacity;
  const size_t hi = lo + TK_ATT_SPAN < cap ? lo + TK_ATT_SPAN : cap;
  size_t r[2][2];
  const int nr = held_ranges(c, r);
  for (size_t g = 0; g < c->cfg.n_kv_heads; g++) {
    float mk = 0.0f, mv = 0.0f;
    for (int i = 0; i < nr; i++)
      for (size_t slot = r[i][0] > lo ? r[i][0] : lo; slot < r[i][1] && slot < hi; slot++) {
        mk = max_nn(mk, row_amax(c, true, g, slot));
        mv = max_nn(mv, row_amax(c, false, g, slot));
      }
    c->k_span[g * c->n_spans + sp] = mk;
    c->v_span[g * c->n_spans + sp] = mv;
  }
}

/* Max |stored value| of kv head g's K (is_k) or V over the held positions:
   the spans their slots fall in (a span without held slots may keep the
   maxima of positions dropped since, which must not count). */
static float held_amax(const tk_kv_cache *c, bool is_k, size_t g) {
  const float *span = (is_k ? c->k_span : c->v_span) + g * c->n_spans;
  size_t r[2][2];
  const int nr = held_ranges(c, r);
  float m = 0.0f;
  for (int i = 0; i < nr; i++)
    for (size_t sp = r[i][0] / TK_ATT_SPAN; sp * TK_ATT_SPAN < r[i][1]; sp++) m = max_nn(m, span[sp]);
  return m;
}

/* Whether the n floats at src (any alignment) are all finite: copied through
   the row buffer in chunks. */
static bool all_finite(const tk_kernels *kt, const tk_kv_cache *c, const char *src, size_t n) {
  for (size_t i = 0; i < n; i += TK_ATT_ROW_FLOATS) {
    const size_t m = n - i < TK_ATT_ROW_FLOATS ? n - i : TK_ATT_ROW_FLOATS;
    bool finite = true;
    memcpy(c->row, src + i * sizeof(float), m * sizeof(float));
    (void)kt->absmax_f32(c->row, m, &finite);
    if (!finite) return false;
  }
  return true;
}

/* s8: before slot is written, the tiles up to its own (K tiles of 8 slots, V
   groups of 4) are zeroed where no append reached them yet. */
static void s8_prepare(tk_kv_cache *c, size_t slot) {
  if (slot < c->s8_ready) return;
  const size_t end = (slot / TK_ATT_S8_KT + 1) * TK_ATT_S8_KT, stride = c->stride;
  for (size_t g = 0; g < c->cfg.n_kv_heads; g++) {
    const size_t at = (g * c->slots + c->s8_ready) * stride, n = (end - c->s8_ready) * stride;
    memset((int8_t *)c->k + at, 0, n);
    memset((int8_t *)c->v + at, 0, n);
  }
  c->s8_ready = end;
}

/* Stores one head_dim row of kv head g (src: finite floats, any alignment)
   at `slot` of K (is_k) or V, padding zeroed, with its max |value| (f32,
   f16) or its scale (s8). */
static void store_row(const tk_kernels *kt, tk_kv_cache *c, bool is_k, size_t g, size_t slot,
                      const char *src) {
  const size_t d = c->cfg.head_dim, stride = c->stride, pad = stride - d;
  const size_t row = g * c->slots + slot;
  void *base = is_k ? c->k : c->v;
  float *x = c->row;
  bool finite = true;
  memcpy(x, src, d * sizeof(float));
  switch (c->cfg.dtype) {
    case TK_DTYPE_F32: {
      float *dst = (float *)base + row * stride;
      memcpy(dst, x, d * sizeof(float));
      memset(dst + d, 0, pad * sizeof(float));
      (is_k ? c->k_amax : c->v_amax)[row] = kt->absmax_f32(x, d, &finite);
      break;
    }
    case TK_DTYPE_F16: {
      uint16_t *dst = (uint16_t *)base + row * stride;
      kt->f32_to_f16(x, d, dst);
      memset(dst + d, 0, pad * sizeof(uint16_t));
      /* f16 saturates at 65504 and rounds by 2^-11 at most: a bound of the
         stored values within the slack of TK_ATT_SAFE_LOG2. */
      (is_k ? c->k_amax : c->v_amax)[row] = fminf(kt->absmax_f32(x, d, &finite), 65504.0f);
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
  if (tk_mul_overflows(n_tokens, n_kv * d, &n) || n > SIZE_MAX / sizeof(float))
    return TK_ERR_OVERFLOW;
  if (!c->cfg.sliding && n_tokens > cap - c->len) return TK_ERR_OVERFLOW;
  /* Everything is checked before the first write: on error the cache is unchanged. */
  const char *kb = (const char *)k, *vb = (const char *)v;
  if (!all_finite(kt, c, kb, n) || !all_finite(kt, c, vb, n)) return TK_ERR_ARG;
  /* More tokens than a sliding cache holds: only the last `cap` can stay. */
  const size_t first = n_tokens > cap ? n_tokens - cap : 0, row = d * sizeof(float);
  for (size_t t = first; t < n_tokens; t++) {
    const size_t slot = (c->next + t) % cap;
    if (c->cfg.dtype == TK_DTYPE_S8) s8_prepare(c, slot);
    for (size_t g = 0; g < n_kv; g++) {
      const size_t src = (t * n_kv + g) * row;
      store_row(kt, c, true, g, slot, kb + src);
      store_row(kt, c, false, g, slot, vb + src);
    }
  }
  const size_t next0 = c->next;
  c->next += n_tokens;
  c->len = n_tokens >= cap - c->len ? cap : c->len + n_tokens;
  /* The spans written to, once each (one may come twice when the ring wraps). */
  size_t prev = SIZE_MAX;
  for (size_t t = first; t < n_tokens; t++) {
    const size_t sp = (next0 + t) % cap / TK_ATT_SPAN;
    if (sp != prev) span_update(c, sp);
    prev = sp;
  }
  return TK_OK;
}

tk_status tk_kv_cache_truncate(tk_kv_cache *c, size_t n) {
  if (!c || n > c->next) return TK_ERR_ARG;
  if (n == c->next) return TK_OK;
  const size_t cap = c->cfg.capacity, lo = c->next - c->len;
  /* The held positions drop to [lo, n) (none when n <= lo: a ring that
     already overwrote the positions below lo cannot give them back); their
     slots stay where they are, the dropped ones are only forgotten. */
  const size_t first_dropped = n > lo ? n : lo, dropped = c->next - first_dropped;
  c->len = n > lo ? n - lo : 0;
  c->next = n;
  /* The spans of the dropped slots hold maxima of positions no longer held:
     recomputed over what they hold now. The s8 tiles need nothing: held
     slots stay below s8_ready, and stale rows are finite values the kernels
     weigh by 0. */
  const size_t s0 = first_dropped % cap, s1 = s0 + dropped;
  if (s1 > cap)
    for (size_t sp = 0; sp * TK_ATT_SPAN < s1 - cap; sp++) span_update(c, sp);
  for (size_t sp = s0 / TK_ATT_SPAN; sp * TK_ATT_SPAN < s1 && sp < c->n_spans; sp++)
    span_update(c, sp);
  return TK_OK;
}

/* The exponent e >= 0 such that bound * 2^-e <= 2^TK_ATT_SAFE_LOG2. */
static int scale_exponent(double bound) {
  if (!(bound > 0x1p100)) return 0;
  return (int)ceil(log2(bound)) - TK_ATT_SAFE_LOG2;
}

/* |value| of f16 bits (finite), exact in float. */
static float half_abs(uint16_t h) {
  const uint16_t m = h & 0x7fff;
  return m < 0x400 ? (float)m * 0x1p-24f : ldexpf((float)(1024 + (m & 0x3ff)), (m >> 10) - 25);
}

/* M[e] = max |stored K value| of dim e over kv head g's held positions (a
   pass over the held K rows: only for queries the quick bound does not clear). */
static void held_dim_amax(const tk_kv_cache *c, size_t g, float *M) {
  const size_t d = c->cfg.head_dim;
  size_t r[2][2];
  const int nr = held_ranges(c, r);
  for (size_t e = 0; e < d; e++) M[e] = 0.0f;
  for (int ri = 0; ri < nr; ri++)
    for (size_t slot = r[ri][0]; slot < r[ri][1]; slot++)
      for (size_t e = 0; e < d; e++) {
        const size_t i = tk_att_elem(c, true, g, slot, e);
        float x;
        switch (c->cfg.dtype) {
          case TK_DTYPE_F32: x = fabsf(((const float *)c->k)[i]); break;
          case TK_DTYPE_F16: x = half_abs(((const uint16_t *)c->k)[i]); break;
          default: x = fabsf((float)((const int8_t *)c->k)[i]) * c->k_scale[g * c->slots + slot]; break;
        }
        M[e] = max_nn(M[e], x);
      }
}

/* The exponent a >= 0 by which a query row q of kv head g (unscaled: the
   logits are q.k / sqrt(d)) is scaled down, 2^-a, so that no partial sum of
   q.k in the kernels exceeds 2^TK_ATT_SAFE_LOG2; each row has its own (one
   huge row must not compress the logits of the others). A partial sum
   against position p is at most sum_e |q_e| |k_pe| / sqrt(d) <=
   sum_e |q_e| M_e / sqrt(d) (M_e: the largest |k_e| held), and that bound
   decides: a product that could overflow scales the row, a huge q meeting
   zeros of K does not (q = {2^104, 0, 4} against K rows {0, 2^104, 0},
   {0, 0, 1}, {0, 0, 2}: a = 0 and the exact softmax; one scalar bound,
   sqrt(d) max|q| max|k|, divided those logits by 2^9). The quick form
   sqrt(d) max|q| max|k| clears ordinary rows without reading K (max|q|:
   qmax, from the finiteness check); M is filled (*have_M) by the first row it
   does not clear. s8 also bounds its float products (q16 . k8) * q_scale by
   127 ||q||_1 / sqrt(d) <= 127 sqrt(d) max|q|. The scaling is exact (a power
   of two) unless it makes a query element subnormal, which costs less than
   the fp32 rounding of the sum. */
static int query_exponent(const tk_kv_cache *c, size_t g, const float *q, float qmax, float kmax,
                          float *M, bool *have_M) {
  const size_t d = c->cfg.head_dim;
  const double sqrt_d = sqrt((double)d);
  const double s8_bound = c->cfg.dtype == TK_DTYPE_S8 ? 127.0 * sqrt_d * qmax : 0.0;
  if (sqrt_d * qmax * kmax <= 0x1p100 && s8_bound <= 0x1p100) return 0;
  if (!*have_M) held_dim_amax(c, g, M);
  *have_M = true;
  double bound = 0.0;
  for (size_t e = 0; e < d; e++) bound += fabs((double)q[e]) * M[e];
  return scale_exponent(fmax(bound / sqrt_d, s8_bound));
}

/* Query rows for the kernels, copied from the caller's q (any alignment):
   [n_kv_heads][n_q][heads per kv head][stride], so the rows of one kv head
   are consecutive; padding zero. */
static void pack_queries(const char *q, size_t n_q, size_t n_heads, size_t n_kv, size_t d,
                         size_t stride, float *dst) {
  const size_t group = n_heads / n_kv;
  for (size_t g = 0; g < n_kv; g++)
    for (size_t t = 0; t < n_q; t++)
      for (size_t i = 0; i < group; i++) {
        float *row = dst + ((g * n_q + t) * group + i) * stride;
        memcpy(row, q + (t * n_heads + g * group + i) * d * sizeof(float), d * sizeof(float));
        memset(row + d, 0, (stride - d) * sizeof(float));
      }
}

/* Multiplies n rows of d floats (stride apart) by scale: in float, or in
   double when the scale is below FLT_MIN (huge q and k). */
static void scale_rows(float *x, size_t n, size_t d, size_t stride, double scale) {
  const float fscale = (float)scale;
  const bool in_double = scale < FLT_MIN;
  for (size_t r = 0; r < n; r++) {
    float *row = x + r * stride;
    if (in_double)
      for (size_t e = 0; e < d; e++) row[e] = (float)((double)row[e] * scale);
    else
      for (size_t e = 0; e < d; e++) row[e] *= fscale;
  }
}

/* The softmax's exponent multiplier of a row scaled by 2^-a: log2(e) 2^a,
   capped at 2^TK_ATT_SAFE_LOG2 (past it the logits are compressed: beyond
   ~2^200 the fp32 sums cannot resolve them anyway). */
static float exp_multiplier(int a) {
  return (float)ldexp(LOG2E, a < TK_ATT_SAFE_LOG2 ? a : TK_ATT_SAFE_LOG2);
}

/* s8: a query row as 15-bit integers, q16 = rne(x / scale), scale = max|x| /
   TK_ATT_Q16_MAX (see attention_kernels.h); all-zero rows: scale 0. */
static void quantize_q16(const float *x, size_t stride, int16_t *q16, float *scale) {
  float mx = 0.0f;
  for (size_t e = 0; e < stride; e++) mx = max_nn(mx, fabsf(x[e]));
  /* In double: TK_ATT_Q16_MAX / mx overflows float for subnormal mx. y +
     1.5 * 2^52 - 1.5 * 2^52 rounds |y| <= 16383 to nearest even in plain
     arithmetic (lrint is a libm call here: with fmaxf, 22 us of a 34 us s8
     step at L = 64, 32 heads x 128). */
  const double inv = mx > 0.0f ? TK_ATT_Q16_MAX / (double)mx : 0.0;
  *scale = mx / (float)TK_ATT_Q16_MAX;
  for (size_t e = 0; e < stride; e++) q16[e] = (int16_t)((double)x[e] * inv + 0x1.8p52 - 0x1.8p52);
}

/* The inverse of pack_queries for the results (padding dropped). */
static void unpack_results(const float *src, size_t n_q, size_t n_heads, size_t n_kv, size_t d,
                           size_t stride, char *out) {
  const size_t group = n_heads / n_kv;
  for (size_t g = 0; g < n_kv; g++)
    for (size_t t = 0; t < n_q; t++)
      for (size_t i = 0; i < group; i++)
        memcpy(out + (t * n_heads + g * group + i) * d * sizeof(float),
               src + ((g * n_q + t) * group + i) * stride, d * sizeof(float));
}

/* The parts of a tk_attend scratch block, each 64-byte aligned: the
   kernels' tk_att_scratch, query rows, result rows, the rows' exponent
   multipliers, the per-dim K maxima of query_exponent; s8 adds the 15-bit
   query rows and their scales. */
typedef struct scratch_layout {
  size_t tile, qb, ob, mul, dim, q16, q_scale, bytes;
} scratch_layout;

static bool scratch_plan(size_t rows, size_t stride, bool s8, scratch_layout *p) {
  size_t n_buf;
  if (tk_mul_overflows(rows, stride, &n_buf) || n_buf > SIZE_MAX / 16 - 1024) return false;
  p->tile = 0;
  p->qb = round64(sizeof(tk_att_scratch));
  p->ob = p->qb + round64(n_buf * sizeof(float));
  p->mul = p->ob + round64(n_buf * sizeof(float));
  p->dim = p->mul + round64(rows * sizeof(float));
  p->q16 = p->dim + round64(stride * sizeof(float));
  p->q_scale = p->q16 + (s8 ? round64(n_buf * sizeof(int16_t)) : 0);
  p->bytes = p->q_scale + (s8 ? round64(rows * sizeof(float)) : 0);
  return true;
}

size_t tk_att_scratch_bytes(size_t rows, size_t stride, tk_dtype dtype) {
  scratch_layout p;
  return scratch_plan(rows, stride, dtype == TK_DTYPE_S8, &p) ? p.bytes : 0;
}

/* The calling thread's kept block (attention_cache.h), through a pthread
   key whose destructor frees it when the thread ends; the key is deleted when
   the library is unloaded (its destructor would be gone). */
typedef struct kept_block {
  void *block;
  size_t bytes;
} kept_block;
static pthread_once_t kept_once = PTHREAD_ONCE_INIT;
static pthread_key_t kept_key;
static bool kept_ok;

static void kept_free(void *p) {
  kept_block *k = p;
  free(k->block);
  free(k);
}

static void kept_init(void) { kept_ok = pthread_key_create(&kept_key, kept_free) == 0; }

#if defined(__GNUC__)
__attribute__((destructor)) static void kept_fini(void) {
  if (kept_ok) pthread_key_delete(kept_key);
}
#endif

/* The thread's kept block, grown to `bytes` if need be, for sizes up to
   TK_ATT_KEEP_BYTES; else (or without a key) one for this call (*own).
   NULL: out of memory. */
static void *scratch_take(size_t bytes, bool *own) {
  *own = true;
  if (bytes > TK_ATT_KEEP_BYTES || pthread_once(&kept_once, kept_init) != 0 || !kept_ok)
    return aligned_alloc(64, bytes);
  kept_block *k = pthread_getspecific(kept_key);
  if (!k) {
    k = calloc(1, sizeof *k);
    if (!k) return NULL;
    if (pthread_setspecific(kept_key, k) != 0) {
      free(k);
      return aligned_alloc(64, bytes);
    }
  }
  if (k->bytes < bytes) {
    free(k->block);
    k->bytes = 0;
    k->block = aligned_alloc(64, bytes);
    if (!k->block) return NULL;
    k->bytes = bytes;
  }
  *own = false;
  return k->block;
}

static void scratch_give_back(void *block, bool own) {
  if (own) free(block);
}

/* ---- parts ----
   A call's work is its kv heads times their query rows. Parts take whole kv
   heads while there are at least as many heads as parts (the same bits as
   one part). With fewer heads than parts:
   - a decode step splits each kv head's held positions (split-K, as in
     flash-decoding): ranges of TK_ATT_POS_UNIT positions, one per part, each
     attending all the head's query rows over its range alone and leaving
     them normalised with their running max m and sum l; attend_combine
     then merges a row's ranges. Every part reads only its own positions of
     K and V (ranges of rows would each read the whole head: a decode step is
     bound by that read).
   - more query tokens split each kv head's rows into ranges of row_unit
     rows: TK_ATT_ROWS (one kernel pass) when a token's rows divide it, so
     every row runs in the same pass and row tile as in one part (the same
     bits); else whole tokens, whose smaller tiles may sum in another order
     (within fp32 rounding).
   Each part has its own kernel scratch and per-dim K maxima (part_extra
   bytes after the call's block), a split-K part also its partial rows
   (partial_bytes, after those). */

/* Positions per unit of a split-K range: one s8 block, four f32/f16 blocks. */
#define TK_ATT_POS_UNIT TK_ATT_S8_BLOCK

typedef struct att_split {
  size_t parts, per_head; /* parts; ranges per kv head (1: parts are head ranges) */
  size_t unit;            /* rows per unit of a range of rows */
  bool by_pos;            /* ranges of positions (split-K), else of rows */
} att_split;

static size_t row_unit(size_t group) { return TK_ATT_ROWS % group == 0 ? TK_ATT_ROWS : group; }

/* The split of n_kv heads of `rows` rows each (rows a multiple of group)
   over e's parts; split_len > 0: a decode step over that many positions,
   which may be split. */
static att_split att_split_for(const tk_exec *e, size_t n_kv, size_t rows, size_t group,
                               size_t split_len) {
  att_split sp = {.parts = tk_exec_parts(e), .per_head = 1, .unit = row_unit(group)};
  if (sp.parts <= n_kv) return sp;
  sp.by_pos = split_len > 0;
  const size_t units = sp.by_pos ? split_len / TK_ATT_POS_UNIT + (split_len % TK_ATT_POS_UNIT != 0)
                                 : rows / sp.unit + (rows % sp.unit != 0);
  sp.per_head = (sp.parts + n_kv - 1) / n_kv;
  if (sp.per_head > units) sp.per_head = units;
  sp.by_pos = sp.by_pos && sp.per_head > 1;
  sp.parts = n_kv * sp.per_head;
  return sp;
}

static size_t part_extra(size_t stride) {
  return round64(sizeof(tk_att_scratch)) + round64(stride * sizeof(float));
}

/* A split-K part's partial rows of one kv head: o [group][stride], then m
   and l [group]. */
static size_t partial_bytes(size_t group, size_t stride) {
  return round64(group * stride * sizeof(float)) + 2 * round64(group * sizeof(float));
}

/* The kv heads [*g0, *g1) and, within each, the rows [*r0, *r1) of a part
   that splits rows (not positions). */
static void att_part_range(const att_split *sp, size_t i, size_t n_kv, size_t rows, size_t *g0,
                           size_t *g1, size_t *r0, size_t *r1) {
  if (sp->per_head == 1) {
    tk_exec_range(n_kv, 1, sp->parts, i, g0, g1);
    *r0 = 0, *r1 = rows;
  } else {
    *g0 = i / sp->per_head, *g1 = *g0 + 1;
    tk_exec_range(rows, sp->unit, sp->per_head, i % sp->per_head, r0, r1);
  }
}

/* One tk_attend call, shared by its parts. */
typedef struct attend_call {
  const tk_kernels *kt;
  const tk_kv_cache *c;
  void (*attend)(const tk_att_job *);
  char *block, *extra; /* the call's block; part i's scratch at extra + (i - 1) * part_extra */
  char *partial;       /* split-K: part i's partial rows at partial + i * partial_bytes */
  scratch_layout lay;
  att_split sp;
  size_t n_q, group, kv_rows;
} attend_call;

/* Split-K part i's partial rows (partial_bytes): o [kv_rows][stride], then
   each row's m and l. */
typedef struct partial_rows {
  float *o, *m, *l;
} partial_rows;
static partial_rows partial_at(const attend_call *ac, size_t i) {
  const size_t rows = ac->kv_rows, pitch = round64(rows * ac->c->stride * sizeof(float));
  char *p = ac->partial + i * partial_bytes(rows, ac->c->stride);
  return (partial_rows){(float *)p, (float *)(p + pitch),
                        (float *)(p + pitch + round64(rows * sizeof(float)))};
}

/* Rows [r0, r1) of kv head g made ready for the kernels. Finite inputs give
   a finite result, huge ones included, from the held positions alone: each
   row is scaled by 2^-a (query_exponent), and the softmax gets 2^a back in
   the row's exponent multiplier; s8 also quantizes the row. M: per-dim
   scratch of query_exponent. */
static void prepare_rows(const attend_call *ac, size_t g, size_t r0, size_t r1, float *M) {
  const tk_kv_cache *c = ac->c;
  const size_t d = c->cfg.head_dim, stride = c->stride, kv_rows = ac->kv_rows;
  float *qg = (float *)(ac->block + ac->lay.qb) + g * kv_rows * stride;
  float *exp_mul = (float *)(ac->block + ac->lay.mul) + g * kv_rows;
  float *q_scale = (float *)(ac->block + ac->lay.q_scale) + g * kv_rows;
  int16_t *q16 = (int16_t *)(ac->block + ac->lay.q16) + g * kv_rows * stride;
  const float kmax = held_amax(c, true, g);
  bool have_M = false;
  for (size_t r = r0; r < r1; r++) {
    float *row = qg + r * stride;
    const int a = query_exponent(c, g, row, exp_mul[r], kmax, M, &have_M);
    scale_rows(row, 1, d, stride, ldexp(1.0 / sqrt((double)d), -a));
    exp_mul[r] = exp_multiplier(a);
    if (c->cfg.dtype == TK_DTYPE_S8) quantize_q16(row, stride, q16 + r * stride, &q_scale[r]);
  }
}

static void attend_part(void *ctx, size_t i) {
  const attend_call *ac = ctx;
  const tk_kv_cache *c = ac->c;
  const size_t n_kv = c->cfg.n_kv_heads, d = c->cfg.head_dim, stride = c->stride;
  const size_t kv_rows = ac->kv_rows, es = elem_size(c->cfg.dtype);
  const bool s8 = c->cfg.dtype == TK_DTYPE_S8;
  char *mine = i == 0 ? NULL : ac->extra + (i - 1) * part_extra(stride);
  tk_att_scratch *tile = mine ? (tk_att_scratch *)mine : (tk_att_scratch *)(ac->block + ac->lay.tile);
  float *M = mine ? (float *)(mine + round64(sizeof(tk_att_scratch))) : (float *)(ac->block + ac->lay.dim);
  float *qb = (float *)(ac->block + ac->lay.qb), *ob = (float *)(ac->block + ac->lay.ob);
  float *q_scale = (float *)(ac->block + ac->lay.q_scale), *exp_mul = (float *)(ac->block + ac->lay.mul);
  int16_t *q16 = (int16_t *)(ac->block + ac->lay.q16);
  /* Positions [p0, p1) of the held ones (counted from the oldest). */
  size_t g0, g1, r0, r1, p0 = 0, p1 = c->len;
  partial_rows part = {0};
  if (ac->sp.by_pos) {
    g0 = i / ac->sp.per_head, g1 = g0 + 1, r0 = 0, r1 = kv_rows;
    tk_exec_range(c->len, TK_ATT_POS_UNIT, ac->sp.per_head, i % ac->sp.per_head, &p0, &p1);
    part = partial_at(ac, i);
  } else {
    att_part_range(&ac->sp, i, n_kv, kv_rows, &g0, &g1, &r0, &r1);
  }
  for (size_t g = g0; g < g1 && r1 > r0; g++) {
    /* Split-K rows were made ready before the parts (they share them). */
    if (!ac->sp.by_pos) prepare_rows(ac, g, r0, r1, M);
    /* The weights are scaled by 2^-b so that len * max|v| * 2^-b stays
       below 2^100 (2^-b cancels in the final division, and in the
       combination of split-K parts: every part of a head has the same b). */
    const int b = scale_exponent((double)c->len * held_amax(c, false, g));
    /* Rows r0.. of this head: token r0 / group onwards (rows of one token share it). */
    const size_t t0 = r0 / ac->group, oldest = c->next - c->len;
    tk_att_job job = {
        .k = (const char *)c->k + g * c->slots * stride * es,
        .v = (const char *)c->v + g * c->slots * stride * es,
        .k_scale = s8 ? c->k_scale + g * c->slots : NULL,
        .v_scale = s8 ? c->v_scale + g * c->slots : NULL,
        .stride = stride,
        .head_dim = d,
        .capacity = c->cfg.capacity,
        .lo = oldest + p0,
        .first_hi = ac->sp.by_pos ? oldest + p1 : c->next - ac->n_q + 1 + t0,
        .rows_per_token = ac->group,
        .rows = r1 - r0,
        .q = qb + (g * kv_rows + r0) * stride,
        .q16 = s8 ? q16 + (g * kv_rows + r0) * stride : NULL,
        .q_scale = s8 ? q_scale + g * kv_rows + r0 : NULL,
        .out = part.o ? part.o : ob + (g * kv_rows + r0) * stride,
        .scratch = tile,
        .exp_mul = exp_mul + g * kv_rows + r0,
        .exp_bias = -(float)b,
        .out_max = FLT_MAX,
        .row_m = part.m,
        .row_l = part.l,
    };
    ac->attend(&job);
  }
}

/* Merges the split-K parts of every kv head into its result rows. Part j
   left row r normalised, o_j = acc_j / l_j, with the running max m_j its
   weights were taken against; rebased to the row's largest max M they sum
   to w_j = l_j 2^((m_j - M) exp_mul) (exp_mul: the row's multiplier; the
   2^-b of the weights is the same in every part and cancels), and
   out = sum_j (w_j / W) o_j with W = sum_j w_j. The part holding M has
   w_j = l_j >= 2^-b > 0 (its largest weight), so W > 0; out is a convex
   combination of finite rows, clamped to +-FLT_MAX as one part's result is
   (rounding could step past it). */
static void attend_combine(const attend_call *ac) {
  const size_t stride = ac->c->stride, rows = ac->kv_rows, per = ac->sp.per_head;
  const float *exp_mul = (const float *)(ac->block + ac->lay.mul);
  float *ob = (float *)(ac->block + ac->lay.ob);
  for (size_t g = 0; g < ac->c->cfg.n_kv_heads; g++)
    for (size_t r = 0; r < rows; r++) {
      /* Every part saw positions (its range is not empty): m finite, l > 0. */
      const float mul = exp_mul[g * rows + r];
      float M = partial_at(ac, g * per).m[r], W = 0.0f;
      for (size_t j = 1; j < per; j++) M = fmaxf(M, partial_at(ac, g * per + j).m[r]);
      for (size_t j = 0; j < per; j++) {
        const partial_rows pj = partial_at(ac, g * per + j);
        W += pj.l[r] * exp2f((pj.m[r] - M) * mul);
      }
      float *o = ob + (g * rows + r) * stride;
      for (size_t e = 0; e < stride; e++) o[e] = 0.0f;
      for (size_t j = 0; j < per; j++) {
        const partial_rows pj = partial_at(ac, g * per + j);
        const float f = pj.l[r] * exp2f((pj.m[r] - M) * mul) / W, *oj = pj.o + r * stride;
        for (size_t e = 0; e < stride; e++) o[e] += f * oj[e];
      }
      for (size_t e = 0; e < stride; e++) o[e] = fminf(FLT_MAX, fmaxf(-FLT_MAX, o[e]));
    }
}

/* The block of a call: the scratch layout plus the parts' own scratch. */
static bool attend_plan(const tk_kv_cache *c, const tk_exec *e, size_t n_q_tokens, size_t n_heads,
                        size_t len, scratch_layout *lay, att_split *sp, size_t *total) {
  const size_t n_kv = c->cfg.n_kv_heads, group = n_heads / n_kv;
  size_t rows, extra, partial;
  if (tk_mul_overflows(n_q_tokens, n_heads, &rows) ||
      !scratch_plan(rows, c->stride, c->cfg.dtype == TK_DTYPE_S8, lay))
    return false;
  *sp = att_split_for(e, n_kv, n_q_tokens * group, group, n_q_tokens == 1 ? len : 0);
  return !tk_mul_overflows(sp->parts - 1, part_extra(c->stride), &extra) &&
         !tk_mul_overflows(sp->by_pos ? sp->parts : 0, partial_bytes(group, c->stride), &partial) &&
         !tk_add_overflows(lay->bytes, extra, total) && !tk_add_overflows(*total, partial, total);
}

size_t tk_attend_workspace_bytes(const tk_kv_cache *c, size_t n_q_tokens, size_t n_heads,
                                 const tk_exec *e) {
  if (!c || !n_q_tokens || !n_heads || n_heads % c->cfg.n_kv_heads) return 0;
  scratch_layout lay;
  att_split sp;
  size_t most = 0, total;
  /* Enough for every n_q up to n_q_tokens and every length the cache may
     reach: the block grows with the rows, and a decode step may split its
     positions (up to the capacity) into more parts, with their partial rows. */
  const size_t n_qs[2] = {n_q_tokens, 1};
  for (int i = 0; i < 2; i++) {
    if (!attend_plan(c, e, n_qs[i], n_heads, c->cfg.capacity, &lay, &sp, &total) ||
        total > SIZE_MAX - 63)
      return 0;
    if (total + 63 > most) most = total + 63;
  }
  return most;
}

tk_status tk_attend_ex_with(const tk_kernels *kt, const tk_exec *e, const tk_kv_cache *c,
                            const float *q, size_t n_q_tokens, size_t n_heads, float *out) {
  if (!c || !n_heads || n_heads % c->cfg.n_kv_heads) return TK_ERR_ARG;
  if (!n_q_tokens) return TK_OK;
  if (!q || !out || n_q_tokens > c->len) return TK_ERR_ARG;
  const size_t n_kv = c->cfg.n_kv_heads, d = c->cfg.head_dim, stride = c->stride;
  attend_call ac = {.kt = kt, .c = c, .n_q = n_q_tokens, .group = n_heads / n_kv};
  ac.kv_rows = n_q_tokens * ac.group;
  size_t total;
  if (!attend_plan(c, e, n_q_tokens, n_heads, c->len, &ac.lay, &ac.sp, &total))
    return TK_ERR_OVERFLOW;
  /* The caller's workspace, else the thread's kept block (or one for this call). */
  bool own = false;
  char *block;
  if (e && e->workspace) {
    /* A workspace may be at any address: the layout starts at its first
       64-byte boundary (tk_attend_workspace_bytes counts the 63 bytes). */
    if (e->workspace_bytes < total + 63) return TK_ERR_ARG;
    block = (char *)e->workspace + (64 - (uintptr_t)e->workspace % 64) % 64;
  } else {
    block = scratch_take(total, &own);
    if (!block) return TK_ERR_NOMEM;
  }
  ac.block = block;
  ac.extra = block + ac.lay.bytes;
  ac.partial = ac.extra + (ac.sp.parts - 1) * part_extra(stride);
  const size_t rows = n_q_tokens * n_heads;
  float *qb = (float *)(block + ac.lay.qb), *exp_mul = (float *)(block + ac.lay.mul);
  /* q is read whole here, before anything is written to out: out may be q. */
  pack_queries((const char *)q, n_q_tokens, n_heads, n_kv, d, stride, qb);
  /* Each row's max|q| (query_exponent's quick bound), kept in exp_mul until
     the row's multiplier replaces it; any non-finite q: nothing written. */
  bool finite = true;
  for (size_t r = 0; r < rows && finite; r++) exp_mul[r] = kt->absmax_f32(qb + r * stride, d, &finite);
  if (!finite) {
    if (!(e && e->workspace)) scratch_give_back(block, own);
    return TK_ERR_ARG;
  }
  ac.attend = c->cfg.dtype == TK_DTYPE_F32   ? kt->attend_f32
              : c->cfg.dtype == TK_DTYPE_F16 ? kt->attend_f16
                                             : kt->attend_s8;
  /* Split-K parts share their head's rows: made ready once, here. */
  if (ac.sp.by_pos)
    for (size_t g = 0; g < n_kv; g++) prepare_rows(&ac, g, 0, ac.kv_rows, (float *)(block + ac.lay.dim));
  tk_exec_run(e, ac.sp.parts, attend_part, &ac);
  if (ac.sp.by_pos) attend_combine(&ac);
  unpack_results((const float *)(block + ac.lay.ob), n_q_tokens, n_heads, n_kv, d, stride,
                 (char *)out);
  if (!(e && e->workspace)) scratch_give_back(block, own);
  return TK_OK;
}

tk_status tk_attend_with(const tk_kernels *kt, const tk_kv_cache *c, const float *q,
                         size_t n_q_tokens, size_t n_heads, float *out) {
  return tk_attend_ex_with(kt, NULL, c, q, n_q_tokens, n_heads, out);
}

tk_status tk_attend_ex(const tk_exec *e, const tk_kv_cache *c, const float *q, size_t n_q_tokens,
                       size_t n_heads, float *out) {
  return tk_attend_ex_with(tk_active(), e, c, q, n_q_tokens, n_heads, out);
}

tk_status tk_attend(const tk_kv_cache *c, const float *q, size_t n_q_tokens, size_t n_heads,
                    float *out) {
  return tk_attend_ex_with(tk_active(), NULL, c, q, n_q_tokens, n_heads, out);
}

/* ---- tk_attention_f32 in parts ----
   Two rounds through e: ranges of kv heads pack their K and V (the cache's
   layout, so the same kernel runs: the copy is O(seq), the attention
   O(seq^2)); then the parts of att_split_for (whole kv heads, or ranges of
   a head's rows, never positions) each pack their query rows, attend them
   and unpack their results. Caller arrays are read and written by bytes
   (any alignment). The block: part i's tk_att_scratch at i * tile bytes,
   then the packed q, results, K, V and the rows' exponent multipliers. */
typedef struct recompute_call {
  const tk_kernels *kt;
  const char *q, *k, *v;
  char *out;
  size_t seq, n_heads, n_kv, d, stride, group;
  bool causal;
  char *tiles;
  float *qb, *ob, *kb, *vb, *exp_mul;
  size_t pack_parts;
  att_split sp;
} recompute_call;

static void recompute_pack_kv(void *ctx, size_t i) {
  const recompute_call *rc = ctx;
  const size_t d = rc->d, stride = rc->stride, seq = rc->seq;
  size_t g0, g1;
  tk_exec_range(rc->n_kv, 1, rc->pack_parts, i, &g0, &g1);
  for (size_t g = g0; g < g1; g++)
    for (size_t t = 0; t < seq; t++) {
      const size_t src = (t * rc->n_kv + g) * d * sizeof(float), dst = (g * seq + t) * stride;
      memcpy(rc->kb + dst, rc->k + src, d * sizeof(float));
      memcpy(rc->vb + dst, rc->v + src, d * sizeof(float));
      memset(rc->kb + dst + d, 0, (stride - d) * sizeof(float));
      memset(rc->vb + dst + d, 0, (stride - d) * sizeof(float));
    }
}

static void recompute_part(void *ctx, size_t i) {
  const recompute_call *rc = ctx;
  const size_t d = rc->d, stride = rc->stride, seq = rc->seq, group = rc->group;
  const size_t rows = seq * group;
  size_t g0, g1, r0, r1;
  att_part_range(&rc->sp, i, rc->n_kv, rows, &g0, &g1, &r0, &r1);
  const float scale = (float)(1.0 / sqrt((double)d));
  for (size_t g = g0; g < g1 && r1 > r0; g++) {
    /* Row r of head g is query head g * group + r % group of token r / group. */
    float *qg = rc->qb + g * rows * stride, *og = rc->ob + g * rows * stride;
    for (size_t r = r0; r < r1; r++) {
      float *row = qg + r * stride;
      memcpy(row, rc->q + ((r / group) * rc->n_heads + g * group + r % group) * d * sizeof(float),
             d * sizeof(float));
      for (size_t e = 0; e < d; e++) row[e] *= scale;
      memset(row + d, 0, (stride - d) * sizeof(float));
    }
    tk_att_job job = {
        .k = rc->kb + g * seq * stride,
        .v = rc->vb + g * seq * stride,
        .stride = stride,
        .head_dim = d,
        .capacity = seq,
        .lo = 0,
        /* Causal: row r (token r / group) sees positions [0, r / group]; else all. */
        .first_hi = rc->causal ? r0 / group + 1 : seq,
        .rows_per_token = rc->causal ? group : rows,
        .rows = r1 - r0,
        .q = qg + r0 * stride,
        .out = og + r0 * stride,
        .scratch = (tk_att_scratch *)(rc->tiles + i * round64(sizeof(tk_att_scratch))),
        .exp_mul = rc->exp_mul,
        .exp_bias = 0.0f,
        /* Inputs are not scanned here: no clamp, Inf stays Inf. */
        .out_max = INFINITY,
    };
    rc->kt->attend_f32(&job);
    for (size_t r = r0; r < r1; r++)
      memcpy(rc->out + ((r / group) * rc->n_heads + g * group + r % group) * d * sizeof(float),
             og + r * stride, d * sizeof(float));
  }
}

/* The block of a recompute call (bytes, at a 64-byte boundary), its split
   and its parts; false if a size overflows. */
static bool recompute_plan(const tk_exec *e, size_t seq, size_t n_heads, size_t n_kv,
                           size_t head_dim, att_split *sp, size_t *q_floats, size_t *kv_floats,
                           size_t *total) {
  if (head_dim > SIZE_MAX - TK_ATT_ALIGN) return false;
  const size_t stride = padded_dim(head_dim), group = n_heads / n_kv;
  size_t q_rows, kv_rows, tiles, rows_bytes;
  if (tk_mul_overflows(seq, n_heads, &q_rows) || tk_mul_overflows(q_rows, stride, q_floats) ||
      tk_mul_overflows(seq, n_kv, &kv_rows) || tk_mul_overflows(kv_rows, stride, kv_floats) ||
      *q_floats > SIZE_MAX / 8 || *kv_floats > SIZE_MAX / 8 ||
      tk_mul_overflows(2 * (*q_floats + *kv_floats) + q_rows, sizeof(float), &rows_bytes) ||
      rows_bytes > SIZE_MAX - 64)
    return false;
  *sp = att_split_for(e, n_kv, seq * group, group, 0);
  return !tk_mul_overflows(sp->parts, round64(sizeof(tk_att_scratch)), &tiles) &&
         !tk_add_overflows(tiles, round64(rows_bytes), total) && *total <= SIZE_MAX - 63;
}

size_t tk_attention_f32_workspace_bytes(size_t seq, size_t n_heads, size_t n_kv_heads,
                                        size_t head_dim, const tk_exec *e) {
  if (!seq || !n_heads || !n_kv_heads || !head_dim || n_heads % n_kv_heads) return 0;
  att_split sp;
  size_t qf, kvf, total;
  return recompute_plan(e, seq, n_heads, n_kv_heads, head_dim, &sp, &qf, &kvf, &total) ? total + 63
                                                                                       : 0;
}

tk_status tk_attention_f32(const float *q, const float *k, const float *v, size_t seq,
                           size_t n_heads, size_t n_kv_heads, size_t head_dim, bool causal,
                           float *out) {
  return tk_attention_f32_ex_with(tk_active(), NULL, q, k, v, seq, n_heads, n_kv_heads, head_dim,
                                  causal, out);
}

tk_status tk_attention_f32_ex(const tk_exec *e, const float *q, const float *k, const float *v,
                              size_t seq, size_t n_heads, size_t n_kv_heads, size_t head_dim,
                              bool causal, float *out) {
  return tk_attention_f32_ex_with(tk_active(), e, q, k, v, seq, n_heads, n_kv_heads, head_dim,
                                  causal, out);
}

tk_status tk_attention_f32_with(const tk_kernels *kt, const float *q, const float *k,
                                const float *v, size_t seq, size_t n_heads, size_t n_kv_heads,
                                size_t head_dim, bool causal, float *out) {
  return tk_attention_f32_ex_with(kt, NULL, q, k, v, seq, n_heads, n_kv_heads, head_dim, causal,
                                  out);
}

tk_status tk_attention_f32_ex_with(const tk_kernels *kt, const tk_exec *e, const float *q,
                                   const float *k, const float *v, size_t seq, size_t n_heads,
                                   size_t n_kv_heads, size_t head_dim, bool causal, float *out) {
  if (!n_heads || !n_kv_heads || !head_dim || n_heads % n_kv_heads) return TK_ERR_ARG;
  if (!seq) return TK_OK;
  if (!q || !k || !v || !out) return TK_ERR_ARG;
  recompute_call rc = {.kt = kt, .q = (const char *)q, .k = (const char *)k, .v = (const char *)v,
                       .out = (char *)out, .seq = seq, .n_heads = n_heads, .n_kv = n_kv_heads,
                       .d = head_dim, .group = n_heads / n_kv_heads, .causal = causal};
  size_t q_floats, kv_floats, total;
  if (!recompute_plan(e, seq, n_heads, n_kv_heads, head_dim, &rc.sp, &q_floats, &kv_floats, &total))
    return TK_ERR_OVERFLOW;
  rc.stride = padded_dim(head_dim);
  char *block, *raw = NULL;
  if (e && e->workspace) {
    /* Any address: the layout starts at its first 64-byte boundary. */
    if (e->workspace_bytes < total + 63) return TK_ERR_ARG;
    block = (char *)e->workspace + (64 - (uintptr_t)e->workspace % 64) % 64;
  } else {
    if (!(raw = aligned_alloc(64, total))) return TK_ERR_NOMEM;
    block = raw;
  }
  rc.tiles = block;
  rc.qb = (float *)(block + rc.sp.parts * round64(sizeof(tk_att_scratch)));
  rc.ob = rc.qb + q_floats;
  rc.kb = rc.ob + q_floats;
  rc.vb = rc.kb + kv_floats;
  rc.exp_mul = rc.vb + kv_floats;
  for (size_t r = 0; r < seq * n_heads; r++) rc.exp_mul[r] = (float)LOG2E;
  rc.pack_parts = rc.sp.parts < n_kv_heads ? rc.sp.parts : n_kv_heads;
  tk_exec_run(e, rc.pack_parts, recompute_pack_kv, &rc);
  tk_exec_run(e, rc.sp.parts, recompute_part, &rc);
  free(raw);
  return TK_OK;
}
