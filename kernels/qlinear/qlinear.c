/* qlinear public functions: argument checks, weight quantization and packing (from fp32, row blocks or int8), activation quantization, the kernels in parts. */
#include <stdlib.h>
#include <string.h>

#include "exec.h"
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

/* A layer of out x in with zeroed tiles (the zeros are the padding: k past
   in, rows past out, the even tile count), or an error. */
static tk_status layer_alloc(size_t out_features, size_t in_features, tk_qlinear **out) {
  if (!out || out_features == 0 || in_features == 0) return TK_ERR_ARG;
  if (in_features > TK_QLINEAR_MAX_IN) return TK_ERR_OVERFLOW;
  const size_t kp = (in_features + TK_QL_KGROUP - 1) / TK_QL_KGROUP * TK_QL_KGROUP;
  size_t packed;
  if (tk_mul_overflows(TK_QL_TILES(out_features), TK_QL_TILE_BYTES(kp), &packed) ||
      tk_add_overflows(packed, TK_QL_ALIGN - 1, &packed))
    return TK_ERR_OVERFLOW;
  packed -= packed % TK_QL_ALIGN; /* aligned_alloc wants a multiple of the alignment */
  tk_qlinear *l = malloc(sizeof *l);
  void *tiles = aligned_alloc(TK_QL_ALIGN, packed);
  if (!l || !tiles) {
    free(l);
    free(tiles);
    return TK_ERR_NOMEM;
  }
  memset(tiles, 0, packed);
  *l = (tk_qlinear){.out = out_features, .in = in_features, .kp = kp, .packed_bytes = packed,
                    .tiles = tiles};
  *out = l;
  return TK_OK;
}

/* Row o of the layer: its int8 weights q[in], scale and bias into the tile
   header and the k-groups (4 bytes per group: one 4-byte copy each). */
static void pack_row(tk_qlinear *l, size_t o, const int8_t *q, float scale, float bias) {
  unsigned char *tile = (unsigned char *)l->tiles + o / TK_QL_ROWS * TK_QL_TILE_BYTES(l->kp);
  const size_t r = o % TK_QL_ROWS, in = l->in;
  int32_t wsum = 0;
  for (size_t k = 0; k < in; k++) wsum += q[k];
  memcpy(tile + r * sizeof(float), &scale, sizeof(float));
  memcpy(tile + (TK_QL_ROWS + r) * sizeof(float), &bias, sizeof(float));
  memcpy(tile + (2 * TK_QL_ROWS + r) * sizeof(float), &wsum, sizeof wsum);
  unsigned char *g = tile + TK_QL_HEADER_BYTES + r * TK_QL_KGROUP;
  size_t k = 0;
  for (; k + TK_QL_KGROUP <= in; k += TK_QL_KGROUP, g += TK_QL_GROUP_BYTES)
    memcpy(g, q + k, TK_QL_KGROUP);
  if (k < in) memcpy(g, q + k, in - k); /* the rest of the group stays zero */
}

/* Rows [o0, o0 + rows) from fp32 weights: the tk_quantize_s8 rule per row. */
static tk_status pack_f32_rows(tk_qlinear *l, size_t o0, const float *w, size_t rows,
                               const float *bias, int8_t *row) {
  const tk_kernels *k = tk_active();
  for (size_t i = 0; i < rows; i++) {
    float scale;
    tk_status st = tk_quantize_s8_with(k, w + i * l->in, l->in, row, &scale);
    if (st != TK_OK) return st;
    float b = 0.0f;
    if (bias) memcpy(&b, bias + i, sizeof b); /* caller arrays at any address */
    pack_row(l, o0 + i, row, scale, b);
  }
  return TK_OK;
}

static bool finite_all(const float *x, size_t n) {
  bool finite = true;
  if (n) tk_active()->absmax_f32(x, n, &finite);
  return finite;
}

tk_status tk_qlinear_create_rows(const tk_qlinear_rows *blocks, size_t n_blocks,
                                 size_t in_features, tk_qlinear **out) {
  if (!out || !blocks || n_blocks == 0) return TK_ERR_ARG;
  size_t total = 0;
  for (size_t b = 0; b < n_blocks; b++) {
    if (!blocks[b].w || blocks[b].rows == 0) return TK_ERR_ARG;
    if (tk_add_overflows(total, blocks[b].rows, &total)) return TK_ERR_OVERFLOW;
    size_t n_w;
    if (tk_mul_overflows(blocks[b].rows, in_features, &n_w)) return TK_ERR_OVERFLOW;
    if (blocks[b].bias && !finite_all(blocks[b].bias, blocks[b].rows)) return TK_ERR_ARG;
  }
  tk_qlinear *l;
  tk_status st = layer_alloc(total, in_features, &l);
  if (st != TK_OK) return st;
  int8_t *row = malloc(in_features);
  if (!row) {
    tk_qlinear_destroy(l);
    return TK_ERR_NOMEM;
  }
  size_t o = 0;
  for (size_t b = 0; b < n_blocks && st == TK_OK; o += blocks[b].rows, b++)
    st = pack_f32_rows(l, o, blocks[b].w, blocks[b].rows, blocks[b].bias, row);
  free(row);
  if (st != TK_OK) {
    tk_qlinear_destroy(l);
    return st;
  }
  *out = l;
  return TK_OK;
}

