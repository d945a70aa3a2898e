/* qlinear and linear_f32: every variant against plain references (int32 part exact), accuracy, memory, bad input. */
#include <float.h>
#include <math.h>

#include "qlinear/qlinear_kernels.h"
#include "tk_test.h"

/* ---- references ---- */

/* The documented rule: scale = max|x| / 127 (1 when all zero), q = clamp(rne(x / scale)). */
static float ref_quantize_row(const float *x, size_t n, int8_t *q) {
  float m = 0.0f;
  for (size_t i = 0; i < n; i++) m = fmaxf(m, fabsf(x[i]));
  float s = m == 0.0f ? 1.0f : m / 127.0f;
  if (s == 0.0f) s = FLT_TRUE_MIN;
  for (size_t i = 0; i < n; i++) {
    float v = rintf(x[i] / s);
    q[i] = (int8_t)(v > 127.0f ? 127 : v < -127.0f ? -127 : v);
  }
  return s;
}

typedef struct ref_q {
  int8_t *wq, *xq;
  float *ws, *xs;
  int64_t *acc; /* [batch][out] */
} ref_q;

static ref_q ref_qlinear(const float *w, size_t out, size_t in, const float *x, size_t batch) {
  ref_q r;
  r.wq = malloc(out * in);
  r.xq = malloc(batch * in + 1);
  r.ws = malloc(out * sizeof(float));
  r.xs = malloc(batch * sizeof(float) + 1);
  r.acc = malloc(batch * out * sizeof(int64_t) + 1);
  assert_true(r.wq && r.xq && r.ws && r.xs && r.acc);
  for (size_t o = 0; o < out; o++) r.ws[o] = ref_quantize_row(w + o * in, in, r.wq + o * in);
  for (size_t b = 0; b < batch; b++) r.xs[b] = ref_quantize_row(x + b * in, in, r.xq + b * in);
  for (size_t b = 0; b < batch; b++)
    for (size_t o = 0; o < out; o++) {
      int64_t s = 0;
      for (size_t k = 0; k < in; k++) s += (int64_t)r.wq[o * in + k] * r.xq[b * in + k];
      r.acc[b * out + o] = s;
    }
  return r;
}

static void ref_free(ref_q *r) {
  free(r->wq);
  free(r->xq);
  free(r->ws);
  free(r->xs);
  free(r->acc);
}

/* ---- shapes: every K, N and batch of the issue for every variant, without the full product ---- */

typedef struct shape {
  size_t batch, out, in;
} shape;

static const size_t Ks[] = {1, 7, 8, 31, 33, 64, 255, 4095};
static const size_t Ns[] = {1, 3, 8, 17, 64, 1000};
static const size_t Bs[] = {1, 2, 5, 64, 67};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum { MAX_SHAPES = 400 };
static shape shapes[MAX_SHAPES];
static size_t n_shapes;

/* The small K against every (batch, N) pair; the large K against a few pairs
   that still include every N and batch, the big ones apart. */
static void build_shapes(void) {
  n_shapes = 0;
  for (size_t ki = 0; ki < COUNT(Ks); ki++) {
    if (Ks[ki] <= 64) {
      for (size_t bi = 0; bi < COUNT(Bs); bi++)
        for (size_t ni = 0; ni < COUNT(Ns); ni++)
          shapes[n_shapes++] = (shape){Bs[bi], Ns[ni], Ks[ki]};
    } else {
      const shape few[] = {{1, 1000, 0}, {2, 17, 0}, {5, 64, 0}, {64, 8, 0}, {67, 3, 0}, {1, 1, 0}};
      for (size_t i = 0; i < COUNT(few); i++)
        shapes[n_shapes++] = (shape){few[i].batch, few[i].out, Ks[ki]};
    }
  }
}

/* Weights and activations with the cases the issue names: random rows, all-zero
   rows, rows with one huge value, and values that quantize to exactly +-127. */
static void fill_case(tk_rng *r, float *a, size_t rows, size_t cols) {
  for (size_t i = 0; i < rows; i++) {
    float *row = a + i * cols;
    size_t kind = i % 5;
    for (size_t k = 0; k < cols; k++) row[k] = tk_rng_f32(r, -1.0f, 1.0f);
    if (kind == 1 && rows > 1) {
      for (size_t k = 0; k < cols; k++) row[k] = 0.0f;
    } else if (kind == 2) {
      row[tk_rng_next(r) % cols] = (tk_rng_next(r) & 1) ? 3.0e4f : -3.0e4f;
    } else if (kind == 3) {
      for (size_t k = 0; k < cols; k++) row[k] = (k & 1) ? -2.0f : 2.0f;
    }
  }
}

/* ---- qlinear ---- */

