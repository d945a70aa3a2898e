/* Roofline loops for AVX2: the int8 kernel's vpmovsxbw + vpmaddwd + vpaddd on registers, vfmadd for fp32. */
#include "simd/avx2.h"

#include "bench/roofline.h"

/* tk_dot_s8_step of simd/avx2.h with its four 16-byte loads already in registers. */
#define TKR_S8_MACS_PER_STEP 32
typedef struct tkr_s8_in { __m128i a0, a1, b0, b1; } tkr_s8_in;
static inline tkr_s8_in tkr_s8_in_zero(void) {
  return (tkr_s8_in){_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(),
                     _mm_setzero_si128()};
}
static inline tk_vs32 tkr_s8_step(tk_vs32 acc, tkr_s8_in *in) {
  /* The empty asm "changes" the operands, so no step can be hoisted or merged. */
  __asm__ __volatile__("" : "+x"(in->a0), "+x"(in->a1), "+x"(in->b0), "+x"(in->b1));
  __m256i lo = _mm256_madd_epi16(_mm256_cvtepi8_epi16(in->a0), _mm256_cvtepi8_epi16(in->b0));
  __m256i hi = _mm256_madd_epi16(_mm256_cvtepi8_epi16(in->a1), _mm256_cvtepi8_epi16(in->b1));
  return _mm256_add_epi32(acc, _mm256_add_epi32(lo, hi));
}

#include "bench/roofline_body.h"
