/* The NEON vocabulary shared by the NEON vector headers (aarch64 and armv7, 128-bit registers): all but the int8 dot steps. */
#ifndef TK_SIMD_NEON_BASE_H
#define TK_SIMD_NEON_BASE_H

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/arm/neon.h>

#include "simd/common.h"

/* ---- fp32 vectors ---- */
#define TK_VF_WIDTH 4
typedef float32x4_t tk_vf;
static inline tk_vf tk_vf_load(const float *p) { return vld1q_f32(p); }
static inline void tk_vf_store(float *p, tk_vf v) { vst1q_f32(p, v); }
static inline tk_vf tk_vf_set1(float x) { return vdupq_n_f32(x); }
static inline tk_vf tk_vf_zero(void) { return vdupq_n_f32(0.0f); }
static inline tk_vf tk_vf_add(tk_vf a, tk_vf b) { return vaddq_f32(a, b); }
static inline tk_vf tk_vf_sub(tk_vf a, tk_vf b) { return vsubq_f32(a, b); }
static inline tk_vf tk_vf_mul(tk_vf a, tk_vf b) { return vmulq_f32(a, b); }
/* vdivq_f32 exists on aarch64 only (and SIMDe 0.7 does not emulate it): elsewhere
   four scalar IEEE divisions give the same bits. */
static inline tk_vf tk_vf_div(tk_vf a, tk_vf b) {
#if defined(__aarch64__)
  return vdivq_f32(a, b);
#else
  float x[4], y[4];
  vst1q_f32(x, a);
  vst1q_f32(y, b);
  for (int i = 0; i < 4; i++) x[i] /= y[i];
  return vld1q_f32(x);
#endif
}
static inline tk_vf tk_vf_abs(tk_vf a) { return vabsq_f32(a); }
#if defined(__aarch64__)
static inline tk_vf tk_vf_max(tk_vf a, tk_vf b) { return vmaxq_f32(a, b); }
static inline tk_vf tk_vf_min(tk_vf a, tk_vf b) { return vminq_f32(a, b); }
static inline float tk_vf_hmax(tk_vf a) {
  float32x2_t m = vpmax_f32(vget_low_f32(a), vget_high_f32(a));
  return vget_lane_f32(vpmax_f32(m, m), 0);
}
#else
/* armv7 NEON arithmetic flushes subnormal inputs to zero whatever FPSCR says,
   so vmaxq_f32 would make max|x| of tiny inputs 0. Ordering the bit patterns
   instead is exact: flipping the magnitude bits of negative floats turns
   sign-magnitude into two's complement order (-0 < +0; a positive NaN is
   above +inf). */
static inline int32x4_t tk_vf_order_key(tk_vf a) {
  int32x4_t i = vreinterpretq_s32_f32(a);
  return veorq_s32(i, vandq_s32(vshrq_n_s32(i, 31), vdupq_n_s32(0x7fffffff)));
}
static inline tk_vf tk_vf_max(tk_vf a, tk_vf b) {
  return vbslq_f32(vcgtq_s32(tk_vf_order_key(a), tk_vf_order_key(b)), a, b);
}
static inline tk_vf tk_vf_min(tk_vf a, tk_vf b) {
  return vbslq_f32(vcltq_s32(tk_vf_order_key(a), tk_vf_order_key(b)), a, b);
}
static inline float tk_vf_hmax(tk_vf a) {
  tk_vf m = tk_vf_max(a, vextq_f32(a, a, 2));
  return vgetq_lane_f32(tk_vf_max(m, vextq_f32(m, m, 1)), 0);
}
#endif
/* a * b + c: vmlaq_f32 (two roundings) on armv7, fused vfmaq_f32 on aarch64. */
static inline tk_vf tk_vf_fmadd(tk_vf a, tk_vf b, tk_vf c) {
#if defined(__aarch64__)
  return vfmaq_f32(c, a, b);
#else
  return vmlaq_f32(c, a, b);
#endif
}
static inline float tk_vf_hsum(tk_vf a) {
  float32x2_t s = vadd_f32(vget_low_f32(a), vget_high_f32(a));
  return vget_lane_f32(vpadd_f32(s, s), 0);
}

