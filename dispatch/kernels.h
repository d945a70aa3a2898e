/* The kernel table: one function pointer per kernel, one table per ISA (filled in kernels/table.c). */
#ifndef TK_DISPATCH_KERNELS_H
#define TK_DISPATCH_KERNELS_H

#include <stdatomic.h>

#include "dispatch/isa_list.h"
#include "tinykern.h"

struct tk_att_job;

/* Kernels never check arguments, never allocate and never print: the public
   front functions (kernels/<family>/<family>.c) have validated everything. */
typedef struct tk_kernels {
  tk_isa isa;

  /* int8 (kernels/int8) */
  /* Exact int32 dot product; n <= TK_DOT_S8_MAX_N. */
  int32_t (*dot_s8)(const int8_t *a, const int8_t *b, size_t n);
  /* Returns max|x| and sets *finite to false if any x is NaN or Inf. */
  float (*absmax_f32)(const float *x, size_t n, bool *finite);
  /* q = clamp(rne(x / scale), -127, 127); scale > 0, finite; x finite. */
  void (*quantize_s8)(const float *x, size_t n, float scale, int8_t *q);
  /* x = q * scale. */
  void (*dequantize_s8)(const int8_t *q, size_t n, float scale, float *x);
  /* qlinear (kernels/qlinear; packed layout in qlinear/qlinear_kernels.h) */
  /* y[b][o] = acc[b][o] * (scale[o] * xscale[b]) + bias[o], acc the exact int32
     dot of packed row o with xq row b. xq [batch][kp], zero-padded past in;
     work holds tk_ql_batch_block(kp) * kp * TK_QL_X_BYTES bytes. */
  void (*qlinear_s8)(const void *tiles, size_t out, size_t kp, const int8_t *xq,
                     const float *xscale, size_t batch, float *y, void *work);
  /* y [batch][out] = x [batch][in] W^T + bias; W [out][in]; bias may be NULL. */
  void (*linear_f32)(const float *w, size_t out, size_t in, const float *bias, const float *x,
                     size_t batch, float *y);

  /* sparse (kernels/sparse; the format is described in sparse/sparse_kernels.h) */
  /* y[rows] = A x; every y written. */
  void (*spmv)(const struct tk_csr *a, const float *x, float *y);
  /* C[rows][n] = A B, B [cols][n]; n >= 1; every C element written. */
  void (*spmm)(const struct tk_csr *a, const float *b, size_t n, float *c);

  /* attention (kernels/attention) */
  /* One kv head's online-softmax attention over a job's query rows, for K/V
     stored as f32, f16 or s8 (struct tk_att_job: attention/attention_kernels.h). */
  void (*attend_f32)(const struct tk_att_job *job);
  void (*attend_f16)(const struct tk_att_job *job);
  void (*attend_s8)(const struct tk_att_job *job);
  /* h = f16 bits of clamp(x, -65504, 65504), rounded to nearest even. */
  void (*f32_to_f16)(const float *x, size_t n, uint16_t *h);
} tk_kernels;

/* Every ISA's table (kernels/table.c). Only the tables of natively built ISAs
   are in the production library; the test binaries link the others too. */
#define TK_DECLARE_TABLE(ID, name, ...) extern const tk_kernels tk_kernels_##name;
TK_ISA_LIST(TK_DECLARE_TABLE)

/* The active table: NULL until the first use decides (dispatch/dispatch.c). */
extern _Atomic(const tk_kernels *) tk_dispatch_active;
const tk_kernels *tk_dispatch_first_use(void);

/* What every public function calls: one atomic load after the first use. */
static inline const tk_kernels *tk_active(void) {
  const tk_kernels *t = atomic_load_explicit(&tk_dispatch_active, memory_order_acquire);
  return t ? t : tk_dispatch_first_use();
}

#endif
