/* The attention kernels of every ISA (defined by attention_body.h, listed in kernels/table.c) and the job they run. */
#ifndef TK_ATTENTION_KERNELS_H
#define TK_ATTENTION_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Cached rows (K, V and the query/result rows below) are `stride` elements
   long: head_dim rounded up to TK_ATT_ALIGN, the padding zero, so that kernels
   step through whole vectors on every ISA and never need a tail. */
#define TK_ATT_ALIGN 8

/* One kv head's attention for a set of query rows: online softmax over the
   cached positions [lo, hi(r)) of row r, where hi(r) = first_hi + r / rows_per_token
   (causal: one query token per rows_per_token rows; rows of one token share
   their last position). Position p lives in slot p % capacity (the ring). */
typedef struct tk_att_job {
  const void *k, *v;              /* [capacity][stride] of the storage type */
  const float *k_scale, *v_scale; /* s8 storage: [capacity], one scale per row */
  size_t stride, head_dim, capacity;
  size_t lo, first_hi, rows_per_token, rows;
  const float *q; /* [rows][stride], already times 1/sqrt(head_dim) (and 2^-a, see below) */
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
#define TK_ATTENTION_DECLARE(isa)                                 \
  void tk_attend_f32_##isa(const tk_att_job *job);                \
  void tk_attend_f16_##isa(const tk_att_job *job);                \
  void tk_attend_s8_##isa(const tk_att_job *job);                 \
  void tk_f32_to_f16_##isa(const float *x, size_t n, uint16_t *h);

TK_ATTENTION_DECLARE(scalar)
TK_ATTENTION_DECLARE(sse41)
TK_ATTENTION_DECLARE(avx2)
TK_ATTENTION_DECLARE(neon)

#endif
