/* The scalar "vector" header: the same names as the SIMD headers, one lane wide. */
#ifndef TK_SIMD_SCALAR_H
#define TK_SIMD_SCALAR_H

#include <math.h>

#include "simd/common.h"

#define TK_ISA_SUFFIX scalar

/* ---- fp32 vectors: TK_VF_WIDTH lanes ---- */
#define TK_VF_WIDTH 1
typedef float tk_vf;
/* Loads and stores at any address, as the SIMD headers' unaligned ones (unaligned.h). */
static inline tk_vf tk_vf_load(const float *p) { return tk_ld_f32(p); }
static inline void tk_vf_store(float *p, tk_vf v) { tk_st_f32(p, v); }
static inline tk_vf tk_vf_set1(float x) { return x; }
static inline tk_vf tk_vf_zero(void) { return 0.0f; }
static inline tk_vf tk_vf_add(tk_vf a, tk_vf b) { return a + b; }
static inline tk_vf tk_vf_sub(tk_vf a, tk_vf b) { return a - b; }
static inline tk_vf tk_vf_mul(tk_vf a, tk_vf b) { return a * b; }
static inline tk_vf tk_vf_div(tk_vf a, tk_vf b) { return a / b; }
static inline tk_vf tk_vf_max(tk_vf a, tk_vf b) { return a > b ? a : b; }
static inline tk_vf tk_vf_min(tk_vf a, tk_vf b) { return a < b ? a : b; }
static inline tk_vf tk_vf_abs(tk_vf a) { return fabsf(a); }
/* a * b + c */
static inline tk_vf tk_vf_fmadd(tk_vf a, tk_vf b, tk_vf c) { return a * b + c; }
static inline float tk_vf_hmax(tk_vf a) { return a; }
static inline float tk_vf_hsum(tk_vf a) { return a; }

/* ---- int8 ---- */
/* Dot-product accumulator: int32 lanes; one step consumes TK_S8_STEP int8 pairs. */
#define TK_S8_STEP 1
typedef int32_t tk_vs32;
static inline tk_vs32 tk_vs32_zero(void) { return 0; }
static inline tk_vs32 tk_vs32_add(tk_vs32 a, tk_vs32 b) { return a + b; }
static inline int32_t tk_vs32_hsum(tk_vs32 a) { return a; }
static inline tk_vs32 tk_dot_s8_step(tk_vs32 acc, const int8_t *a, const int8_t *b) {
  return acc + (int32_t)a[0] * (int32_t)b[0];
}
/* v holds integers in [-127, 127]: store them as TK_VF_WIDTH int8. */
static inline void tk_vf_store_s8(int8_t *q, tk_vf v) { q[0] = (int8_t)(int32_t)v; }
/* TK_VF_WIDTH int8 -> fp32. */
static inline tk_vf tk_vf_load_s8(const int8_t *q) { return (float)q[0]; }

/* ---- qlinear ---- */
/* One k-group of the packed weights is 8 output rows x 4 consecutive k
   (qlinear/qlinear_kernels.h); an accumulator holds the int32 sums of the 8
   rows for one batch row. Scalar: a plain array, the "load" keeps a pointer. */
typedef int8_t tk_qx; /* element of the kernel's activation copy */
typedef const int8_t *tk_q8w;
typedef struct tk_q8acc {
  int32_t r[8];
} tk_q8acc;
static inline tk_q8w tk_q8w_load(const int8_t *p) { return p; }
static inline tk_q8acc tk_q8acc_zero(void) {
  tk_q8acc a = {{0}};
  return a;
}
/* acc[r] += sum_j w[r][j] * x[j] over the group's 4 k. */
static inline tk_q8acc tk_q8acc_madd(tk_q8acc a, tk_q8w w, const tk_qx *x) {
  for (int r = 0; r < 8; r++)
    for (int j = 0; j < 4; j++) a.r[r] += (int32_t)w[4 * r + j] * (int32_t)x[j];
  return a;
}
/* The 8 row sums, in row order. */
static inline void tk_q8acc_store(int32_t *out, tk_q8acc a) { memcpy(out, a.r, sizeof a.r); }
/* TK_VF_WIDTH int32 -> fp32. */
static inline tk_vf tk_vf_load_s32(const int32_t *p) { return (float)p[0]; }
/* ---- sparse ---- */
/* Lane l of a gather holds base[idx[l]]; lane l of a gather_by4 holds base[idx[l / 4]]
   (one index serves the 4 consecutive values of a blocked row group; see
   sparse/sparse_kernels.h). One lane here: both read base[idx[0]]. base is
   the caller's x or B, at any address: the element goes through memcpy
   (unaligned.h), in every header. */
