/* Roofline loops for AVX-512 without VNNI: the int8 kernel's zmm vpmovsxbw + vpmaddwd + vpaddd on registers, zmm vfmadd for fp32. */
#include "simd/avx512.h"

#include "bench/roofline.h"

/* tk_dot_s8_step of simd/avx512.h with its four 32-byte loads already in registers. */
#define TKR_S8_MACS_PER_STEP 64
typedef struct tkr_s8_in { __m256i a0, a1, b0, b1; } tkr_s8_in;
static inline tkr_s8_in tkr_s8_in_zero(void) {
  return (tkr_s8_in){_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                     _mm256_setzero_si256()};
}
static inline tk_vs32 tkr_s8_step(tk_vs32 acc, tkr_s8_in *in) {
  /* The empty asm "changes" the operands, so no step can be hoisted or merged. */
  __asm__ __volatile__("" : "+v"(in->a0), "+v"(in->a1), "+v"(in->b0), "+v"(in->b1));
  __m512i lo = _mm512_madd_epi16(_mm512_cvtepi8_epi16(in->a0), _mm512_cvtepi8_epi16(in->b0));
  __m512i hi = _mm512_madd_epi16(_mm512_cvtepi8_epi16(in->a1), _mm512_cvtepi8_epi16(in->b1));
  return _mm512_add_epi32(acc, _mm512_add_epi32(lo, hi));
}

#include "bench/roofline_body.h"
