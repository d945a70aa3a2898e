/* qlinear public functions: argument checks, weight quantization and packing, activation quantization, then the kernels. */
#include <stdlib.h>
#include <string.h>

#include "int8/int8_kernels.h"
#include "qlinear/qlinear_kernels.h"
#include "size.h"

struct tk_qlinear {
  size_t out, in;
  size_t kp;           /* in rounded up to a multiple of TK_QL_KGROUP */
  size_t packed_bytes; /* TK_QL_TILES(out) * TK_QL_TILE_BYTES(kp), rounded up to the alignment */
  void *tiles;         /* layout: qlinear_kernels.h */
};

/* Packed tiles start on a cache line, so every 32-byte k-group does too. */
#define TK_QL_ALIGN 64

tk_status tk_qlinear_create(const float *w, size_t out_features, size_t in_features,
                            const float *bias, tk_qlinear **out) {
  if (!out || !w || out_features == 0 || in_features == 0) return TK_ERR_ARG;
  if (in_features > TK_QLINEAR_MAX_IN) return TK_ERR_OVERFLOW;
  const size_t kp = (in_features + TK_QL_KGROUP - 1) / TK_QL_KGROUP * TK_QL_KGROUP;
  const size_t n_tiles = TK_QL_TILES(out_features);
  size_t n_w, packed;
  if (tk_mul_overflows(out_features, in_features, &n_w) ||
      tk_mul_overflows(n_tiles, TK_QL_TILE_BYTES(kp), &packed) ||
      tk_add_overflows(packed, TK_QL_ALIGN - 1, &packed))
    return TK_ERR_OVERFLOW;
  packed -= packed % TK_QL_ALIGN; /* aligned_alloc wants a multiple of the alignment */
  if (bias) {
    bool finite = true;
    tk_active()->absmax_f32(bias, out_features, &finite);
    if (!finite) return TK_ERR_ARG;
  }

  tk_qlinear *l = malloc(sizeof *l);
  unsigned char *tiles = aligned_alloc(TK_QL_ALIGN, packed);
  int8_t *row = malloc(in_features);
  if (!l || !tiles || !row) {
    free(l);
    free(tiles);
    free(row);
    return TK_ERR_NOMEM;
  }
  /* Zero padding: k past in_features, and the rows (scale, bias, weights) past
     out_features in the last tile. */
  memset(tiles, 0, packed);
  for (size_t o = 0; o < out_features; o++) {
    float scale;
    /* The tk_quantize_s8 rule per row: scale = max|row| / 127, q = rne(w / scale). */
    tk_status st = tk_quantize_s8(w + o * in_features, in_features, row, &scale);
    if (st != TK_OK) {
      free(l);
      free(tiles);
      free(row);
      return st;
    }
    unsigned char *tile = tiles + o / TK_QL_ROWS * TK_QL_TILE_BYTES(kp);
    const size_t r = o % TK_QL_ROWS;
    int32_t wsum = 0;
    for (size_t k = 0; k < in_features; k++) wsum += row[k];
    const float head[2] = {scale, bias ? bias[o] : 0.0f};
    memcpy(tile + r * sizeof(float), &head[0], sizeof(float));
    memcpy(tile + (TK_QL_ROWS + r) * sizeof(float), &head[1], sizeof(float));
    memcpy(tile + (2 * TK_QL_ROWS + r) * sizeof(float), &wsum, sizeof wsum);
    int8_t *q = (int8_t *)(tile + TK_QL_HEADER_BYTES);
    for (size_t k = 0; k < in_features; k++)
      q[k / TK_QL_KGROUP * TK_QL_GROUP_BYTES + r * TK_QL_KGROUP + k % TK_QL_KGROUP] = row[k];
  }
  free(row);
  l->out = out_features;
  l->in = in_features;
  l->kp = kp;
  l->packed_bytes = packed;
  l->tiles = tiles;
  *out = l;
  return TK_OK;
}

tk_status tk_qlinear_forward_with(const tk_kernels *k, const tk_qlinear *l, const float *x,
                                  size_t batch, float *y) {
  if (!l || (batch && (!x || !y))) return TK_ERR_ARG;
  /* Scratch, one allocation: the quantized rows xq [batch][kp], their scales,
     and the kernel's work buffer (a batch block of activations as tk_qx). */
  size_t n_x, n_y, xq_bytes, scale_bytes, work_bytes, total;
  const size_t block = tk_ql_batch_block(l->kp);
  if (tk_mul_overflows(batch, l->in, &n_x) || tk_mul_overflows(batch, l->out, &n_y) ||
      tk_mul_overflows(batch, l->kp, &xq_bytes) || tk_mul_overflows(batch, sizeof(float), &scale_bytes) ||
      tk_add_overflows(xq_bytes, sizeof(float) - 1, &xq_bytes))
    return TK_ERR_OVERFLOW;
  if (batch == 0) return TK_OK;
  xq_bytes -= xq_bytes % sizeof(float); /* the scales after it stay aligned */
  work_bytes = (batch < block ? batch : block) * l->kp * TK_QL_X_BYTES;
  if (tk_add_overflows(xq_bytes, scale_bytes, &total) || tk_add_overflows(total, work_bytes, &total))
    return TK_ERR_OVERFLOW;
  unsigned char *scratch = malloc(total);
  if (!scratch) return TK_ERR_NOMEM;
  int8_t *xq = (int8_t *)scratch;
  float *xscale = (float *)(void *)(scratch + xq_bytes);
  void *work = scratch + xq_bytes + scale_bytes;

  /* All rows are quantized (and so checked) before y is touched. */
  for (size_t b = 0; b < batch; b++) {
    tk_status st = tk_quantize_s8_with(k, x + b * l->in, l->in, xq + b * l->kp, &xscale[b]);
    if (st != TK_OK) {
      free(scratch);
      return st;
    }
    memset(xq + b * l->kp + l->in, 0, l->kp - l->in);
  }
  k->qlinear_s8(l->tiles, l->out, l->kp, xq, xscale, batch, y, work);
  free(scratch);
  return TK_OK;
}

tk_status tk_qlinear_forward(const tk_qlinear *l, const float *x, size_t batch, float *y) {
  return tk_qlinear_forward_with(tk_active(), l, x, batch, y);
}

size_t tk_qlinear_bytes(const tk_qlinear *l) { return l ? sizeof *l + l->packed_bytes : 0; }

void tk_qlinear_destroy(tk_qlinear *l) {
  if (!l) return;
  free(l->tiles);
  free(l);
}

tk_status tk_linear_f32_with(const tk_kernels *k, const float *w, size_t out_features,
                             size_t in_features, const float *bias, const float *x, size_t batch,
                             float *y) {
  if (!w || out_features == 0 || in_features == 0 || (batch && (!x || !y))) return TK_ERR_ARG;
  size_t n;
  if (tk_mul_overflows(out_features, in_features, &n) || tk_mul_overflows(batch, in_features, &n) ||
      tk_mul_overflows(batch, out_features, &n))
    return TK_ERR_OVERFLOW;
  if (batch) k->linear_f32(w, out_features, in_features, bias, x, batch, y);
  return TK_OK;
}

tk_status tk_linear_f32(const float *w, size_t out_features, size_t in_features,
                        const float *bias, const float *x, size_t batch, float *y) {
  return tk_linear_f32_with(tk_active(), w, out_features, in_features, bias, x, batch, y);
}