/* ---- int8 ---- */
/* Dot-product accumulator (each NEON vector header supplies the step). */
typedef int32x4_t tk_vs32;
static inline tk_vs32 tk_vs32_zero(void) { return vdupq_n_s32(0); }
static inline tk_vs32 tk_vs32_add(tk_vs32 a, tk_vs32 b) { return vaddq_s32(a, b); }
static inline int32_t tk_vs32_hsum(tk_vs32 a) {
  int32x2_t s = vadd_s32(vget_low_s32(a), vget_high_s32(a));
  return vget_lane_s32(vpadd_s32(s, s), 0);
}
static inline void tk_vf_store_s8(int8_t *q, tk_vf v) {
  /* v holds integers already: the truncating conversion is exact. */
  int16x4_t i16 = vmovn_s32(vcvtq_s32_f32(v));
  int8x8_t i8 = vmovn_s16(vcombine_s16(i16, i16));
  int32_t w = vget_lane_s32(vreinterpret_s32_s8(i8), 0);
  memcpy(q, &w, 4);
}
static inline tk_vf tk_vf_load_s8(const int8_t *q) {
  int32_t w;
  memcpy(&w, q, 4);
  int16x8_t i16 = vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(w)));
  return vcvtq_f32_s32(vmovl_s16(vget_low_s16(i16)));
}

/* ---- qlinear ---- */
/* One k-group of the packed weights is 32 bytes: 8 output rows x 4 consecutive
   k (qlinear/qlinear_kernels.h), loaded as two int8x16 of 4 rows each. The
   activations stay int8 (tk_qx) and their 4 bytes are broadcast. */
typedef int8_t tk_qx;
typedef struct tk_q8w {
  int8x16_t r0123, r4567;
} tk_q8w;
static inline tk_q8w tk_q8w_load(const int8_t *p) {
  tk_q8w w = {vld1q_s8(p), vld1q_s8(p + 16)};
  return w;
}
static inline int32x4_t tk_ql_bcast4(const tk_qx *x) {
  int32_t x4;
  memcpy(&x4, x, sizeof x4);
  return vdupq_n_s32(x4);
}
static inline tk_vf tk_vf_load_s32(const int32_t *p) { return vcvtq_f32_s32(vld1q_s32(p)); }
/* ---- sparse ---- */
/* Lane l of a gather holds base[idx[l]]; lane l of a gather_by4 holds base[idx[l / 4]]
   (see simd/scalar.h). NEON has no gather instruction: four lane inserts. The
   elements are read through memcpy (unaligned.h), not vld1q_lane_f32 / vld1q_dup_f32:
   base may be at any address, and those take a float pointer that SIMDe
   dereferences (compilers emit the same ld1 lane loads for both). */
