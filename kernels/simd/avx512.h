/* The AVX-512 (F/BW/DQ/VL) vector header without VNNI: the names of simd/scalar.h on 512-bit registers. */
#ifndef TK_SIMD_AVX512_H
#define TK_SIMD_AVX512_H

#include "simd/avx512_base.h"

#define TK_ISA_SUFFIX avx512

/* ---- int8 ---- */
/* vpmovsxbw widens 32 int8 to int16 exactly, vpmaddwd multiplies pairs and
   adds them into int32 (AVX512BW): exact for every input, -128 * -128
   included, as in simd/avx2.h. */
#define TK_S8_STEP 64
typedef __m512i tk_vs32;
static inline tk_vs32 tk_vs32_zero(void) { return _mm512_setzero_si512(); }
static inline tk_vs32 tk_vs32_add(tk_vs32 a, tk_vs32 b) { return _mm512_add_epi32(a, b); }
static inline int32_t tk_vs32_hsum(tk_vs32 a) { return tk_zmm_hsum_epi32(a); }
static inline __m512i tk_zmm_load_s8_as_s16(const int8_t *p) {
  return _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(const void *)p));
}
static inline tk_vs32 tk_dot_s8_step(tk_vs32 acc, const int8_t *a, const int8_t *b) {
  __m512i lo = simde_mm512_madd_epi16(tk_zmm_load_s8_as_s16(a), tk_zmm_load_s8_as_s16(b));
  __m512i hi = simde_mm512_madd_epi16(tk_zmm_load_s8_as_s16(a + 32), tk_zmm_load_s8_as_s16(b + 32));
  return _mm512_add_epi32(acc, _mm512_add_epi32(lo, hi));
}

/* ---- qlinear: two tiles (16 rows) per step ---- */
/* A k-group of one tile (32 bytes: 8 rows x 4 k) widens to one zmm of int16
   (vpmovsxbw); the activations are int16 too, so one 64-bit broadcast puts
   x[k..k+3] beside every row and vpmaddwd leaves per row two int32 partial
   sums (k0+k1, k2+k3) in lanes 2r, 2r+1. Tile t and t+1 have one accumulator
   each per batch row; the store adds the lane pairs of both (two vpermt2d and
   one add) into the 16 row sums. Exact for every int8 input. */
#define TK_NATIVE_QL_STEP
#define TK_QL_STEP_TILES 2
#define TK_QL_XBIAS 0
typedef int16_t tk_qlx;
static inline tk_qlx tk_qlx_from_s8(int8_t x) { return x; }
/* GNU vectors of int32 for the accumulators, as in simd/x86_q8.h: the
   loop-carried value in the add's own mode keeps GCC from spilling them. */
typedef int32_t tk_ql_v16s32 __attribute__((vector_size(64)));
static inline tk_ql_v16s32 tk_ql_as_v16s32(__m512i v) {
  tk_ql_v16s32 r;
  memcpy(&r, &v, sizeof r);
  return r;
}
static inline __m512i tk_ql_as_m512i(tk_ql_v16s32 v) {
  __m512i r;
  memcpy(&r, &v, sizeof r);
  return r;
}
typedef struct tk_qlw {
  __m512i t0, t1;
} tk_qlw;
typedef struct tk_qlacc {
  tk_ql_v16s32 t0, t1;
} tk_qlacc;
static inline tk_qlw tk_qlw_load(const int8_t *q, size_t tile_bytes) {
  tk_qlw w = {tk_zmm_load_s8_as_s16(q), tk_zmm_load_s8_as_s16(q + tile_bytes)};
  return w;
}
static inline tk_qlacc tk_qlacc_zero(void) {
  tk_qlacc a = {{0}, {0}};
  return a;
}
/* Tile t's half against x0, tile t + 1's against x1: the step (x0 == x1),
   and the GEMV's step over one tile (generic.h, tk_qlacc_madd_groups). */
static inline tk_qlacc tk_ql_madd_halves(tk_qlacc a, tk_qlw w, const tk_qlx *x0, const tk_qlx *x1) {
  int64_t lo, hi;
  memcpy(&lo, x0, sizeof lo);
  memcpy(&hi, x1, sizeof hi);
  a.t0 += tk_ql_as_v16s32(simde_mm512_madd_epi16(w.t0, _mm512_set1_epi64(lo)));
  a.t1 += tk_ql_as_v16s32(simde_mm512_madd_epi16(w.t1, _mm512_set1_epi64(hi)));
  return a;
}
static inline tk_qlacc tk_qlacc_madd(tk_qlacc a, tk_qlw w, const tk_qlx *x) {
  return tk_ql_madd_halves(a, w, x, x);
}
#define TK_NATIVE_QLACC_MADD_GROUPS
static inline tk_qlacc tk_qlacc_madd_groups(tk_qlacc a, tk_qlw w, const tk_qlx *x) {
  return tk_ql_madd_halves(a, w, x, x + 4);
}
static inline void tk_qlacc_store(int32_t *out, tk_qlacc a) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512i t0 = tk_ql_as_m512i(a.t0), t1 = tk_ql_as_m512i(a.t1);
  _mm512_storeu_si512((void *)out, _mm512_add_epi32(_mm512_permutex2var_epi32(t0, even, t1),
                                                    _mm512_permutex2var_epi32(t0, odd, t1)));
}

/* ==== s8 KV cache (attention): the zmm tile step ==== */
/* vpdpwssd without VNNI: vpmaddwd (exact, no pair reaches -32768 * -32768)
   and vpaddd. */
static inline __m512i tk_zmm_dpwssd(__m512i acc, __m512i a, __m512i b) {
  return _mm512_add_epi32(acc, simde_mm512_madd_epi16(a, b));
}
#include "simd/avx512_a16.h"
/* ==== end of the s8 KV cache block ==== */

#include "simd/generic.h"

#endif
