/* The s8 KV cache's weights-times-V step on NEON (with or without SDOT): 14-bit weights as two 7-bit passes of the qlinear int8 step. */
#ifndef TK_SIMD_NEON_A16_H
#define TK_SIMD_NEON_A16_H

/* Included at the end of simd/neon.h or simd/neondot.h, after tk_q8acc: acc
   lane i += the dot product of a V group's 4 int8 at lane i (qlinear's packed
   layout, 8 lanes x 4) with 4 weights w in [0, 16383]. tk_qx is int8 on NEON,
   so w = 128 hi + lo goes through the int8 step twice (hi, lo in [0, 127]),
   and the lanes combine once at the store. */
typedef struct tk_a16acc {
  tk_q8acc hi, lo;
} tk_a16acc;
static inline tk_a16acc tk_a16acc_zero(void) {
  tk_a16acc a = {tk_q8acc_zero(), tk_q8acc_zero()};
  return a;
}
static inline tk_a16acc tk_a16_dot(tk_a16acc a, const int8_t *tile, const int16_t *w) {
  const tk_qx hi[4] = {(tk_qx)(w[0] >> 7), (tk_qx)(w[1] >> 7), (tk_qx)(w[2] >> 7), (tk_qx)(w[3] >> 7)};
  const tk_qx lo[4] = {(tk_qx)(w[0] & 127), (tk_qx)(w[1] & 127), (tk_qx)(w[2] & 127),
                       (tk_qx)(w[3] & 127)};
  const tk_q8w t = tk_q8w_load(tile);
  a.hi = tk_q8acc_madd(a.hi, t, hi);
  a.lo = tk_q8acc_madd(a.lo, t, lo);
  return a;
}
static inline void tk_a16acc_store(int32_t *out, tk_a16acc a) {
  int32_t lo[8];
  tk_q8acc_store(out, a.hi);
  tk_q8acc_store(lo, a.lo);
  for (int i = 0; i < 8; i++) out[i] = out[i] * 128 + lo[i];
}

#endif
