/* The AVX2 (+FMA, F16C) vector header: the names of simd/scalar.h on 256-bit registers. */
#ifndef TK_SIMD_AVX2_H
#define TK_SIMD_AVX2_H

#include "simd/avx2_base.h"

#define TK_ISA_SUFFIX avx2

/* ---- int8 ---- */
/* vpmovsxbw widens 16 int8 to int16 exactly; vpmaddwd multiplies pairs and adds
   them into int32: exact for every input, -128 * -128 included (the vpmaddubsw
   "sign trick" would saturate int16 there). */
#define TK_S8_STEP 32
typedef __m256i tk_vs32;
static inline tk_vs32 tk_vs32_zero(void) { return _mm256_setzero_si256(); }
static inline tk_vs32 tk_vs32_add(tk_vs32 a, tk_vs32 b) { return _mm256_add_epi32(a, b); }
static inline int32_t tk_vs32_hsum(tk_vs32 a) { return tk_ymm_hsum_epi32(a); }
static inline tk_vs32 tk_dot_s8_step(tk_vs32 acc, const int8_t *a, const int8_t *b) {
  __m256i lo = _mm256_madd_epi16(tk_load_s8_as_s16(a), tk_load_s8_as_s16(b));
  __m256i hi = _mm256_madd_epi16(tk_load_s8_as_s16(a + 16), tk_load_s8_as_s16(b + 16));
  return _mm256_add_epi32(acc, _mm256_add_epi32(lo, hi));
}

#include "simd/generic.h"

#endif
