/* The AVX-512 + VNNI vector header: simd/avx512.h's vocabulary with vpdpbusd (u8 x s8 -> int32) for the int8 dot and the qlinear step, vpdpwssd for the s8 KV cache. */
#ifndef TK_SIMD_AVX512VNNI_H
#define TK_SIMD_AVX512VNNI_H

#include "simd/avx512_base.h"

#define TK_ISA_SUFFIX avx512vnni

/* ---- int8 ---- */
/* vpdpbusd multiplies 4 u8 by 4 s8 and adds them into each int32 lane, 64
   MACs per instruction. a ^ 0x80 is a + 128 as u8, so the lanes of acc sum
   (a + 128) * b; corr sums 128 * b (vpdpbusd of 0x80 bytes against b), and
   acc - corr is the exact sum of a * b for every input, -128 * -128
   included. Neither saturates (vpdpbusd wraps; vpdpbusds would saturate):
   the lanes may wrap around int32, but the difference is right modulo 2^32
   and the true total fits int32 (n <= TK_DOT_S8_MAX_N), so the wrapping
   hsum of acc - corr is exact. The second vpdpbusd costs nothing where the
   step is bound by its two 64-byte loads (one zmm load per cycle on Zen 4),
   as long as b is loaded once: GCC 12 folds the load of b into both
   vpdpbusd as a memory operand, three zmm loads per step instead of two
   (tk_dot_s8 n = 4096 in L1 took 1.5x the time of the two-load loop on
   Zen 4). An empty asm that needs b in a register makes it one load; the
   emulated twin (no AVX-512 registers) has nothing to fold. */
#define TK_S8_STEP 64
/* GNU vectors of int32 (the mode vpdpbusd works in) rather than __m512i, for
   the reason given at tk_qlacc below: GCC copies __m512i accumulators
   around every vpdpbusd. */
typedef int32_t tk_v16s32 __attribute__((vector_size(64)));
static inline __m512i tk_v16s32_m512i(tk_v16s32 v) {
  __m512i r;
  memcpy(&r, &v, sizeof r);
  return r;
}
static inline tk_v16s32 tk_m512i_v16s32(__m512i v) {
  tk_v16s32 r;
  memcpy(&r, &v, sizeof r);
  return r;
}
static inline tk_v16s32 tk_v16s32_dpbusd(tk_v16s32 acc, __m512i u8, __m512i s8) {
  return tk_m512i_v16s32(_mm512_dpbusd_epi32(tk_v16s32_m512i(acc), u8, s8));
}
typedef struct tk_vs32 {
  tk_v16s32 acc, corr;
} tk_vs32;
static inline tk_vs32 tk_vs32_zero(void) {
  tk_vs32 z = {{0}, {0}};
  return z;
}
static inline tk_vs32 tk_vs32_add(tk_vs32 a, tk_vs32 b) {
  tk_vs32 s = {tk_m512i_v16s32(_mm512_add_epi32(tk_v16s32_m512i(a.acc), tk_v16s32_m512i(b.acc))),
               tk_m512i_v16s32(_mm512_add_epi32(tk_v16s32_m512i(a.corr), tk_v16s32_m512i(b.corr)))};
  return s;
}
static inline int32_t tk_vs32_hsum(tk_vs32 a) {
  return tk_zmm_hsum_epi32(_mm512_sub_epi32(tk_v16s32_m512i(a.acc), tk_v16s32_m512i(a.corr)));
}
static inline tk_vs32 tk_dot_s8_step(tk_vs32 s, const int8_t *a, const int8_t *b) {
  const __m512i bias = _mm512_set1_epi8((char)0x80);
  const __m512i va = _mm512_loadu_si512((const void *)a);
  __m512i vb = _mm512_loadu_si512((const void *)b);
#if defined(__AVX512F__)
  __asm__("" : "+v"(vb));
#endif
  s.acc = tk_v16s32_dpbusd(s.acc, _mm512_xor_si512(va, bias), vb);
  s.corr = tk_v16s32_dpbusd(s.corr, bias, vb);
  return s;
}