/* y against the same quantized math in double: fp32 epilogue rounding only. */
static void check_qlinear_output(const char *who, tk_isa isa, shape s, bool has_bias,
                                 const float *bias, const ref_q *ref, const float *y) {
  for (size_t b = 0; b < s.batch; b++)
    for (size_t o = 0; o < s.out; o++) {
      double p = (double)ref->acc[b * s.out + o] * (double)ref->ws[o] * (double)ref->xs[b];
      double bo = has_bias ? (double)bias[o] : 0.0;
      double want = p + bo;
      double tol = 4.0 * FLT_EPSILON * (fabs(p) + fabs(bo)) + FLT_MIN;
      double got = y[b * s.out + o];
      if (!(fabs(got - want) <= tol)) {
        print_error("%s %s (%s) batch=%zu out=%zu in=%zu bias=%d: y[%zu][%zu] = %.9g, want %.9g "
                    "(acc %lld)\n",
                    who, tk_isa_name(isa), tk_test_kind(isa), s.batch, s.out, s.in, has_bias, b,
                    o, got, want, (long long)ref->acc[b * s.out + o]);
        fail();
      }
    }
}

/* The inputs, layers and references of the shapes, built once by the first
   variant's case and read by the others (kept until exit): every variant runs
   on the same inputs, and the plain int64 reference and the inputs cost more
   than the kernels they check, 8 times over under qemu. */
typedef struct ql_case {
  bool has_bias;
  float *x, *bias;
  tk_qlinear *l;
  ref_q ref; /* sums and scales (wq, xq freed) */
} ql_case;
static ql_case ql_cases[MAX_SHAPES];
static bool ql_cases_ready;

static void prepare_ql_cases(void) {
  if (ql_cases_ready) return;
  build_shapes();
  tk_rng r = {0x5eed};
  for (size_t si = 0; si < n_shapes; si++) {
    shape s = shapes[si];
    ql_case *c = &ql_cases[si];
    c->has_bias = si % 2 == 0;
    float *w = malloc(s.out * s.in * sizeof(float));
    c->x = malloc(s.batch * s.in * sizeof(float));
    c->bias = malloc(s.out * sizeof(float));
    assert_true(w && c->x && c->bias);
    fill_case(&r, w, s.out, s.in);
    fill_case(&r, c->x, s.batch, s.in);
    for (size_t o = 0; o < s.out; o++) c->bias[o] = tk_rng_f32(&r, -4.0f, 4.0f);
    assert_int_equal(tk_qlinear_create(w, s.out, s.in, c->has_bias ? c->bias : NULL, &c->l), TK_OK);
    c->ref = ref_qlinear(w, s.out, s.in, c->x, s.batch);
    free(c->ref.wq), free(c->ref.xq), free(w);
    c->ref.wq = c->ref.xq = NULL;
  }
  ql_cases_ready = true;
}

static void qlinear_matches_quantized_reference(tk_isa isa) {
  prepare_ql_cases();
  for (size_t si = 0; si < n_shapes; si++) {
    shape s = shapes[si];
    const ql_case *c = &ql_cases[si];
    float *y = malloc((s.batch * s.out + 1) * sizeof(float));
    assert_non_null(y);
    for (size_t i = 0; i <= s.batch * s.out; i++) y[i] = -77.0f;
    assert_int_equal(tk_qlinear_forward_with(tk_test_table(isa), c->l, c->x, s.batch, y), TK_OK);
    assert_true(y[s.batch * s.out] == -77.0f); /* nothing past the output */
    check_qlinear_output("qlinear_s8", isa, s, c->has_bias, c->bias, &c->ref, y);
    free(y);
  }
}

/* Integer weights and activations whose rows reach +-127 quantize with scale 1
   to themselves, so y is the int32 accumulator converted to float: compared
   bit for bit, including the largest sums (127 * 127 * in) and in at its limit.
   VNNI multiplies x + 128 as u8: with x = 127 and w = -127 its lanes sum
   255 * -127 * in, which wraps int32 at TK_QLINEAR_MAX_IN, and the correction
   by -128 * wsum must make it exact again; batch 1 runs the GEMV's split-k
   chains, batch 9 and 13 a whole microkernel step (MR 8 or 12) and a rest. */
