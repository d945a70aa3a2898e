/* The AVX-512 (F/BW/DQ/VL, +FMA, F16C) vocabulary shared by simd/avx512.h and simd/avx512vnni.h (512-bit fp32): all but the int8 dot steps. */
#ifndef TK_SIMD_AVX512_BASE_H
#define TK_SIMD_AVX512_BASE_H

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <simde/x86/f16c.h>
#include <simde/x86/fma.h>

#include "simd/common.h"

/* ---- zmm halves, and what SIMDe lacks ---- */
/* SIMDe 0.7.4 emulates neither the zmm int32 <-> fp32 nor the int8 -> int32
   and f16 conversions, so the emulated twin (built without the ISA flags)
   does those on the two ymm halves; the native build uses the zmm
   instruction. Same bits either way. */
static inline __m256i tk_zmm_lo(__m512i v) { return _mm512_castsi512_si256(v); }
static inline __m256i tk_zmm_hi(__m512i v) { return _mm512_extracti64x4_epi64(v, 1); }
static inline __m512i tk_zmm_join(__m256i lo, __m256i hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
static inline __m256 tk_zmm_lo_ps(__m512 v) { return _mm512_castps512_ps256(v); }
static inline __m256 tk_zmm_hi_ps(__m512 v) {
  return _mm256_castsi256_ps(tk_zmm_hi(_mm512_castps_si512(v)));
}
static inline __m512 tk_zmm_join_ps(__m256 lo, __m256 hi) {
  return _mm512_castsi512_ps(tk_zmm_join(_mm256_castps_si256(lo), _mm256_castps_si256(hi)));
}
static inline __m512 tk_zmm_cvtepi32_ps(__m512i v) {
#if defined(__AVX512F__)
  return _mm512_cvtepi32_ps(v);
#else
  return tk_zmm_join_ps(_mm256_cvtepi32_ps(tk_zmm_lo(v)), _mm256_cvtepi32_ps(tk_zmm_hi(v)));
#endif
}
/* Rounds to nearest even (MXCSR's default), as _mm256_cvtps_epi32. */
static inline __m512i tk_zmm_cvtps_epi32(__m512 v) {
#if defined(__AVX512F__)
  return _mm512_cvtps_epi32(v);
#else
  return tk_zmm_join(_mm256_cvtps_epi32(tk_zmm_lo_ps(v)), _mm256_cvtps_epi32(tk_zmm_hi_ps(v)));
#endif
}
static inline __m512i tk_zmm_load_s8_as_s32(const int8_t *p) {
  const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)p);
#if defined(__AVX512F__)
  return _mm512_cvtepi8_epi32(b);
#else
  return tk_zmm_join(_mm256_cvtepi8_epi32(b), _mm256_cvtepi8_epi32(_mm_srli_si128(b, 8)));
#endif
}

