/* The s8 KV cache's int16-times-int8 step on x86 with int16 activations (tk_qx): the qlinear int16 step as it is. */
#ifndef TK_SIMD_X86_A16_H
#define TK_SIMD_X86_A16_H

/* Included by the x86 vector headers whose tk_qx is int16, after their qlinear
   section: acc lane i += the dot product of a tile's 4 int8 at lane i
   (qlinear's packed layout, 8 lanes x 4) with 4 int16 w in [-16383, 16383]
   (14-bit weights times V, 15-bit queries times K). The qlinear step
   (pmaddwd on the widened tile, exact: no pair reaches -32768 * -32768)
   serves as it is, so this replaces simd/generic.h's two passes. Measured against
   two 7-bit passes of vpmaddubsw + vpmaddwd(ones): 190 vs 274 cycles for 4
   rows x 8 lanes x 128 on Zen 4. */
#define TK_NATIVE_A16_DOT
typedef tk_q8acc tk_a16acc;
static inline tk_a16acc tk_a16acc_zero(void) { return tk_q8acc_zero(); }
static inline void tk_a16acc_store(int32_t *out, tk_a16acc a) { tk_q8acc_store(out, a); }
static inline tk_a16acc tk_a16_dot(tk_a16acc a, const int8_t *tile, const int16_t *w) {
  return tk_q8acc_madd(a, tk_q8w_load(tile), w);
}

#endif