static void qlinear_int32_part_exact_at_extremes(tk_isa isa) {
  const size_t ins[] = {1, 5, 8, 33, 4095, TK_QLINEAR_MAX_IN};
  const size_t batches[] = {1, 9, 13};
  tk_rng r = {42};
  const tk_kernels *k = tk_test_table(isa);
  for (size_t ii = 0; ii < COUNT(ins) * COUNT(batches); ii++) {
    size_t in = ins[ii / COUNT(batches)], batch = batches[ii % COUNT(batches)];
    size_t out = 17;
    float *w = malloc(out * in * sizeof(float)), *x = malloc(batch * in * sizeof(float));
    float *y = malloc(batch * out * sizeof(float));
    assert_true(w && x && y);
    for (size_t o = 0; o < out; o++)
      for (size_t i = 0; i < in; i++) {
        float v;
        switch (o % 4) {
          case 0: v = 127.0f; break;
          case 1: v = -127.0f; break;
          case 2: v = (i & 1) ? -127.0f : 127.0f; break;
          default: v = (float)(int)(tk_rng_next(&r) % 255) - 127.0f; break;
        }
        w[o * in + i] = v;
      }
    for (size_t b = 0; b < batch; b++)
      for (size_t i = 0; i < in; i++)
        x[b * in + i] = b % 3 == 0 ? 127.0f : b % 3 == 1 ? -127.0f
                                            : (float)(int)(tk_rng_next(&r) % 255) - 127.0f;
    /* Every row must reach +-127 for scale 1. */
    for (size_t o = 0; o < out; o++) w[o * in] = 127.0f;
    for (size_t b = 0; b < batch; b++) x[b * in] = -127.0f;
    tk_qlinear *l = NULL;
    assert_int_equal(tk_qlinear_create(w, out, in, NULL, &l), TK_OK);
    assert_int_equal(tk_qlinear_forward_with(k, l, x, batch, y), TK_OK);
    for (size_t b = 0; b < batch; b++)
      for (size_t o = 0; o < out; o++) {
        int64_t acc = 0;
        for (size_t i = 0; i < in; i++) acc += (int64_t)w[o * in + i] * (int64_t)x[b * in + i];
        float want = (float)acc;
        if (memcmp(&want, &y[b * out + o], sizeof want) != 0) {
          print_error("qlinear_s8 %s (%s) batch=%zu out=%zu in=%zu: y[%zu][%zu] = %.1f, want "
                      "%lld\n",
                      tk_isa_name(isa), tk_test_kind(isa), batch, out, in, b, o,
                      (double)y[b * out + o], (long long)acc);
          fail();
        }
      }
    tk_qlinear_destroy(l);
    free(w);
    free(x);
    free(y);
  }
}

/* Step and tile tails: out over whole and partial 8-row tiles and 16-row tile
   pairs (1 .. 33), batch on both sides of every ISA's microkernel rows
   (TK_QL_MR: 1, 2, 4, 6, 8, 12) and of their doubles, and with a large in
   across the batch block (tk_ql_batch_block: 21 rows at in 3001, not a
   multiple of any MR). Each variant gives the scalar variant's bits, and the
   scalar ones match the reference. Built once, read by every variant. */
static const size_t tail_outs[] = {1, 7, 8, 9, 15, 16, 17, 24, 33};
static const size_t tail_batches[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 23, 24, 25};
static const shape tail_big[] = {{20, 17, 3001}, {21, 33, 3001}, {22, 17, 3001}, {43, 33, 3001}};
enum { N_TAIL = COUNT(tail_outs) * COUNT(tail_batches) + COUNT(tail_big) };
typedef struct tail_case {
  shape s;
  float *x, *y_scalar;
  tk_qlinear *l;
} tail_case;
static tail_case tail_cases[N_TAIL];
static bool tail_cases_ready;

static void prepare_tail_cases(void) {
  if (tail_cases_ready) return;
  tk_rng r = {0x7a11};
  for (size_t i = 0; i < N_TAIL; i++) {
    tail_case *c = &tail_cases[i];
    c->s = i < N_TAIL - COUNT(tail_big)
               ? (shape){tail_batches[i % COUNT(tail_batches)], tail_outs[i / COUNT(tail_batches)], 37}
               : tail_big[i - (N_TAIL - COUNT(tail_big))];
    const shape s = c->s;
    float *w = malloc(s.out * s.in * sizeof(float)), *bias = malloc(s.out * sizeof(float));
    c->x = malloc(s.batch * s.in * sizeof(float));
    c->y_scalar = malloc(s.batch * s.out * sizeof(float));
    assert_true(w && bias && c->x && c->y_scalar);
    fill_case(&r, w, s.out, s.in);
    fill_case(&r, c->x, s.batch, s.in);
    for (size_t o = 0; o < s.out; o++) bias[o] = tk_rng_f32(&r, -4.0f, 4.0f);
    assert_int_equal(tk_qlinear_create(w, s.out, s.in, bias, &c->l), TK_OK);
    assert_int_equal(tk_qlinear_forward_with(tk_test_table(TK_ISA_SCALAR), c->l, c->x, s.batch,
                                             c->y_scalar),
                     TK_OK);
    ref_q ref = ref_qlinear(w, s.out, s.in, c->x, s.batch);
    check_qlinear_output("qlinear_s8", TK_ISA_SCALAR, s, true, bias, &ref, c->y_scalar);
    ref_free(&ref);
    free(w);
    free(bias);
  }
  tail_cases_ready = true;
}