/* ---- qlinear: two tiles (16 rows) per step ---- */
/* One zmm holds k-group g of tile t (low half) and of tile t + 1 (high half):
   16 rows x 4 k. The kernel's activations are u8 = x + 128 (TK_QL_XBIAS), one
   32-bit broadcast puts x[k..k+3] beside every row, and vpdpbusd adds the 4
   products of each row into its lane: the accumulator holds the 16 row sums
   directly, one register per batch row. The sums include 128 * (the row's
   weight sum), which the qlinear body subtracts with the tile's wsum; lanes
   may wrap around int32 (vpdpbusd does not saturate), the corrected sum is
   exact because the true one fits int32 (tk_qlinear's in_features bound). */
#define TK_NATIVE_QL_STEP
#define TK_QL_STEP_TILES 2
#define TK_QL_XBIAS 128
typedef uint8_t tk_qlx;
static inline tk_qlx tk_qlx_from_s8(int8_t x) { return (tk_qlx)(x ^ 0x80); }
typedef __m512i tk_qlw;
/* The accumulators are GNU vectors of int32, the mode vpdpbusd works in, not
   __m512i (a vector of int64 to GCC): with __m512i, GCC 12 copied all 8
   accumulators between registers at every k-group (16 vmovdqa64 per 8
   vpdpbusd); clang gives the same loop either way. */
typedef int32_t tk_qlacc __attribute__((vector_size(64)));
static inline tk_qlw tk_qlw_load(const int8_t *q, size_t tile_bytes) {
  /* tile_bytes 32 is one k-group (8 rows x 4 k): the body's GEMV step takes
     two k-groups of one tile, one 64-byte load. */
  if (tile_bytes == 32) return _mm512_loadu_si512((const void *)q);
  return tk_zmm_join(_mm256_loadu_si256((const __m256i *)(const void *)q),
                     _mm256_loadu_si256((const __m256i *)(const void *)(q + tile_bytes)));
}
static inline tk_qlacc tk_qlacc_zero(void) {
  tk_qlacc z = {0};
  return z;
}
static inline tk_qlacc tk_qlacc_madd(tk_qlacc a, tk_qlw w, const tk_qlx *x) {
  int32_t x4;
  __m512i r;
  memcpy(&x4, x, sizeof x4);
  memcpy(&r, &a, sizeof r);
  r = _mm512_dpbusd_epi32(r, _mm512_set1_epi32(x4), w);
  memcpy(&a, &r, sizeof a);
  return a;
}
/* The GEMV's step over one tile (generic.h): the low half (k-group g)
   against x[0..3], the high half (group g + 1) against x[4..7], one
   broadcast per 256-bit half. */
#define TK_NATIVE_QLACC_MADD_GROUPS
static inline tk_qlacc tk_qlacc_madd_groups(tk_qlacc a, tk_qlw w, const tk_qlx *x) {
  int32_t lo, hi;
  __m512i r;
  memcpy(&lo, x, sizeof lo);
  memcpy(&hi, x + 4, sizeof hi);
  memcpy(&r, &a, sizeof r);
  r = _mm512_dpbusd_epi32(r, tk_zmm_join(_mm256_set1_epi32(lo), _mm256_set1_epi32(hi)), w);
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

/* ==== s8 KV cache (attention): the zmm tile step ==== */
/* vpdpwssd: int16 pairs times int16 pairs added into int32, not saturating. */
static inline __m512i tk_zmm_dpwssd(__m512i acc, __m512i a, __m512i b) {
  return _mm512_dpwssd_epi32(acc, a, b);
}
#include "simd/avx512_a16.h"
/* ==== end of the s8 KV cache block ==== */

#include "simd/generic.h"

#endif
