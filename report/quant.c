/* Table 1, quantization: int8 tk_qlinear vs fp32 tk_linear_f32 vs dequantizing on every call. */
#include "quant.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "stats.h"

/* batch x out x in. GEMV is memory bound (int8 moves 4x fewer weight bytes),
   GEMM compute bound: both regimes are shown, at sizes where the work is real
   (the seed's lesson: at toy sizes overheads decide). */
static size_t shapes(rp_mode mode, size_t s[RP_MAX_SHAPES][3]) {
  static const size_t def[][3] = {{1, 1024, 1024}, {1, 4096, 4096}, {64, 1024, 1024}};
  static const size_t quick[][3] = {{1, 2048, 2048}, {32, 1024, 1024}};
  static const size_t tiny[][3] = {{1, 96, 64}, {5, 33, 70}};
  const size_t(*t)[3] = mode == RP_DEFAULT ? def : mode == RP_QUICK ? quick : tiny;
  size_t n = mode == RP_DEFAULT ? 3 : 2;
  memcpy(s, t, n * sizeof *t);
  return n;
}

typedef struct layer {
  size_t batch, out, in;
  const float *w, *bias, *x;
  float *y;
  tk_qlinear *q;
  /* The naive scheme: int8 weights and row scales kept, expanded to fp32 into
     `scratch` on every call, then an fp32 product. */
  int8_t *qw;
  float *scales, *scratch;
} layer;

static int call_fp32(void *p) {
  layer *l = p;
  return tk_linear_f32(l->w, l->out, l->in, l->bias, l->x, l->batch, l->y);
}
static int call_int8(void *p) {
  layer *l = p;
  return tk_qlinear_forward(l->q, l->x, l->batch, l->y);
}
static int call_naive(void *p) {
  layer *l = p;
  for (size_t r = 0; r < l->out; r++) {
    tk_status st = tk_dequantize_s8(l->qw + r * l->in, l->in, l->scales[r], l->scratch + r * l->in);
    if (st != TK_OK) return st;
  }
  return tk_linear_f32(l->scratch, l->out, l->in, l->bias, l->x, l->batch, l->y);
}

static int measure_shape(const rp_config *cfg, rp_quant *q, size_t si, layer *l, float *y_ref) {
  size_t ny = l->batch * l->out;
  for (size_t v = 0; v < cfg->n_isa; v++) {
    if (rp_use_isa(cfg->isa[v])) return -1;
    rp_quant_row *row = &q->row[v][si];
    rp_progress(false, "[1/3 quantization] %s %zux%zux%zu: fp32, int8, naive", tk_isa_name(cfg->isa[v]),
                l->batch, l->out, l->in);
    rp_job jobs[3] = {{call_fp32, l, &row->fp32}, {call_int8, l, &row->int8}, {call_naive, l, &row->naive}};
    RP_CHECK(rp_measure_jobs(jobs, 3, &cfg->budget));
    /* The errors of this variant's outputs against its own fp32 output. */
    RP_CHECK(call_fp32(l));
    memcpy(y_ref, l->y, ny * sizeof *y_ref);
    RP_CHECK(call_int8(l));
    row->mse = rp_mse(l->y, y_ref, ny);
    row->nmse = rp_nmse(l->y, y_ref, ny);
    RP_CHECK(call_naive(l));
    row->naive_mse = rp_mse(l->y, y_ref, ny);
  }
  return 0;
}

int rp_quant_run(const rp_config *cfg, rp_quant *q) {
  size_t s[RP_MAX_SHAPES][3];
  q->n_shapes = shapes(cfg->mode, s);
  uint64_t seed = 0x5eed0001;
  int rc = 0;
  for (size_t si = 0; si < q->n_shapes && rc == 0; si++) {
    layer l = {.batch = s[si][0], .out = s[si][1], .in = s[si][2]};
    q->batch[si] = l.batch, q->out[si] = l.out, q->in[si] = l.in;
    rp_progress(true, "[1/3 quantization] %zux%zux%zu: preparing", l.batch, l.out, l.in);
    size_t nw = l.out * l.in;
    float *w = malloc(nw * sizeof *w), *bias = malloc(l.out * sizeof *bias);
    float *x = malloc(l.batch * l.in * sizeof *x), *y = malloc(l.batch * l.out * sizeof *y);
    float *y_ref = malloc(l.batch * l.out * sizeof *y_ref);
    l.qw = malloc(nw);
    l.scales = malloc(l.out * sizeof *l.scales);
    l.scratch = malloc(nw * sizeof *l.scratch);
    rc = -1;
    if (w && bias && x && y && y_ref && l.qw && l.scales && l.scratch) {
      /* Weights like a trained layer's: normal, variance 1 / in (outputs O(1)). */
      rp_fill_normal(w, nw, 1 / sqrt((double)l.in), &seed);
      rp_fill_normal(bias, l.out, 0.1, &seed);
      rp_fill_normal(x, l.batch * l.in, 1, &seed);
      l.w = w, l.bias = bias, l.x = x, l.y = y;
      rc = 0;
      for (size_t r = 0; r < l.out && rc == 0; r++)
        rc = tk_quantize_s8(w + r * l.in, l.in, l.qw + r * l.in, &l.scales[r]) == TK_OK ? 0 : -1;
      if (rc == 0 && tk_qlinear_create(w, l.out, l.in, bias, &l.q) != TK_OK) rc = -1;
      if (rc == 0) {
        q->bytes_fp32[si] = (nw + l.out) * sizeof(float);
        q->bytes_int8[si] = tk_qlinear_bytes(l.q);
        q->bytes_naive[si] = nw * (1 + sizeof(float)) + 2 * l.out * sizeof(float);
        rc = measure_shape(cfg, q, si, &l, y_ref);
      } else {
        fprintf(stderr, "tinykern-report: preparing the %zux%zux%zu layer failed\n", l.batch, l.out, l.in);
      }
    }
    tk_qlinear_destroy(l.q);
    free(w), free(bias), free(x), free(y), free(y_ref), free(l.qw), free(l.scales), free(l.scratch);
  }
  return rc;
}

