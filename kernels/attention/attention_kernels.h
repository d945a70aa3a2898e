/* The attention kernels of every ISA (defined by attention_body.h, listed in kernels/table.c) and the job they run. */
#ifndef TK_ATTENTION_KERNELS_H
#define TK_ATTENTION_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "dispatch/isa_list.h"

/* Cached rows (K, V and the query/result rows below) are `stride` elements
   long: head_dim rounded up to TK_ATT_ALIGN, the padding zero, so that kernels
   step through whole vectors on every ISA (16 fp32 lanes on AVX-512) and
   never need a tail. */
#define TK_ATT_ALIGN 16

/* s8 storage keeps K and V in tiles of qlinear's packed layout (8 lanes x 4
   int8 per 32 bytes), so that the scores q.k and the sums w.v are int8 x
   int16 -> int32 dot products on every ISA (both through tk_a16_dot of
   simd/<isa>.h: q.k with the query's 15-bit integers, w.v with the 14-bit
   weights):
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

/* Positions scored per block, and query rows per pass: the scores of one
   block (TK_ATT_ROWS x TK_ATT_PITCH floats) live in the job's scratch. More
   rows than TK_ATT_ROWS (long prefills, or more than 32 query heads per kv
   head) take several passes over the positions. A block reads its K rows,
   then its V rows: short blocks (8 KiB of K, then of V, in f32 at head_dim
   128) switch streams often, which the hardware prefetchers keep up with
   better than with 32 KiB phases (DRAM decode with one query head per kv
   head: 27 GB/s at 16 positions, 24 at 64; no change when warm). */
#define TK_ATT_BLOCK 16
#define TK_ATT_ROWS 32
/* s8 storage: slots per block (8 K tiles of 8, 16 V groups of 4: 8 KiB of
   K, then of V, at head_dim 128). Each block ends with one conversion of the
   int32 sums per row and 8 dims, which 16 V groups amortise (64 slots: 1.4x
   faster than 32). A block starts at its first slot's tile, so it spans up
   to TK_ATT_S8_BLOCK + 7 slots. */
#define TK_ATT_S8_BLOCK 64
/* Scores (and s8 weights) per row in the scratch: the widest block, rounded
   up to 16 so that no vector of up to 16 lanes crosses into the next row. */
#define TK_ATT_PITCH ((TK_ATT_S8_BLOCK + TK_ATT_S8_KT + 15) / 16 * 16)

/* The kernels' working memory for one block of one pass (15.5 KiB), given by
   the caller through the job instead of taken from the stack (tk_attend's
   stack use stays small: see tinykern.h). */
typedef struct tk_att_scratch {
  float s[TK_ATT_ROWS * TK_ATT_PITCH];     /* scores, then weights */
  int16_t wq[TK_ATT_ROWS * TK_ATT_PITCH];  /* s8: the weights as 14-bit integers */
  float m[TK_ATT_ROWS], l[TK_ATT_ROWS];    /* running max and sum of weights per row */
  float alpha[TK_ATT_ROWS];                /* the block's rescale factor per row */
  float wscale[TK_ATT_ROWS], wmul[TK_ATT_ROWS]; /* s8: the weights' scale per row */
  float vsc[TK_ATT_PITCH];                 /* s8: the block's V scales, zero past its tiles */
} tk_att_scratch;

/* s8 storage: query rows are quantized symmetrically to 15-bit integers,
   q16 = rne(q / q_scale) with q_scale = max|row| / TK_ATT_Q16_MAX. With K
   quantized to 8 bits (error up to max|k| / 254 per element), the query's
   error (max|q| / 32766 per element) adds at most d / 129 of the K error's
   bound to a score (sum |dq| |k| <= max|q| / 32766 * d max|k|, against
   sum |q| |dk| <= ||q||_1 max|k| / 254 with ||q||_1 >= max|q|): below it up
   to head_dim 128. With 8 bits the query's error alone could exceed the K
   error's bound by d / 1 (a query of 1000 and 1 lost the 1). 16383 keeps the
   NEON split into two 7-bit-and-sign int8 halves exact (simd/neon_a16.h). */
#define TK_ATT_Q16_MAX 16383

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
  /* s8 storage: q quantized to 15 bits (TK_ATT_Q16_MAX), row r is q16[r] * q_scale[r]. */
  const int16_t *q16;
  const float *q_scale;
  float *out;     /* [rows][stride]: softmax(q k^T) v */
  tk_att_scratch *scratch;
  /* p = 2^((s - max) * exp_mul[r] + exp_bias) for row r: exp_mul[r] = log2(e)
     (times 2^a when the front scaled that row's q down by 2^a to keep q.k
     finite); exp_bias = -b <= 0 scales every weight by 2^-b so that sums of
     weights times V stay finite (it cancels in the final division by the
     sum of weights). */
  const float *exp_mul;
  float exp_bias;
  float out_max; /* results are clamped to +-out_max (INFINITY: no clamp) */
  /* NULL, or [rows] each: every row's final running max and sum of weights,
     written as the row ends (a split-K decode step combines the parts of one
     row's positions with them). */
  float *row_m, *row_l;
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
