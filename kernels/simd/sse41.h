/* The SSE4.1 vector header: the names of simd/scalar.h on 128-bit registers. */
#ifndef TK_SIMD_SSE41_H
#define TK_SIMD_SSE41_H

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/sse4.1.h>

#include "simd/common.h"

#define TK_ISA_SUFFIX sse41

/* ---- fp32 vectors ---- */
#define TK_VF_WIDTH 4
typedef __m128 tk_vf;
static inline tk_vf tk_vf_load(const float *p) { return _mm_loadu_ps(p); }
static inline void tk_vf_store(float *p, tk_vf v) { _mm_storeu_ps(p, v); }
static inline tk_vf tk_vf_set1(float x) { return _mm_set1_ps(x); }
static inline tk_vf tk_vf_zero(void) { return _mm_setzero_ps(); }
static inline tk_vf tk_vf_add(tk_vf a, tk_vf b) { return _mm_add_ps(a, b); }
static inline tk_vf tk_vf_sub(tk_vf a, tk_vf b) { return _mm_sub_ps(a, b); }
static inline tk_vf tk_vf_mul(tk_vf a, tk_vf b) { return _mm_mul_ps(a, b); }
static inline tk_vf tk_vf_div(tk_vf a, tk_vf b) { return _mm_div_ps(a, b); }
static inline tk_vf tk_vf_max(tk_vf a, tk_vf b) { return _mm_max_ps(a, b); }
static inline tk_vf tk_vf_min(tk_vf a, tk_vf b) { return _mm_min_ps(a, b); }
static inline tk_vf tk_vf_abs(tk_vf a) {
  return _mm_castsi128_ps(_mm_and_si128(_mm_castps_si128(a), _mm_set1_epi32(0x7fffffff)));
}
/* No FMA in SSE4.1: a separate multiply and add (one more rounding than AVX2's fused step). */
static inline tk_vf tk_vf_fmadd(tk_vf a, tk_vf b, tk_vf c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
static inline float tk_vf_hmax(tk_vf a) {
  a = _mm_max_ps(a, _mm_movehl_ps(a, a));
  a = _mm_max_ss(a, _mm_shuffle_ps(a, a, 1));
  return _mm_cvtss_f32(a);
}
static inline float tk_vf_hsum(tk_vf a) {
  a = _mm_add_ps(a, _mm_movehl_ps(a, a));
  a = _mm_add_ss(a, _mm_shuffle_ps(a, a, 1));
  return _mm_cvtss_f32(a);
}

/* ---- int8 ---- */
/* pmovsxbw widens 8 int8 to int16 exactly; pmaddwd then multiplies pairs and adds
   them into int32. Every int16 product (at most 128*128) and every pair sum
   (at most 2*16384) is exact: no saturation for any input, -128 included. */
#define TK_S8_STEP 16
typedef __m128i tk_vs32;
static inline tk_vs32 tk_vs32_zero(void) { return _mm_setzero_si128(); }
static inline tk_vs32 tk_vs32_add(tk_vs32 a, tk_vs32 b) { return _mm_add_epi32(a, b); }
static inline int32_t tk_vs32_hsum(tk_vs32 a) {
  a = _mm_add_epi32(a, _mm_shuffle_epi32(a, _MM_SHUFFLE(1, 0, 3, 2)));
  a = _mm_add_epi32(a, _mm_shuffle_epi32(a, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(a);
}
static inline tk_vs32 tk_dot_s8_step(tk_vs32 acc, const int8_t *a, const int8_t *b) {
  __m128i va = _mm_loadu_si128((const __m128i *)(const void *)a);
  __m128i vb = _mm_loadu_si128((const __m128i *)(const void *)b);
  __m128i lo = _mm_madd_epi16(_mm_cvtepi8_epi16(va), _mm_cvtepi8_epi16(vb));
  __m128i hi = _mm_madd_epi16(_mm_cvtepi8_epi16(_mm_srli_si128(va, 8)),
                              _mm_cvtepi8_epi16(_mm_srli_si128(vb, 8)));
  return _mm_add_epi32(acc, _mm_add_epi32(lo, hi));
}
static inline void tk_vf_store_s8(int8_t *q, tk_vf v) {
  __m128i i32 = _mm_cvtps_epi32(v);
  __m128i i8 = _mm_packs_epi16(_mm_packs_epi32(i32, i32), _mm_setzero_si128());
  int32_t w = _mm_cvtsi128_si32(i8);
  memcpy(q, &w, 4);
}
static inline tk_vf tk_vf_load_s8(const int8_t *q) {
  int32_t w;
  memcpy(&w, q, 4);
  return _mm_cvtepi32_ps(_mm_cvtepi8_epi32(_mm_cvtsi32_si128(w)));
}

/* ---- qlinear ---- */
/* One k-group of the packed weights is 32 bytes: 8 output rows x 4 consecutive
   k (qlinear/qlinear_kernels.h). pmovsxbw widens each quarter (2 rows x 4 k) to
   int16; the kernels keep their activations as int16 (tk_qx), so one 64-bit
   broadcast puts x[k..k+3] beside every row, and pmaddwd leaves per row two
   int32 partial sums (k0+k1, k2+k3), added by phaddd once per tile. Exact for
   every int8 input, as in the int8 section. 4 accumulator registers per batch
   row. */
typedef int16_t tk_qx;
typedef struct tk_q8w {
  __m128i r01, r23, r45, r67;
} tk_q8w;
/* GNU vectors of int32 for the accumulators, as in simd/avx2.h: the
   loop-carried value in the add's own mode keeps GCC from spilling them. */
typedef int32_t tk_ql_v4s32 __attribute__((vector_size(16)));
typedef struct tk_q8acc {
  tk_ql_v4s32 r01, r23, r45, r67;
} tk_q8acc;
static inline tk_ql_v4s32 tk_ql_as_v4s32(__m128i v) {
  tk_ql_v4s32 r;
  memcpy(&r, &v, sizeof r);
  return r;
}
static inline __m128i tk_ql_as_m128i(tk_ql_v4s32 v) {
  __m128i r;
  memcpy(&r, &v, sizeof r);
  return r;
}
static inline __m128i tk_load8_s8_as_s16(const int8_t *p) {
  return _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(const void *)p));
}
static inline tk_q8w tk_q8w_load(const int8_t *p) {
  tk_q8w w = {tk_load8_s8_as_s16(p), tk_load8_s8_as_s16(p + 8), tk_load8_s8_as_s16(p + 16),
              tk_load8_s8_as_s16(p + 24)};
  return w;
}
static inline tk_q8acc tk_q8acc_zero(void) {
  tk_q8acc a = {{0}, {0}, {0}, {0}};
  return a;
}
static inline tk_q8acc tk_q8acc_madd(tk_q8acc a, tk_q8w w, const tk_qx *x) {
  int64_t x4;
  memcpy(&x4, x, sizeof x4);
  __m128i xb = _mm_set1_epi64x(x4);
  a.r01 += tk_ql_as_v4s32(_mm_madd_epi16(w.r01, xb));
  a.r23 += tk_ql_as_v4s32(_mm_madd_epi16(w.r23, xb));
  a.r45 += tk_ql_as_v4s32(_mm_madd_epi16(w.r45, xb));
  a.r67 += tk_ql_as_v4s32(_mm_madd_epi16(w.r67, xb));
  return a;
}
static inline void tk_q8acc_store(int32_t *out, tk_q8acc a) {
  _mm_storeu_si128((__m128i *)(void *)out,
                   _mm_hadd_epi32(tk_ql_as_m128i(a.r01), tk_ql_as_m128i(a.r23)));
  _mm_storeu_si128((__m128i *)(void *)(out + 4),
                   _mm_hadd_epi32(tk_ql_as_m128i(a.r45), tk_ql_as_m128i(a.r67)));
}
static inline tk_vf tk_vf_load_s32(const int32_t *p) {
  return _mm_cvtepi32_ps(_mm_loadu_si128((const __m128i *)(const void *)p));
}
/* ---- sparse ---- */
/* Lane l of a gather holds base[idx[l]]; lane l of a gather_by4 holds base[idx[l / 4]]
   (see simd/scalar.h). SSE has no gather instruction: four scalar loads (the
   four 16-bit indices through one 64-bit load, as in simd/avx2.h). */
static inline tk_vf tk_vf_gather_u16(const float *base, const uint16_t *idx) {
  uint64_t i4;
  memcpy(&i4, idx, 8);
  return _mm_setr_ps(tk_ld_f32(base + (i4 & 0xffff)), tk_ld_f32(base + ((i4 >> 16) & 0xffff)),
                     tk_ld_f32(base + ((i4 >> 32) & 0xffff)), tk_ld_f32(base + (i4 >> 48)));
}
static inline tk_vf tk_vf_gather_u32(const float *base, const uint32_t *idx) {
  return _mm_setr_ps(tk_ld_f32(base + idx[0]), tk_ld_f32(base + idx[1]), tk_ld_f32(base + idx[2]),
                     tk_ld_f32(base + idx[3]));
}
static inline tk_vf tk_vf_gather_by4_u16(const float *base, const uint16_t *idx) {
  return _mm_set1_ps(tk_ld_f32(base + idx[0]));
}
static inline tk_vf tk_vf_gather_by4_u32(const float *base, const uint32_t *idx) {
  return _mm_set1_ps(tk_ld_f32(base + idx[0]));
}
/* ---- attention ---- */
#include <simde/simde-f16.h>
/* 2^n from t = n + TK_EXP2_MAGIC, n in [-127, 0] (see simd/scalar.h). */
static inline tk_vf tk_vf_pow2_magic(tk_vf t) {
  return _mm_castsi128_ps(_mm_slli_epi32(_mm_castps_si128(t), 23));
}
/* No F16C before AVX: 4 halves -> fp32 exactly as in simd/scalar.h (normal:
   bits moved and exponent rebiased; subnormal: mantissa times 2^-24). */
static inline tk_vf tk_vf_load_f16(const uint16_t *p) {
  int64_t w;
  memcpy(&w, p, sizeof w);
  __m128i h = _mm_cvtepu16_epi32(_mm_cvtsi64_si128(w));
  __m128i mag = _mm_and_si128(h, _mm_set1_epi32(0x7fff));
  __m128i normal = _mm_add_epi32(_mm_slli_epi32(mag, 13), _mm_set1_epi32(112 << 23));
  __m128 sub = _mm_mul_ps(_mm_cvtepi32_ps(mag), _mm_set1_ps(0x1p-24f));
  __m128 is_sub = _mm_castsi128_ps(_mm_cmplt_epi32(mag, _mm_set1_epi32(0x400)));
  __m128 f = _mm_blendv_ps(_mm_castsi128_ps(normal), sub, is_sub);
  __m128i sign = _mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x8000)), 16);
  return _mm_or_ps(f, _mm_castsi128_ps(sign));
}
/* fp32 -> f16 bits, round to nearest even, one lane at a time through SIMDe's
   portable conversion (the bits F16C would give); v is clamped to +-65504. */
static inline void tk_vf_store_f16(uint16_t *p, tk_vf v) {
  float x[4];
  _mm_storeu_ps(x, v);
  for (int i = 0; i < 4; i++) p[i] = simde_float16_as_uint16(simde_float16_from_float32(x[i]));
}

#define TK_NATIVE_VF_HSUM4
/* The horizontal sums of four vectors: two rounds of pairwise adds (haddps). */
static inline void tk_vf_hsum4(tk_vf a, tk_vf b, tk_vf c, tk_vf d, float *out) {
  _mm_storeu_ps(out, _mm_hadd_ps(_mm_hadd_ps(a, b), _mm_hadd_ps(c, d)));
}

/* ---- s8 KV cache ---- */
#include "simd/x86_a16.h"
/* v holds integers in [-32768, 32767]: store them as TK_VF_WIDTH int16. */
static inline void tk_vf_store_s16(int16_t *p, tk_vf v) {
  const __m128i i = _mm_cvtps_epi32(v);
  _mm_storel_epi64((__m128i *)(void *)p, _mm_packs_epi32(i, i));
}

#include "simd/generic.h"

#endif
