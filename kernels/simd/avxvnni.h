/* The AVX-VNNI (VEX, 256-bit) vector header: simd/avx2.h's vocabulary with vpdpbusd for the int8 dot and the qlinear step, vpdpwssd for the s8 KV cache. */
#ifndef TK_SIMD_AVXVNNI_H
#define TK_SIMD_AVXVNNI_H

/* The int16 step of the s8 KV cache (simd/x86_q8.h's tk_q8acc_madd, through
   simd/x86_a16.h) as one vpdpwssd where AVX2 takes vpmaddwd + vpaddd; the
   qlinear step below does not use it. */
#define TK_Q8_VNNI
#include "simd/avx2_base.h"

#define TK_ISA_SUFFIX avxvnni

/* acc + the u8 x s8 products of a and b, four per int32 lane, wrapping: the
   VEX instruction where the compiler targets AVX-VNNI, else SIMDe's
   emulation of the EVEX form (same result) for the emulated twin. */
#if defined(__AVXVNNI__)
static inline __m256i tk_ymm_dpbusd(__m256i acc, __m256i a, __m256i b) {
  return _mm256_dpbusd_avx_epi32(acc, a, b);
}
#else
#include <simde/x86/avx512/dpbusd.h>
static inline __m256i tk_ymm_dpbusd(__m256i acc, __m256i a, __m256i b) {
  return _mm256_dpbusd_epi32(acc, a, b);
}
#endif

/* ---- int8 ---- */
/* As simd/avx512vnni.h on 256 bits: acc sums (a ^ 0x80 = a + 128 as u8) * b,
   corr sums 128 * b, and acc - corr is exact modulo 2^32, where the true
   total fits (vpdpbusd wraps, it never saturates). */
#define TK_S8_STEP 32
typedef struct tk_vs32 {
  __m256i acc, corr;
} tk_vs32;
static inline tk_vs32 tk_vs32_zero(void) {
  tk_vs32 z = {_mm256_setzero_si256(), _mm256_setzero_si256()};
  return z;
}
static inline tk_vs32 tk_vs32_add(tk_vs32 a, tk_vs32 b) {
  tk_vs32 s = {_mm256_add_epi32(a.acc, b.acc), _mm256_add_epi32(a.corr, b.corr)};
  return s;
}
static inline int32_t tk_vs32_hsum(tk_vs32 a) {
  return tk_ymm_hsum_epi32(_mm256_sub_epi32(a.acc, a.corr));
}
static inline tk_vs32 tk_dot_s8_step(tk_vs32 s, const int8_t *a, const int8_t *b) {
  const __m256i bias = _mm256_set1_epi8((char)0x80);
  const __m256i va = _mm256_loadu_si256((const __m256i *)(const void *)a);
  const __m256i vb = _mm256_loadu_si256((const __m256i *)(const void *)b);
  s.acc = tk_ymm_dpbusd(s.acc, _mm256_xor_si256(va, bias), vb);
  s.corr = tk_ymm_dpbusd(s.corr, bias, vb);
  return s;
}

/* ---- qlinear: one tile (8 rows) per step ---- */
/* One ymm is a whole k-group (8 rows x 4 k); the activations are u8 = x + 128
   (TK_QL_XBIAS), broadcast 4 at a time, and vpdpbusd leaves the 8 row sums
   (plus 128 * the row's weight sum, which the body subtracts) in one
   accumulator per batch row. Wrapping lanes are fine, as in simd/avx512vnni.h. */
#define TK_NATIVE_QL_STEP
#define TK_QL_STEP_TILES 1
#define TK_QL_XBIAS 128
typedef uint8_t tk_qlx;
static inline tk_qlx tk_qlx_from_s8(int8_t x) { return (tk_qlx)(x ^ 0x80); }
typedef __m256i tk_qlw;
/* GNU vectors of int32 for the accumulators, as in simd/avx512vnni.h (GCC
   copies __m256i accumulators at every step). */
typedef int32_t tk_qlacc __attribute__((vector_size(32)));
static inline tk_qlw tk_qlw_load(const int8_t *q, size_t tile_bytes) {
  (void)tile_bytes;
  return _mm256_loadu_si256((const __m256i *)(const void *)q);
}
static inline tk_qlacc tk_qlacc_zero(void) {
  tk_qlacc z = {0};
  return z;
}
static inline tk_qlacc tk_qlacc_madd(tk_qlacc a, tk_qlw w, const tk_qlx *x) {
  int32_t x4;
  __m256i r;
  memcpy(&x4, x, sizeof x4);
  memcpy(&r, &a, sizeof r);
  r = tk_ymm_dpbusd(r, _mm256_set1_epi32(x4), w);
  memcpy(&a, &r, sizeof a);
  return a;
}
static inline void tk_qlacc_store(int32_t *out, tk_qlacc a) { memcpy(out, &a, sizeof a); }
/* The sums start at -128 * wsum (the body's start[], one lane per row). */
#define TK_NATIVE_QLACC_START
static inline tk_qlacc tk_qlacc_start(const int32_t *start) {
  tk_qlacc a;
  memcpy(&a, start, sizeof a);
  return a;
}

#include "simd/generic.h"

#endif
