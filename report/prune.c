/* Table 3, pruning: magnitude-pruned CSR (tk_spmv, tk_spmm) vs the dense fp32 product at each sparsity. */
#include "prune.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "stats.h"

size_t rp_prune_levels(rp_mode mode, double *sparsity) {
  static const double def[] = {0.5, 0.7, 0.8, 0.9, 0.95, 0.98};
  static const double quick[] = {0.5, 0.7, 0.9, 0.98};
  static const double tiny[] = {0.5, 0.9, 0.98};
  const double *t = mode == RP_DEFAULT ? def : mode == RP_QUICK ? quick : tiny;
  size_t n = mode == RP_DEFAULT ? sizeof def / sizeof *def
             : mode == RP_QUICK ? sizeof quick / sizeof *quick
                                : sizeof tiny / sizeof *tiny;
  memcpy(sparsity, t, n * sizeof *t);
  return n;
}

/* SpMV: one big layer, batch 1 (memory bound: the bytes per weight decide).
   SpMM: a batch of n columns, where dense fp32 is compute bound. */
static void shapes(rp_mode mode, rp_prune *p) {
  static const size_t def[5] = {4096, 4096, 1024, 1024, 64};
  static const size_t quick[5] = {2048, 2048, 512, 512, 32};
  static const size_t tiny[5] = {96, 80, 40, 72, 8};
  const size_t *s = mode == RP_DEFAULT ? def : mode == RP_QUICK ? quick : tiny;
  p->mv_rows = s[0], p->mv_cols = s[1], p->mm_rows = s[2], p->mm_cols = s[3], p->mm_n = s[4];
}

typedef struct work {
  const rp_prune *p;
  const float *w_mv, *w_mm; /* dense [rows][cols] */
  const float *x;           /* SpMV input [mv_cols]; dense GEMM input [mm_n][mm_cols] */
  const float *b;           /* SpMM input [mm_cols][mm_n] (batch contiguous) */
  float *y;                 /* large enough for every output */
  tk_csr *mv, *mm;
} work;

static int call_dense_mv(void *c) {
  work *w = c;
  return tk_linear_f32(w->w_mv, w->p->mv_rows, w->p->mv_cols, NULL, w->x, 1, w->y);
}
static int call_dense_mm(void *c) {
  work *w = c;
  return tk_linear_f32(w->w_mm, w->p->mm_rows, w->p->mm_cols, NULL, w->x, w->p->mm_n, w->y);
}
static int call_spmv(void *c) {
  work *w = c;
  return tk_spmv(w->mv, w->x, w->y);
}
static int call_spmm(void *c) {
  work *w = c;
  return tk_spmm(w->mm, w->b, w->p->mm_n, w->y);
}

static int measure_level(const rp_config *cfg, rp_prune *p, size_t si, work *w) {
  float s = (float)p->sparsity[si];
  RP_CHECK(tk_csr_from_dense(w->w_mv, p->mv_rows, p->mv_cols, s, &w->mv));
  RP_CHECK(tk_csr_from_dense(w->w_mm, p->mm_rows, p->mm_cols, s, &w->mm));
  p->mv_nnz[si] = tk_csr_nnz(w->mv);
  p->mv_bytes[si] = tk_csr_bytes(w->mv);
  p->mm_bytes[si] = tk_csr_bytes(w->mm);
  p->mv_compression[si] = rp_compression(p->mv_rows * p->mv_cols * sizeof(float), p->mv_bytes[si]);
  p->mm_compression[si] = rp_compression(p->mm_rows * p->mm_cols * sizeof(float), p->mm_bytes[si]);
  for (size_t v = 0; v < cfg->n_isa; v++) {
    if (rp_use_isa(cfg->isa[v])) return -1;
    rp_prune_point *pt = &p->pt[v][si];
    rp_progress(false, "[3/3 pruning] %s %.0f%%: SpMV, SpMM and dense", tk_isa_name(cfg->isa[v]), 100 * s);
    rp_job jobs[4] = {{call_spmv, w, &pt->spmv},
                      {call_dense_mv, w, &pt->dense_mv},
                      {call_spmm, w, &pt->spmm},
                      {call_dense_mm, w, &pt->dense_mm}};
    RP_CHECK(rp_measure_jobs(jobs, 4, &cfg->budget));
    pt->spmv_speedup = rp_speedup(pt->dense_mv.median, pt->spmv.median);
    pt->spmm_speedup = rp_speedup(pt->dense_mm.median, pt->spmm.median);
  }
  return 0;
}

