/* The attention kernels of every ISA (defined by attention_body.h, listed in kernels/table.c) and the job they run. */
#ifndef TK_ATTENTION_KERNELS_H
#define TK_ATTENTION_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "dispatch/isa_list.h"

/* Cached rows (K, V and the query/result rows below) are `stride` elements
   long: head_dim rounded up to TK_ATT_ALIGN, the padding zero, so that kernels
   step through whole vectors on every ISA and never need a tail. */
#define TK_ATT_ALIGN 8

/* s8 storage keeps K and V in tiles of qlinear's packed layout (8 lanes x 4
   int8 per 32 bytes), so that the scores q.k and the sums w.v are int8 x int8
   -> int32 dot products on every ISA (q.k: the qlinear step tk_q8acc_madd;
   w.v: tk_a16_dot; both in simd/<isa>.h):
   - K, per kv head: tiles of TK_ATT_S8_KT = 8 slots; a tile holds, for each
     4 dims d..d+3, 32 bytes: slot 0's 4 values, slot 1's, ... slot 7's.
   - V, per kv head: groups of TK_ATT_S8_VG = 4 slots; a group holds, for each
     8 dims, 32 bytes: dim 0's values at the 4 slots, dim 1's, ... dim 7's.
   A kv head's storage spans `slots` = capacity rounded up to 8 slots; the
   element of (slot, d) is at tk_att_s8_k_at / tk_att_s8_v_at. */
#define TK_ATT_S8_KT 8
#define TK_ATT_S8_VG 4
static inline size_t tk_att_s8_k_at(size_t stride, size_t slot, size_t d) {
  return slot / 8 * 8 * stride + d / 4 * 32 + slot % 8 * 4 + d % 4;
}
static inline size_t tk_att_s8_v_at(size_t stride, size_t slot, size_t d) {
  return slot / 4 * 4 * stride + d / 8 * 32 + d % 8 * 4 + slot % 4;
}

/* One kv head's attention for a set of query rows: online softmax over the
   cached positions [lo, hi(r)) of row r, where hi(r) = first_hi + r / rows_per_token
   (causal: one query token per rows_per_token rows; rows of one token share
   their last position). Position p lives in slot p % capacity (the ring). */
typedef struct tk_att_job {
  const void *k, *v;              /* [slots][stride] of the storage type (s8: in tiles) */
  const float *k_scale, *v_scale; /* s8 storage: [slots], one scale per row, 0 past capacity */
  size_t stride, head_dim, capacity;
  size_t lo, first_hi, rows_per_token, rows;
  const float *q; /* [rows][stride], already times 1/sqrt(head_dim) (and 2^-a, see below) */
  /* s8 storage: q quantized by the tk_quantize_s8 rule, row r is q8[r] * q_scale[r];
     qx: room for TK_ATT_ROWS rows of stride int16, the kernel's copy of q8. */
  const int8_t *q8;
  const float *q_scale;
  void *qx;
  float *out;     /* [rows][stride]: softmax(q k^T) v */
  /* p = 2^((s - max) * exp_mul + exp_bias): exp_mul = log2(e) (times 2^a when q
     was scaled down by 2^a to keep q.k finite); exp_bias = -b <= 0 scales every
     weight by 2^-b so that sums of weights times V stay finite (it cancels in
     the final division by the sum of weights). */
  float exp_mul, exp_bias;
  float out_max; /* results are clamped to +-out_max (INFINITY: no clamp) */
} tk_att_job;

/* Declares tk_attend_{f32,f16,s8}_<isa> and tk_f32_to_f16_<isa>; signatures as
   in the tk_kernels table. */
#define TK_ATTENTION_DECLARE(ID, isa, ...)                                 \
  void TK_KERNEL_NAME(attend_f32, isa)(const tk_att_job *job);                \
  void TK_KERNEL_NAME(attend_f16, isa)(const tk_att_job *job);                \
  void TK_KERNEL_NAME(attend_s8, isa)(const tk_att_job *job);                 \
  void TK_KERNEL_NAME(f32_to_f16, isa)(const float *x, size_t n, uint16_t *h);

TK_ISA_LIST(TK_ATTENTION_DECLARE)

#endif
