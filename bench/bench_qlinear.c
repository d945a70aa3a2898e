/* qlinear benchmarks: int8 tk_qlinear_forward and fp32 tk_linear_f32 per variant, against OpenBLAS sgemv/sgemm, on the layer shapes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_common.h"

#ifdef TK_HAVE_CBLAS
#include <cblas.h>
#endif

/* batch x out x in; batch 1 is a GEMV (memory bound: the weights stream once),
   larger batches a GEMM (compute bound). */
typedef struct shape {
  size_t batch, out, in;
  char name[32];
} shape;
static shape g_shapes[] = {{1, 1024, 1024, ""}, {1, 4096, 4096, ""}, {64, 1024, 1024, ""},
                           {256, 4096, 1024, ""}};
#define N_SHAPES (sizeof g_shapes / sizeof g_shapes[0])

/* The inputs of the current shape, shared by consecutive rows (filling and
   quantizing 16 Mi weights per repetition would take longer than timing them):
   W [out][in], bias [out], x [batch][in], y [batch][out] and the int8 layer. */
static const shape *g_cur;
static float *g_w, *g_bias, *g_x, *g_y;
static tk_qlinear *g_layer;

static void inputs(const shape *s) {
  if (g_cur == s) return;
  tkb_free(g_w);
  tkb_free(g_bias);
  tkb_free(g_x);
  tkb_free(g_y);
  tk_qlinear_destroy(g_layer);
  g_w = tkb_alloc(s->out * s->in * sizeof(float));
  g_bias = tkb_alloc(s->out * sizeof(float));
  g_x = tkb_alloc(s->batch * s->in * sizeof(float));
  g_y = tkb_alloc(s->batch * s->out * sizeof(float));
  tkb_fill_f32(g_w, s->out * s->in, 1, -1.0f, 1.0f);
  tkb_fill_f32(g_bias, s->out, 2, -1.0f, 1.0f);
  tkb_fill_f32(g_x, s->batch * s->in, 3, -4.0f, 4.0f);
  g_layer = NULL;
  if (tk_qlinear_create(g_w, s->out, s->in, g_bias, &g_layer) != TK_OK) {
    fprintf(stderr, "bench_qlinear: tk_qlinear_create failed\n");
    exit(1);
  }
  g_cur = s;
}

/* 2 ops per multiply-add. Bytes: the weights as the layer stores them, the
   activations read and the outputs written; the weights alone decide the
   memory level (pct_bw): `copies` of them (the cold rows' layers) are the
   working set. "w_bytes" is the weights' own rate (GB/s of weights). */
static void counters(gb_state *st, tk_isa isa, tkb_peak peak, const shape *s, double w_bytes,
                     double x_elem_bytes, size_t copies) {
  double ops = 2.0 * (double)s->batch * (double)s->out * (double)s->in;
  double bytes = w_bytes + (double)(s->batch * s->in) * x_elem_bytes +
                 (double)(s->batch * s->out) * sizeof(float);
  tkb_counters_isa(st, isa, peak, ops, bytes, (size_t)w_bytes * copies);
  /* A warm GEMV against the read rate of a buffer of its weights' size. */
  if (s->batch == 1 && copies == 1) {
    const double secs = gb_loop_seconds(st), iters = (double)gb_iterations(st);
    const double ref = tkb_read_bps_of((size_t)w_bytes);
    if (secs > 0 && iters > 0 && ref > 0)
      gb_counter(st, "pct_bw_set", 100.0 * bytes * iters / secs / ref, GB_PLAIN);
  }
  gb_counter(st, "w_bytes", w_bytes, GB_RATE_PER_ITER);
}

/* Public tk_qlinear_forward under the row's ISA: quantizing the activations,
   the int8 GEMV/GEMM and the fp32 epilogue, all timed. */
static void bm_qlinear(gb_state *st) {
  if (!tkb_variant(st)) return;
  const shape *s = tkb_user(st);
  inputs(s);
  const tk_qlinear *l = g_layer;
  const float *x = g_x;
  float *y = g_y;
  GB_LOOP(st) {
    tk_qlinear_forward(l, x, s->batch, y);
    gb_escape(y);
  }
  counters(st, tkb_isa(st), TKB_PEAK_S8, s, (double)tk_qlinear_bytes(l), sizeof(float), 1);
}

/* Cold rows: the weights come from DRAM, as in a model whose other layers
   pass through the caches between two calls of one layer. Copies of the
   layer (tk_qlinear_create_s8 from its exported int8 weights: the same
   bytes, no re-quantization) or of W, together at least the DRAM roofline's
   cold set (8x the largest cache, report/cold_set.h), are run in turn, one
   per iteration; made once per shape and shared by the ISAs' rows. */
