/* Shared types of tinykern-report: run settings, the measured results of each table, the sections. */
#ifndef TK_REPORT_H
#define TK_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "json.h"
#include "timing.h"
#include "tinykern.h"

/* default: < 2 min on 2 cores; quick: ~15 s; tiny: seconds, also under qemu
   (the test suite's run: every table and variant, small shapes). */
typedef enum rp_mode { RP_DEFAULT, RP_QUICK, RP_TINY } rp_mode;

typedef struct rp_config {
  rp_mode mode;
  rp_budget budget;          /* per measured figure */
  tk_isa isa[TK_ISA_COUNT];  /* the variants measured: available natively, best last */
  size_t n_isa;
} rp_config;

/* Runs a tinykern call; on failure names it on stderr and returns -1 from the
   enclosing function (the report stops: a figure from a failed call is no figure). */
#define RP_CHECK(call)                                                                  \
  do {                                                                                  \
    tk_status rp_st_ = (call);                                                          \
    if (rp_st_ != TK_OK) {                                                              \
      fprintf(stderr, "tinykern-report: %s failed: %s\n", #call, tk_status_str(rp_st_)); \
      return -1;                                                                        \
    }                                                                                   \
  } while (0)

/* Selects a variant for the measurements that follow (it is available: checked
   when the list was made). */
int rp_use_isa(tk_isa isa);

/* A timing as {"median_s", "min_s", "max_s", "samples", "calls_per_sample"}. */
void rp_timing_json(rp_json *j, const char *key, const rp_timing *t);

/* ---- accuracy on the digits set (accuracy.c) ---- */
enum { RP_MAX_SPARSITY = 8 };
typedef struct rp_digits {
  size_t n_train, n_test, hidden;
  unsigned epochs, ft_epochs;
  double train_seconds;
  double fp32;     /* test accuracy, 0..1 */
  double int8;
  size_t bytes_fp32, bytes_int8; /* weights + biases of both layers */
  size_t n_sparsity;
  double sparsity[RP_MAX_SPARSITY];
  double pruned[RP_MAX_SPARSITY];    /* no retraining */
  double finetuned[RP_MAX_SPARSITY]; /* kept weights retrained, mask fixed */
  size_t bytes_csr[RP_MAX_SPARSITY];
} rp_digits;
int rp_digits_run(const rp_config *cfg, const double *sparsity, size_t n, rp_digits *out);
void rp_digits_print(FILE *f, const rp_digits *a);
void rp_digits_json(rp_json *j, const rp_digits *a);

/* ---- quantization (quant.c) ---- */
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
int rp_quant_run(const rp_config *cfg, rp_quant *q);
void rp_quant_print(FILE *f, const rp_config *cfg, const rp_quant *q, const rp_digits *a);
void rp_quant_json(rp_json *j, const rp_config *cfg, const rp_quant *q);

/* ---- KV caching (kv.c) ---- */
enum { RP_MAX_LENGTHS = 12 };
typedef struct rp_kv_point {
  rp_timing cached, recompute;
  double speedup;
  double max_diff; /* |cached step output - last row of the recompute| */
} rp_kv_point;
typedef struct rp_kv {
  size_t n_heads, n_kv_heads, head_dim;
  size_t n_len;
  size_t len[RP_MAX_LENGTHS];
  size_t cache_bytes[RP_MAX_LENGTHS];
  rp_kv_point pt[TK_ISA_COUNT][RP_MAX_LENGTHS];
  double break_even[TK_ISA_COUNT]; /* length, NAN: not reached */
} rp_kv;
int rp_kv_run(const rp_config *cfg, rp_kv *kv);
void rp_kv_print(FILE *f, const rp_config *cfg, const rp_kv *kv);
void rp_kv_json(rp_json *j, const rp_config *cfg, const rp_kv *kv);

/* ---- pruning (prune.c) ---- */
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
/* The sparsity sweep of the mode (shared with the accuracy table). */
size_t rp_prune_levels(rp_mode mode, double *sparsity);
int rp_prune_run(const rp_config *cfg, rp_prune *p);
void rp_prune_print(FILE *f, const rp_config *cfg, const rp_prune *p, const rp_digits *a);
void rp_prune_json(rp_json *j, const rp_config *cfg, const rp_prune *p);

/* ---- charts (charts.c): PNG through gnuplot when it is on PATH ---- */
typedef struct rp_charts {
  bool gnuplot;       /* found and ran */
  size_t n;
  char path[3][1024]; /* PNG files written */
  char note[256];     /* why none were written, if so */
} rp_charts;
void rp_charts_write(const char *dir, const rp_config *cfg, const rp_quant *q, const rp_kv *kv,
                     const rp_prune *p, rp_charts *out);

/* The whole report (main.c calls it; the test suite runs it in-process).
   Returns the process exit status. */
int tk_report_main(int argc, char **argv);

/* Human-readable sizes and times into buf (returns buf). */
const char *rp_fmt_time(char *buf, size_t n, double seconds);
/* A timing's median, marked "*" when it is noisy: more than 1.5x the fastest
   sample (the machine was busy with something else); counted for the footnote. */
const char *rp_fmt_timing(char *buf, size_t n, const rp_timing *t);
unsigned rp_noisy_count(void);
const char *rp_fmt_bytes(char *buf, size_t n, size_t bytes);

#endif