static void qlinear_tile_and_batch_tails_bit_identical_to_scalar(tk_isa isa) {
  prepare_tail_cases();
  for (size_t i = 0; i < N_TAIL; i++) {
    const tail_case *c = &tail_cases[i];
    const shape s = c->s;
    float *y = malloc((s.batch * s.out + 1) * sizeof(float));
    assert_non_null(y);
    y[s.batch * s.out] = -77.0f;
    assert_int_equal(tk_qlinear_forward_with(tk_test_table(isa), c->l, c->x, s.batch, y), TK_OK);
    assert_true(y[s.batch * s.out] == -77.0f);
    for (size_t j = 0; j < s.batch * s.out; j++)
      if (memcmp(&y[j], &c->y_scalar[j], sizeof(float)) != 0) {
        print_error("qlinear_s8 %s (%s) batch=%zu out=%zu in=%zu: y[%zu][%zu] = %a, scalar %a\n",
                    tk_isa_name(isa), tk_test_kind(isa), s.batch, s.out, s.in, j / s.out,
                    j % s.out, (double)y[j], (double)c->y_scalar[j]);
        fail();
      }
    free(y);
  }
}

/* A layer created under any ISA this CPU runs (its weights quantized by that
   ISA's kernels) holds the same packed bytes, as tk_qlinear_export shows, and
   runs under this variant with the scalar-created layer's bits. */
static void qlinear_layer_created_under_each_isa_runs_here(tk_isa isa) {
  enum { B = 9, N = 33, K = 75 };
  tk_rng r = {0xc4ea7e};
  float *w = malloc(N * K * sizeof(float)), x[B * K], bias[N], y0[B * N], y[B * N];
  int8_t *wq0 = malloc(N * K), *wq = malloc(N * K);
  float s0[N], b0[N], s1[N], b1[N];
  assert_true(w && wq0 && wq);
  fill_case(&r, w, N, K);
  fill_case(&r, x, B, K);
  for (size_t o = 0; o < N; o++) bias[o] = tk_rng_f32(&r, -1.0f, 1.0f);
  const tk_kernels *k = tk_test_table(isa);
  tk_qlinear *l0 = NULL;
  tk_test_use_isa(TK_ISA_SCALAR);
  assert_int_equal(tk_qlinear_create(w, N, K, bias, &l0), TK_OK);
  assert_int_equal(tk_qlinear_export(l0, wq0, s0, b0), TK_OK);
  for (size_t b = 1; b <= B; b += B - 1) {
    assert_int_equal(tk_qlinear_forward_with(tk_test_table(TK_ISA_SCALAR), l0, x, b, y0), TK_OK);
    for (tk_isa c = 0; c < TK_ISA_COUNT; c++) {
      if (!tk_isa_available(c)) continue;
      tk_test_use_isa(c);
      tk_qlinear *l = NULL;
      assert_int_equal(tk_qlinear_create(w, N, K, bias, &l), TK_OK);
      assert_int_equal(tk_qlinear_export(l, wq, s1, b1), TK_OK);
      assert_memory_equal(wq, wq0, N * K);
      assert_memory_equal(s1, s0, sizeof s0);
      assert_memory_equal(b1, b0, sizeof b0);
      assert_int_equal(tk_qlinear_forward_with(k, l, x, b, y), TK_OK);
      if (memcmp(y, y0, b * N * sizeof(float)) != 0) {
        print_error("qlinear_s8 %s (%s) batch=%zu out=%d in=%d: the layer created under %s "
                    "differs from the scalar-created layer under scalar\n",
                    tk_isa_name(isa), tk_test_kind(isa), b, N, K, tk_isa_name(c));
        fail();
      }
      tk_qlinear_destroy(l);
    }
  }
  tk_qlinear_destroy(l0);
  free(w);
  free(wq0);
  free(wq);
}

/* A compare, not fmax(): aarch64 GCC 12 crashes vectorizing an fmax reduction here. */
static double max_abs(double m, float v) { return fabs(v) > m ? fabs(v) : m; }

/* Against the fp32 product: |error| <= sum_k (|x_k| dw + |w_k| dx + dw dx) with
   dw = ws / 2, dx = xs / 2 the rounding bounds of the row scales, plus the
   epilogue rounding. */
