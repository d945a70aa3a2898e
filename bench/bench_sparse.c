/* sparse benchmarks: SpMV 4096x4096 and SpMM 1024x1024 (n = 64) over a pruning sweep, against tk_linear_f32 and OpenBLAS, with ratios and the break-even sparsity. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_common.h"
#ifdef TK_HAVE_CBLAS
#include <cblas.h>
#endif

/* One product shape and its sweep (sparsity 0 is the unpruned matrix in the
   sparse format: every group stored blocked) and its dense baselines:
   tk_linear_f32 of the same ISA and OpenBLAS. */
enum { MAX_PCT = 8, MAX_REPS = 64, BASELINE = TK_ISA_COUNT };
typedef struct problem {
  const char *name;
  size_t rows, cols, n; /* n == 0: SpMV */
  int pct[MAX_PCT];     /* sparsity in percent */
  size_t n_pct;
  struct {
    int pct;
    double ratio;
  } targets[3]; /* sparse time / OpenBLAS time must reach these (avx2, this machine) */
  float *w, *in, *in_t, *out; /* in_t: B transposed, [n][cols], for tk_linear_f32 */
  tk_csr *csr[MAX_PCT];
  /* Seconds per product of each repetition: [isa or BASELINE][sparsity index]
     (the baseline's times are the same for every index), and tk_linear_f32's. */
  double t[TK_ISA_COUNT + 1][MAX_PCT][MAX_REPS];
  int reps[TK_ISA_COUNT + 1][MAX_PCT];
  double lin[TK_ISA_COUNT][MAX_REPS];
  int lin_reps[TK_ISA_COUNT];
} problem;

static problem spmv = {.name = "spmv", .rows = 4096, .cols = 4096, .n = 0,
                       .pct = {0, 50, 70, 80, 90, 95, 98}, .n_pct = 7,
                       .targets = {{70, 1.0}, {90, 4.0}, {95, 10.0}}};
static problem spmm = {.name = "spmm", .rows = 1024, .cols = 1024, .n = 64,
                       .pct = {0, 50, 60, 70, 80, 90, 95, 98}, .n_pct = 8,
                       .targets = {{60, 1.0}, {90, 5.0}}};

/* Inputs made once per problem (not timed); pruned matrices made on first use. */
static void inputs(problem *p) {
  if (p->w) return;
  size_t n = p->n ? p->n : 1;
  p->w = tkb_alloc(p->rows * p->cols * sizeof(float));
  p->in = tkb_alloc(p->cols * n * sizeof(float));
  p->in_t = tkb_alloc(p->cols * n * sizeof(float));
  p->out = tkb_alloc(p->rows * n * sizeof(float));
  tkb_fill_f32(p->w, p->rows * p->cols, 11, -1.0f, 1.0f);
  tkb_fill_f32(p->in, p->cols * n, 12, -1.0f, 1.0f);
  for (size_t k = 0; k < p->cols; k++)
    for (size_t j = 0; j < n; j++) p->in_t[j * p->cols + k] = p->in[k * n + j];
}

static const tk_csr *pruned(problem *p, size_t si) {
  inputs(p);
  if (!p->csr[si] && tk_csr_from_dense(p->w, p->rows, p->cols, (float)p->pct[si] / 100.0f,
                                       &p->csr[si]) != TK_OK) {
    fprintf(stderr, "bench_sparse: tk_csr_from_dense failed\n");
    exit(1);
  }
  return p->csr[si];
}

static void record(gb_state *st, problem *p, int who, size_t si) {
  if (p->reps[who][si] < MAX_REPS)
    p->t[who][si][p->reps[who][si]++] = gb_loop_seconds(st) / (double)gb_iterations(st);
}

/* Counters: "ops" counts the multiply-adds done (2 per stored entry per
   column of B), "dense_flops" the dense-equivalent rate (2 rows cols n per
   product), "bytes" the matrix, input and output streamed once, and
   "compression" dense bytes over the matrix's bytes. */
static void counters(gb_state *st, tk_isa isa, const problem *p, double nnz, double mat_bytes) {
  double n = p->n ? (double)p->n : 1.0;
  double io = ((double)p->cols + (double)p->rows) * n * sizeof(float);
  tkb_counters_isa(st, isa, TKB_PEAK_F32, 2.0 * nnz * n, mat_bytes + io, (size_t)(mat_bytes + io));
  gb_counter(st, "dense_flops", 2.0 * (double)p->rows * (double)p->cols * n, GB_RATE_PER_ITER);
  gb_counter(st, "compression", (double)p->rows * (double)p->cols * sizeof(float) / mat_bytes,
             GB_PLAIN);
}

