/* int8 benchmarks: tk_dot_s8 and tk_quantize_s8 per variant from L1 to DRAM sizes, and the cost of dispatch. */
#include "bench/bench_common.h"

/* The inputs of the current size, shared by consecutive runs (filling 256 MiB
   per repetition would take longer than timing it). Both arrays live in one
   block, b right after a, so timings do not depend on where the allocator
   happened to put them: on Zen, two inputs 128 MiB + 4 KiB apart collide in
   the L1 way predictor (same linear-address hash) and L1-sized dots lose ~30%. */
static int8_t *g_a, *g_b;
static float *g_x;
static int8_t *g_q;
static size_t g_s8_len, g_f32_len;

static void inputs_s8(size_t n) {
  if (n == g_s8_len) return;
  tkb_free(g_a);
  size_t stride = (n + 63) / 64 * 64;
  g_a = tkb_alloc(2 * stride);
  g_b = g_a + stride;
  tkb_fill_s8(g_a, n, 1);
  tkb_fill_s8(g_b, n, 2);
  g_s8_len = n;
}

/* x [n] floats then q [n] int8, one block. */
static void inputs_f32(size_t n) {
  if (n == g_f32_len) return;
  tkb_free(g_x);
  g_x = tkb_alloc(n * sizeof(float) + n);
  g_q = (int8_t *)(g_x + n);
  tkb_fill_f32(g_x, n, 3, -4.0f, 4.0f);
  g_f32_len = n;
}

/* tk_dot_s8 (the public function, under this run's ISA) over n pairs; above
   TK_DOT_S8_MAX_N in chunks of that size, as a caller with long vectors must. */
static void bm_dot_s8(gb_state *st) {
  if (!tkb_variant(st)) return;
  size_t n = (size_t)gb_range(st, 0);
  inputs_s8(n);
  const int8_t *a = g_a, *b = g_b;
  GB_LOOP(st) {
    int32_t total = 0;
    for (size_t i = 0; i < n; i += TK_DOT_S8_MAX_N) {
      int32_t r;
      tk_dot_s8(a + i, b + i, n - i < TK_DOT_S8_MAX_N ? n - i : TK_DOT_S8_MAX_N, &r);
      total += r;
    }
    GB_DO_NOT_OPTIMIZE(total);
  }
  /* 2 ops (multiply, add) per pair; both int8 inputs are read. */
  tkb_counters(st, TKB_PEAK_S8, 2.0 * (double)n, 2.0 * (double)n, 2 * n);
}

/* tk_quantize_s8 (max|x| pass, then the quantizing pass). Bytes counted once:
   n floats read and n int8 written. */
static void bm_quantize_s8(gb_state *st) {
  if (!tkb_variant(st)) return;
  size_t n = (size_t)gb_range(st, 0);
  inputs_f32(n);
  const float *x = g_x;
  int8_t *q = g_q;
  GB_LOOP(st) {
    float scale;
    tk_quantize_s8(x, n, q, &scale);
    GB_DO_NOT_OPTIMIZE(scale);
    gb_escape(q);
  }
  tkb_counters(st, TKB_PEAK_NONE, 0.0, 5.0 * (double)n, 5 * n);
  gb_counter(st, "elems", (double)n, GB_RATE_PER_ITER);
}

/* Dispatch overhead at tiny n: the public call (argument checks, the active
   table's atomic load, the indirect call) against calling the active table's
   kernel pointer directly, loaded once before the loop. The difference in
   time per iteration is what dispatch costs per call. */
static void bm_dispatch_public(gb_state *st) {
  if (!tkb_variant(st)) return;
  size_t n = (size_t)gb_range(st, 0);
  inputs_s8(n);
  const int8_t *a = g_a, *b = g_b;
  GB_LOOP(st) {
    int32_t r;
    tk_dot_s8(a, b, n, &r);
    GB_DO_NOT_OPTIMIZE(r);
  }
}

static void bm_dispatch_direct(gb_state *st) {
  const tk_kernels *k = tkb_variant(st);
  if (!k) return;
  size_t n = (size_t)gb_range(st, 0);
  inputs_s8(n);
  const int8_t *a = g_a, *b = g_b;
  int32_t (*dot)(const int8_t *, const int8_t *, size_t) = k->dot_s8;
  GB_LOOP(st) {
    int32_t r = dot(a, b, n);
    GB_DO_NOT_OPTIMIZE(r);
  }
}

int main(int argc, char **argv) {
  /* L1, L2 (beyond a 32 KiB L1d), the largest single call (256 KiB), L3-sized
     (8 MiB) and DRAM-sized (256 MiB) working sets of the two inputs. */
  static const int64_t dot_sizes[] = {4096, 32768, TK_DOT_S8_MAX_N, 4 << 20, 128 << 20};
  static const int64_t quant_sizes[] = {4096, 65536, 1 << 20};
  TKB_FOR_EACH_ISA(isa) {
    gb_bench *b = gb_arg_name(tkb_register("dot_s8", isa, bm_dot_s8, NULL), "n");
    for (size_t i = 0; i < sizeof dot_sizes / sizeof dot_sizes[0]; i++) gb_arg(b, dot_sizes[i]);
  }
  TKB_FOR_EACH_ISA(isa) {
    gb_bench *b = gb_arg_name(tkb_register("quantize_s8", isa, bm_quantize_s8, NULL), "n");
    for (size_t i = 0; i < sizeof quant_sizes / sizeof quant_sizes[0]; i++) gb_arg(b, quant_sizes[i]);
  }
  /* The overhead does not depend on the ISA: measured on the best one. */
  tk_isa best = tk_isa_best();
  gb_arg(gb_arg(gb_arg_name(tkb_register("dispatch/public", best, bm_dispatch_public, NULL), "n"), 1), 16);
  gb_arg(gb_arg(gb_arg_name(tkb_register("dispatch/direct", best, bm_dispatch_direct, NULL), "n"), 1), 16);
  return tkb_main(argc, argv);
}
