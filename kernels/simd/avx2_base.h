/* The AVX2 (+FMA, F16C) vocabulary shared by simd/avx2.h and simd/avxvnni.h (256-bit registers): all but the int8 dot steps. */
#ifndef TK_SIMD_AVX2_BASE_H
#define TK_SIMD_AVX2_BASE_H

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx2.h>
#include <simde/x86/fma.h>

#include "simd/common.h"

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
/* The sum of the 8 int32 lanes (wrapping, as the lane adds do). */
static inline int32_t tk_ymm_hsum_epi32(__m256i a) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}
static inline void tk_vf_store_s8(int8_t *q, tk_vf v) {
  __m256i i32 = _mm256_cvtps_epi32(v);
  __m128i i16 = _mm_packs_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
  _mm_storel_epi64((__m128i *)(void *)q, _mm_packs_epi16(i16, i16));
}
static inline tk_vf tk_vf_load_s8(const int8_t *q) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)q)));
}

/* ---- qlinear ---- */
#include "simd/x86_q8.h"
static inline tk_vf tk_vf_load_s32(const int32_t *p) {
  return _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(const void *)p));
}
/* ---- sparse ---- */
/* Lane l of a gather holds base[idx[l]]; lane l of a gather_by4 holds base[idx[l / 4]]
   (see simd/scalar.h). Scalar loads, not vgatherdps: on this Zen 3, SpMV 4096x4096
   (median of 41 runs interleaved in one process) took 0.45 / 0.24 / 0.12 ms with
   scalar loads against 0.61 / 0.31 / 0.14 ms with _mm256_i32gather_ps at 90 / 95 /
   98% sparsity; the two tied at 50% and 80%, the gather led by 12% at 70% (a
   matrix about the size of L3). Four 16-bit indices come in through one 64-bit
   load and are split in integer registers (little-endian, as x86 is): half the
   load-port work of 8 movzx. */
static inline tk_vf tk_vf_gather_u16(const float *base, const uint16_t *idx) {
  uint64_t lo, hi;
  memcpy(&lo, idx, 8);
  memcpy(&hi, idx + 4, 8);
  return _mm256_setr_ps(tk_ld_f32(base + (lo & 0xffff)), tk_ld_f32(base + ((lo >> 16) & 0xffff)),
                        tk_ld_f32(base + ((lo >> 32) & 0xffff)), tk_ld_f32(base + (lo >> 48)),
                        tk_ld_f32(base + (hi & 0xffff)), tk_ld_f32(base + ((hi >> 16) & 0xffff)),
                        tk_ld_f32(base + ((hi >> 32) & 0xffff)), tk_ld_f32(base + (hi >> 48)));
}
static inline tk_vf tk_vf_gather_u32(const float *base, const uint32_t *idx) {
  return _mm256_setr_ps(tk_ld_f32(base + idx[0]), tk_ld_f32(base + idx[1]),
                        tk_ld_f32(base + idx[2]), tk_ld_f32(base + idx[3]),
                        tk_ld_f32(base + idx[4]), tk_ld_f32(base + idx[5]),
                        tk_ld_f32(base + idx[6]), tk_ld_f32(base + idx[7]));
}
static inline tk_vf tk_vf_gather_by4_u16(const float *base, const uint16_t *idx) {
  return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_set1_ps(tk_ld_f32(base + idx[0]))),
                              _mm_set1_ps(tk_ld_f32(base + idx[1])), 1);
}
static inline tk_vf tk_vf_gather_by4_u32(const float *base, const uint32_t *idx) {
  return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_set1_ps(tk_ld_f32(base + idx[0]))),
                              _mm_set1_ps(tk_ld_f32(base + idx[1])), 1);
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

#define TK_NATIVE_VF_HSUM4
/* The horizontal sums of four vectors: pairwise adds within each 128-bit half
   (vhaddps) leave the four partial sums of each half in order; one add of
   the halves finishes them. */
static inline void tk_vf_hsum4(tk_vf a, tk_vf b, tk_vf c, tk_vf d, float *out) {
  __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1)));
}

/* ---- s8 KV cache ---- */
#include "simd/x86_a16.h"
/* v holds integers in [-32768, 32767]: store them as TK_VF_WIDTH int16. */
static inline void tk_vf_store_s16(int16_t *p, tk_vf v) {
  const __m256i i = _mm256_cvtps_epi32(v);
  _mm_storeu_si128((__m128i *)(void *)p,
                   _mm_packs_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1)));
}

#endif
