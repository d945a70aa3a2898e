/* Roofline loops for the scalar variant: the int8 kernel's sign-extend, multiply, add on general registers. */
#include "simd/scalar.h"

#include "bench/roofline.h"

/* tk_dot_s8_step of simd/scalar.h: one int8 pair, widened, multiplied, added. */
#define TKR_S8_MACS_PER_STEP 1
typedef struct tkr_s8_in { int8_t a, b; } tkr_s8_in;
static inline tkr_s8_in tkr_s8_in_zero(void) { return (tkr_s8_in){0, 0}; }
static inline tk_vs32 tkr_s8_step(tk_vs32 acc, tkr_s8_in *in) {
  /* The empty asm "changes" the operands, so no step can be hoisted or merged. */
  __asm__ __volatile__("" : "+r"(in->a), "+r"(in->b));
  return acc + (int32_t)in->a * (int32_t)in->b;
}

#include "bench/roofline_body.h"
