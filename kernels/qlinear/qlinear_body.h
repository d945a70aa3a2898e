/* qlinear kernels written once for every ISA: blocking and tails here, the innermost steps from simd/<isa>.h. */

#include <float.h>

/* The including file has included one vector header (simd/<isa>.h), which
   names the functions through TK_FN and supplies the qlinear step (tk_qlw,
   tk_qlacc: one k-group of TK_QL_STEP_TILES packed tiles, their int32 row sums
   for one batch row; generic definition in simd/generic.h) and the fp32
   vector ops, and defines TK_QL_MR (batch rows per GEMM microkernel step) and
   optionally TK_QL_KU (independent accumulators of a one-row step, which
   split k: a GEMV's only chain would otherwise wait on the multiply-add
   latency at every k-group). The loops below take their block sizes (mr)
   as arguments but are only called with constants; TK_QL_INLINE makes sure
   each call is inlined, so it becomes a fully unrolled, register-blocked
   microkernel (left to itself GCC clones them for one constant and keeps
   loops over the other). */
#define TK_QL_INLINE static inline __attribute__((always_inline))
#ifndef TK_QL_KU
#define TK_QL_KU 1
#endif
/* Output rows of one step: 8 or 16, whole fp32 vectors (TK_VF_WIDTH <= 16). */
#define TK_QL_STEP_ROWS (TK_QL_ROWS * TK_QL_STEP_TILES)
_Static_assert(TK_QL_STEP_ROWS % TK_VF_WIDTH == 0, "a step's rows are whole fp32 vectors");

static inline size_t TK_FN(ql_min)(size_t a, size_t b) { return a < b ? a : b; }

/* ---- int8: y = (acc - TK_QL_XBIAS * wsum[o]) * (scale[o] * xscale[b]) + bias[o] ---- */

/* The header fields of a step's tiles side by side (tile t's rows, then tile
   t + 1's), gathered once per step for all batch rows. start is where each
   row's sum begins: -TK_QL_XBIAS times the row's weight sum, in wrapping
   uint32 arithmetic (|wsum| <= 127 * kp, so 128 * wsum can pass 2^31), so
   the accumulators end at the exact sums (they wrap like the lanes, see the
   vector header). Folded in up front rather than subtracted at the store:
   there, 16 scalar subtractions per batch row and the vector reload of
   their results (a store-forwarding stall) took ~10% of the avx512vnni
   GEMM 64x1024x1024 (perf samples on the epilogue's vmulps). */
typedef struct tk_ql_head {
  float scale[TK_QL_STEP_ROWS], bias[TK_QL_STEP_ROWS];
  int32_t start[TK_QL_STEP_ROWS];
} tk_ql_head;

static inline void TK_FN(ql_head_load)(tk_ql_head *h, const unsigned char *tile, size_t tb) {
  uint32_t wsum[TK_QL_STEP_ROWS];
  for (size_t s = 0; s < TK_QL_STEP_TILES; s++) {
    const unsigned char *ti = tile + s * tb;
    memcpy(h->scale + s * TK_QL_ROWS, TK_QL_SCALE(ti), TK_QL_ROWS * sizeof(float));
    memcpy(h->bias + s * TK_QL_ROWS, TK_QL_BIAS(ti), TK_QL_ROWS * sizeof(float));
    memcpy(wsum + s * TK_QL_ROWS, TK_QL_WSUM(ti), TK_QL_ROWS * sizeof(int32_t));
  }
  for (size_t i = 0; i < TK_QL_STEP_ROWS; i++)
    h->start[i] = (int32_t)(0u - (uint32_t)TK_QL_XBIAS * wsum[i]);
}

/* The fp32 epilogue of one step and batch row: one multiply and one add per
   output; only the nvalid real rows are written, straight from the registers
   when they are all real (a memcpy of a variable length is a library call:
   it cost the avx512vnni GEMM 64x1024x1024 about a tenth of its time). */