static void bm_sparse(gb_state *st) {
  problem *p = (problem *)tkb_user(st);
  size_t si = 0;
  while (p->pct[si] != (int)gb_range(st, 0)) si++;
  const tk_csr *a = pruned(p, si); /* before tkb_variant: not timed either way */
  if (!tkb_variant(st)) return;
  const float *in = p->in;
  float *out = p->out;
  if (p->n) {
    GB_LOOP(st) {
      tk_spmm(a, in, p->n, out);
      gb_escape(out);
    }
  } else {
    GB_LOOP(st) {
      tk_spmv(a, in, out);
      gb_escape(out);
    }
  }
  record(st, p, tkb_isa(st), si);
  counters(st, tkb_isa(st), p, (double)tk_csr_nnz(a), (double)tk_csr_bytes(a));
}

/* Thread scaling at 90% sparsity, best ISA, wall clock: tk_spmv_ex /
   tk_spmm_ex. Args: threads, path (tkb_path). */
static void bm_threads(gb_state *st) {
  problem *p = gb_ctx(st);
  size_t si = 0;
  while (p->pct[si] != 90) si++;
  const tk_csr *a = pruned(p, si);
  const tk_exec e = tkb_exec((tkb_path)gb_range(st, 1), (size_t)gb_range(st, 0));
  GB_LOOP(st) {
    if (p->n)
      tk_spmm_ex(&e, a, p->in, p->n, p->out);
    else
      tk_spmv_ex(&e, a, p->in, p->out);
    gb_escape(p->out);
  }
  counters(st, tk_isa_active(), p, (double)tk_csr_nnz(a), (double)tk_csr_bytes(a));
}

/* The dense product of the unpruned matrix by tk_linear_f32 under the same
   ISA: y [batch][out] = x [batch][in] W^T with W = A, so SpMV is batch 1 and
   SpMM's C = A B is computed as C^T = B^T A^T (batch n, B transposed outside
   the timed loop; C comes out transposed: the same products and sums). */
static void bm_linear(gb_state *st) {
  problem *p = (problem *)tkb_user(st);
  inputs(p);
  if (!tkb_variant(st)) return;
  const float *w = p->w, *x = p->in_t;
  float *y = p->out;
  size_t batch = p->n ? p->n : 1;
  GB_LOOP(st) {
    tk_linear_f32(w, p->rows, p->cols, NULL, x, batch, y);
    gb_escape(y);
  }
  tk_isa isa = tkb_isa(st);
  if (p->lin_reps[isa] < MAX_REPS)
    p->lin[isa][p->lin_reps[isa]++] = gb_loop_seconds(st) / (double)gb_iterations(st);
  counters(st, isa, p, (double)p->rows * (double)p->cols,
           (double)p->rows * (double)p->cols * sizeof(float));
}

