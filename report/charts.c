/* Charts of the report: gnuplot data and scripts next to the PNGs they draw (when gnuplot is on PATH). */
#include "charts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stats.h"

/* pngcairo draws nicer; Debian's gnuplot-nox has it, other builds may only
   have the libgd png terminal. */
static const char *preamble =
    "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
    "  set terminal pngcairo size 960,600 enhanced font 'sans,11'\n"
    "} else {\n"
    "  set terminal png size 960,600\n"
    "}\n"
    "set grid\n"
    "set key outside right top\n";

/* Opens dir/name for writing; names the failure on stderr. */
static FILE *open_in(const char *dir, const char *name, char *path, size_t n) {
  snprintf(path, n, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) fprintf(stderr, "tinykern-report: cannot write %s: %s\n", path, strerror(errno));
  return f;
}

/* Runs gnuplot on the script inside dir (the scripts name their files relative to it,
   so `cd dir && gnuplot x.gp` redraws a chart); the PNG counts when it exists afterwards. */
static void run(const char *dir, const char *script, const char *png, rp_charts *out) {
  char cmd[2600], png_path[1024];
  snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot '%s'", dir, script);
  snprintf(png_path, sizeof png_path, "%s/%s", dir, png);
  remove(png_path);
  if (system(cmd) != 0) {
    fprintf(stderr, "tinykern-report: gnuplot failed on %s/%s\n", dir, script);
    return;
  }
  FILE *f = fopen(png_path, "rb");
  if (!f) return;
  fclose(f);
  snprintf(out->path[out->n++], sizeof out->path[0], "%s", png_path);
}

/* The colour of variant v, as gnuplot's "#rrggbb": one per variant however
   many are measured (gnuplot's own cycle has 8 colours, and the int8 chart
   draws two bars per variant: with 5 variants its 10 columns repeated
   colours). Tableau's 10 distinct colours, then the same at half brightness,
   and so on. */
static const char *variant_color(size_t v, char *buf, size_t n) {
  static const unsigned tab10[10] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                     0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
  unsigned c = tab10[v % 10];
  if ((v / 10) % 2) c = (c >> 1) & 0x7f7f7f;
  snprintf(buf, n, "#%06x", c);
  return buf;
}

/* A log-scale y range holding every speedup and the "1 = same speed" line. */
typedef struct span {
  double lo, hi;
} span;
static void span_add(span *r, double v) {
  if (!(v > 0) || !isfinite(v)) return;
  r->lo = fmin(r->lo, v);
  r->hi = fmax(r->hi, v);
}
static void put_yrange(FILE *g, const span *r) { fprintf(g, "set yrange [%g:%g]\n", r->lo / 1.5, r->hi * 1.5); }

static bool write_int8(const char *dir, const rp_config *cfg, const rp_quant *q) {
  char path[1024];
  FILE *d = open_in(dir, "tinykern-int8.dat", path, sizeof path);
  if (!d) return false;
  fprintf(d, "# layer (batch x out x in), then per variant: int8 speedup, naive speedup (vs fp32)\n# layer");
  for (size_t v = 0; v < cfg->n_isa; v++) fprintf(d, " %s_int8 %s_naive", tk_isa_name(cfg->isa[v]), tk_isa_name(cfg->isa[v]));
  fputc('\n', d);
  for (size_t s = 0; s < q->n_shapes; s++) {
    fprintf(d, "%zux%zux%zu", q->batch[s], q->out[s], q->in[s]);
    for (size_t v = 0; v < cfg->n_isa; v++)
      fprintf(d, " %.4f %.4f", q->row[v][s].fp32.median / q->row[v][s].int8.median,
              q->row[v][s].fp32.median / q->row[v][s].naive.median);
    fputc('\n', d);
  }
  fclose(d);
  FILE *g = open_in(dir, "tinykern-int8.gp", path, sizeof path);
  if (!g) return false;
  fprintf(g, "# int8 (tk_qlinear) and naive (dequantize every call) speed vs fp32, per variant\n%s", preamble);
  fprintf(g, "set output 'tinykern-int8.png'\n"
             "set title 'int8 linear layer vs fp32 (speedup, higher is better; 1 = fp32)'\n"
             "set ylabel 'speedup vs fp32 (x)'\nset xlabel 'layer: batch x out x in'\n"
             "set style data histograms\nset style histogram clustered gap 1\n"
             "set style fill solid 0.85 border -1\nset boxwidth 0.9\nset yrange [0:*]\n"

             "set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb 'black'\n"
             "plot ");
  for (size_t v = 0; v < cfg->n_isa; v++) {
    const char *isa = tk_isa_name(cfg->isa[v]);
    char c[16];
    variant_color(v, c, sizeof c);
    fprintf(g, "%s'tinykern-int8.dat' using %zu:xtic(1) lc rgb '%s' title '%s int8', "
               "'' using %zu lc rgb '%s' fs pattern 4 title '%s naive'",
            v ? ", " : "", 2 + 2 * v, c, isa, 3 + 2 * v, c, isa);
  }
  fputc('\n', g);
  fclose(g);
  return true;
}