static const shape *g_cold_cur;
static tk_qlinear **g_cold_layers;
static float **g_cold_w;
static size_t g_cold_n;

static void cold_free(void) {
  for (size_t i = 0; i < g_cold_n; i++) {
    tk_qlinear_destroy(g_cold_layers[i]);
    tkb_free(g_cold_w[i]);
  }
  tkb_free(g_cold_layers);
  tkb_free(g_cold_w);
  g_cold_layers = NULL, g_cold_w = NULL, g_cold_n = 0, g_cold_cur = NULL;
}

static void cold_inputs(const shape *s) {
  if (g_cold_cur == s) return;
  cold_free();
  inputs(s);
  const size_t set = tkb_roofline_get()->level_buffer[TKB_DRAM];
  const size_t wq_bytes = s->out * s->in, w_bytes = wq_bytes * sizeof(float);
  const size_t n = set / wq_bytes + 1;
  int8_t *wq = tkb_alloc(wq_bytes);
  float *scale = tkb_alloc(s->out * sizeof(float)), *bias = tkb_alloc(s->out * sizeof(float));
  tk_qlinear_export(g_layer, wq, scale, bias);
  g_cold_layers = tkb_alloc(n * sizeof *g_cold_layers);
  g_cold_w = tkb_alloc(n * sizeof *g_cold_w);
  for (size_t i = 0; i < n; i++) {
    g_cold_layers[i] = NULL;
    if (tk_qlinear_create_s8(wq, scale, s->out, s->in, bias, &g_cold_layers[i]) != TK_OK) {
      fprintf(stderr, "bench_qlinear: tk_qlinear_create_s8 failed\n");
      exit(1);
    }
    /* fp32 copies only as many as the set needs (4x the bytes per copy). */
    g_cold_w[i] = i < set / w_bytes + 1 ? tkb_alloc(w_bytes) : NULL;
    if (g_cold_w[i]) memcpy(g_cold_w[i], g_w, w_bytes);
  }
  tkb_free(wq);
  tkb_free(scale);
  tkb_free(bias);
  g_cold_n = n;
  g_cold_cur = s;
}

static void bm_qlinear_cold(gb_state *st) {
  if (!tkb_variant(st)) return;
  const shape *s = tkb_user(st);
  cold_inputs(s);
  size_t i = 0;
  GB_LOOP(st) {
    tk_qlinear_forward(g_cold_layers[i], g_x, s->batch, g_y);
    gb_escape(g_y);
    i = i + 1 == g_cold_n ? 0 : i + 1;
  }
  counters(st, tkb_isa(st), TKB_PEAK_S8, s, (double)tk_qlinear_bytes(g_layer), sizeof(float),
           g_cold_n);
  gb_counter(st, "layers", (double)g_cold_n, GB_PLAIN);
}

static void bm_linear_f32_cold(gb_state *st) {
  if (!tkb_variant(st)) return;
  const shape *s = tkb_user(st);
  cold_inputs(s);
  size_t n = 0;
  while (n < g_cold_n && g_cold_w[n]) n++;
  size_t i = 0;
  GB_LOOP(st) {
    tk_linear_f32(g_cold_w[i], s->out, s->in, g_bias, g_x, s->batch, g_y);
    gb_escape(g_y);
    i = i + 1 == n ? 0 : i + 1;
  }
  counters(st, tkb_isa(st), TKB_PEAK_F32, s, (double)(s->out * s->in * sizeof(float)),
           sizeof(float), n);
  gb_counter(st, "layers", (double)n, GB_PLAIN);
}

/* Public tk_linear_f32 under the row's ISA. */
static void bm_linear_f32(gb_state *st) {
  if (!tkb_variant(st)) return;
  const shape *s = tkb_user(st);
  inputs(s);
  const float *w = g_w, *bias = g_bias, *x = g_x;
  float *y = g_y;
  GB_LOOP(st) {
    tk_linear_f32(w, s->out, s->in, bias, x, s->batch, y);
    gb_escape(y);
  }
  counters(st, tkb_isa(st), TKB_PEAK_F32, s, (double)(s->out * s->in * sizeof(float)),
           sizeof(float), 1);
}

/* Thread scaling, best ISA: tk_qlinear_forward_ex / tk_linear_f32_ex with a
   caller workspace (so no allocation is timed), wall clock. Args: threads,
   path (tkb_path). */
