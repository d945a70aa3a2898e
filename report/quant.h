/* Table 1, quantization: int8 tk_qlinear vs fp32 tk_linear_f32 vs dequantizing on every call (results, run, text, JSON). */
#ifndef TK_REPORT_QUANT_H
#define TK_REPORT_QUANT_H

#include <stddef.h>

#include "config.h"
#include "format.h"
#include "json.h"
#include "timing.h"

enum { RP_MAX_SHAPES = 4 };
typedef struct rp_quant_row {
  rp_timing fp32, int8, naive;
  double mse, nmse;             /* int8 output vs fp32 output */
  double naive_mse;             /* the naive path computes with the same int8 weights */
} rp_quant_row;
typedef struct rp_quant {
  size_t n_shapes;
  size_t batch[RP_MAX_SHAPES], out[RP_MAX_SHAPES], in[RP_MAX_SHAPES];
  size_t bytes_fp32[RP_MAX_SHAPES], bytes_int8[RP_MAX_SHAPES], bytes_naive[RP_MAX_SHAPES];
  rp_quant_row row[TK_ISA_COUNT][RP_MAX_SHAPES]; /* [variant index][shape] */
} rp_quant;

/* What the accuracy run found for int8, quoted under the table (the caller
   takes it from the accuracy section's results). */
typedef struct rp_quant_accuracy {
  double fp32, int8;             /* test accuracy, 0..1 */
  size_t bytes_fp32, bytes_int8; /* the model's weights */
} rp_quant_accuracy;

int rp_quant_run(const rp_config *cfg, rp_quant *q);
void rp_quant_print(rp_text *out, const rp_config *cfg, const rp_quant *q, const rp_quant_accuracy *a);
void rp_quant_json(rp_json *j, const rp_config *cfg, const rp_quant *q);

#endif