#ifdef TK_HAVE_CBLAS
/* The dense product of the unpruned matrix by OpenBLAS, one thread (tkb_main). */
static void bm_openblas(gb_state *st) {
  problem *p = (problem *)gb_ctx(st);
  inputs(p);
  const float *w = p->w, *in = p->in;
  float *out = p->out;
  int m = (int)p->rows, k = (int)p->cols, n = (int)p->n;
  if (n) {
    GB_LOOP(st) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, w, k, in, n, 0.0f,
                  out, n);
      gb_escape(out);
    }
  } else {
    GB_LOOP(st) {
      cblas_sgemv(CblasRowMajor, CblasNoTrans, m, k, 1.0f, w, k, in, 1, 0.0f, out, 1);
      gb_escape(out);
    }
  }
  for (size_t si = 0; si < p->n_pct; si++) record(st, p, BASELINE, si);
  counters(st, tk_isa_best(), p, (double)p->rows * (double)p->cols,
           (double)p->rows * (double)p->cols * sizeof(float));
}
#endif

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median of n recorded repetitions (0 if none); min and max through the pointers. */
static double median_of(const double *t, int n, double *lo, double *hi) {
  if (!n) return 0.0;
  double v[MAX_REPS];
  memcpy(v, t, (size_t)n * sizeof(double));
  qsort(v, (size_t)n, sizeof(double), cmp_double);
  if (lo) *lo = v[0];
  if (hi) *hi = v[n - 1];
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double median(const problem *p, int who, size_t si, double *lo, double *hi) {
  return median_of(p->t[who][si], p->reps[who][si], lo, hi);
}

/* The sweep point where time `base` is first reached, interpolated linearly
   in the speedup between the two sweep points around it. */
static void break_even(FILE *f, const problem *p, tk_isa isa, double base, const char *what) {
  if (base <= 0.0) return;
  int prev_pct = -1;
  double prev_r = 0.0;
  for (size_t si = 0; si < p->n_pct; si++) {
    double t = median(p, isa, si, NULL, NULL);
    if (t <= 0.0) continue;
    double r = base / t;
    if (r >= 1.0) {
      if (prev_pct < 0)
        fprintf(f, "  break-even sparsity vs %s: at or below %d%%\n", what, p->pct[si]);
      else
        fprintf(f, "  break-even sparsity vs %s: ~%.0f%% (between %d%% and %d%%)\n", what,
               prev_pct + (p->pct[si] - prev_pct) * (1.0 - prev_r) / (r - prev_r), prev_pct,
               p->pct[si]);
      return;
    }
    prev_pct = p->pct[si];
    prev_r = r;
  }
  fprintf(f, "  break-even sparsity vs %s: above %d%%\n", what, prev_pct);
}

/* After the runs: per variant, the medians, the speedups over OpenBLAS and
   over tk_linear_f32 of the same ISA, the targets, and the break-even
   sparsities. */
static void summary(FILE *f, const problem *p) {
  double base = median(p, BASELINE, 0, NULL, NULL);
  for (tk_isa isa = TK_ISA_SCALAR; isa < TK_ISA_COUNT; isa++) {
    if (!p->reps[isa][0] && !p->reps[isa][p->n_pct - 1]) continue;
    double lin = median_of(p->lin[isa], p->lin_reps[isa], NULL, NULL);
    char shape[48];
    int len = snprintf(shape, sizeof shape, "%zux%zu", p->rows, p->cols);
    if (p->n) snprintf(shape + len, sizeof shape - (size_t)len, " n=%zu", p->n);
    fprintf(f, "\n%s %s, %s, one thread; OpenBLAS %.3f ms, tk_linear_f32 (%s) %.3f ms\n", p->name,
           shape, tk_isa_name(isa), base * 1e3, tk_isa_name(isa), lin * 1e3);
    fprintf(f, "  sparsity  time ms (min-max)          vs OpenBLAS  vs tk_linear_f32  target\n");
    for (size_t si = 0; si < p->n_pct; si++) {
      double lo = 0, hi = 0, t = median(p, isa, si, &lo, &hi);
      if (t <= 0.0) continue;
      double r = base > 0.0 ? base / t : 0.0;
      char tgt[40] = "";
      for (int k = 0; k < 3; k++) {
        if (p->targets[k].ratio > 0.0 && p->targets[k].pct == p->pct[si])
          snprintf(tgt, sizeof tgt, ">= %.0fx: %s", p->targets[k].ratio,
                   r >= p->targets[k].ratio ? "met" : "NOT met");
      }
      fprintf(f, "  %5d%%   %8.3f (%.3f-%.3f)   %9.2fx  %14.2fx   %s\n", p->pct[si], t * 1e3,
             lo * 1e3, hi * 1e3, r, lin > 0.0 ? lin / t : 0.0, tgt);
    }
    break_even(f, p, isa, base, "OpenBLAS");
    break_even(f, p, isa, lin, "tk_linear_f32");
  }
}

static void register_problem(problem *p) {
  char name[48];
#ifdef TK_HAVE_CBLAS
  snprintf(name, sizeof name, "%s_dense/openblas", p->name);
  gb_unit(gb_register(name, bm_openblas, p), GB_MS);
#endif
  TKB_FOR_EACH_ISA(isa) {
    snprintf(name, sizeof name, "%s_dense/tk_linear_f32", p->name);
    gb_unit(tkb_register(name, isa, bm_linear, p), GB_MS);
  }
  TKB_FOR_EACH_ISA(isa) {
    gb_bench *b = gb_unit(gb_arg_name(tkb_register(p->name, isa, bm_sparse, p), "sparsity_pct"), GB_MS);
    for (size_t si = 0; si < p->n_pct; si++) gb_arg(b, p->pct[si]);
  }
  snprintf(name, sizeof name, "threads/%s/sparsity_pct:90", p->name);
  gb_bench *b = gb_use_real_time(gb_unit(gb_register(name, bm_threads, p), GB_MS));
  gb_arg_names2(b, "threads", "path");
  for (int64_t path = 0; path < TKB_PATHS; path++)
    for (size_t t = 1; t <= tkb_max_threads(); t++) gb_args2(b, (int64_t)t, path);
}

/* The summary goes to stdout after the console report, to stderr when stdout
   carries JSON or CSV (--benchmark_format or BENCHMARK_FORMAT). */
static FILE *summary_stream(int argc, char **argv) {
  const char *fmt = getenv("BENCHMARK_FORMAT");
  for (int i = 1; i < argc; i++)
    if (strncmp(argv[i], "--benchmark_format=", 19) == 0) fmt = argv[i] + 19;
  return fmt && strcmp(fmt, "console") != 0 ? stderr : stdout;
}

int main(int argc, char **argv) {
  register_problem(&spmv);
  register_problem(&spmm);
  int rc = tkb_main(argc, argv);
  if (rc == 0 && !gb_listing_only(argc, argv)) {
    FILE *f = summary_stream(argc, argv);
    fprintf(f, "\nSummary: medians of the repetitions above, all measured in this run (the\n"
            "thread's CPU time); 0%% is the unpruned matrix in the sparse format\n");
    summary(f, &spmv);
    summary(f, &spmm);
  }
  return rc;
}
