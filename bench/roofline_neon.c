/* Roofline loops for NEON: the int8 kernel's vmull_s8 + vpadalq_s16 on registers, vfma (vmla on armv7) for fp32. */
#include "simd/neon.h"

#include "bench/roofline.h"

/* tk_dot_s8_step of simd/neon.h with its two 16-byte loads already in registers. */
#define TKR_S8_MACS_PER_STEP 16
typedef struct tkr_s8_in { int8x16_t a, b; } tkr_s8_in;
static inline tkr_s8_in tkr_s8_in_zero(void) { return (tkr_s8_in){vdupq_n_s8(0), vdupq_n_s8(0)}; }
static inline tk_vs32 tkr_s8_step(tk_vs32 acc, tkr_s8_in *in) {
  /* The empty asm "changes" the operands, so no step can be hoisted or merged. */
  __asm__ __volatile__("" : "+w"(in->a), "+w"(in->b));
  acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(in->a), vget_low_s8(in->b)));
  return vpadalq_s16(acc, vmull_s8(vget_high_s8(in->a), vget_high_s8(in->b)));
}

#include "bench/roofline_body.h"
