/* The s8 KV cache's int16-times-int8 step on NEON (with or without SDOT): 15-bit values as two passes of the qlinear int8 step. */
#ifndef TK_SIMD_NEON_A16_H
#define TK_SIMD_NEON_A16_H

/* Included at the end of simd/neon.h or simd/neondot.h, after tk_q8acc: acc
   lane i += the dot product of a tile's 4 int8 at lane i (qlinear's packed
   layout, 8 lanes x 4) with 4 int16 w in [-16383, 16383] (the s8 cache's
   14-bit weights times V, and its 15-bit queries times K). tk_qx is int8 on
   NEON, so w = 128 hi + lo goes through the int8 step twice (lo = w & 127 in
   [0, 127], hi = (w - lo) / 128 in [-128, 127], both exact), and the lanes
   combine once at the store. */
typedef struct tk_a16acc {
  tk_q8acc hi, lo;
} tk_a16acc;
static inline tk_a16acc tk_a16acc_zero(void) {
  tk_a16acc a = {tk_q8acc_zero(), tk_q8acc_zero()};
  return a;
}
static inline tk_a16acc tk_a16_dot(tk_a16acc a, const int8_t *tile, const int16_t *w) {
  tk_qx hi[4], lo[4];
  for (int j = 0; j < 4; j++) {
    lo[j] = (tk_qx)(w[j] & 127);
    hi[j] = (tk_qx)((w[j] - lo[j]) / 128);
  }
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