int rp_prune_run(const rp_config *cfg, rp_prune *p) {
  p->n_sparsity = rp_prune_levels(cfg->mode, p->sparsity);
  shapes(cfg->mode, p);
  size_t nmv = p->mv_rows * p->mv_cols, nmm = p->mm_rows * p->mm_cols;
  size_t nx = p->mv_cols > p->mm_n * p->mm_cols ? p->mv_cols : p->mm_n * p->mm_cols;
  size_t ny = p->mv_rows > p->mm_n * p->mm_rows ? p->mv_rows : p->mm_n * p->mm_rows;
  float *w_mv = malloc(nmv * sizeof *w_mv), *w_mm = malloc(nmm * sizeof *w_mm);
  float *x = malloc(nx * sizeof *x), *b = malloc(p->mm_n * p->mm_cols * sizeof *b), *y = malloc(ny * sizeof *y);
  work w = {.p = p, .w_mv = w_mv, .w_mm = w_mm, .x = x, .b = b, .y = y};
  int rc = -1;
  if (w_mv && w_mm && x && b && y) {
    rp_progress(true, "[3/3 pruning] preparing %zux%zu and %zux%zu weights", p->mv_rows, p->mv_cols,
                p->mm_rows, p->mm_cols);
    uint64_t seed = 0x5eed0003;
    rp_fill_normal(w_mv, nmv, 1 / sqrt((double)p->mv_cols), &seed);
    rp_fill_normal(w_mm, nmm, 1 / sqrt((double)p->mm_cols), &seed);
    rp_fill_normal(x, nx, 1, &seed);
    /* The SpMM input holds the same numbers as the dense one, transposed. */
    for (size_t i = 0; i < p->mm_n; i++)
      for (size_t k = 0; k < p->mm_cols; k++) b[k * p->mm_n + i] = x[i * p->mm_cols + k];
    rc = 0;
    for (size_t si = 0; si < p->n_sparsity && rc == 0; si++) {
      rp_progress(true, "[3/3 pruning] sparsity %.0f%%", 100 * p->sparsity[si]);
      rc = measure_level(cfg, p, si, &w);
      tk_csr_destroy(w.mv), tk_csr_destroy(w.mm);
      w.mv = w.mm = NULL;
    }
  }
  for (size_t v = 0; v < cfg->n_isa && rc == 0; v++) {
    double sp[RP_MAX_SPARSITY];
    for (size_t si = 0; si < p->n_sparsity; si++) sp[si] = p->pt[v][si].spmv_speedup;
    p->break_even_mv[v] = rp_break_even_length(p->sparsity, sp, p->n_sparsity);
  }
  free(w_mv), free(w_mm), free(x), free(b), free(y);
  return rc;
}

/* The dense times of variant v: the median over the levels' measurements. */
static void dense_times(const rp_prune *p, size_t v, double *mv, double *mm) {
  double a[RP_MAX_SPARSITY], b[RP_MAX_SPARSITY];
  for (size_t si = 0; si < p->n_sparsity; si++) a[si] = p->pt[v][si].dense_mv.median, b[si] = p->pt[v][si].dense_mm.median;
  *mv = rp_median(a, p->n_sparsity);
  *mm = rp_median(b, p->n_sparsity);
}

