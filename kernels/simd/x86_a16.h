/* The s8 KV cache's weights-times-V step on x86 with int16 activations (tk_qx): 14-bit weights through the qlinear int16 step. */
#ifndef TK_SIMD_X86_A16_H
#define TK_SIMD_X86_A16_H

/* Included by the x86 vector headers whose tk_qx is int16, after their qlinear
   section: acc lane i += the dot product of a V group's 4 int8 at lane i
   (qlinear's packed layout, 8 lanes x 4) with 4 weights w in [0, 16383] (14
   bits). The qlinear step (pmaddwd on the widened group, exact) serves as it
   is, so this replaces simd/generic.h's two 7-bit passes. Measured against
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