static inline void TK_FN(ql_store_sums)(const int32_t *a, const tk_ql_head *h, float xs, float *y,
                                        size_t nvalid) {
  float t[TK_QL_STEP_ROWS];
  const tk_vf s = tk_vf_set1(xs), big = tk_vf_set1(FLT_MAX);
  const bool whole = nvalid == TK_QL_STEP_ROWS;
  for (size_t i = 0; i < TK_QL_STEP_ROWS; i += TK_VF_WIDTH) {
    /* The two scales' product can overflow where acc * product does not
       matter: with acc == 0 an infinite product would give 0 * inf = NaN.
       Saturated at FLT_MAX it gives 0, and +-inf only when |y| > FLT_MAX anyway. */
    tk_vf rs = tk_vf_min(tk_vf_mul(tk_vf_load(h->scale + i), s), big);
    tk_vf_store((whole ? y : t) + i,
                tk_vf_add(tk_vf_mul(tk_vf_load_s32(a + i), rs), tk_vf_load(h->bias + i)));
  }
  if (!whole) memcpy(y, t, nvalid * sizeof(float));
}
static inline void TK_FN(ql_store)(tk_qlacc acc, const tk_ql_head *h, float xs, float *y,
                                   size_t nvalid) {
  int32_t a[TK_QL_STEP_ROWS];
  tk_qlacc_store(a, acc);
  TK_FN(ql_store_sums)(a, h, xs, y, nvalid);
}

/* A GEMV step (one batch row), each of the step's tiles read alone, as one
   stream: the GEMM's step reads tile t and tile t + 1 side by side, two
   streams one tile apart, and from DRAM two such streams ran at 16-18 GB/s
   where one ran at 23-25 (Zen 4, tiles of 768-4096 k): qlinear_cold
   1x1024x1024 avx512vnni took 63-71 us against avx2's 43, and prefetching
   both streams in software only made it slower. With tile_bytes = one
   k-group, the vector step's load takes TK_QL_STEP_TILES consecutive
   k-groups of one tile, and tk_qlacc_madd_groups gives each its own 4
   activations; the halves of the stored sums are then the same 8 rows over
   different groups, added here with the start (wrapping, as the lanes do).
   TK_QL_KU accumulators split k: the only chain would otherwise wait on the
   multiply-add latency at every step. Fewer groups than a step at the end
   (a two-tile ISA's odd last group) are loaded into the missing halves too,
   against activations that are 0 in the tk_qlx encoding itself (0, not the
   biased zero 128), so they add nothing. */