/* ---- fp32 vectors ---- */
#define TK_VF_WIDTH 16
typedef __m512 tk_vf;
static inline tk_vf tk_vf_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void tk_vf_store(float *p, tk_vf v) { _mm512_storeu_ps(p, v); }
static inline tk_vf tk_vf_set1(float x) { return _mm512_set1_ps(x); }
static inline tk_vf tk_vf_zero(void) { return _mm512_setzero_ps(); }
static inline tk_vf tk_vf_add(tk_vf a, tk_vf b) { return _mm512_add_ps(a, b); }
static inline tk_vf tk_vf_sub(tk_vf a, tk_vf b) { return _mm512_sub_ps(a, b); }
static inline tk_vf tk_vf_mul(tk_vf a, tk_vf b) { return _mm512_mul_ps(a, b); }
static inline tk_vf tk_vf_div(tk_vf a, tk_vf b) { return _mm512_div_ps(a, b); }
static inline tk_vf tk_vf_max(tk_vf a, tk_vf b) { return _mm512_max_ps(a, b); }
static inline tk_vf tk_vf_min(tk_vf a, tk_vf b) { return _mm512_min_ps(a, b); }
static inline tk_vf tk_vf_abs(tk_vf a) {
  return _mm512_castsi512_ps(
      _mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff)));
}
/* a * b + c */
static inline tk_vf tk_vf_fmadd(tk_vf a, tk_vf b, tk_vf c) { return _mm512_fmadd_ps(a, b, c); }
/* Horizontal reductions: the two ymm halves first, then as simd/avx2.h. */
static inline float tk_vf_hmax(tk_vf a) {
  const __m256 h = _mm256_max_ps(tk_zmm_lo_ps(a), tk_zmm_hi_ps(a));
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}
static inline float tk_vf_hsum(tk_vf a) {
  const __m256 h = _mm256_add_ps(tk_zmm_lo_ps(a), tk_zmm_hi_ps(a));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

/* ---- int8 ---- */
/* The sum of the 16 int32 lanes (wrapping, as the lane adds do). */
static inline int32_t tk_zmm_hsum_epi32(__m512i a) {
  __m256i h = _mm256_add_epi32(tk_zmm_lo(a), tk_zmm_hi(a));
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}
/* v holds integers in [-127, 127]: vpmovsdb narrows the 16 lanes to 16 bytes. */
static inline void tk_vf_store_s8(int8_t *q, tk_vf v) {
  _mm_storeu_si128((__m128i *)(void *)q, _mm512_cvtsepi32_epi8(tk_zmm_cvtps_epi32(v)));
}
static inline tk_vf tk_vf_load_s8(const int8_t *q) {
  return tk_zmm_cvtepi32_ps(tk_zmm_load_s8_as_s32(q));
}

/* ---- qlinear ---- */
/* The k-group step of one tile on ymm (simd/x86_q8.h), which the s8 KV cache
   uses; the qlinear kernels take two tiles at a time with their own step
   (TK_NATIVE_QL_STEP in simd/avx512.h and simd/avx512vnni.h). */
#include "simd/x86_q8.h"
static inline tk_vf tk_vf_load_s32(const int32_t *p) {
  return tk_zmm_cvtepi32_ps(_mm512_loadu_si512((const void *)p));
}

/* ---- sparse ---- */
/* Lane l of a gather holds base[idx[l]]; lane l of a gather_by4 holds base[idx[l / 4]]
   (see simd/scalar.h). Scalar loads, not vgatherdps zmm (_mm512_i32gather_ps of
   the widened indices): on this Zen 4, SpMV 4096x4096 (medians of 5, three
   alternating runs of each build on a busy 2-core VM) took 0.42-0.50 /
   0.22-0.26 / 0.11-0.12 ms with scalar loads against 0.65-0.70 / 0.33-0.37 /
   0.15 ms with the gather at 90 / 95 / 98% sparsity. At 50-80% (matrices
   beyond L3, where sparse loses to dense anyway) the gather was level to 1.2x
   faster. The 16-bit indices come four at a time through 64-bit loads. */
static inline __m256 tk_vf8_gather_u16(const float *base, const uint16_t *idx) {
  uint64_t lo, hi;
  memcpy(&lo, idx, 8);
  memcpy(&hi, idx + 4, 8);
  return _mm256_setr_ps(tk_ld_f32(base + (lo & 0xffff)), tk_ld_f32(base + ((lo >> 16) & 0xffff)),
                        tk_ld_f32(base + ((lo >> 32) & 0xffff)), tk_ld_f32(base + (lo >> 48)),
                        tk_ld_f32(base + (hi & 0xffff)), tk_ld_f32(base + ((hi >> 16) & 0xffff)),
                        tk_ld_f32(base + ((hi >> 32) & 0xffff)), tk_ld_f32(base + (hi >> 48)));
}
static inline __m256 tk_vf8_gather_u32(const float *base, const uint32_t *idx) {
  return _mm256_setr_ps(tk_ld_f32(base + idx[0]), tk_ld_f32(base + idx[1]),
                        tk_ld_f32(base + idx[2]), tk_ld_f32(base + idx[3]),
                        tk_ld_f32(base + idx[4]), tk_ld_f32(base + idx[5]),
                        tk_ld_f32(base + idx[6]), tk_ld_f32(base + idx[7]));
}
static inline tk_vf tk_vf_gather_u16(const float *base, const uint16_t *idx) {
  return tk_zmm_join_ps(tk_vf8_gather_u16(base, idx), tk_vf8_gather_u16(base, idx + 8));
}
static inline tk_vf tk_vf_gather_u32(const float *base, const uint32_t *idx) {
  return tk_zmm_join_ps(tk_vf8_gather_u32(base, idx), tk_vf8_gather_u32(base, idx + 8));
}
/* Four values, each spread over its 128-bit quarter by one vpermps. */
static inline tk_vf tk_vf_spread4(__m128 v) {
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                               _mm512_castps128_ps512(v));
}
static inline tk_vf tk_vf_gather_by4_u16(const float *base, const uint16_t *idx) {
  return tk_vf_spread4(_mm_setr_ps(tk_ld_f32(base + idx[0]), tk_ld_f32(base + idx[1]),
                                   tk_ld_f32(base + idx[2]), tk_ld_f32(base + idx[3])));
}
static inline tk_vf tk_vf_gather_by4_u32(const float *base, const uint32_t *idx) {
  return tk_vf_spread4(_mm_setr_ps(tk_ld_f32(base + idx[0]), tk_ld_f32(base + idx[1]),
                                   tk_ld_f32(base + idx[2]), tk_ld_f32(base + idx[3])));
}