tk_status tk_qlinear_create(const float *w, size_t out_features, size_t in_features,
                            const float *bias, tk_qlinear **out) {
  const tk_qlinear_rows one = {.w = w, .rows = out_features, .bias = bias};
  if (!w || out_features == 0) return TK_ERR_ARG;
  return tk_qlinear_create_rows(&one, 1, in_features, out);
}

tk_status tk_qlinear_create_s8(const int8_t *wq, const float *scale, size_t out_features,
                               size_t in_features, const float *bias, tk_qlinear **out) {
  if (!out || !wq || !scale || out_features == 0 || in_features == 0) return TK_ERR_ARG;
  size_t n_w;
  if (in_features > TK_QLINEAR_MAX_IN || tk_mul_overflows(out_features, in_features, &n_w))
    return TK_ERR_OVERFLOW;
  /* -128 would break the int32 bound behind TK_QLINEAR_MAX_IN (127 * 127 * in). */
  for (size_t i = 0; i < n_w; i++)
    if (wq[i] == -128) return TK_ERR_ARG;
  for (size_t o = 0; o < out_features; o++) {
    float so;
    memcpy(&so, scale + o, sizeof so); /* caller arrays at any address */
    if (!(so > 0.0f) || !finite_all(&so, 1)) return TK_ERR_ARG;
  }
  if (bias && !finite_all(bias, out_features)) return TK_ERR_ARG;
  tk_qlinear *l;
  tk_status st = layer_alloc(out_features, in_features, &l);
  if (st != TK_OK) return st;
  for (size_t o = 0; o < out_features; o++) {
    float so, b = 0.0f;
    memcpy(&so, scale + o, sizeof so);
    if (bias) memcpy(&b, bias + o, sizeof b);
    pack_row(l, o, wq + o * in_features, so, b);
  }
  *out = l;
  return TK_OK;
}

size_t tk_qlinear_out_features(const tk_qlinear *l) { return l ? l->out : 0; }
size_t tk_qlinear_in_features(const tk_qlinear *l) { return l ? l->in : 0; }

tk_status tk_qlinear_export(const tk_qlinear *l, int8_t *wq, float *scale, float *bias) {
  if (!l || !wq || !scale) return TK_ERR_ARG;
  for (size_t o = 0; o < l->out; o++) {
    const unsigned char *tile =
        (const unsigned char *)l->tiles + o / TK_QL_ROWS * TK_QL_TILE_BYTES(l->kp);
    const size_t r = o % TK_QL_ROWS;
    memcpy(&scale[o], TK_QL_SCALE(tile) + r, sizeof(float));
    if (bias) memcpy(&bias[o], TK_QL_BIAS(tile) + r, sizeof(float));
    const int8_t *q = TK_QL_Q(tile) + r * TK_QL_KGROUP;
    for (size_t k = 0; k < l->in; k += TK_QL_KGROUP) {
      const size_t n = l->in - k < TK_QL_KGROUP ? l->in - k : TK_QL_KGROUP;
      memcpy(wq + o * l->in + k, q + k / TK_QL_KGROUP * TK_QL_GROUP_BYTES, n);
    }
  }
  return TK_OK;
}

/* ---- forward ----
   Scratch: the quantized rows xq [batch][kp] (rounded up to a float), their
   scales [batch], then one kernel work buffer per part (a batch block of
   activations as tk_qx). Parts: with batch >= 2, contiguous ranges of batch
   rows (each streams all tiles: a GEMM shares nothing but the weights); with
   batch 1, ranges of tile pairs (a GEMV splits the weights). Every output is
   the same sum either way, so the result does not depend on the parts. */

typedef struct ql_plan {
  size_t parts, xq_bytes, work_bytes, total;
} ql_plan;

