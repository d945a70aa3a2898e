/* Roofline loops for SSE4.1: the int8 kernel's pmovsxbw + pmaddwd + paddd on registers, mul + add for fp32. */
#include "simd/sse41.h"

#include "bench/roofline.h"

/* tk_dot_s8_step of simd/sse41.h with its two 16-byte loads already in registers. */
#define TKR_S8_MACS_PER_STEP 16
typedef struct tkr_s8_in { __m128i a, b; } tkr_s8_in;
static inline tkr_s8_in tkr_s8_in_zero(void) {
  return (tkr_s8_in){_mm_setzero_si128(), _mm_setzero_si128()};
}
static inline tk_vs32 tkr_s8_step(tk_vs32 acc, tkr_s8_in *in) {
  /* The empty asm "changes" the operands, so no step can be hoisted or merged. */
  __asm__ __volatile__("" : "+x"(in->a), "+x"(in->b));
  __m128i lo = _mm_madd_epi16(_mm_cvtepi8_epi16(in->a), _mm_cvtepi8_epi16(in->b));
  __m128i hi = _mm_madd_epi16(_mm_cvtepi8_epi16(_mm_srli_si128(in->a, 8)),
                              _mm_cvtepi8_epi16(_mm_srli_si128(in->b, 8)));
  return _mm_add_epi32(acc, _mm_add_epi32(lo, hi));
}

#include "bench/roofline_body.h"