TK_QL_INLINE void TK_FN(ql_gemv_step)(const unsigned char *tile, size_t tb, size_t kp,
                                       const tk_qlx *x, const tk_ql_head *h, float xs, float *y,
                                       size_t nvalid) {
  enum { G = TK_QL_STEP_TILES }; /* k-groups per vector step */
  const size_t ng = kp / TK_QL_KGROUP;
  uint32_t sum[TK_QL_STEP_ROWS];
  for (size_t s = 0; s < TK_QL_STEP_TILES; s++) {
    const int8_t *q = TK_QL_Q(tile + s * tb);
    tk_qlacc acc[TK_QL_KU];
    for (size_t u = 0; u < TK_QL_KU; u++) acc[u] = tk_qlacc_zero();
    size_t g = 0;
    for (; g + G * TK_QL_KU <= ng; g += G * TK_QL_KU)
      for (size_t u = 0; u < TK_QL_KU; u++) {
        const size_t gu = g + G * u;
        acc[u] = tk_qlacc_madd_groups(
            acc[u], tk_qlw_load(q + gu * TK_QL_GROUP_BYTES, TK_QL_GROUP_BYTES), x + gu * TK_QL_KGROUP);
      }
    for (; g + G <= ng; g += G)
      acc[0] = tk_qlacc_madd_groups(
          acc[0], tk_qlw_load(q + g * TK_QL_GROUP_BYTES, TK_QL_GROUP_BYTES), x + g * TK_QL_KGROUP);
    if (g < ng) {
      tk_qlx last[G * TK_QL_KGROUP] = {0};
      memcpy(last, x + g * TK_QL_KGROUP, (ng - g) * TK_QL_KGROUP * sizeof *last);
      acc[0] = tk_qlacc_madd_groups(acc[0], tk_qlw_load(q + g * TK_QL_GROUP_BYTES, 0), last);
    }
    for (size_t u = 1; u < TK_QL_KU; u++) acc[0] = tk_qlacc_add(acc[0], acc[u]);
    int32_t a[TK_QL_STEP_ROWS];
    tk_qlacc_store(a, acc[0]);
    for (size_t r = 0; r < TK_QL_ROWS; r++) {
      uint32_t t = (uint32_t)h->start[s * TK_QL_ROWS + r];
      for (size_t i = 0; i < G; i++) t += (uint32_t)a[i * TK_QL_ROWS + r];
      sum[s * TK_QL_ROWS + r] = t;
    }
  }
  int32_t exact[TK_QL_STEP_ROWS];
  memcpy(exact, sum, sizeof exact);
  TK_FN(ql_store_sums)(exact, h, xs, y, nvalid);
}

/* One step's tiles (from `tile`, tb bytes apart) against mr batch rows of
   activations x (row stride ldx elements, kp of them, zero padding included):
   every k-group of weights is loaded once and used for all mr rows. With pf
   (the next step's tiles; the GEMM passes it to a step's last microkernel
   call) the k-loop also prefetches them at its own pace (one line of each
   tile per 64 bytes), so the next step's first call finds its weights in L1 rather than
   L3: avx512vnni 256x4096x1024 2-4% faster (medians of 41 calls in 3
   interleaved runs). One row alone is a GEMV, whose weights stream once
   (ql_gemv_step: tile by tile, TK_QL_KU accumulators). There,
   software prefetch (128 B to 4 KiB ahead in both streams, or the next
   step's tiles) was no faster warm and up to 15% slower from DRAM than the
   hardware prefetchers alone. */
TK_QL_INLINE void TK_FN(ql_tile)(const unsigned char *tile, size_t tb, size_t kp,
                                  const tk_qlx *x, size_t ldx, size_t mr,
                                  const tk_ql_head *h, const float *xscale, float *y,
                                  size_t ldy, size_t nvalid, const unsigned char *pf) {
  if (mr == 1) {
    TK_FN(ql_gemv_step)(tile, tb, kp, x, h, xscale[0], y, nvalid);
    return;
  }
  const int8_t *q = TK_QL_Q(tile);
  const size_t ng = kp / TK_QL_KGROUP;
  tk_qlacc acc[TK_QL_MR];
  for (size_t i = 0; i < mr; i++) acc[i] = tk_qlacc_start(h->start);
  for (size_t g = 0; g < ng; g++) {
    if (pf && g % 2 == 0) /* every 64 bytes: one line of each of the next step's tiles */
      for (size_t s = 0; s < TK_QL_STEP_TILES; s++)
        __builtin_prefetch(pf + s * tb + g * TK_QL_GROUP_BYTES);
    tk_qlw w = tk_qlw_load(q + g * TK_QL_GROUP_BYTES, tb);
    for (size_t i = 0; i < mr; i++)
      acc[i] = tk_qlacc_madd(acc[i], w, x + i * ldx + g * TK_QL_KGROUP);
  }
  for (size_t i = 0; i < mr; i++) TK_FN(ql_store)(acc[i], h, xscale[i], y + i * ldy, nvalid);
}

