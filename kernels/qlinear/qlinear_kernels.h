/* The qlinear family's packed weight layout and the declarations of its kernels for every ISA. */
#ifndef TK_QLINEAR_KERNELS_H
#define TK_QLINEAR_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dispatch/isa_list.h"
#include "dispatch/kernels.h"

/* Packed int8 weights (ISA-independent, so a layer created under one ISA runs
   under any other). W [out][in] is cut into tiles of TK_QL_ROWS = 8 output rows;
   in is padded with zeros to kp, a multiple of TK_QL_KGROUP = 4. One tile:

     float   scale[8]    per-row weight scale (0 for the padding rows of the last tile)
     float   bias[8]     per-row bias (0 when the layer has none, and for padding rows)
     int32_t wsum[8]     per-row sum of the int8 weights (|wsum| <= 127 * kp): the
                         u8 x s8 products of VNNI (vpdpbusd) see x + 128, and
                         subtracting 128 * wsum makes their sum exact again
     int8    q[kp / 4][8][4]   k-group g, row r: q[g][r][j] = Wq[row0 + r][4 g + j]

   so each k-group is 32 contiguous bytes: 4 consecutive k of all 8 rows. That is
   one AVX2 load (two vpmovsxbw halves of 4 rows), one ymm vpdpbusd operand (8
   rows, the same 4 activations broadcast), two NEON SDOT operands of 4 rows
   each, or four SSE pmovsxbw quarters. Tiles follow each other, each
   TK_QL_TILE_BYTES(kp) bytes (a multiple of 32, so every k-group stays as
   aligned as the first), and their number is even (TK_QL_TILES(out)): a zmm
   kernel takes tiles two at a time (16 rows) and the last pair is whole; a
   padding tile is all zeros. */
#define TK_QL_ROWS 8
#define TK_QL_KGROUP 4
#define TK_QL_GROUP_BYTES (TK_QL_ROWS * TK_QL_KGROUP)
#define TK_QL_HEADER_BYTES (3 * TK_QL_ROWS * sizeof(float))
#define TK_QL_TILE_BYTES(kp) (TK_QL_HEADER_BYTES + TK_QL_ROWS * (size_t)(kp))
/* Tiles stored for `out` rows: whole tiles, rounded up to an even number (no overflow for any size_t). */
#define TK_QL_TILES(out) (((out) / (2 * TK_QL_ROWS) + ((out) % (2 * TK_QL_ROWS) != 0)) * 2)
/* Where a tile's parts start. */
#define TK_QL_SCALE(tile) ((const float *)(const void *)(tile))
#define TK_QL_BIAS(tile) (TK_QL_SCALE(tile) + TK_QL_ROWS)
#define TK_QL_WSUM(tile) ((const int32_t *)(const void *)((const unsigned char *)(tile) + 2 * TK_QL_ROWS * sizeof(float)))
#define TK_QL_Q(tile) ((const int8_t *)(const void *)((const unsigned char *)(tile) + TK_QL_HEADER_BYTES))

/* Largest element the kernels' private activation copy uses (int16 on x86,
   int8 elsewhere): the front sizes the work buffer with it. */
#define TK_QL_X_BYTES 2

/* Batch rows whose (widened) activations the GEMM keeps hot while it sweeps all
   tiles: at most 64, and at most about 128 KiB of them so they stay in L2. */
static inline size_t tk_ql_batch_block(size_t kp) {
  size_t rows = (size_t)(128 * 1024) / (kp * TK_QL_X_BYTES);
  return rows < 1 ? 1 : rows > 64 ? 64 : rows;
}

/* Declares tk_qlinear_s8_<isa> and tk_linear_f32_<isa>; signatures as in the
   tk_kernels table. */
#define TK_QLINEAR_DECLARE(ID, isa, ...)                                                          \
  void TK_KERNEL_NAME(qlinear_s8, isa)(const void *tiles, size_t out, size_t kp, const int8_t *xq,   \
                           const float *xscale, size_t batch, float *y, void *work);     \
  void TK_KERNEL_NAME(linear_f32, isa)(const float *w, size_t out, size_t in, const float *bias,      \
                           const float *x, size_t batch, float *y);

TK_ISA_LIST(TK_QLINEAR_DECLARE)

/* The public forward functions with an explicit kernel table instead of the
   active one: the tests run every variant (native or emulated) through them. */
tk_status tk_qlinear_forward_with(const tk_kernels *k, const tk_qlinear *l, const float *x,
                                  size_t batch, float *y);
tk_status tk_qlinear_forward_ex_with(const tk_kernels *k, const tk_exec *e, const tk_qlinear *l,
                                     const float *x, size_t batch, float *y);
tk_status tk_linear_f32_ex_with(const tk_kernels *k, const tk_exec *e, const float *w,
                                size_t out_features, size_t in_features, const float *bias,
                                const float *x, size_t batch, float *y);
tk_status tk_linear_f32_with(const tk_kernels *k, const float *w, size_t out_features,
                             size_t in_features, const float *bias, const float *x,
                             size_t batch, float *y);

#endif
