/* The KV cache object and the attention functions on a given kernel table (internal: for the front file and the tests). */
#ifndef TK_ATTENTION_CACHE_H
#define TK_ATTENTION_CACHE_H

#include "attention/attention_kernels.h"
#include "dispatch/kernels.h"
#include "tinykern.h"

/* Storage per kv head contiguous over slots: k and v are
   [n_kv_heads][slots][stride] elements of the storage type (float, f16 bits
   as uint16_t, or int8_t), stride = head_dim rounded up to TK_ATT_ALIGN with
   the padding zero; f32 and f16 rows are stored whole, s8 in the tiles of
   attention_kernels.h (tk_att_elem gives the place of an element). Position p
   (counted from the last create or reset) lives in slot p % capacity: a
   sliding cache overwrites its oldest slot and moves nothing. The cache holds
   positions [next - len, next), len <= capacity: their slots run from
   (next - len) % capacity on, wrapping at the capacity. Appends alone keep
   len = min(next, capacity), the slots [0, len); a truncate may leave fewer
   (a ring truncated below its evicted positions), anywhere in the ring.
   Slots outside the held ones keep stale but finite rows: the kernels weigh
   every position outside [next - len, next) by 0.

   tk_attend scales its queries by what the held positions need, nothing
   else (a bound kept since the reset would outlive the positions it came
   from): each row's max |stored value| (f32, f16: k_amax, v_amax; s8: 127
   times its scale), and per span of TK_ATT_SPAN slots the largest of them
   (k_span, v_span), recomputed over the span's held slots whenever one of
   its slots is written or truncated away, so that a decode step reads at
   most capacity / 64 maxima per kv head: those of the spans holding held
   slots (the others may keep maxima of positions no longer held). */
#define TK_ATT_SPAN 64

/* tk_attend's working memory: the query and result rows, s8's 15-bit query
   rows and the kernels' tk_att_scratch, in one block of the size
   tk_att_scratch_bytes gives. Each thread keeps one block of up to
   TK_ATT_KEEP_BYTES for its next call (a decode step of 32 heads x 128 dims
   takes 55 KiB), whichever cache that call reads: a model's layers attended
   in turn find it in L2 (a block per cache was cold at every call: s8 decode
   over 24 layers' caches 5-25% slower, measured on Zen 4); a call that needs
   more (a long prefill) allocates its own. */
#define TK_ATT_KEEP_BYTES ((size_t)256 << 10)

struct tk_kv_cache {
  tk_kv_config cfg;
  size_t stride;
  size_t slots;                   /* per kv head: capacity (s8: rounded up to 8) */
  size_t len;                     /* positions held (<= capacity) */
  size_t next;                    /* position of the next token appended */
  void *k, *v;
  float *k_scale, *v_scale;       /* s8: [n_kv_heads][slots], 0 past capacity; NULL otherwise */
  float *k_amax, *v_amax;         /* f32, f16: [n_kv_heads][slots]; NULL for s8 */
  float *k_span, *v_span;         /* [n_kv_heads][n_spans] */
  size_t n_spans;
  size_t s8_ready;                /* s8: slots [0, s8_ready) of every kv head's tiles are
                                     initialised (written or zeroed: the kernels read whole tiles) */
  float *row;                     /* a caller row on its way in: TK_ATT_ROW_FLOATS, aligned */
  int8_t *s8_row;                 /* s8: one quantized row on its way to the tiles */
  size_t bytes;                   /* everything allocated for the cache */
};

/* Element index in c->k (is_k) or c->v of dim d of kv head g at `slot`. */
static inline size_t tk_att_elem(const tk_kv_cache *c, bool is_k, size_t g, size_t slot, size_t d) {
  const size_t head = g * c->slots * c->stride;
  if (c->cfg.dtype != TK_DTYPE_S8) return head + slot * c->stride + d;
  return head + (is_k ? tk_att_s8_k_at(c->stride, slot, d) : tk_att_s8_v_at(c->stride, slot, d));
}

/* The public functions on the kernels of table `kt` (they pass tk_active()):
   the tests run every variant, emulated ones included, through these. */
tk_status tk_kv_cache_append_with(const tk_kernels *kt, tk_kv_cache *c, const float *k,
                                  const float *v, size_t n_tokens);
tk_status tk_attend_ex_with(const tk_kernels *kt, const tk_exec *e, const tk_kv_cache *c,
                            const float *q, size_t n_q_tokens, size_t n_heads, float *out);
tk_status tk_attend_with(const tk_kernels *kt, const tk_kv_cache *c, const float *q,
                         size_t n_q_tokens, size_t n_heads, float *out);
/* Bytes of the working memory of a tk_attend call with `rows` query rows
   (n_q_tokens x n_heads) of `stride` floats; 0 if that overflows size_t. */
size_t tk_att_scratch_bytes(size_t rows, size_t stride, tk_dtype dtype);
tk_status tk_attention_f32_with(const tk_kernels *kt, const float *q, const float *k,
                                const float *v, size_t seq, size_t n_heads, size_t n_kv_heads,
                                size_t head_dim, bool causal, float *out);
tk_status tk_attention_f32_ex_with(const tk_kernels *kt, const tk_exec *e, const float *q,
                                   const float *k, const float *v, size_t seq, size_t n_heads,
                                   size_t n_kv_heads, size_t head_dim, bool causal, float *out);

#endif
