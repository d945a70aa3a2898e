/* The NEON + dot-product (armv8.2-a) vector header: simd/neon.h with the SDOT int8 step. */
#ifndef TK_SIMD_NEONDOT_H
#define TK_SIMD_NEONDOT_H

#define TK_ISA_SUFFIX neondot

/* vdotq_s32 adds four int8 x int8 products into each int32 lane (16 MACs per
   instruction); the products are formed at full width, so -128 * -128 is exact. */
#define TK_S8_STEP 16
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/arm/neon.h>
typedef int32x4_t tk_vs32;
static inline tk_vs32 tk_dot_s8_step(tk_vs32 acc, const int8_t *a, const int8_t *b) {
  return vdotq_s32(acc, vld1q_s8(a), vld1q_s8(b));
}

#include "simd/neon.h"

#endif
