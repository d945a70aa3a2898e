/* Derived vector operations with one generic definition each, skipped where the ISA's vector header defines TK_NATIVE_<OP>. */
#ifndef TK_SIMD_GENERIC_H
#define TK_SIMD_GENERIC_H

/* Included at the end of every simd/<isa>.h, after its own vocabulary: an
   operation here is built from that vocabulary. A header with a better way
   defines TK_NATIVE_<OP> and its own version before including this file; no
   header tests another header's include guard. */

/* ---- qlinear: the GEMV/GEMM step of qlinear/qlinear_body.h ---- */
#ifndef TK_NATIVE_QL_STEP
/* One step multiplies one k-group (4 consecutive k) of TK_QL_STEP_TILES
   packed tiles (8 rows each, TK_QL_TILE_BYTES apart) by the 4 activations of
   one batch row; tk_qlacc_store writes the 8 * TK_QL_STEP_TILES int32 sums.
   The kernel keeps its copy of the activations as tk_qlx, converted once from
   int8 by tk_qlx_from_s8, which may add TK_QL_XBIAS to every activation (the
   u8 operand of VNNI): the sums then hold TK_QL_XBIAS * (the row's weight
   sum) too, which the body subtracts with the tile's wsum. Generic: the
   qlinear k-group step of the vector header, one tile, no bias. */
#define TK_QL_STEP_TILES 1
#define TK_QL_XBIAS 0
typedef tk_qx tk_qlx;
typedef tk_q8w tk_qlw;
typedef tk_q8acc tk_qlacc;
static inline tk_qlx tk_qlx_from_s8(int8_t x) { return (tk_qlx)x; }
static inline tk_qlw tk_qlw_load(const int8_t *q, size_t tile_bytes) {
  (void)tile_bytes;
  return tk_q8w_load(q);
}
static inline tk_qlacc tk_qlacc_zero(void) { return tk_q8acc_zero(); }
static inline tk_qlacc tk_qlacc_madd(tk_qlacc a, tk_qlw w, const tk_qlx *x) {
  return tk_q8acc_madd(a, w, x);
}
static inline void tk_qlacc_store(int32_t *out, tk_qlacc a) { tk_q8acc_store(out, a); }
#endif

#ifndef TK_NATIVE_QLACC_START
/* The accumulator of one batch row at the start of a step: the step's
   TK_QL_STEP_ROWS row sums begin at start[] (what the body wants subtracted
   at the end, -TK_QL_XBIAS * wsum, folded in up front so the store needs no
   correction). Generic: a step without the bias starts at zero. */
_Static_assert(TK_QL_XBIAS == 0, "a step with TK_QL_XBIAS loads its start (TK_NATIVE_QLACC_START)");
static inline tk_qlacc tk_qlacc_start(const int32_t *start) {
  (void)start;
  return tk_qlacc_zero();
}
#endif

#ifndef TK_NATIVE_QLACC_MADD_GROUPS
/* The GEMV's step over one tile alone (qlinear_body.h, ql_gemv_step): w
   loaded with tile_bytes = one k-group holds TK_QL_STEP_TILES consecutive
   k-groups of one tile, and the step's part i takes the 4 activations of
   group i (x + 4 i). Generic: a one-tile step is tk_qlacc_madd; a two-tile
   step defines its own. */
_Static_assert(TK_QL_STEP_TILES == 1, "a multi-tile step defines tk_qlacc_madd_groups");
static inline tk_qlacc tk_qlacc_madd_groups(tk_qlacc a, tk_qlw w, const tk_qlx *x) {
  return tk_qlacc_madd(a, w, x);
}
#endif

#ifndef TK_NATIVE_QLACC_ADD
/* The lane-wise sum of two accumulators (a GEMV's split-k chains), wrapping
   as the lanes do: every tk_qlacc is int32 lanes, and its store a linear map
   of them, so store(a + b) = store(a) + store(b). Through memcpy (the
   compiler keeps it in registers: one vpaddd per register). */
static inline tk_qlacc tk_qlacc_add(tk_qlacc a, tk_qlacc b) {
  uint32_t la[sizeof(tk_qlacc) / 4], lb[sizeof(tk_qlacc) / 4];
  memcpy(la, &a, sizeof a);
  memcpy(lb, &b, sizeof b);
  for (size_t i = 0; i < sizeof(tk_qlacc) / 4; i++) la[i] += lb[i];
  memcpy(&a, la, sizeof a);
  return a;
}
#endif

/* ---- attention ---- */
#ifndef TK_NATIVE_VF_HSUM4
/* The horizontal sums of four vectors: out[i] = sum of the lanes of the i-th. */
static inline void tk_vf_hsum4(tk_vf a, tk_vf b, tk_vf c, tk_vf d, float *out) {
  out[0] = tk_vf_hsum(a), out[1] = tk_vf_hsum(b), out[2] = tk_vf_hsum(c), out[3] = tk_vf_hsum(d);
}
#endif

/* ---- s8 KV cache ---- */
#ifndef TK_NATIVE_A16_DOT
/* acc lane i += the dot product of a tile's 4 int8 at lane i (qlinear's
   packed layout, 8 lanes x 4) with 4 int16 w in [-16383, 16383] (the s8
   cache's 14-bit weights times V, and its 15-bit queries times K), from the
   qlinear int8 step: w = 128 hi + lo (lo = w & 127 in [0, 127], hi =
   (w - lo) / 128 in [-128, 127], both exact and int8) goes through the step
   twice, and the lanes combine once at the store. */
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

#endif