static tk_status ql_plan_for(const tk_qlinear *l, size_t batch, const tk_exec *e, ql_plan *p) {
  size_t n, xq;
  if (tk_mul_overflows(batch, l->in, &n) || tk_mul_overflows(batch, l->out, &n) ||
      tk_mul_overflows(batch, l->kp, &xq) || tk_add_overflows(xq, sizeof(float) - 1, &xq))
    return TK_ERR_OVERFLOW;
  xq -= xq % sizeof(float);
  size_t parts = tk_exec_parts(e);
  const size_t units = batch > 1 ? batch : TK_QL_TILES(l->out) / 2;
  if (parts > units) parts = units;
  if (parts < 1) parts = 1;
  /* A part of batch rows works through blocks of at most tk_ql_batch_block rows. */
  const size_t rows = batch > 1 ? (batch + parts - 1) / parts : 1, block = tk_ql_batch_block(l->kp);
  const size_t work = (rows < block ? rows : block) * l->kp * TK_QL_X_BYTES;
  size_t total, works;
  if (tk_mul_overflows(work, parts, &works) || tk_mul_overflows(batch, sizeof(float), &total) ||
      tk_add_overflows(total, xq, &total) || tk_add_overflows(total, works, &total))
    return TK_ERR_OVERFLOW;
  *p = (ql_plan){.parts = parts, .xq_bytes = xq, .work_bytes = work, .total = total};
  return TK_OK;
}

/* Enough for every batch up to `batch`: the plan grows with the batch from 2
   on (more rows, and more parts up to the thread count), and a batch of 1,
   cut into tile pairs instead, may want more parts than a small batch. */
size_t tk_qlinear_workspace_bytes(const tk_qlinear *l, size_t batch, const tk_exec *e) {
  ql_plan p, one;
  if (!l || !batch || ql_plan_for(l, batch, e, &p) != TK_OK || ql_plan_for(l, 1, e, &one) != TK_OK)
    return 0;
  return p.total > one.total ? p.total : one.total;
}

typedef struct ql_job {
  const tk_kernels *k;
  const tk_qlinear *l;
  const float *x;
  float *y;
  size_t batch;
  int8_t *xq;
  float *xscale;
  unsigned char *work;
  ql_plan plan;
  size_t q_parts;    /* parts of the quantization: ranges of batch rows */
  tk_status *status; /* per quantization part: what its rows gave */
} ql_job;

static void ql_quantize_part(void *ctx, size_t i) {
  const ql_job *j = ctx;
  const size_t kp = j->l->kp, in = j->l->in;
  size_t b0, b1;
  tk_exec_range(j->batch, 1, j->q_parts, i, &b0, &b1);
  j->status[i] = TK_OK;
  for (size_t b = b0; b < b1; b++) {
    tk_status st = tk_quantize_s8_with(j->k, j->x + b * in, in, j->xq + b * kp, &j->xscale[b]);
    if (st != TK_OK) {
      j->status[i] = st;
      return;
    }
    memset(j->xq + b * kp + in, 0, kp - in);
  }
}

static void ql_kernel_part(void *ctx, size_t i) {
  const ql_job *j = ctx;
  const tk_qlinear *l = j->l;
  void *work = j->work + i * j->plan.work_bytes;
  if (j->batch > 1) {
    size_t b0, b1;
    tk_exec_range(j->batch, 1, j->plan.parts, i, &b0, &b1);
    if (b1 > b0)
      j->k->qlinear_s8(l->tiles, l->out, l->kp, j->xq + b0 * l->kp, j->xscale + b0, b1 - b0,
                       j->y + b0 * l->out, work);
  } else {
    /* Rows in whole tile pairs, so a zmm kernel's pairs stay whole. */
    size_t o0, o1;
    tk_exec_range(l->out, 2 * TK_QL_ROWS, j->plan.parts, i, &o0, &o1);
    if (o1 > o0)
      j->k->qlinear_s8((const unsigned char *)l->tiles + o0 / TK_QL_ROWS * TK_QL_TILE_BYTES(l->kp),
                       o1 - o0, l->kp, j->xq, j->xscale, 1, j->y + o0, work);
  }
}

tk_status tk_qlinear_forward_ex_with(const tk_kernels *k, const tk_exec *e, const tk_qlinear *l,
                                     const float *x, size_t batch, float *y) {
  if (!l || (batch && (!x || !y))) return TK_ERR_ARG;
  ql_plan plan;
  tk_status st = ql_plan_for(l, batch, e, &plan);
  if (st != TK_OK || batch == 0) return st;
  unsigned char *scratch;
  st = tk_exec_scratch(e, plan.total, (void **)&scratch);
  if (st != TK_OK) return st;
  tk_status part_status[64];
  tk_status *status = plan.parts <= 64 ? part_status : malloc(plan.parts * sizeof *status);
  if (!status) {
    tk_exec_scratch_end(e, scratch);
    return TK_ERR_NOMEM;
  }
  ql_job j = {.k = k, .l = l, .x = x, .y = y, .batch = batch, .xq = (int8_t *)scratch,
              .xscale = (float *)(void *)(scratch + plan.xq_bytes),
              .work = scratch + plan.xq_bytes + batch * sizeof(float), .plan = plan,
              .q_parts = batch < plan.parts ? batch : plan.parts, .status = status};
  /* All rows are quantized (and so checked) before y is touched. */
  tk_exec_run(e, j.q_parts, ql_quantize_part, &j);
  for (size_t i = 0; i < j.q_parts && st == TK_OK; i++) st = status[i];
  if (st == TK_OK) tk_exec_run(e, plan.parts, ql_kernel_part, &j);
  if (status != part_status) free(status);
  tk_exec_scratch_end(e, scratch);
  return st;
}