static void qlinear_accuracy_within_quantization_bound(void **state) {
  (void)state;
  tk_rng r = {77};
  const shape ss[] = {{1, 64, 4095}, {5, 17, 255}, {67, 64, 64}, {3, 1000, 33}};
  for (size_t si = 0; si < COUNT(ss); si++) {
    shape s = ss[si];
    float *w = malloc(s.out * s.in * sizeof(float)), *x = malloc(s.batch * s.in * sizeof(float));
    float *bias = malloc(s.out * sizeof(float)), *y = malloc(s.batch * s.out * sizeof(float));
    assert_true(w && x && bias && y);
    fill_case(&r, w, s.out, s.in);
    fill_case(&r, x, s.batch, s.in);
    for (size_t o = 0; o < s.out; o++) bias[o] = tk_rng_f32(&r, -1.0f, 1.0f);
    tk_qlinear *l = NULL;
    assert_int_equal(tk_qlinear_create(w, s.out, s.in, bias, &l), TK_OK);
    assert_int_equal(tk_qlinear_forward(l, x, s.batch, y), TK_OK);
    double worst = 0.0;
    for (size_t b = 0; b < s.batch; b++) {
      double xm = 0.0;
      for (size_t i = 0; i < s.in; i++) xm = max_abs(xm, x[b * s.in + i]);
      double dx = (xm == 0.0 ? 1.0 : xm / 127.0) / 2.0;
      for (size_t o = 0; o < s.out; o++) {
        double wm = 0.0, exact = bias[o], bound = 0.0, mag = fabs(bias[o]);
        for (size_t i = 0; i < s.in; i++) wm = max_abs(wm, w[o * s.in + i]);
        double dw = (wm == 0.0 ? 1.0 : wm / 127.0) / 2.0;
        for (size_t i = 0; i < s.in; i++) {
          double wi = w[o * s.in + i], xi = x[b * s.in + i];
          exact += wi * xi;
          mag += fabs(wi * xi);
          bound += fabs(xi) * dw + fabs(wi) * dx + dw * dx;
        }
        double err = fabs((double)y[b * s.out + o] - exact);
        double allowed = bound * 1.001 + 8.0 * FLT_EPSILON * (mag + bound) + FLT_MIN;
        if (!(err <= allowed)) {
          print_error("qlinear accuracy batch=%zu out=%zu in=%zu y[%zu][%zu]: err %g > bound %g\n",
                      s.batch, s.out, s.in, b, o, err, allowed);
          fail();
        }
        if (bound > 0.0) worst = fmax(worst, err / bound);
      }
    }
    print_message("  accuracy batch=%zu out=%zu in=%zu: worst error %.3f of the bound\n", s.batch,
                  s.out, s.in, worst);
    tk_qlinear_destroy(l);
    free(w);
    free(x);
    free(bias);
    free(y);
  }
}

/* The public function gives the same bits under each ISA this CPU runs as
   under scalar, and a layer created under scalar runs under any other (the
   layout is shared). */
static void qlinear_public_same_result_as_scalar(tk_isa isa) {
  tk_test_use_isa(isa);
  tk_rng r = {3};
  const shape ss[] = {{1, 1000, 255}, {67, 17, 33}, {5, 64, 4095}};
  for (size_t si = 0; si < COUNT(ss); si++) {
    shape s = ss[si];
    float *w = malloc(s.out * s.in * sizeof(float)), *x = malloc(s.batch * s.in * sizeof(float));
    float *bias = malloc(s.out * sizeof(float));
    float *y0 = malloc(s.batch * s.out * sizeof(float)), *y = malloc(s.batch * s.out * sizeof(float));
    assert_true(w && x && bias && y0 && y);
    fill_case(&r, w, s.out, s.in);
    fill_case(&r, x, s.batch, s.in);
    for (size_t o = 0; o < s.out; o++) bias[o] = tk_rng_f32(&r, -1.0f, 1.0f);
    tk_test_use_isa(TK_ISA_SCALAR);
    tk_qlinear *l = NULL;
    assert_int_equal(tk_qlinear_create(w, s.out, s.in, bias, &l), TK_OK);
    assert_int_equal(tk_qlinear_forward(l, x, s.batch, y0), TK_OK);
    ref_q ref = ref_qlinear(w, s.out, s.in, x, s.batch);
    check_qlinear_output("tk_qlinear_forward", TK_ISA_SCALAR, s, true, bias, &ref, y0);
    ref_free(&ref);
    tk_test_use_isa(isa);
    assert_int_equal(tk_qlinear_forward(l, x, s.batch, y), TK_OK);
    if (memcmp(y, y0, s.batch * s.out * sizeof(float)) != 0) {
      print_error("tk_qlinear_forward under %s differs from scalar, batch=%zu out=%zu in=%zu\n",
                  tk_isa_name(isa), s.batch, s.out, s.in);
      fail();
    }
    tk_qlinear_destroy(l);
    free(w);
    free(x);
    free(bias);
    free(y0);
    free(y);
  }
}

/* Finite inputs never give NaN: with huge weights and activations the product
   of the two scales overflows fp32; an output whose int32 sum is 0 must still be
   exactly its bias (found by fuzz_qlinear: 0 * inf). */
