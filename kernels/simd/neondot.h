/* The NEON + dot-product (armv8.2-a) vector header: the NEON vocabulary with the SDOT int8 steps. */
#ifndef TK_SIMD_NEONDOT_H
#define TK_SIMD_NEONDOT_H

#include "simd/neon_base.h"

#define TK_ISA_SUFFIX neondot

/* ---- int8 ---- */
/* vdotq_s32 adds four int8 x int8 products into each int32 lane (16 MACs per
   instruction); the products are formed at full width, so -128 * -128 is exact. */
#define TK_S8_STEP 16
static inline tk_vs32 tk_dot_s8_step(tk_vs32 acc, const int8_t *a, const int8_t *b) {
  return vdotq_s32(acc, vld1q_s8(a), vld1q_s8(b));
}

/* ---- qlinear ---- */
/* SDOT: each lane of vdotq_s32 is one row's 4-k dot product, so one instruction
   does 4 rows x 4 k against the broadcast activations and the accumulator holds
   the 8 row sums directly. 2 accumulator registers per batch row. */
typedef struct tk_q8acc {
  int32x4_t r0123, r4567;
} tk_q8acc;
static inline tk_q8acc tk_q8acc_zero(void) {
  tk_q8acc a = {vdupq_n_s32(0), vdupq_n_s32(0)};
  return a;
}
static inline tk_q8acc tk_q8acc_madd(tk_q8acc a, tk_q8w w, const tk_qx *x) {
  int8x16_t xb = vreinterpretq_s8_s32(tk_ql_bcast4(x));
  a.r0123 = vdotq_s32(a.r0123, w.r0123, xb);
  a.r4567 = vdotq_s32(a.r4567, w.r4567, xb);
  return a;
}
static inline void tk_q8acc_store(int32_t *out, tk_q8acc a) {
  vst1q_s32(out, a.r0123);
  vst1q_s32(out + 4, a.r4567);
}

#include "simd/generic.h"

#endif
