/* The s8 KV cache's weights-times-V step on SSE4.1 and AVX2: 14-bit weights through the qlinear int16 step. */
#ifndef TK_SIMD_X86_A16_H
#define TK_SIMD_X86_A16_H

/* Included by simd/sse41.h and simd/avx2.h after their qlinear section: acc
   lane i += the dot product of a V group's 4 int8 at lane i (qlinear's packed
   layout, 8 lanes x 4) with 4 weights w in [0, 16383] (14 bits). tk_qx is
   int16 on x86, so the qlinear step (pmaddwd on the widened group, exact)
   serves as it is. Measured against two 7-bit passes of vpmaddubsw +
   vpmaddwd(ones): 190 vs 274 cycles for 4 rows x 8 lanes x 128 on Zen 4. */
#define tk_a16acc tk_q8acc
#define tk_a16acc_zero tk_q8acc_zero
#define tk_a16acc_store tk_q8acc_store
static inline tk_q8acc tk_a16_dot(tk_q8acc a, const int8_t *tile, const int16_t *w) {
  return tk_q8acc_madd(a, tk_q8w_load(tile), w);
}

#endif
