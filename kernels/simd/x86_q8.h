/* The qlinear k-group step on ymm registers with int16 activations, shared by the x86 vector headers from AVX2 on. */
#ifndef TK_SIMD_X86_Q8_H
#define TK_SIMD_X86_Q8_H

/* 16 int8 -> 16 int16 (vpmovsxbw), exact. */
static inline __m256i tk_load_s8_as_s16(const int8_t *p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)p));
}

/* One k-group of the packed weights is 32 bytes: 8 output rows x 4 consecutive
   k (qlinear/qlinear_kernels.h). vpmovsxbw widens rows 0-3 and rows 4-7 to
   int16; the kernels keep their activations as int16 (tk_qx), so one 64-bit
   broadcast puts x[k..k+3] beside every row, and vpmaddwd leaves per row two
   int32 partial sums (k0+k1, k2+k3), added by vphaddd once per tile. Exact for
   every int8 input (no vpmaddubsw, see the int8 section). 2 accumulator
   registers per batch row. */
typedef int16_t tk_qx;
typedef struct tk_q8w {
  __m256i r0123, r4567;
} tk_q8w;
/* The accumulators are GNU vectors of int32, not __m256i (a vector of int64
   to the compiler): with the loop-carried value in the same mode as the add,
   GCC keeps all 12 in registers instead of spilling and copying them. */
typedef int32_t tk_ql_v8s32 __attribute__((vector_size(32)));
typedef struct tk_q8acc {
  tk_ql_v8s32 r0123, r4567;
} tk_q8acc;
static inline tk_ql_v8s32 tk_ql_as_v8s32(__m256i v) {
  tk_ql_v8s32 r;
  memcpy(&r, &v, sizeof r);
  return r;
}
static inline __m256i tk_ql_as_m256i(tk_ql_v8s32 v) {
  __m256i r;
  memcpy(&r, &v, sizeof r);
  return r;
}
/* acc + the int16 pair products of w and x: vpmaddwd (exact: no pair
   reaches -32768 * -32768) and vpaddd, or where the including header sets
   TK_Q8_VNNI (simd/avxvnni.h) one vpdpwssd, the same sums (it wraps as
   vpaddd does; not the saturating vpdpwssds). With AVX-VNNI's VEX form where
   the compiler targets it, else SIMDe's emulation of the EVEX form (the
   emulated twin). */
#if defined(TK_Q8_VNNI) && defined(__AVXVNNI__)
#define TK_Q8_DPWSSD _mm256_dpwssd_avx_epi32
#elif defined(TK_Q8_VNNI)
#include <simde/x86/avx512/dpwssd.h>
#define TK_Q8_DPWSSD _mm256_dpwssd_epi32
#endif
static inline tk_ql_v8s32 tk_q8_pairs(tk_ql_v8s32 acc, __m256i w, __m256i x) {
#if defined(TK_Q8_DPWSSD)
  return tk_ql_as_v8s32(TK_Q8_DPWSSD(tk_ql_as_m256i(acc), w, x));
#else
  return acc + tk_ql_as_v8s32(_mm256_madd_epi16(w, x));
#endif
}
static inline tk_q8w tk_q8w_load(const int8_t *p) {
  tk_q8w w = {tk_load_s8_as_s16(p), tk_load_s8_as_s16(p + 16)};
  return w;
}
static inline tk_q8acc tk_q8acc_zero(void) {
  tk_q8acc a = {{0}, {0}};
  return a;
}
static inline tk_q8acc tk_q8acc_madd(tk_q8acc a, tk_q8w w, const tk_qx *x) {
  int64_t x4;
  memcpy(&x4, x, sizeof x4);
  __m256i xb = _mm256_set1_epi64x(x4);
  a.r0123 = tk_q8_pairs(a.r0123, w.r0123, xb);
  a.r4567 = tk_q8_pairs(a.r4567, w.r4567, xb);
  return a;
}
static inline void tk_q8acc_store(int32_t *out, tk_q8acc a) {
  /* vphaddd works per 128-bit lane: r0 r1 r4 r5 | r2 r3 r6 r7; vpermq restores row order. */
  __m256i s = _mm256_hadd_epi32(tk_ql_as_m256i(a.r0123), tk_ql_as_m256i(a.r4567));
  _mm256_storeu_si256((__m256i *)(void *)out, _mm256_permute4x64_epi64(s, _MM_SHUFFLE(3, 1, 2, 0)));
}

#endif
