/* Sparse kernels written once for every ISA: SpMV and SpMM over the tk_csr format, the innermost step from simd/<isa>.h. */

/* The including file has included one vector header (simd/<isa>.h) and
   sparse_kernels.h. The format (split rows and 4-row blocks, 16- or 32-bit
   column indices) is described next to struct tk_csr. Each kernel is written
   once with the index width as a constant argument of always-inlined helpers,
   so the compiler makes one specialised copy per width.

   x, y, B and C are the caller's and may sit at any address (API.md): vectors
   of them go through tk_vf_load / tk_vf_store (unaligned) and the gathers,
   single elements through tk_ld_f32 / tk_st_f32 (unaligned.h). The matrix's
   own arrays come from malloc and are indexed directly. */

#include <math.h>

#include "unaligned.h"

#define TK_W TK_VF_WIDTH

/* Blocked groups: TK_VF_WIDTH divides 4 or 4 divides it (1, 4, 8 or 16), so a step
   of TK_BLK_STEP flat values (4 per column) is TK_BLK_NV whole vectors and
   TK_BLK_STEP / 4 whole columns. */
#define TK_BLK_STEP (TK_W > 4 ? TK_W : 4)
#define TK_BLK_NV (TK_BLK_STEP / TK_W)

TK_ALWAYS_INLINE size_t TK_FN(col)(const void *idx, size_t j, bool wide) {
  return wide ? ((const uint32_t *)idx)[j] : ((const uint16_t *)idx)[j];
}

/* Address of index j of an index array. */
TK_ALWAYS_INLINE const void *TK_FN(idx_at)(const void *idx, size_t j, bool wide) {
  return wide ? (const void *)((const uint32_t *)idx + j) : (const void *)((const uint16_t *)idx + j);
}

TK_ALWAYS_INLINE tk_vf TK_FN(gather)(const float *x, const void *idx, size_t j, bool wide) {
  return wide ? tk_vf_gather_u32(x, (const uint32_t *)idx + j)
              : tk_vf_gather_u16(x, (const uint16_t *)idx + j);
}

TK_ALWAYS_INLINE tk_vf TK_FN(gather_by4)(const float *x, const void *idx, size_t j, bool wide) {
  return wide ? tk_vf_gather_by4_u32(x, (const uint32_t *)idx + j)
              : tk_vf_gather_by4_u16(x, (const uint16_t *)idx + j);
}

/* ---- SpMV ---- */

/* One split row: four accumulators hide the latency of the gather and of the
   multiply-add chain; whole vectors first, then the last < TK_W entries in
   four independent sums (one running sum chains up to 15 dependent
   multiply-adds at 16 lanes: avx512 SpMV 4096x4096 at 98% took 0.107-0.118
   ms with it, 0.100-0.110 with four; Zen 4, busy VM). */
TK_ALWAYS_INLINE float TK_FN(spmv_row)(const float *v, const void *idx, size_t len,
                                       const float *x, bool wide) {
  tk_vf acc0 = tk_vf_zero(), acc1 = tk_vf_zero(), acc2 = tk_vf_zero(), acc3 = tk_vf_zero();
  size_t j = 0;
  for (; j + 4 * TK_W <= len; j += 4 * TK_W) {
    acc0 = tk_vf_fmadd(tk_vf_load(v + j), TK_FN(gather)(x, idx, j, wide), acc0);
    acc1 = tk_vf_fmadd(tk_vf_load(v + j + TK_W), TK_FN(gather)(x, idx, j + TK_W, wide), acc1);
    acc2 = tk_vf_fmadd(tk_vf_load(v + j + 2 * TK_W), TK_FN(gather)(x, idx, j + 2 * TK_W, wide),
                       acc2);
    acc3 = tk_vf_fmadd(tk_vf_load(v + j + 3 * TK_W), TK_FN(gather)(x, idx, j + 3 * TK_W, wide),
                       acc3);
  }
  for (; j + TK_W <= len; j += TK_W)
    acc0 = tk_vf_fmadd(tk_vf_load(v + j), TK_FN(gather)(x, idx, j, wide), acc0);
  float s = tk_vf_hsum(tk_vf_add(tk_vf_add(acc0, acc1), tk_vf_add(acc2, acc3)));
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  for (; j + 4 <= len; j += 4) {
    s0 += v[j] * tk_ld_f32(x + TK_FN(col)(idx, j, wide));
    s1 += v[j + 1] * tk_ld_f32(x + TK_FN(col)(idx, j + 1, wide));
    s2 += v[j + 2] * tk_ld_f32(x + TK_FN(col)(idx, j + 2, wide));
    s3 += v[j + 3] * tk_ld_f32(x + TK_FN(col)(idx, j + 3, wide));
  }
  for (; j < len; j++) s0 += v[j] * tk_ld_f32(x + TK_FN(col)(idx, j, wide));
  return s + ((s0 + s1) + (s2 + s3));
}