static void qlinear_huge_scales_zero_sum_gives_bias(tk_isa isa) {
  enum { OUT = 9, IN = 6 };
  float w[OUT * IN], bias[OUT], x[IN] = {1e30f, -1e30f, 1e30f, -1e30f, 0.0f, 0.0f}, y[OUT];
  for (size_t o = 0; o < OUT; o++) {
    bias[o] = (float)o - 4.0f;
    for (size_t i = 0; i < IN; i++) w[o * IN + i] = (o % 2 ? 3e29f : -2e30f) * (i < 4 ? 1.0f : 0.5f);
  }
  tk_qlinear *l;
  assert_int_equal(tk_qlinear_create(w, OUT, IN, bias, &l), TK_OK);
  assert_int_equal(tk_qlinear_forward_with(tk_test_table(isa), l, x, 1, y), TK_OK);
  for (size_t o = 0; o < OUT; o++) {
    if (y[o] != bias[o]) {
      print_error("qlinear_s8 %s (%s) batch=1 out=%d in=%d: y[%zu] = %g, want the bias %g\n",
                  tk_isa_name(isa), tk_test_kind(isa), OUT, IN, o, (double)y[o], (double)bias[o]);
      fail();
    }
  }
  tk_qlinear_destroy(l);
}

static void qlinear_bytes_about_a_quarter_of_fp32(void **state) {
  (void)state;
  const size_t out = 1000, in = 4095;
  float *w = calloc(out * in, sizeof(float));
  assert_non_null(w);
  tk_qlinear *l = NULL;
  assert_int_equal(tk_qlinear_create(w, out, in, NULL, &l), TK_OK);
  size_t bytes = tk_qlinear_bytes(l), fp32 = out * in * sizeof(float);
  print_message("  tk_qlinear_bytes %zu = %.4f of the fp32 weights\n", bytes,
                (double)bytes / (double)fp32);
  assert_true(bytes >= out * in);
  assert_true(bytes <= fp32 / 4 + fp32 / 100);
  tk_qlinear_destroy(l);
  assert_int_equal(tk_qlinear_bytes(NULL), 0);
  tk_qlinear_destroy(NULL);
  free(w);
}

static void qlinear_bad_input_returns_status_and_writes_nothing(void **state) {
  (void)state;
  float w[6] = {1, 2, 3, 4, 5, 6}, bias[3] = {1, 1, 1}, x[4] = {1, -1, 2, -2};
  tk_qlinear *const sentinel = (tk_qlinear *)(void *)&w[0];
  tk_qlinear *l = sentinel;
  assert_int_equal(tk_qlinear_create(NULL, 3, 2, NULL, &l), TK_ERR_ARG);
  assert_int_equal(tk_qlinear_create(w, 3, 2, NULL, NULL), TK_ERR_ARG);
  assert_int_equal(tk_qlinear_create(w, 0, 2, NULL, &l), TK_ERR_ARG);
  assert_int_equal(tk_qlinear_create(w, 3, 0, NULL, &l), TK_ERR_ARG);
  /* Sizes are checked before anything is read. */
  assert_int_equal(tk_qlinear_create(w, 3, TK_QLINEAR_MAX_IN + 1, NULL, &l), TK_ERR_OVERFLOW);
  assert_int_equal(tk_qlinear_create(w, SIZE_MAX / 2 + 1, 2, NULL, &l), TK_ERR_OVERFLOW);
  assert_int_equal(tk_qlinear_create(w, SIZE_MAX, 1, NULL, &l), TK_ERR_OVERFLOW);
  const float bad[] = {NAN, INFINITY, -INFINITY};
  for (size_t bi = 0; bi < 3; bi++)
    for (size_t pos = 0; pos < 6; pos++) {
      float wb[6];
      memcpy(wb, w, sizeof wb);
      wb[pos] = bad[bi];
      assert_int_equal(tk_qlinear_create(wb, 3, 2, bias, &l), TK_ERR_ARG);
      if (pos < 3) {
        float bb[3] = {1, 1, 1};
        bb[pos] = bad[bi];
        assert_int_equal(tk_qlinear_create(w, 3, 2, bb, &l), TK_ERR_ARG);
      }
    }
  assert_ptr_equal(l, sentinel);

  assert_int_equal(tk_qlinear_create(w, 3, 2, bias, &l), TK_OK);
  float y[7];
  for (size_t i = 0; i < 7; i++) y[i] = -5.0f;
  assert_int_equal(tk_qlinear_forward(NULL, x, 2, y), TK_ERR_ARG);
  assert_int_equal(tk_qlinear_forward(l, NULL, 2, y), TK_ERR_ARG);
  assert_int_equal(tk_qlinear_forward(l, x, 2, NULL), TK_ERR_ARG);
  assert_int_equal(tk_qlinear_forward(l, x, SIZE_MAX / 2 + 1, y), TK_ERR_OVERFLOW);
  assert_int_equal(tk_qlinear_forward(l, x, SIZE_MAX, y), TK_ERR_OVERFLOW);
  for (size_t i = 0; i < 7; i++) assert_true(y[i] == -5.0f);
  /* batch 0: nothing to do, NULL arrays accepted. */
  assert_int_equal(tk_qlinear_forward(l, NULL, 0, NULL), TK_OK);
  assert_int_equal(tk_qlinear_forward(l, x, 2, y), TK_OK);
  assert_true(y[6] == -5.0f);
  tk_qlinear_destroy(l);

  for (size_t i = 0; i < 7; i++) y[i] = -5.0f;
  assert_int_equal(tk_linear_f32(NULL, 3, 2, bias, x, 2, y), TK_ERR_ARG);
  assert_int_equal(tk_linear_f32(w, 3, 2, bias, NULL, 2, y), TK_ERR_ARG);
  assert_int_equal(tk_linear_f32(w, 3, 2, bias, x, 2, NULL), TK_ERR_ARG);
  assert_int_equal(tk_linear_f32(w, 0, 2, bias, x, 2, y), TK_ERR_ARG);
  assert_int_equal(tk_linear_f32(w, 3, 0, bias, x, 2, y), TK_ERR_ARG);
  assert_int_equal(tk_linear_f32(w, SIZE_MAX / 2 + 1, 2, bias, x, 2, y), TK_ERR_OVERFLOW);
  assert_int_equal(tk_linear_f32(w, 3, 2, bias, x, SIZE_MAX / 2 + 1, y), TK_ERR_OVERFLOW);
  assert_int_equal(tk_linear_f32(w, 2, 3, bias, x, SIZE_MAX / 2 + 1, y), TK_ERR_OVERFLOW);
  for (size_t i = 0; i < 7; i++) assert_true(y[i] == -5.0f);
  assert_int_equal(tk_linear_f32(w, 3, 2, bias, NULL, 0, NULL), TK_OK);
}