static inline tk_vf tk_vf_gather_u16(const float *base, const uint16_t *idx) {
  return tk_ld_f32(base + idx[0]);
}
static inline tk_vf tk_vf_gather_u32(const float *base, const uint32_t *idx) {
  return tk_ld_f32(base + idx[0]);
}
static inline tk_vf tk_vf_gather_by4_u16(const float *base, const uint16_t *idx) {
  return tk_ld_f32(base + idx[0]);
}
static inline tk_vf tk_vf_gather_by4_u32(const float *base, const uint32_t *idx) {
  return tk_ld_f32(base + idx[0]);
}
/* ---- attention ---- */
#include <simde/simde-f16.h>
/* t = n + TK_EXP2_MAGIC for an integer n in [-127, 0] (set by the add that
   rounded it) holds 127 + n in its low mantissa bits: shifting them into the
   exponent field gives 2^n, and +0.0 exactly for n = -127. */
static inline tk_vf tk_vf_pow2_magic(tk_vf t) {
  uint32_t b;
  memcpy(&b, &t, sizeof b);
  b <<= 23;
  memcpy(&t, &b, sizeof t);
  return t;
}
/* f16 bits -> fp32, exact for every finite half and without subnormal
   arithmetic (so also under flush-to-zero, as armv7 NEON always is): a normal
   half is its bits moved to fp32's place plus the exponent bias difference
   (127 - 15 = 112); a subnormal half is its integer mantissa times 2^-24. */
/* Both forms are computed and picked with integer selects: a branch on the
   sign of random data would mispredict half the time. */
static inline tk_vf tk_vf_load_f16(const uint16_t *p) {
  const uint32_t h = p[0], mag = h & 0x7fffu;
  const float sub = (float)mag * 0x1p-24f;
  uint32_t sub_bits, b;
  memcpy(&sub_bits, &sub, sizeof sub_bits);
  b = mag < 0x400u ? sub_bits : (mag << 13) + (112u << 23);
  b |= (h & 0x8000u) << 16;
  float f;
  memcpy(&f, &b, sizeof f);
  return f;
}
/* fp32 -> f16 bits, round to nearest even (SIMDe's portable conversion, or the
   compiler's when it has a half type); the caller has clamped v to +-65504. */
static inline void tk_vf_store_f16(uint16_t *p, tk_vf v) {
  p[0] = simde_float16_as_uint16(simde_float16_from_float32(v));
}

/* s8 KV cache (attention/attention_kernels.h): acc lane i += the dot product
   of a tile's 4 int8 at lane i (qlinear's packed layout, 8 lanes x 4) with 4
   int16 w in [-16383, 16383] (14-bit weights times V, 15-bit queries times
   K); the accumulator is qlinear's (one pass: simd/generic.h's two passes
   would double the work). */
#define TK_NATIVE_A16_DOT
typedef tk_q8acc tk_a16acc;
static inline tk_a16acc tk_a16acc_zero(void) { return tk_q8acc_zero(); }
static inline void tk_a16acc_store(int32_t *out, tk_a16acc a) { tk_q8acc_store(out, a); }
static inline tk_a16acc tk_a16_dot(tk_a16acc a, const int8_t *tile, const int16_t *w) {
  for (int r = 0; r < 8; r++)
    for (int j = 0; j < 4; j++) a.r[r] += (int32_t)tile[4 * r + j] * (int32_t)w[j];
  return a;
}
/* v holds an integer in [-32768, 32767]: store it as int16. */
static inline void tk_vf_store_s16(int16_t *p, tk_vf v) { p[0] = (int16_t)(int32_t)v; }

#include "simd/generic.h"

#endif
