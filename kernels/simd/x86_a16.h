/* The s8 KV cache's int16-times-int8 step on SSE4.1 and AVX2: the qlinear int16 step as it is. */
#ifndef TK_SIMD_X86_A16_H
#define TK_SIMD_X86_A16_H

/* Included by simd/sse41.h and simd/avx2.h after their qlinear section: acc
   lane i += the dot product of a tile's 4 int8 at lane i (qlinear's packed
   layout, 8 lanes x 4) with 4 int16 w in [-16383, 16383] (the s8 cache's
   14-bit weights times V, and its 15-bit queries times K). tk_qx is int16 on
   x86, so the qlinear step (pmaddwd on the widened tile, exact: no product
   pair reaches the -32768 * -32768 saturation) serves as it is. Measured against two 7-bit passes of vpmaddubsw +
   vpmaddwd(ones): 190 vs 274 cycles for 4 rows x 8 lanes x 128 on Zen 4. */
#define tk_a16acc tk_q8acc
#define tk_a16acc_zero tk_q8acc_zero
#define tk_a16acc_store tk_q8acc_store
static inline tk_q8acc tk_a16_dot(tk_q8acc a, const int8_t *tile, const int16_t *w) {
  return tk_q8acc_madd(a, tk_q8w_load(tile), w);
}

#endif