/* A non-finite activation anywhere: TK_ERR_ARG from every variant, y untouched. */
static void qlinear_nonfinite_x_returns_status_and_writes_nothing(tk_isa isa) {
  float w[6] = {1, 2, 3, 4, 5, 6}, bias[3] = {1, 1, 1}, x[4] = {1, -1, 2, -2};
  const float bad[] = {NAN, INFINITY, -INFINITY};
  tk_qlinear *l = NULL;
  assert_int_equal(tk_qlinear_create(w, 3, 2, bias, &l), TK_OK);
  float y[7];
  for (size_t i = 0; i < 7; i++) y[i] = -5.0f;
  for (size_t bi = 0; bi < 3; bi++)
    for (size_t pos = 0; pos < 4; pos++) {
      float xb[4];
      memcpy(xb, x, sizeof xb);
      xb[pos] = bad[bi];
      assert_int_equal(tk_qlinear_forward_with(tk_test_table(isa), l, xb, 2, y), TK_ERR_ARG);
    }
  for (size_t i = 0; i < 7; i++) assert_true(y[i] == -5.0f);
  tk_qlinear_destroy(l);
}

/* ---- linear_f32 ---- */

/* The inputs and double references of the shapes, built once as for qlinear. */
typedef struct lf_case {
  bool has_bias;
  float *w, *x, *bias;
  double *want, *tol;
} lf_case;
static lf_case lf_cases[MAX_SHAPES];
static bool lf_cases_ready;

static void prepare_lf_cases(void) {
  if (lf_cases_ready) return;
  build_shapes();
  tk_rng r = {0xf32};
  for (size_t si = 0; si < n_shapes; si++) {
    shape s = shapes[si];
    lf_case *c = &lf_cases[si];
    c->has_bias = si % 2 == 1;
    c->w = malloc(s.out * s.in * sizeof(float));
    c->x = malloc(s.batch * s.in * sizeof(float));
    c->bias = malloc(s.out * sizeof(float));
    c->want = malloc(s.batch * s.out * sizeof(double));
    c->tol = malloc(s.batch * s.out * sizeof(double));
    assert_true(c->w && c->x && c->bias && c->want && c->tol);
    fill_case(&r, c->w, s.out, s.in);
    fill_case(&r, c->x, s.batch, s.in);
    for (size_t o = 0; o < s.out; o++) c->bias[o] = tk_rng_f32(&r, -4.0f, 4.0f);
    for (size_t b = 0; b < s.batch; b++)
      for (size_t o = 0; o < s.out; o++) {
        double sum = c->has_bias ? c->bias[o] : 0.0, mag = fabs(sum);
        for (size_t i = 0; i < s.in; i++) {
          double p = (double)c->w[o * s.in + i] * (double)c->x[b * s.in + i];
          sum += p;
          mag += fabs(p);
        }
        c->want[b * s.out + o] = sum;
        c->tol[b * s.out + o] = (double)(s.in + 2) * FLT_EPSILON * mag + FLT_MIN;
      }
  }
  lf_cases_ready = true;
}

