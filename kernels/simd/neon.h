/* The NEON vector header (aarch64 and armv7): the names of simd/scalar.h on 128-bit registers. */
#ifndef TK_SIMD_NEON_H
#define TK_SIMD_NEON_H

#include "simd/neon_base.h"

#define TK_ISA_SUFFIX neon

/* ---- int8 ---- */
/* vmull_s8 gives exact int16 products (|p| <= 16384); vpadalq_s16 adds adjacent
   pairs into int32 lanes, so no int16 sum is ever formed: safe for -128 * -128.
   (smull + smlal would add two products in int16 and overflow there.) */
#define TK_S8_STEP 16
static inline tk_vs32 tk_dot_s8_step(tk_vs32 acc, const int8_t *a, const int8_t *b) {
  int8x16_t va = vld1q_s8(a), vb = vld1q_s8(b);
  acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(va), vget_low_s8(vb)));
  return vpadalq_s16(acc, vmull_s8(vget_high_s8(va), vget_high_s8(vb)));
}

/* ---- qlinear ---- */
/* Without SDOT: vmull_s8 forms exact int16 products of 2 rows x 4 k, vpadalq_s16
   adds adjacent pairs into int32 (always safe, see the int8 section), leaving per
   row two partial sums (k0+k1, k2+k3) that vpadd adds once per tile. 4
   accumulator registers per batch row (qlinear_neon.c: 2 rows of batch per
   step fit armv7's 16 q registers). */
typedef struct tk_q8acc {
  int32x4_t r01, r23, r45, r67;
} tk_q8acc;
static inline tk_q8acc tk_q8acc_zero(void) {
  tk_q8acc a = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
  return a;
}
static inline tk_q8acc tk_q8acc_madd(tk_q8acc a, tk_q8w w, const tk_qx *x) {
  int8x8_t xb = vget_low_s8(vreinterpretq_s8_s32(tk_ql_bcast4(x)));
  a.r01 = vpadalq_s16(a.r01, vmull_s8(vget_low_s8(w.r0123), xb));
  a.r23 = vpadalq_s16(a.r23, vmull_s8(vget_high_s8(w.r0123), xb));
  a.r45 = vpadalq_s16(a.r45, vmull_s8(vget_low_s8(w.r4567), xb));
  a.r67 = vpadalq_s16(a.r67, vmull_s8(vget_high_s8(w.r4567), xb));
  return a;
}
static inline int32x4_t tk_ql_pairsum(int32x4_t a, int32x4_t b) {
  return vcombine_s32(vpadd_s32(vget_low_s32(a), vget_high_s32(a)),
                      vpadd_s32(vget_low_s32(b), vget_high_s32(b)));
}
static inline void tk_q8acc_store(int32_t *out, tk_q8acc a) {
  vst1q_s32(out, tk_ql_pairsum(a.r01, a.r23));
  vst1q_s32(out + 4, tk_ql_pairsum(a.r45, a.r67));
}

#include "simd/generic.h"

#endif