static bool write_kv(const char *dir, const rp_config *cfg, const rp_kv *kv) {
  char path[1024];
  FILE *d = open_in(dir, "tinykern-kv-cache.dat", path, sizeof path);
  if (!d) return false;
  fprintf(d, "# sequence length, then per variant: cached step speedup vs recompute\n# length");
  for (size_t v = 0; v < cfg->n_isa; v++) fprintf(d, " %s", tk_isa_name(cfg->isa[v]));
  fputc('\n', d);
  for (size_t li = 0; li < kv->n_len; li++) {
    fprintf(d, "%zu", kv->len[li]);
    for (size_t v = 0; v < cfg->n_isa; v++) fprintf(d, " %.4f", kv->pt[v][li].speedup);
    fputc('\n', d);
  }
  fclose(d);
  FILE *g = open_in(dir, "tinykern-kv-cache.gp", path, sizeof path);
  if (!g) return false;
  fprintf(g, "# KV cache decode step vs recompute: speedup per sequence length, break-even marked\n%s", preamble);
  fprintf(g, "set output 'tinykern-kv-cache.png'\n"
             "set title 'KV cache: one decode step vs recomputing attention over the prefix'\n"
             "set xlabel 'sequence length (tokens)'\nset ylabel 'speedup (x, log scale)'\n"
             "set logscale xy 2\nset xrange [%g:%g]\n"
             "set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb 'black'\n",
          (double)kv->len[0] / 1.5, (double)kv->len[kv->n_len - 1] * 1.5);
  span r = {1, 1};
  for (size_t v = 0; v < cfg->n_isa; v++)
    for (size_t li = 0; li < kv->n_len; li++) span_add(&r, kv->pt[v][li].speedup);
  put_yrange(g, &r);
  /* The best variant's break-even: a line where the cache starts to win. */
  size_t best = rp_best_variant(cfg);
  double sp[RP_MAX_LENGTHS], x = kv->break_even[best];
  for (size_t li = 0; li < kv->n_len; li++) sp[li] = kv->pt[best][li].speedup;
  const char *isa = tk_isa_name(cfg->isa[best]);
  char c[16];
  variant_color(best, c, sizeof c); /* the marker in its variant's colour */
  if (rp_break_even_index(sp, kv->n_len) == 0)
    fprintf(g, "set label 'break-even (%s): <= %zu tokens, the cache wins at every length' at graph 0.03, graph 0.93 "
               "tc rgb '%s' noenhanced\n", isa, kv->len[0], c);
  else if (!isnan(x))
    fprintf(g, "set arrow from %g, graph 0 to %g, graph 1 nohead lw 2 dt 3 lc rgb '%s'\n"
               "set label 'break-even (%s): about %.0f tokens' at %g, graph 0.93 offset 1,0 tc rgb '%s' noenhanced\n",
            x, x, c, isa, x, x, c);
  else
    fprintf(g, "set label 'no break-even (%s) up to %zu tokens' at graph 0.03, graph 0.93 tc rgb '%s' noenhanced\n",
            isa, kv->len[kv->n_len - 1], c);
  fprintf(g, "plot ");
  for (size_t v = 0; v < cfg->n_isa; v++)
    fprintf(g, "%s'tinykern-kv-cache.dat' using 1:%zu with linespoints lw 2 pt 7 lc rgb '%s' title '%s'", v ? ", " : "",
            2 + v, variant_color(v, c, sizeof c), tk_isa_name(cfg->isa[v]));
  fputc('\n', g);
  fclose(g);
  return true;
}