/* Batch 1 is a GEMV: one pass over the tiles streams the packed weights once.
   Larger batches go block by block (tk_ql_batch_block rows, whose activations
   stay in L2): for each step's tiles (8 * kp bytes each, in L1), TK_QL_MR rows
   of batch per microkernel step, then the remaining rows one by one. Each
   block's activations are first copied into work as tk_qlx (int16 or x + 128
   as u8 on x86: converted once here instead of once per tile). The tile
   count is even, so a two-tile step never runs past the last tile. */
void TK_FN(qlinear_s8)(const void *tiles, size_t out, size_t kp, const int8_t *xq,
                       const float *xscale, size_t batch, float *y, void *work) {
  const unsigned char *base = tiles;
  const size_t n_steps = (out + TK_QL_STEP_ROWS - 1) / TK_QL_STEP_ROWS;
  const size_t tb = TK_QL_TILE_BYTES(kp);
  const size_t block = tk_ql_batch_block(kp);
  tk_qlx *xw = work;
  for (size_t b0 = 0; b0 < batch; b0 += block) {
    const size_t nb = TK_FN(ql_min)(block, batch - b0);
    for (size_t i = 0; i < nb * kp; i++) xw[i] = tk_qlx_from_s8(xq[b0 * kp + i]);
    for (size_t t = 0; t < n_steps; t++) {
      const unsigned char *tile = base + t * TK_QL_STEP_TILES * tb;
      const size_t o = t * TK_QL_STEP_ROWS, nvalid = TK_FN(ql_min)(TK_QL_STEP_ROWS, out - o);
      tk_ql_head h;
      TK_FN(ql_head_load)(&h, tile, tb);
      float *yt = y + b0 * out + o;
      size_t b = 0;
      const unsigned char *next = t + 1 < n_steps ? tile + TK_QL_STEP_TILES * tb : NULL;
      for (; b + TK_QL_MR <= nb; b += TK_QL_MR) {
        if (next && b + 2 * TK_QL_MR > nb)
          TK_FN(ql_tile)(tile, tb, kp, xw + b * kp, kp, TK_QL_MR, &h, xscale + b0 + b,
                         yt + b * out, out, nvalid, next);
        else
          TK_FN(ql_tile)(tile, tb, kp, xw + b * kp, kp, TK_QL_MR, &h, xscale + b0 + b,
                         yt + b * out, out, nvalid, NULL);
      }
      for (; b < nb; b++)
        TK_FN(ql_tile)(tile, tb, kp, xw + b * kp, kp, 1, &h, xscale + b0 + b, yt + b * out, out,
                       nvalid, NULL);
    }
  }
}

/* ---- fp32: y = x W^T + bias, the baseline ---- */
/* Left out where meson routes this ISA's linear_f32 to another ISA's
   (kernels/table.c: the VNNI ISAs take their base ISA's). */
#ifndef TK_ROUTE_linear_f32

/* Both operands are row-major along k, so each output is a dot product: the
   microkernel keeps TK_LF_MR x TK_LF_NR vector accumulators (lanes along k),
   loads TK_LF_MR activation vectors and TK_LF_NR weight vectors per step for
   TK_LF_MR * TK_LF_NR fused multiply-adds, and reduces each accumulator once at
   the end. No packing is needed (the layer is stateless); 3 x 4 uses 12
   accumulators + 3 activations + 1 weight = 16 registers on x86. A variant
   file with more registers may set its own. */
#ifndef TK_LF_MR
#define TK_LF_MR 3
#define TK_LF_NR 4
#endif
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
      /* y and bias through memcpy: caller arrays may be at any address. */
      float s = tk_vf_hsum(acc[i][j]), base = 0.0f;
      float *yo = y + i * ldy + j;
      if (!first)
        memcpy(&base, yo, sizeof base);
      else if (bias)
        memcpy(&base, bias + j, sizeof base);
      s = base + s;
      memcpy(yo, &s, sizeof s);
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

