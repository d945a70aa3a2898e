/* The AVX2 (+FMA, F16C) vector header: the names of simd/scalar.h on 256-bit registers. */
#ifndef TK_SIMD_AVX2_H
#define TK_SIMD_AVX2_H

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx2.h>
#include <simde/x86/fma.h>

#include "simd/common.h"

#define TK_ISA_SUFFIX avx2

/* ---- fp32 vectors ---- */
#define TK_VF_WIDTH 8
typedef __m256 tk_vf;
static inline tk_vf tk_vf_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void tk_vf_store(float *p, tk_vf v) { _mm256_storeu_ps(p, v); }
static inline tk_vf tk_vf_set1(float x) { return _mm256_set1_ps(x); }
static inline tk_vf tk_vf_zero(void) { return _mm256_setzero_ps(); }
static inline tk_vf tk_vf_add(tk_vf a, tk_vf b) { return _mm256_add_ps(a, b); }
static inline tk_vf tk_vf_sub(tk_vf a, tk_vf b) { return _mm256_sub_ps(a, b); }
static inline tk_vf tk_vf_mul(tk_vf a, tk_vf b) { return _mm256_mul_ps(a, b); }
static inline tk_vf tk_vf_div(tk_vf a, tk_vf b) { return _mm256_div_ps(a, b); }
static inline tk_vf tk_vf_max(tk_vf a, tk_vf b) { return _mm256_max_ps(a, b); }
static inline tk_vf tk_vf_min(tk_vf a, tk_vf b) { return _mm256_min_ps(a, b); }
static inline tk_vf tk_vf_abs(tk_vf a) {
  return _mm256_castsi256_ps(
      _mm256_and_si256(_mm256_castps_si256(a), _mm256_set1_epi32(0x7fffffff)));
}
/* a * b + c */
static inline tk_vf tk_vf_fmadd(tk_vf a, tk_vf b, tk_vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline float tk_vf_hmax(tk_vf a) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}
static inline float tk_vf_hsum(tk_vf a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

/* ---- int8 ---- */
/* vpmovsxbw widens 16 int8 to int16 exactly; vpmaddwd multiplies pairs and adds
   them into int32: exact for every input, -128 * -128 included (the vpmaddubsw
   "sign trick" would saturate int16 there). */
#define TK_S8_STEP 32
typedef __m256i tk_vs32;
static inline tk_vs32 tk_vs32_zero(void) { return _mm256_setzero_si256(); }
static inline tk_vs32 tk_vs32_add(tk_vs32 a, tk_vs32 b) { return _mm256_add_epi32(a, b); }
static inline int32_t tk_vs32_hsum(tk_vs32 a) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}
static inline __m256i tk_load_s8_as_s16(const int8_t *p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)p));
}
static inline tk_vs32 tk_dot_s8_step(tk_vs32 acc, const int8_t *a, const int8_t *b) {
  __m256i lo = _mm256_madd_epi16(tk_load_s8_as_s16(a), tk_load_s8_as_s16(b));
  __m256i hi = _mm256_madd_epi16(tk_load_s8_as_s16(a + 16), tk_load_s8_as_s16(b + 16));
  return _mm256_add_epi32(acc, _mm256_add_epi32(lo, hi));
}
static inline void tk_vf_store_s8(int8_t *q, tk_vf v) {
  __m256i i32 = _mm256_cvtps_epi32(v);
  __m128i i16 = _mm_packs_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
  _mm_storel_epi64((__m128i *)(void *)q, _mm_packs_epi16(i16, i16));
}
static inline tk_vf tk_vf_load_s8(const int8_t *q) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)q)));
}

/* ---- attention ---- */
#include <simde/x86/f16c.h>
/* 2^n from t = n + TK_EXP2_MAGIC, n in [-127, 0] (see simd/scalar.h). */
static inline tk_vf tk_vf_pow2_magic(tk_vf t) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(t), 23));
}
/* F16C: 8 halves <-> 8 fp32 in one instruction; the immediate asks for round
   to nearest even whatever MXCSR says, so the bits match the other ISAs. */
static inline tk_vf tk_vf_load_f16(const uint16_t *p) {
  return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p));
}
static inline void tk_vf_store_f16(uint16_t *p, tk_vf v) {
  _mm_storeu_si128((__m128i *)(void *)p,
                   _mm256_cvtps_ph(v, SIMDE_MM_FROUND_TO_NEAREST_INT | SIMDE_MM_FROUND_NO_EXC));
}

/* The horizontal sums of four vectors: pairwise adds within each 128-bit half
   (vhaddps) leave the four partial sums of each half in order; one add of
   the halves finishes them. */
static inline void tk_vf_hsum4(tk_vf a, tk_vf b, tk_vf c, tk_vf d, float *out) {
  __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1)));
}

#endif