/* One blocked group of 4 rows over u shared columns: flat value p = 4 j + r
   multiplies x[col j]; lane p of a step is accumulated into acc[.][p / TK_W]
   and belongs to row p % 4. Two sets of accumulators hide the chain latency. */
TK_ALWAYS_INLINE void TK_FN(spmv_block)(const float *v, const void *idx, size_t u,
                                        const float *x, bool wide, float y[4]) {
  enum { COLS = TK_BLK_STEP / 4 }; /* columns per step */
  tk_vf acc0[TK_BLK_NV], acc1[TK_BLK_NV];
  for (int k = 0; k < TK_BLK_NV; k++) acc0[k] = acc1[k] = tk_vf_zero();
  size_t j = 0;
  for (; j + 2 * COLS <= u; j += 2 * COLS) {
    for (int k = 0; k < TK_BLK_NV; k++) {
      size_t p = 4 * j + (size_t)k * TK_W;
      acc0[k] = tk_vf_fmadd(tk_vf_load(v + p), TK_FN(gather_by4)(x, idx, p / 4, wide), acc0[k]);
      acc1[k] = tk_vf_fmadd(tk_vf_load(v + p + TK_BLK_STEP),
                            TK_FN(gather_by4)(x, idx, p / 4 + COLS, wide), acc1[k]);
    }
  }
  for (; j + COLS <= u; j += COLS) {
    for (int k = 0; k < TK_BLK_NV; k++) {
      size_t p = 4 * j + (size_t)k * TK_W;
      acc0[k] = tk_vf_fmadd(tk_vf_load(v + p), TK_FN(gather_by4)(x, idx, p / 4, wide), acc0[k]);
    }
  }
  float lanes[TK_BLK_STEP];
  for (int k = 0; k < TK_BLK_NV; k++) tk_vf_store(lanes + k * TK_W, tk_vf_add(acc0[k], acc1[k]));
  for (int r = 0; r < 4; r++) {
    float s = 0.0f;
    for (int p = r; p < TK_BLK_STEP; p += 4) s += lanes[p];
    y[r] = s;
  }
  for (; j < u; j++) {
    float xj = tk_ld_f32(x + TK_FN(col)(idx, j, wide));
    for (int r = 0; r < 4; r++) y[r] += v[4 * j + (size_t)r] * xj;
  }
}

/* Row r of a blocked group times column i of B ([cols][n]; x for SpMV, n = 1)
   over the entries the row has: the stored zeros of the columns it lacks are
   skipped (a blocked group has no explicit zeros, see tk_csr_group), so an
   Inf or NaN of B there does not reach it. The slow path of the fix-ups
   below, taken only for results that came out NaN. */
static float TK_FN(block_row_exact)(const float *v, const void *idx, size_t u, int r,
                                    const float *b, size_t n, size_t i, bool wide) {
  float s = 0.0f;
  for (size_t j = 0; j < u; j++) {
    float w = v[4 * j + (size_t)r];
    if (w != 0.0f) s += w * tk_ld_f32(b + TK_FN(col)(idx, j, wide) * n + i);
  }
  return s;
}

/* After a blocked group's 4 x n results c (row stride n) were written: each
   NaN among them may be 0 * Inf or 0 * NaN from a column its row lacks (a
   NaN stays NaN through every later add, so nothing else can hide one); it is
   recomputed from the row's own entries, which gives NaN again only when the
   row's own products do. */
static void TK_FN(block_fix_nan)(const float *v, const void *idx, size_t u, const float *b,
                                 size_t n, float *c, bool wide) {
  for (int r = 0; r < 4; r++) {
    for (size_t i = 0; i < n; i++) {
      float *ci = c + (size_t)r * n + i;
      if (isnan(tk_ld_f32(ci))) tk_st_f32(ci, TK_FN(block_row_exact)(v, idx, u, r, b, n, i, wide));
    }
  }
}

