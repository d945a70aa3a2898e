/* Table 3, pruning: magnitude-pruned CSR (tk_spmv, tk_spmm) vs the dense fp32 product per sparsity (results, run, text, JSON). */
#ifndef TK_REPORT_PRUNE_H
#define TK_REPORT_PRUNE_H

#include <stddef.h>

#include "config.h"
#include "format.h"
#include "json.h"
#include "timing.h"

typedef struct rp_prune_point {
  rp_timing spmv, spmm;
  rp_timing dense_mv, dense_mm; /* tk_linear_f32 on the same shapes, measured alongside */
  double spmv_speedup, spmm_speedup;
} rp_prune_point;
typedef struct rp_prune {
  size_t mv_rows, mv_cols, mm_rows, mm_cols, mm_n;
  size_t n_sparsity;
  double sparsity[RP_MAX_SPARSITY];
  size_t mv_nnz[RP_MAX_SPARSITY], mv_bytes[RP_MAX_SPARSITY], mm_bytes[RP_MAX_SPARSITY];
  double mv_compression[RP_MAX_SPARSITY], mm_compression[RP_MAX_SPARSITY];
  rp_prune_point pt[TK_ISA_COUNT][RP_MAX_SPARSITY];
  double break_even_mv[TK_ISA_COUNT]; /* sparsity from which SpMV wins; NAN: never */
} rp_prune;

/* The accuracy lost by the digits MLP pruned to each level of the sweep, in
   points vs fp32, without and with fine-tuning: two columns of the table (the
   caller takes them from the accuracy section's results). */
typedef struct rp_prune_accuracy {
  double loss[RP_MAX_SPARSITY];
  double loss_finetuned[RP_MAX_SPARSITY];
} rp_prune_accuracy;

/* The sparsity sweep of the mode (the accuracy run measures the same levels). */
size_t rp_prune_levels(rp_mode mode, double *sparsity);
int rp_prune_run(const rp_config *cfg, rp_prune *p);
void rp_prune_print(rp_text *out, const rp_config *cfg, const rp_prune *p, const rp_prune_accuracy *a);
void rp_prune_json(rp_json *j, const rp_config *cfg, const rp_prune *p);

#endif