tk_status tk_qlinear_forward_with(const tk_kernels *k, const tk_qlinear *l, const float *x,
                                  size_t batch, float *y) {
  return tk_qlinear_forward_ex_with(k, NULL, l, x, batch, y);
}

tk_status tk_qlinear_forward_ex(const tk_exec *e, const tk_qlinear *l, const float *x,
                                size_t batch, float *y) {
  return tk_qlinear_forward_ex_with(tk_active(), e, l, x, batch, y);
}

tk_status tk_qlinear_forward(const tk_qlinear *l, const float *x, size_t batch, float *y) {
  return tk_qlinear_forward_ex_with(tk_active(), NULL, l, x, batch, y);
}

size_t tk_qlinear_bytes(const tk_qlinear *l) { return l ? sizeof *l + l->packed_bytes : 0; }

void tk_qlinear_destroy(tk_qlinear *l) {
  if (!l) return;
  free(l->tiles);
  free(l);
}

/* ---- fp32 ---- */

typedef struct lf_job {
  const tk_kernels *k;
  const float *w, *bias, *x;
  float *y;
  size_t out, in, batch, parts;
} lf_job;

/* Parts: ranges of batch rows, or (batch 1) of output rows in multiples of 16. */
static void lf_part(void *ctx, size_t i) {
  const lf_job *j = ctx;
  size_t a, b;
  if (j->batch > 1) {
    tk_exec_range(j->batch, 1, j->parts, i, &a, &b);
    if (b > a)
      j->k->linear_f32(j->w, j->out, j->in, j->bias, j->x + a * j->in, b - a, j->y + a * j->out);
  } else {
    tk_exec_range(j->out, 16, j->parts, i, &a, &b);
    if (b > a)
      j->k->linear_f32(j->w + a * j->in, b - a, j->in, j->bias ? j->bias + a : NULL, j->x, 1,
                       j->y + a);
  }
}

tk_status tk_linear_f32_ex_with(const tk_kernels *k, const tk_exec *e, const float *w,
                                size_t out_features, size_t in_features, const float *bias,
                                const float *x, size_t batch, float *y) {
  if (!w || out_features == 0 || in_features == 0 || (batch && (!x || !y))) return TK_ERR_ARG;
  size_t n;
  if (tk_mul_overflows(out_features, in_features, &n) || n > SIZE_MAX / sizeof(float) ||
      tk_mul_overflows(batch, in_features, &n) || n > SIZE_MAX / sizeof(float) ||
      tk_mul_overflows(batch, out_features, &n) || n > SIZE_MAX / sizeof(float))
    return TK_ERR_OVERFLOW;
  if (batch == 0) return TK_OK;
  /* The kernels read x, w and bias while they write y: no overlap. */
  const size_t yb = batch * out_features * sizeof(float);
  if (tk_overlaps(y, yb, x, batch * in_features * sizeof(float)) ||
      tk_overlaps(y, yb, w, out_features * in_features * sizeof(float)) ||
      (bias && tk_overlaps(y, yb, bias, out_features * sizeof(float))))
    return TK_ERR_ARG;
  size_t parts = tk_exec_parts(e);
  const size_t units = batch > 1 ? batch : (out_features + 15) / 16;
  if (parts > units) parts = units;
  lf_job j = {.k = k, .w = w, .bias = bias, .x = x, .y = y, .out = out_features,
              .in = in_features, .batch = batch, .parts = parts};
  tk_exec_run(e, parts, lf_part, &j);
  return TK_OK;
}

tk_status tk_linear_f32_with(const tk_kernels *k, const float *w, size_t out_features,
                             size_t in_features, const float *bias, const float *x, size_t batch,
                             float *y) {
  return tk_linear_f32_ex_with(k, NULL, w, out_features, in_features, bias, x, batch, y);
}

tk_status tk_linear_f32_ex(const tk_exec *e, const float *w, size_t out_features,
                           size_t in_features, const float *bias, const float *x, size_t batch,
                           float *y) {
  return tk_linear_f32_ex_with(tk_active(), e, w, out_features, in_features, bias, x, batch, y);
}

tk_status tk_linear_f32(const float *w, size_t out_features, size_t in_features,
                        const float *bias, const float *x, size_t batch, float *y) {
  return tk_linear_f32_ex_with(tk_active(), NULL, w, out_features, in_features, bias, x, batch, y);
}