static void bm_threads(gb_state *st, bool int8) {
  const shape *s = gb_ctx(st);
  inputs(s);
  const size_t threads = (size_t)gb_range(st, 0);
  tk_exec e = tkb_exec((tkb_path)gb_range(st, 1), threads);
  const size_t ws = tk_qlinear_workspace_bytes(g_layer, s->batch, &e);
  e.workspace = tkb_alloc(ws);
  e.workspace_bytes = ws;
  GB_LOOP(st) {
    if (int8)
      tk_qlinear_forward_ex(&e, g_layer, g_x, s->batch, g_y);
    else
      tk_linear_f32_ex(&e, g_w, s->out, s->in, g_bias, g_x, s->batch, g_y);
    gb_escape(g_y);
  }
  tkb_free(e.workspace);
  counters(st, tk_isa_active(), int8 ? TKB_PEAK_S8 : TKB_PEAK_F32, s,
           int8 ? (double)tk_qlinear_bytes(g_layer) : (double)(s->out * s->in * sizeof(float)),
           sizeof(float), 1);
}
static void bm_threads_qlinear(gb_state *st) { bm_threads(st, true); }
static void bm_threads_linear_f32(gb_state *st) { bm_threads(st, false); }

/* tk_qlinear_create: quantizing and packing, GB/s of fp32 weights in. */
static void bm_create(gb_state *st) {
  if (!tkb_variant(st)) return;
  const shape *s = tkb_user(st);
  inputs(s);
  GB_LOOP(st) {
    tk_qlinear *l = NULL;
    tk_qlinear_create(g_w, s->out, s->in, g_bias, &l);
    gb_escape(l);
    tk_qlinear_destroy(l);
  }
  gb_counter(st, "bytes", (double)(s->out * s->in * sizeof(float)), GB_RATE_PER_ITER);
}

#ifdef TK_HAVE_CBLAS
/* OpenBLAS, one thread (tkb_main): y = x W^T (+ bias, copied in first, as a
   layer must). Batch 1: sgemv on row-major W; else sgemm with W transposed. */
static void bm_openblas(gb_state *st) {
  const shape *s = gb_ctx(st);
  inputs(s);
  const float *w = g_w, *bias = g_bias, *x = g_x;
  float *y = g_y;
  const int n = (int)s->out, k = (int)s->in, m = (int)s->batch;
  GB_LOOP(st) {
    for (size_t b = 0; b < s->batch; b++) memcpy(y + b * s->out, bias, s->out * sizeof(float));
    if (m == 1)
      cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0f, w, k, x, 1, 1.0f, y, 1);
    else
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, x, k, w, k, 1.0f, y, n);
    gb_escape(y);
  }
  counters(st, tk_isa_best(), TKB_PEAK_F32, s, (double)(s->out * s->in * sizeof(float)),
           sizeof(float), 1);
}
#endif

int main(int argc, char **argv) {
  for (size_t i = 0; i < N_SHAPES; i++) {
    shape *s = &g_shapes[i];
    snprintf(s->name, sizeof s->name, "%zux%zux%zu", s->batch, s->out, s->in);
    char name[64];
    TKB_FOR_EACH_ISA(isa) {
      snprintf(name, sizeof name, "qlinear/%s", s->name);
      gb_unit(tkb_register(name, isa, bm_qlinear, s), GB_US);
    }
    TKB_FOR_EACH_ISA(isa) {
      snprintf(name, sizeof name, "linear_f32/%s", s->name);
      gb_unit(tkb_register(name, isa, bm_linear_f32, s), GB_US);
    }
    if (s->batch == 1) {
      TKB_FOR_EACH_ISA(isa) {
        snprintf(name, sizeof name, "qlinear_cold/%s", s->name);
        gb_unit(tkb_register(name, isa, bm_qlinear_cold, s), GB_US);
      }
      TKB_FOR_EACH_ISA(isa) {
        snprintf(name, sizeof name, "linear_f32_cold/%s", s->name);
        gb_unit(tkb_register(name, isa, bm_linear_f32_cold, s), GB_US);
      }
    }
    for (int fam = 0; fam < 2; fam++) {
      snprintf(name, sizeof name, "threads/%s/%s", fam ? "linear_f32" : "qlinear", s->name);
      gb_bench *b = gb_register(name, fam ? bm_threads_linear_f32 : bm_threads_qlinear, s);
      gb_arg_names2(gb_use_real_time(gb_unit(b, GB_US)), "threads", "path");
      for (int64_t path = 0; path < TKB_PATHS; path++)
        for (size_t t = 1; t <= tkb_max_threads(); t++) gb_args2(b, (int64_t)t, path);
    }
    if (s->batch == 1)
      TKB_FOR_EACH_ISA(isa) {
        snprintf(name, sizeof name, "create/%s", s->name);
        gb_unit(tkb_register(name, isa, bm_create, s), GB_MS);
      }
#ifdef TK_HAVE_CBLAS
    snprintf(name, sizeof name, "openblas/%s/%s", s->batch == 1 ? "sgemv" : "sgemm", s->name);
    gb_unit(gb_register(name, bm_openblas, s), GB_US);
#endif
  }
  return tkb_main(argc, argv);
}