void rp_prune_print(rp_text *out, const rp_config *cfg, const rp_prune *p, const rp_prune_accuracy *a) {
  FILE *f = out->f;
  char t1[32], t2[32];
  fprintf(f, "\n## 3. Pruning: magnitude-pruned CSR vs dense fp32 (tk_linear_f32, same shapes)\n\n"
             "SpMV: %zux%zu weights, batch 1. SpMM: %zux%zu weights, batch %zu. Compression: dense fp32\n"
             "bytes / tk_csr_bytes of the SpMV matrix. Accuracy loss: the digits MLP (below) pruned to the\n"
             "same sparsity, test accuracy in points vs fp32, without and with fine-tuning the kept weights.\n",
          p->mv_rows, p->mv_cols, p->mm_rows, p->mm_cols, p->mm_n);
  for (size_t v = 0; v < cfg->n_isa; v++) {
    double dmv, dmm;
    dense_times(p, v, &dmv, &dmm);
    fprintf(f, "\n### variant %s (dense fp32: SpMV shape %s, SpMM shape %s)\n\n", tk_isa_name(cfg->isa[v]),
            rp_fmt_time(t1, sizeof t1, dmv), rp_fmt_time(t2, sizeof t2, dmm));
    fprintf(f, "| sparsity | compression | SpMV time | SpMV speedup | SpMM time | SpMM speedup | "
               "accuracy loss | after fine-tune |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t si = 0; si < p->n_sparsity; si++) {
      const rp_prune_point *pt = &p->pt[v][si];
      fprintf(f, "| %.0f%% | %.1fx | %s | **%.2fx** | %s | **%.2fx** | %.1f pt | %.1f pt |\n",
              100 * p->sparsity[si], p->mv_compression[si], rp_fmt_timing(out, t1, sizeof t1, &pt->spmv),
              pt->spmv_speedup, rp_fmt_timing(out, t2, sizeof t2, &pt->spmm), pt->spmm_speedup,
              a->loss[si], a->loss_finetuned[si]);
    }
    if (isnan(p->break_even_mv[v]))
      fprintf(f, "\nSpMV does not beat dense up to %.0f%% sparsity.\n", 100 * p->sparsity[p->n_sparsity - 1]);
    else
      fprintf(f, "\nSpMV beats dense from ~%.0f%% sparsity.\n", 100 * p->break_even_mv[v]);
  }
}

void rp_prune_json(rp_json *j, const rp_config *cfg, const rp_prune *p) {
  rp_json_object(j, "pruning");
  rp_json_object(j, "spmv_shape");
  rp_json_uint(j, "rows", p->mv_rows);
  rp_json_uint(j, "cols", p->mv_cols);
  rp_json_end(j);
  rp_json_object(j, "spmm_shape");
  rp_json_uint(j, "rows", p->mm_rows);
  rp_json_uint(j, "cols", p->mm_cols);
  rp_json_uint(j, "n", p->mm_n);
  rp_json_end(j);
  rp_json_array(j, "levels");
  for (size_t si = 0; si < p->n_sparsity; si++) {
    rp_json_object(j, NULL);
    rp_json_num(j, "sparsity", p->sparsity[si]);
    rp_json_uint(j, "spmv_nnz", p->mv_nnz[si]);
    rp_json_uint(j, "spmv_csr_bytes", p->mv_bytes[si]);
    rp_json_uint(j, "spmm_csr_bytes", p->mm_bytes[si]);
    rp_json_num(j, "spmv_compression", p->mv_compression[si]);
    rp_json_num(j, "spmm_compression", p->mm_compression[si]);
    rp_json_end(j);
  }
  rp_json_end(j);
  rp_json_object(j, "variants");
  for (size_t v = 0; v < cfg->n_isa; v++) {
    rp_json_object(j, tk_isa_name(cfg->isa[v]));
    rp_json_num(j, "spmv_break_even_sparsity", p->break_even_mv[v]);
    rp_json_array(j, "points");
    for (size_t si = 0; si < p->n_sparsity; si++) {
      const rp_prune_point *pt = &p->pt[v][si];
      rp_json_object(j, NULL);
      rp_json_num(j, "sparsity", p->sparsity[si]);
      rp_timing_json(j, "spmv", &pt->spmv);
      rp_timing_json(j, "spmm", &pt->spmm);
      rp_timing_json(j, "dense_spmv_shape", &pt->dense_mv);
      rp_timing_json(j, "dense_spmm_shape", &pt->dense_mm);
      rp_json_num(j, "spmv_speedup", pt->spmv_speedup);
      rp_json_num(j, "spmm_speedup", pt->spmm_speedup);
      rp_json_end(j);
    }
    rp_json_end(j);
    rp_json_end(j);
  }
  rp_json_end(j);
  rp_json_end(j);
}
