/* qlinear kernels written once for every ISA: blocking and tails here, the innermost steps from simd/<isa>.h. */

#include <float.h>

/* The including file has included one vector header (simd/<isa>.h), which
   names the functions through TK_FN and supplies tk_q8w / tk_q8acc (one k-group
   of 8 packed rows, the int32 sums of 8 rows for one batch row) and the fp32
   vector ops, and defines TK_QL_MR (batch rows per GEMM microkernel step). The loops below take their block sizes (mr, nr) as
   arguments but are only called with constants; TK_QL_INLINE makes sure each
   call is inlined, so it becomes a fully unrolled, register-blocked microkernel
   (left to itself GCC clones them for one constant and keeps loops over the other). */
#define TK_QL_INLINE static inline __attribute__((always_inline))

static inline size_t TK_FN(ql_min)(size_t a, size_t b) { return a < b ? a : b; }

/* ---- int8: y = acc * (scale[o] * xscale[b]) + bias[o] over packed tiles ---- */

/* The fp32 epilogue of one tile and batch row: one multiply and one add per
   output; only the tile's nvalid real rows are written. */
static inline void TK_FN(ql_store)(tk_q8acc acc, const float *scale, const float *bias, float xs,
                                   float *y, size_t nvalid) {
  int32_t a[TK_QL_ROWS];
  float t[TK_QL_ROWS];
  tk_q8acc_store(a, acc);
  const tk_vf s = tk_vf_set1(xs), big = tk_vf_set1(FLT_MAX);
  for (size_t i = 0; i < TK_QL_ROWS; i += TK_VF_WIDTH) {
    /* The two scales' product can overflow where acc * product does not
       matter: with acc == 0 an infinite product would give 0 * inf = NaN.
       Saturated at FLT_MAX it gives 0, and +-inf only when |y| > FLT_MAX anyway. */
    tk_vf rs = tk_vf_min(tk_vf_mul(tk_vf_load(scale + i), s), big);
    tk_vf_store(t + i, tk_vf_add(tk_vf_mul(tk_vf_load_s32(a + i), rs), tk_vf_load(bias + i)));
  }
  memcpy(y, t, nvalid * sizeof(float));
}

/* One tile (8 output rows) against mr batch rows of activations x (row stride
   ldx elements, kp of them, zero padding included): every k-group of weights is
   loaded once and used for all mr rows. */
TK_QL_INLINE void TK_FN(ql_tile)(const unsigned char *tile, size_t kp, const tk_qx *x, size_t ldx,
                                  size_t mr, const float *xscale, float *y, size_t ldy,
                                  size_t nvalid) {
  const float *scale = TK_QL_SCALE(tile);
  const int8_t *q = TK_QL_Q(tile);
  tk_q8acc acc[TK_QL_MR];
  for (size_t i = 0; i < mr; i++) acc[i] = tk_q8acc_zero();
  for (size_t g = 0; g < kp / TK_QL_KGROUP; g++) {
    tk_q8w w = tk_q8w_load(q + g * TK_QL_GROUP_BYTES);
    for (size_t i = 0; i < mr; i++)
      acc[i] = tk_q8acc_madd(acc[i], w, x + i * ldx + g * TK_QL_KGROUP);
  }
  for (size_t i = 0; i < mr; i++)
    TK_FN(ql_store)(acc[i], scale, TK_QL_BIAS(tile), xscale[i], y + i * ldy, nvalid);
}

/* Batch 1 is a GEMV: one pass over the tiles streams the packed weights once.
   Larger batches go block by block (tk_ql_batch_block rows, whose activations
   stay in L2): for each tile (8 * kp bytes, stays in L1), TK_QL_MR rows of
   batch per microkernel step, then the remaining rows one by one. Each block's
   activations are first copied into work as tk_qx (int16 on x86: widened once
   here instead of once per tile). */
void TK_FN(qlinear_s8)(const void *tiles, size_t out, size_t kp, const int8_t *xq,
                       const float *xscale, size_t batch, float *y, void *work) {
  const unsigned char *base = tiles;
  const size_t n_tiles = (out + TK_QL_ROWS - 1) / TK_QL_ROWS;
  const size_t block = tk_ql_batch_block(kp);
  tk_qx *xw = work;
  for (size_t b0 = 0; b0 < batch; b0 += block) {
    const size_t nb = TK_FN(ql_min)(block, batch - b0);
    for (size_t i = 0; i < nb * kp; i++) xw[i] = (tk_qx)xq[b0 * kp + i];
    for (size_t t = 0; t < n_tiles; t++) {
      const unsigned char *tile = base + t * TK_QL_TILE_BYTES(kp);
      const size_t o = t * TK_QL_ROWS, nvalid = TK_FN(ql_min)(TK_QL_ROWS, out - o);
      float *yt = y + b0 * out + o;
      size_t b = 0;
      for (; b + TK_QL_MR <= nb; b += TK_QL_MR)
        TK_FN(ql_tile)(tile, kp, xw + b * kp, kp, TK_QL_MR, xscale + b0 + b, yt + b * out, out,
                       nvalid);
      for (; b < nb; b++)
        TK_FN(ql_tile)(tile, kp, xw + b * kp, kp, 1, xscale + b0 + b, yt + b * out, out, nvalid);
    }
  }
}