TK_ALWAYS_INLINE void TK_FN(spmv_all)(const struct tk_csr *a, const float *x, float *y,
                                      bool wide) {
  for (size_t g = 0; g < a->n_groups; g++) {
    const tk_csr_group *gr = &a->groups[g];
    const float *v = a->val + gr->val_off;
    const void *idx = TK_FN(idx_at)(a->idx, gr->idx_off, wide);
    float *yg = y + g * TK_CSR_GROUP;
    if (gr->blocked) {
      /* The NaN check costs 4 adds per group of 4 rows x u columns: +0.5%
         instructions for an unpruned 256x512 (valgrind, avx2), time level
         within the noise (SpMV 512x1024 unpruned, avx2 0.0456 vs 0.0447 ms). */
      float y4[4];
      TK_FN(spmv_block)(v, idx, gr->len[0], x, wide, y4);
      for (int r = 0; r < 4; r++) tk_st_f32(yg + r, y4[r]);
      if (isnan(y4[0] + y4[1] + y4[2] + y4[3]))
        TK_FN(block_fix_nan)(v, idx, gr->len[0], x, 1, yg, wide);
      continue;
    }
    size_t nr = a->rows - g * TK_CSR_GROUP;
    if (nr > TK_CSR_GROUP) nr = TK_CSR_GROUP;
    size_t off = 0;
    for (size_t r = 0; r < nr; r++) {
      float yr = TK_FN(spmv_row)(v + off, TK_FN(idx_at)(idx, off, wide), gr->len[r], x, wide);
      tk_st_f32(yg + r, yr);
      off += gr->len[r];
    }
  }
}

/* Not defined where meson routes this ISA's SpMV to another ISA's (table.c). */
#ifndef TK_ROUTE_spmv
void TK_FN(spmv)(const struct tk_csr *a, const float *x, float *y) {
  if (a->wide)
    TK_FN(spmv_all)(a, x, y, true);
  else
    TK_FN(spmv_all)(a, x, y, false);
}
#endif

/* ---- SpMM ---- */

/* One split row of C: C[row][i ...] += v * B[col][i ...] for each entry,
   TK_SPMM_ACC vectors of the C row held in registers per pass over the
   entries (one broadcast weight feeds them all; B's row is contiguous, no
   gather). Then single vectors, then the last < TK_W columns one by one. */
TK_ALWAYS_INLINE void TK_FN(spmm_row)(const float *v, const void *idx, size_t len,
                                      const float *b, size_t n, float *c, bool wide) {
  size_t i = 0;
  for (; i + TK_SPMM_ACC * TK_W <= n; i += TK_SPMM_ACC * TK_W) {
    tk_vf acc[TK_SPMM_ACC];
    for (int k = 0; k < TK_SPMM_ACC; k++) acc[k] = tk_vf_zero();
    for (size_t j = 0; j < len; j++) {
      tk_vf w = tk_vf_set1(v[j]);
      const float *br = b + TK_FN(col)(idx, j, wide) * n + i;
      for (int k = 0; k < TK_SPMM_ACC; k++)
        acc[k] = tk_vf_fmadd(w, tk_vf_load(br + k * TK_W), acc[k]);
    }
    for (int k = 0; k < TK_SPMM_ACC; k++) tk_vf_store(c + i + k * TK_W, acc[k]);
  }
  for (; i + TK_W <= n; i += TK_W) {
    tk_vf acc = tk_vf_zero();
    for (size_t j = 0; j < len; j++)
      acc = tk_vf_fmadd(tk_vf_set1(v[j]), tk_vf_load(b + TK_FN(col)(idx, j, wide) * n + i), acc);
    tk_vf_store(c + i, acc);
  }
  if (i < n) {
    size_t t = n - i; /* < TK_W */
    float acc[TK_W] = {0};
    for (size_t j = 0; j < len; j++) {
      const float *br = b + TK_FN(col)(idx, j, wide) * n + i;
      for (size_t k = 0; k < t; k++) acc[k] += v[j] * tk_ld_f32(br + k);
    }
    for (size_t k = 0; k < t; k++) tk_st_f32(c + i + k, acc[k]);
  }
}

/* One blocked group: 4 rows of C over u shared columns; each load of B's row
   feeds 4 rows (4 broadcast weights), TK_SPMM_BLOCK_ACC / 4 vectors per row per pass.
   Returns whether some result may be NaN: each pass's results are summed
   (a NaN lane makes the sum NaN; opposite infinities can make a false alarm,
   which costs only the scan), a few adds per pass over the group's columns
   instead of a pass over C; the flag lives in an integer register, so the
   vector registers stay the accumulators'. Cost, an unpruned 256x512 matrix
   (all blocked), n = 64: +0.1-0.2% instructions (valgrind; a running check
   vector instead made sse41 spill, +2.8%); SpMM 1024x1024 unpruned in
   bench_sparse, medians of 5, 3 alternating runs: avx2 1.39-1.51 ms against
   1.49-1.69 before, sse41 4.41-4.67 against 4.66-4.82 (no slower within the
   noise of a busy VM). */