void rp_quant_print(rp_text *out, const rp_config *cfg, const rp_quant *q, const rp_quant_accuracy *a) {
  FILE *f = out->f;
  char t[32], m[32];
  fprintf(f, "\n## 1. Quantization: int8 weights (tk_qlinear) vs fp32 (tk_linear_f32)\n\n"
             "Weights normal(0, 1/in) with a bias; int8 keeps one fp32 scale per output row and\n"
             "stays int8 inside (int8 x int8 -> int32). \"naive\" keeps the same int8 weights but\n"
             "dequantizes them to fp32 on every call, then runs the fp32 product: the seed's mistake\n"
             "(its error is lower than int8's only because its activations stay fp32).\n");
  for (size_t v = 0; v < cfg->n_isa; v++) {
    fprintf(f, "\n### variant %s\n\n", tk_isa_name(cfg->isa[v]));
    fprintf(f, "| layer (batch x out x in) | method | time | speedup vs fp32 | memory | output MSE vs fp32 |\n"
               "|---|---|---:|---:|---:|---:|\n");
    for (size_t s = 0; s < q->n_shapes; s++) {
      const rp_quant_row *r = &q->row[v][s];
      char shape[64];
      snprintf(shape, sizeof shape, "%zux%zux%zu%s", q->batch[s], q->out[s], q->in[s],
               q->batch[s] == 1 ? " (GEMV)" : " (GEMM)");
      fprintf(f, "| %s | fp32 | %s | 1.00x | %s | - |\n", shape, rp_fmt_timing(out, t, sizeof t, &r->fp32),
              rp_fmt_bytes(m, sizeof m, q->bytes_fp32[s]));
      fprintf(f, "| | int8 | %s | **%.2fx** | %s | %.2e (%.4f%% of signal) |\n",
              rp_fmt_timing(out, t, sizeof t, &r->int8), rp_speedup(r->fp32.median, r->int8.median),
              rp_fmt_bytes(m, sizeof m, q->bytes_int8[s]), r->mse, 100 * r->nmse);
      fprintf(f, "| | naive: dequantize every call | %s | %.2fx | %s | %.2e |\n",
              rp_fmt_timing(out, t, sizeof t, &r->naive), rp_speedup(r->fp32.median, r->naive.median),
              rp_fmt_bytes(m, sizeof m, q->bytes_naive[s]), r->naive_mse);
    }
  }
  fprintf(f, "\nOn real data (digits MLP, below): fp32 %.1f%%, int8 %.1f%% test accuracy "
             "(loss %.1f points); weights %s -> %s.\n",
          100 * a->fp32, 100 * a->int8, 100 * (a->fp32 - a->int8), rp_fmt_bytes(t, sizeof t, a->bytes_fp32),
          rp_fmt_bytes(m, sizeof m, a->bytes_int8));
}

void rp_quant_json(rp_json *j, const rp_config *cfg, const rp_quant *q) {
  rp_json_array(j, "quantization");
  for (size_t s = 0; s < q->n_shapes; s++) {
    rp_json_object(j, NULL);
    rp_json_uint(j, "batch", q->batch[s]);
    rp_json_uint(j, "out_features", q->out[s]);
    rp_json_uint(j, "in_features", q->in[s]);
    rp_json_uint(j, "bytes_fp32", q->bytes_fp32[s]);
    rp_json_uint(j, "bytes_int8", q->bytes_int8[s]);
    rp_json_uint(j, "bytes_naive", q->bytes_naive[s]);
    rp_json_object(j, "variants");
    for (size_t v = 0; v < cfg->n_isa; v++) {
      const rp_quant_row *r = &q->row[v][s];
      rp_json_object(j, tk_isa_name(cfg->isa[v]));
      rp_timing_json(j, "fp32", &r->fp32);
      rp_timing_json(j, "int8", &r->int8);
      rp_timing_json(j, "naive", &r->naive);
      rp_json_num(j, "speedup_int8", rp_speedup(r->fp32.median, r->int8.median));
      rp_json_num(j, "speedup_naive", rp_speedup(r->fp32.median, r->naive.median));
      rp_json_num(j, "mse_int8", r->mse);
      rp_json_num(j, "nmse_int8", r->nmse);
      rp_json_num(j, "mse_naive", r->naive_mse);
      rp_json_end(j);
    }
    rp_json_end(j);
    rp_json_end(j);
  }
  rp_json_end(j);
}