/* ---- fp32: y = x W^T + bias, the baseline ---- */

/* Both operands are row-major along k, so each output is a dot product: the
   microkernel keeps TK_LF_MR x TK_LF_NR vector accumulators (lanes along k),
   loads TK_LF_MR activation vectors and TK_LF_NR weight vectors per step for
   TK_LF_MR * TK_LF_NR fused multiply-adds, and reduces each accumulator once at
   the end. No packing is needed (the layer is stateless); 3 x 4 uses 12
   accumulators + 3 activations + 1 weight = 16 registers on x86. */
#define TK_LF_MR 3
#define TK_LF_NR 4
/* k is cut into blocks of TK_LF_KC floats (a multiple of every vector width) so
   that one microkernel's TK_LF_NR weight slices (8 KiB) stay in L1 while it
   runs over a block of TK_LF_MB batch rows (their slices, 128 KiB, in L2). */
#define TK_LF_KC 512
#define TK_LF_MB 64

/* mr x nr outputs over k in [0, kc): y = sum (+ bias when first, else y + sum). */
TK_QL_INLINE void TK_FN(lf_tile)(const float *x, size_t ldx, const float *w, size_t ldw, size_t kc,
                                  size_t mr, size_t nr, bool first, const float *bias, float *y,
                                  size_t ldy) {
  tk_vf acc[TK_LF_MR][TK_LF_NR];
  for (size_t i = 0; i < mr; i++)
    for (size_t j = 0; j < nr; j++) acc[i][j] = tk_vf_zero();
  size_t k = 0;
  for (; k + TK_VF_WIDTH <= kc; k += TK_VF_WIDTH) {
    tk_vf xv[TK_LF_MR];
    for (size_t i = 0; i < mr; i++) xv[i] = tk_vf_load(x + i * ldx + k);
    for (size_t j = 0; j < nr; j++) {
      tk_vf wv = tk_vf_load(w + j * ldw + k);
      for (size_t i = 0; i < mr; i++) acc[i][j] = tk_vf_fmadd(xv[i], wv, acc[i][j]);
    }
  }
  if (k < kc) {
    /* The k tail through zero-padded copies: nothing is read past kc. */
    float xt[TK_LF_MR][TK_VF_WIDTH] = {{0}}, wt[TK_LF_NR][TK_VF_WIDTH] = {{0}};
    for (size_t i = 0; i < mr; i++) memcpy(xt[i], x + i * ldx + k, (kc - k) * sizeof(float));
    for (size_t j = 0; j < nr; j++) memcpy(wt[j], w + j * ldw + k, (kc - k) * sizeof(float));
    for (size_t j = 0; j < nr; j++)
      for (size_t i = 0; i < mr; i++)
        acc[i][j] = tk_vf_fmadd(tk_vf_load(xt[i]), tk_vf_load(wt[j]), acc[i][j]);
  }
  for (size_t i = 0; i < mr; i++)
    for (size_t j = 0; j < nr; j++) {
      float s = tk_vf_hsum(acc[i][j]);
      float *yo = y + i * ldy + j;
      *yo = first ? (bias ? bias[j] : 0.0f) + s : *yo + s;
    }
}

/* nr outputs (TK_LF_NR or 1) for mb batch rows: TK_LF_MR rows per step, then one by one. */
TK_QL_INLINE void TK_FN(lf_rows)(const float *x, size_t ldx, const float *w, size_t ldw,
                                  size_t kc, size_t mb, size_t nr, bool first, const float *bias,
                                  float *y, size_t ldy) {
  size_t b = 0;
  for (; b + TK_LF_MR <= mb; b += TK_LF_MR)
    TK_FN(lf_tile)(x + b * ldx, ldx, w, ldw, kc, TK_LF_MR, nr, first, bias, y + b * ldy, ldy);
  for (; b < mb; b++)
    TK_FN(lf_tile)(x + b * ldx, ldx, w, ldw, kc, 1, nr, first, bias, y + b * ldy, ldy);
}

void TK_FN(linear_f32)(const float *w, size_t out, size_t in, const float *bias, const float *x,
                       size_t batch, float *y) {
  /* A GEMV has no reuse to block for: one pass streams each W row once. */
  const size_t kc_max = batch > 1 ? TK_LF_KC : in;
  for (size_t k0 = 0; k0 < in; k0 += kc_max) {
    const size_t kc = TK_FN(ql_min)(kc_max, in - k0);
    const bool first = k0 == 0;
    for (size_t b0 = 0; b0 < batch; b0 += TK_LF_MB) {
      const size_t mb = TK_FN(ql_min)(TK_LF_MB, batch - b0);
      const float *xb = x + b0 * in + k0;
      float *yb = y + b0 * out;
      size_t o = 0;
      for (; o + TK_LF_NR <= out; o += TK_LF_NR)
        TK_FN(lf_rows)(xb, in, w + o * in + k0, in, kc, mb, TK_LF_NR, first,
                       bias ? bias + o : NULL, yb + o, out);
      for (; o < out; o++)
        TK_FN(lf_rows)(xb, in, w + o * in + k0, in, kc, mb, 1, first, bias ? bias + o : NULL,
                       yb + o, out);
    }
  }
}