static inline tk_vf tk_vf_gather_u16(const float *base, const uint16_t *idx) {
  tk_vf v = vdupq_n_f32(tk_ld_f32(base + idx[0]));
  v = vsetq_lane_f32(tk_ld_f32(base + idx[1]), v, 1);
  v = vsetq_lane_f32(tk_ld_f32(base + idx[2]), v, 2);
  return vsetq_lane_f32(tk_ld_f32(base + idx[3]), v, 3);
}
static inline tk_vf tk_vf_gather_u32(const float *base, const uint32_t *idx) {
  tk_vf v = vdupq_n_f32(tk_ld_f32(base + idx[0]));
  v = vsetq_lane_f32(tk_ld_f32(base + idx[1]), v, 1);
  v = vsetq_lane_f32(tk_ld_f32(base + idx[2]), v, 2);
  return vsetq_lane_f32(tk_ld_f32(base + idx[3]), v, 3);
}
static inline tk_vf tk_vf_gather_by4_u16(const float *base, const uint16_t *idx) {
  return vdupq_n_f32(tk_ld_f32(base + idx[0]));
}
static inline tk_vf tk_vf_gather_by4_u32(const float *base, const uint32_t *idx) {
  return vdupq_n_f32(tk_ld_f32(base + idx[0]));
}
/* ---- attention ---- */
#include <simde/simde-f16.h>
/* 2^n from t = n + TK_EXP2_MAGIC, n in [-127, 0] (see simd/scalar.h). */
static inline tk_vf tk_vf_pow2_magic(tk_vf t) {
  return vreinterpretq_f32_u32(vshlq_n_u32(vreinterpretq_u32_f32(t), 23));
}
/* aarch64 converts halves in hardware (fcvtl / fcvtn, round to nearest even).
   armv7 with plain -mfpu=neon has no conversion: 4 halves -> fp32 exactly as
   in simd/scalar.h (normal: bits moved and exponent rebiased; subnormal:
   mantissa times 2^-24, no subnormal arithmetic, which armv7 NEON flushes);
   fp32 -> half through SIMDe's portable round-to-nearest-even conversion
   (scalar VFP code, which does not flush), one lane at a time. */
static inline tk_vf tk_vf_load_f16(const uint16_t *p) {
#if defined(__aarch64__)
  return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
#else
  uint32x4_t h = vmovl_u16(vld1_u16(p));
  uint32x4_t mag = vandq_u32(h, vdupq_n_u32(0x7fff));
  uint32x4_t normal = vaddq_u32(vshlq_n_u32(mag, 13), vdupq_n_u32(112u << 23));
  float32x4_t sub = vmulq_f32(vcvtq_f32_u32(mag), vdupq_n_f32(0x1p-24f));
  uint32x4_t f = vbslq_u32(vcltq_u32(mag, vdupq_n_u32(0x400)), vreinterpretq_u32_f32(sub), normal);
  uint32x4_t sign = vshlq_n_u32(vandq_u32(h, vdupq_n_u32(0x8000)), 16);
  return vreinterpretq_f32_u32(vorrq_u32(f, sign));
#endif
}
static inline void tk_vf_store_f16(uint16_t *p, tk_vf v) {
#if defined(__aarch64__)
  vst1_u16(p, vreinterpret_u16_f16(vcvt_f16_f32(v)));
#else
  float x[4];
  vst1q_f32(x, v);
  for (int i = 0; i < 4; i++) p[i] = simde_float16_as_uint16(simde_float16_from_float32(x[i]));
#endif
}

#define TK_NATIVE_VF_HSUM4
/* The horizontal sums of four vectors: two rounds of pairwise adds (aarch64
   vpaddq_f32; armv7 pairs the halves with vpadd_f32). */
static inline void tk_vf_hsum4(tk_vf a, tk_vf b, tk_vf c, tk_vf d, float *out) {
#if defined(__aarch64__)
  vst1q_f32(out, vpaddq_f32(vpaddq_f32(a, b), vpaddq_f32(c, d)));
#else
  float32x2_t ab = vpadd_f32(vadd_f32(vget_low_f32(a), vget_high_f32(a)),
                             vadd_f32(vget_low_f32(b), vget_high_f32(b)));
  float32x2_t cd = vpadd_f32(vadd_f32(vget_low_f32(c), vget_high_f32(c)),
                             vadd_f32(vget_low_f32(d), vget_high_f32(d)));
  vst1q_f32(out, vcombine_f32(ab, cd));
#endif
}

/* v holds integers in [-32768, 32767]: store them as 4 int16 (the conversion
   truncates, exact for integers). */
static inline void tk_vf_store_s16(int16_t *p, tk_vf v) { vst1_s16(p, vmovn_s32(vcvtq_s32_f32(v))); }

#endif