/* ---- attention ---- */
/* 2^n from t = n + TK_EXP2_MAGIC, n in [-127, 0] (see simd/scalar.h). */
static inline tk_vf tk_vf_pow2_magic(tk_vf t) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_castps_si512(t), 23));
}
/* vcvtph2ps / vcvtps2ph on zmm (AVX512F), round to nearest even by the
   immediate, as simd/avx2.h; the emulated twin converts the ymm halves. */
static inline tk_vf tk_vf_load_f16(const uint16_t *p) {
  const __m256i h = _mm256_loadu_si256((const __m256i *)(const void *)p);
#if defined(__AVX512F__)
  return _mm512_cvtph_ps(h);
#else
  return tk_zmm_join_ps(_mm256_cvtph_ps(_mm256_castsi256_si128(h)),
                        _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1)));
#endif
}
static inline void tk_vf_store_f16(uint16_t *p, tk_vf v) {
#if defined(__AVX512F__)
  const __m256i h = _mm512_cvtps_ph(v, SIMDE_MM_FROUND_TO_NEAREST_INT | SIMDE_MM_FROUND_NO_EXC);
#else
  const __m256i h = _mm256_setr_m128i(
      _mm256_cvtps_ph(tk_zmm_lo_ps(v), SIMDE_MM_FROUND_TO_NEAREST_INT | SIMDE_MM_FROUND_NO_EXC),
      _mm256_cvtps_ph(tk_zmm_hi_ps(v), SIMDE_MM_FROUND_TO_NEAREST_INT | SIMDE_MM_FROUND_NO_EXC));
#endif
  _mm256_storeu_si256((__m256i *)(void *)p, h);
}

/* The horizontal sums of four vectors: each folded to ymm (halves added),
   then the vhaddps sequence of simd/avx2.h. */
#define TK_NATIVE_VF_HSUM4
static inline void tk_vf_hsum4(tk_vf a, tk_vf b, tk_vf c, tk_vf d, float *out) {
  const __m256 a8 = _mm256_add_ps(tk_zmm_lo_ps(a), tk_zmm_hi_ps(a));
  const __m256 b8 = _mm256_add_ps(tk_zmm_lo_ps(b), tk_zmm_hi_ps(b));
  const __m256 c8 = _mm256_add_ps(tk_zmm_lo_ps(c), tk_zmm_hi_ps(c));
  const __m256 d8 = _mm256_add_ps(tk_zmm_lo_ps(d), tk_zmm_hi_ps(d));
  __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a8, b8), _mm256_hadd_ps(c8, d8));
  _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1)));
}

/* ---- s8 KV cache ---- */
/* The tile step (tk_a16_dot) is simd/avx512_a16.h's, included by
   simd/avx512.h and simd/avx512vnni.h. Half vectors, 8 fp32 lanes on ymm:
   the s8 cache's tile steps give 8 int32 sums (one tile of 8 slots, or 8
   dims of a V group), which come back to float 8 at a time
   (attention_body.h uses these where TK_VF_WIDTH > 8). */
typedef __m256 tk_vh;
static inline tk_vh tk_vh_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void tk_vh_store(float *p, tk_vh v) { _mm256_storeu_ps(p, v); }
static inline tk_vh tk_vh_set1(float x) { return _mm256_set1_ps(x); }
static inline tk_vh tk_vh_mul(tk_vh a, tk_vh b) { return _mm256_mul_ps(a, b); }
static inline tk_vh tk_vh_fmadd(tk_vh a, tk_vh b, tk_vh c) { return _mm256_fmadd_ps(a, b, c); }
static inline tk_vh tk_vh_load_s32(const int32_t *p) {
  return _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(const void *)p));
}
/* v holds integers in [-32768, 32767]: vpmovsdw narrows them to TK_VF_WIDTH int16. */
static inline void tk_vf_store_s16(int16_t *p, tk_vf v) {
  _mm256_storeu_si256((__m256i *)(void *)p, _mm512_cvtsepi32_epi16(tk_zmm_cvtps_epi32(v)));
}

#endif