static bool write_pruning(const char *dir, const rp_config *cfg, const rp_prune *p) {
  char path[1024];
  FILE *d = open_in(dir, "tinykern-pruning.dat", path, sizeof path);
  if (!d) return false;
  fprintf(d, "# sparsity (%%), then per variant: SpMV speedup, SpMM speedup (vs dense fp32)\n# sparsity");
  for (size_t v = 0; v < cfg->n_isa; v++) fprintf(d, " %s_spmv %s_spmm", tk_isa_name(cfg->isa[v]), tk_isa_name(cfg->isa[v]));
  fputc('\n', d);
  for (size_t si = 0; si < p->n_sparsity; si++) {
    fprintf(d, "%g", 100 * p->sparsity[si]);
    for (size_t v = 0; v < cfg->n_isa; v++) fprintf(d, " %.4f %.4f", p->pt[v][si].spmv_speedup, p->pt[v][si].spmm_speedup);
    fputc('\n', d);
  }
  fclose(d);
  FILE *g = open_in(dir, "tinykern-pruning.gp", path, sizeof path);
  if (!g) return false;
  fprintf(g, "# pruned CSR (tk_spmv, tk_spmm) vs dense fp32: speedup per sparsity\n%s", preamble);
  fprintf(g, "set output 'tinykern-pruning.png'\n"
             "set title 'Pruning: CSR SpMV (%zux%zu) and SpMM (%zux%zu, batch %zu) vs dense fp32'\n"
             "set xlabel 'sparsity (%%)'\nset ylabel 'speedup vs dense (x, log scale)'\nset logscale y 2\n"
             "set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb 'black'\n",
          p->mv_rows, p->mv_cols, p->mm_rows, p->mm_cols, p->mm_n);
  span r = {1, 1};
  for (size_t v = 0; v < cfg->n_isa; v++)
    for (size_t si = 0; si < p->n_sparsity; si++) span_add(&r, p->pt[v][si].spmv_speedup), span_add(&r, p->pt[v][si].spmm_speedup);
  put_yrange(g, &r);
  fprintf(g, "plot ");
  for (size_t v = 0; v < cfg->n_isa; v++) {
    const char *isa = tk_isa_name(cfg->isa[v]);
    char c[16];
    variant_color(v, c, sizeof c);
    fprintf(g, "%s'tinykern-pruning.dat' using 1:%zu with linespoints lw 2 pt 7 lc rgb '%s' title 'SpMV %s', "
               "'' using 1:%zu with linespoints lw 2 pt 5 dt 2 lc rgb '%s' title 'SpMM %s'",
            v ? ", " : "", 2 + 2 * v, c, isa, 3 + 2 * v, c, isa);
  }
  fputc('\n', g);
  fclose(g);
  return true;
}

void rp_charts_write(const char *dir, const rp_config *cfg, const rp_quant *q, const rp_kv *kv,
                     const rp_prune *p, rp_charts *out) {
  memset(out, 0, sizeof *out);
  if (strchr(dir, '\'')) { /* the path goes into single-quoted shell and gnuplot strings */
    snprintf(out->note, sizeof out->note, "chart directory names with a quote are not supported");
    return;
  }
  if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
    snprintf(out->note, sizeof out->note, "cannot create %s: %s", dir, strerror(errno));
    return;
  }
  if (!write_int8(dir, cfg, q) || !write_kv(dir, cfg, kv) || !write_pruning(dir, cfg, p)) {
    snprintf(out->note, sizeof out->note, "cannot write the chart data into %s", dir);
    return;
  }
  if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
    snprintf(out->note, sizeof out->note,
             "gnuplot not found: data and scripts are in %s (apt-get install gnuplot-nox, then gnuplot FILE.gp)", dir);
    return;
  }
  out->gnuplot = true;
  run(dir, "tinykern-int8.gp", "tinykern-int8.png", out);
  run(dir, "tinykern-kv-cache.gp", "tinykern-kv-cache.png", out);
  run(dir, "tinykern-pruning.gp", "tinykern-pruning.png", out);
  if (out->n < 3) snprintf(out->note, sizeof out->note, "gnuplot drew %zu of 3 charts", out->n);
}