/* The dot-product loops over batch rows [0, batch). */
TK_QL_INLINE void TK_FN(lf_dot)(const float *w, size_t out, size_t in, const float *bias,
                                 const float *x, size_t batch, float *y) {
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

#ifdef TK_LF_PMR
/* The broadcast form, for ISAs whose file sets TK_LF_PMR: lanes along the
   batch. A block of TK_VF_WIDTH batch rows is copied k-major (xp[k][lane] =
   x[row lane][k], a transposition the block's `out` outputs all share), and
   the microkernel keeps TK_LF_PMR accumulators, one per output row o + i,
   whose lane l sums w[o + i][k] * x[l][k]: per k one activation vector load
   and TK_LF_PMR fused multiply-adds with a broadcast weight (a memory
   operand of the FMA on AVX-512), no horizontal sums. The dot form above
   needs, per tile of 4 x 5 outputs and 512 k, 20 horizontal sums beside its
   640 FMAs and 9 loads per 20 FMAs; here the tile ends with TK_LF_PMR vector
   stores and a scalar add per output, 16 per TK_LF_PKC FMAs. TK_LF_PNB
   blocks are packed at once (a stack panel of TK_LF_PNB * TK_VF_WIDTH *
   TK_LF_PKC floats, 32 KiB) and share one copy of the tile's weights
   (TK_LF_PMR rows of TK_LF_PKC floats, 17 KiB with the padding): read in
   place, the 16 rows, `in` floats apart, fall into one L1 set when `in` is
   a multiple of 1024 and evict each other (64x1024x1024 ran at 36% of the
   FMA peak; copied, the 16 rows are TK_LF_PLDW floats apart). On Zen 4
   (medians under load) 256 x 2 beat 128 x 4 and 512 x 1; 256 x 4 (a 64
   KiB panel) was no faster. */
#define TK_LF_PKC 256
#define TK_LF_PNB 2
#define TK_LF_PLDW (TK_LF_PKC + 16)
_Static_assert(TK_LF_PMR == 16, "lf_ptile's prefetch covers 16 rows");

/* mr outputs (rows of w, ldw apart) x TK_VF_WIDTH batch rows (lanes of xp,
   y rows ldy apart) over k in [0, kc): y = sum (+ bias when first, else y + sum). */
TK_QL_INLINE void TK_FN(lf_ptile)(const float *xp, const float *w, size_t ldw, size_t kc,
                                   size_t mr, bool first, const float *bias, float *y,
                                   size_t ldy, const float *pf, size_t ldpf) {
  tk_vf acc[TK_LF_PMR];
  for (size_t i = 0; i < mr; i++) acc[i] = tk_vf_zero();
  for (size_t k = 0; k < kc; k++) {
    /* One line of the next tile (TK_LF_PMR rows ldpf apart, kc floats each)
       per step, so no burst fills the miss buffers: step k takes row
       k % 16 at float (k / 16) * 16, which covers the 16 rows' kc / 16
       lines as k runs to kc. Into L2 (locality 2, prefetcht1): the copy
       reads them after the tile's other blocks. */
    if (pf) __builtin_prefetch(pf + (k % 16) * ldpf + k / 16 * 16, 0, 2);
    const tk_vf xv = tk_vf_load(xp + k * TK_VF_WIDTH);
    for (size_t i = 0; i < mr; i++)
      acc[i] = tk_vf_fmadd(tk_vf_set1(w[i * ldw + k]), xv, acc[i]);
  }
  float t[TK_LF_PMR][TK_VF_WIDTH];
  for (size_t i = 0; i < mr; i++) tk_vf_store(t[i], acc[i]);
  for (size_t l = 0; l < TK_VF_WIDTH; l++)
    for (size_t i = 0; i < mr; i++) {
      /* y and bias through memcpy: caller arrays may be at any address. */
      float base = 0.0f, s;
      float *yo = y + l * ldy + i;
      if (!first)
        memcpy(&base, yo, sizeof base);
      else if (bias)
        memcpy(&base, bias + i, sizeof base);
      s = base + t[i][l];
      memcpy(yo, &s, sizeof s);
    }
}

/* n floats from w to wt by vectors (GCC made a memcpy of a variable size
   `rep movsq`). */
TK_QL_INLINE void TK_FN(lf_copy)(float *wt, const float *w, size_t n) {
  size_t k = 0;
  for (; k + TK_VF_WIDTH <= n; k += TK_VF_WIDTH) tk_vf_store(wt + k, tk_vf_load(w + k));
  memcpy(wt + k, w + k, (n - k) * sizeof(float));
}

/* Batch rows [0, batch), batch a multiple of TK_VF_WIDTH. */
static void TK_FN(lf_packed)(const float *w, size_t out, size_t in, const float *bias,
                             const float *x, size_t batch, float *y) {
  float xp[TK_LF_PNB * TK_LF_PKC * TK_VF_WIDTH], wt[TK_LF_PMR * TK_LF_PLDW];
  for (size_t k0 = 0; k0 < in; k0 += TK_LF_PKC) {
    const size_t kc = TK_FN(ql_min)(TK_LF_PKC, in - k0);
    const bool first = k0 == 0;
    for (size_t b0 = 0; b0 < batch; b0 += TK_LF_PNB * TK_VF_WIDTH) {
      const size_t nb = TK_FN(ql_min)(TK_LF_PNB, (batch - b0) / TK_VF_WIDTH);
      for (size_t blk = 0; blk < nb; blk++)
        for (size_t l = 0; l < TK_VF_WIDTH; l++) {
          const float *xr = x + (b0 + blk * TK_VF_WIDTH + l) * in + k0;
          float *p = xp + blk * kc * TK_VF_WIDTH + l;
          for (size_t k = 0; k < kc; k++) p[k * TK_VF_WIDTH] = tk_ld_f32(xr + k);
        }
      size_t o = 0;
      for (; o + TK_LF_PMR <= out; o += TK_LF_PMR) {
        for (size_t i = 0; i < TK_LF_PMR; i++)
          TK_FN(lf_copy)(wt + i * TK_LF_PLDW, w + (o + i) * in + k0, kc);
        /* The first block's microkernel prefetches the next tile's rows. */
        const float *next = o + 2 * TK_LF_PMR <= out ? w + (o + TK_LF_PMR) * in + k0 : NULL;
        for (size_t blk = 0; blk < nb; blk++)
          TK_FN(lf_ptile)(xp + blk * kc * TK_VF_WIDTH, wt, TK_LF_PLDW, kc, TK_LF_PMR, first,
                          bias ? bias + o : NULL, y + (b0 + blk * TK_VF_WIDTH) * out + o, out,
                          blk == 0 ? next : NULL, in);
      }
      for (; o < out; o++) {
        TK_FN(lf_copy)(wt, w + o * in + k0, kc);
        for (size_t blk = 0; blk < nb; blk++)
          TK_FN(lf_ptile)(xp + blk * kc * TK_VF_WIDTH, wt, TK_LF_PLDW, kc, 1, first,
                          bias ? bias + o : NULL, y + (b0 + blk * TK_VF_WIDTH) * out + o, out,
                          NULL, in);
      }
    }
  }
}
#endif

void TK_FN(linear_f32)(const float *w, size_t out, size_t in, const float *bias, const float *x,
                       size_t batch, float *y) {
  size_t done = 0;
#ifdef TK_LF_PMR
  /* Whole blocks of TK_VF_WIDTH batch rows in the broadcast form, the rest
     (and a GEMV) as dot products. */
  done = batch - batch % TK_VF_WIDTH;
  if (done) TK_FN(lf_packed)(w, out, in, bias, x, done, y);
#endif
  if (batch > done) TK_FN(lf_dot)(w, out, in, bias, x + done * in, batch - done, y + done * out);
}
#endif