TK_ALWAYS_INLINE bool TK_FN(spmm_block)(const float *v, const void *idx, size_t u,
                                        const float *b, size_t n, float *c, bool wide) {
  enum { K = TK_SPMM_BLOCK_ACC / 4 };
  bool maybe_nan = false;
  size_t i = 0;
  for (; i + K * TK_W <= n; i += K * TK_W) {
    tk_vf acc[4][K];
    for (int r = 0; r < 4; r++)
      for (int k = 0; k < K; k++) acc[r][k] = tk_vf_zero();
    for (size_t j = 0; j < u; j++) {
      const float *br = b + TK_FN(col)(idx, j, wide) * n + i;
      tk_vf bv[K];
      for (int k = 0; k < K; k++) bv[k] = tk_vf_load(br + k * TK_W);
      for (int r = 0; r < 4; r++) {
        tk_vf w = tk_vf_set1(v[4 * j + (size_t)r]);
        for (int k = 0; k < K; k++) acc[r][k] = tk_vf_fmadd(w, bv[k], acc[r][k]);
      }
    }
    tk_vf sum = tk_vf_zero();
    for (int r = 0; r < 4; r++) {
      for (int k = 0; k < K; k++) {
        tk_vf_store(c + (size_t)r * n + i + k * TK_W, acc[r][k]);
        sum = tk_vf_add(sum, acc[r][k]);
      }
    }
    maybe_nan |= isnan(tk_vf_hsum(sum));
  }
  for (; i + TK_W <= n; i += TK_W) {
    tk_vf acc[4] = {tk_vf_zero(), tk_vf_zero(), tk_vf_zero(), tk_vf_zero()};
    for (size_t j = 0; j < u; j++) {
      tk_vf bv = tk_vf_load(b + TK_FN(col)(idx, j, wide) * n + i);
      for (int r = 0; r < 4; r++) acc[r] = tk_vf_fmadd(tk_vf_set1(v[4 * j + (size_t)r]), bv, acc[r]);
    }
    for (int r = 0; r < 4; r++) tk_vf_store(c + (size_t)r * n + i, acc[r]);
    maybe_nan |= isnan(tk_vf_hsum(tk_vf_add(tk_vf_add(acc[0], acc[1]), tk_vf_add(acc[2], acc[3]))));
  }
  if (i < n) {
    size_t t = n - i; /* < TK_W */
    float acc[4][TK_W] = {{0}};
    for (size_t j = 0; j < u; j++) {
      const float *br = b + TK_FN(col)(idx, j, wide) * n + i;
      for (int r = 0; r < 4; r++)
        for (size_t k = 0; k < t; k++) acc[r][k] += v[4 * j + (size_t)r] * tk_ld_f32(br + k);
    }
    float sum = 0.0f;
    for (int r = 0; r < 4; r++) {
      for (size_t k = 0; k < t; k++) {
        tk_st_f32(c + (size_t)r * n + i + k, acc[r][k]);
        sum += acc[r][k];
      }
    }
    maybe_nan |= isnan(sum);
  }
  return maybe_nan;
}

TK_ALWAYS_INLINE void TK_FN(spmm_all)(const struct tk_csr *a, const float *b, size_t n,
                                      float *c, bool wide) {
  for (size_t g = 0; g < a->n_groups; g++) {
    const tk_csr_group *gr = &a->groups[g];
    const float *v = a->val + gr->val_off;
    const void *idx = TK_FN(idx_at)(a->idx, gr->idx_off, wide);
    float *cg = c + g * TK_CSR_GROUP * n;
    if (gr->blocked) {
      if (TK_FN(spmm_block)(v, idx, gr->len[0], b, n, cg, wide))
        TK_FN(block_fix_nan)(v, idx, gr->len[0], b, n, cg, wide);
      continue;
    }
    size_t nr = a->rows - g * TK_CSR_GROUP;
    if (nr > TK_CSR_GROUP) nr = TK_CSR_GROUP;
    size_t off = 0;
    for (size_t r = 0; r < nr; r++) {
      TK_FN(spmm_row)(v + off, TK_FN(idx_at)(idx, off, wide), gr->len[r], b, n, cg + r * n, wide);
      off += gr->len[r];
    }
  }
}

void TK_FN(spmm)(const struct tk_csr *a, const float *b, size_t n, float *c) {
  if (a->wide)
    TK_FN(spmm_all)(a, b, n, c, true);
  else
    TK_FN(spmm_all)(a, b, n, c, false);
}

#undef TK_W
#undef TK_BLK_STEP
#undef TK_BLK_NV