static void linear_f32_matches_reference(tk_isa isa) {
  prepare_lf_cases();
  for (size_t si = 0; si < n_shapes; si++) {
    shape s = shapes[si];
    const lf_case *c = &lf_cases[si];
    float *y = malloc((s.batch * s.out + 1) * sizeof(float));
    assert_non_null(y);
    for (size_t i = 0; i <= s.batch * s.out; i++) y[i] = -77.0f;
    assert_int_equal(tk_linear_f32_with(tk_test_table(isa), c->w, s.out, s.in,
                                        c->has_bias ? c->bias : NULL, c->x, s.batch, y),
                     TK_OK);
    assert_true(y[s.batch * s.out] == -77.0f);
    for (size_t i = 0; i < s.batch * s.out; i++) {
      if (!(fabs(y[i] - c->want[i]) <= c->tol[i])) {
        print_error("linear_f32 %s (%s) batch=%zu out=%zu in=%zu bias=%d: y[%zu][%zu] = "
                    "%.9g, want %.9g\n",
                    tk_isa_name(isa), tk_test_kind(isa), s.batch, s.out, s.in, c->has_bias,
                    i / s.out, i % s.out, (double)y[i], c->want[i]);
        fail();
      }
    }
    free(y);
  }
}

/* Inputs are not scanned: a NaN in one x row gives NaNs in that row only, as in BLAS. */
static void linear_f32_nonfinite_propagates_like_blas(tk_isa isa) {
  enum { B = 5, N = 9, K = 37 };
  float w[N * K], x[B * K], y[B * N];
  tk_rng r = {11};
  for (size_t i = 0; i < N * K; i++) w[i] = tk_rng_f32(&r, -1.0f, 1.0f);
  for (size_t i = 0; i < B * K; i++) x[i] = tk_rng_f32(&r, -1.0f, 1.0f);
  x[3 * K + 20] = NAN;
  assert_int_equal(tk_linear_f32_with(tk_test_table(isa), w, N, K, NULL, x, B, y), TK_OK);
  for (size_t b = 0; b < B; b++)
    for (size_t o = 0; o < N; o++) assert_true(isnan(y[b * N + o]) == (b == 3));
}

static void linear_f32_public(tk_isa isa) {
  tk_test_use_isa(isa);
  enum { B = 6, N = 19, K = 70 };
  float w[N * K], x[B * K], bias[N], y[B * N];
  tk_rng r = {12};
  for (size_t i = 0; i < N * K; i++) w[i] = tk_rng_f32(&r, -1.0f, 1.0f);
  for (size_t i = 0; i < B * K; i++) x[i] = tk_rng_f32(&r, -1.0f, 1.0f);
  for (size_t i = 0; i < N; i++) bias[i] = tk_rng_f32(&r, -1.0f, 1.0f);
  assert_int_equal(tk_linear_f32(w, N, K, bias, x, B, y), TK_OK);
  for (size_t b = 0; b < B; b++)
    for (size_t o = 0; o < N; o++) {
      double want = bias[o];
      for (size_t i = 0; i < K; i++) want += (double)w[o * K + i] * x[b * K + i];
      assert_true(fabs(y[b * N + o] - want) <= 1e-4);
    }
}

int main(void) {
  const tk_test_case tests[] = {
      TK_VARIANT_TEST(qlinear_matches_quantized_reference),
      TK_VARIANT_TEST(qlinear_int32_part_exact_at_extremes),
      TK_VARIANT_TEST(qlinear_tile_and_batch_tails_bit_identical_to_scalar),
      TK_VARIANT_TEST(qlinear_layer_created_under_each_isa_runs_here),
      TK_TEST(qlinear_accuracy_within_quantization_bound),
      TK_VARIANT_TEST(qlinear_public_same_result_as_scalar),
      TK_VARIANT_TEST(qlinear_huge_scales_zero_sum_gives_bias),
      TK_TEST(qlinear_bytes_about_a_quarter_of_fp32),
      TK_TEST(qlinear_bad_input_returns_status_and_writes_nothing),
      TK_VARIANT_TEST(qlinear_nonfinite_x_returns_status_and_writes_nothing),
      TK_VARIANT_TEST(linear_f32_matches_reference),
      TK_VARIANT_TEST(linear_f32_nonfinite_propagates_like_blas),
      TK_VARIANT_TEST(linear_f32_public),
  };
  return TK_RUN_TESTS("qlinear", tests);
}
