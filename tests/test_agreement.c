/* Every variant agrees with every other on random inputs: bit-exact for int8 and CSR structure, fp32 within tolerance. */
#include <math.h>

#include "attention/attention_cache.h"
#include "qlinear/qlinear_kernels.h"
#include "tk_test.h"

/* One case per variant: it runs on the same random inputs as the scalar
   variant, and its results are compared with the scalar variant's. */

static void fill(tk_rng *r, float *x, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; i++) x[i] = tk_rng_f32(r, lo, hi);
}

/* |a - b| <= tol * scale: scale is the magnitude the fp32 sums work at. */
static void expect_close(const char *what, tk_isa isa, const float *got, const float *want,
                         size_t n, double tol, double scale) {
  for (size_t i = 0; i < n; i++) {
    if (!(fabs((double)got[i] - want[i]) <= tol * scale)) {
      print_error("%s: %s (%s) vs scalar differ at %zu: %.9g vs %.9g\n", what, tk_isa_name(isa),
                  tk_test_kind(isa), i, (double)got[i], (double)want[i]);
      fail();
    }
  }
}

static void variant_agrees_with_scalar_on_random_inputs(tk_isa isa) {
  tk_rng r = {2024};
  const tk_kernels *s = tk_test_table(TK_ISA_SCALAR);
  enum { N = 1031, OUT = 37, IN = 203, BATCH = 5, ROWS = 61, COLS = 97, NB = 9 };
  int8_t a[N], b[N], q[N], q0[N];
  float x[N], w[OUT * IN], bias[OUT], xb[BATCH * IN], y[BATCH * OUT], y0[BATCH * OUT];
  for (size_t i = 0; i < N; i++) a[i] = tk_rng_s8(&r), b[i] = tk_rng_s8(&r);
  fill(&r, x, N, -9.0f, 9.0f);
  fill(&r, w, OUT * IN, -1.0f, 1.0f);
  fill(&r, bias, OUT, -1.0f, 1.0f);
  fill(&r, xb, BATCH * IN, -2.0f, 2.0f);
  s->quantize_s8(x, N, 9.0f / 127.0f, q0);
  tk_qlinear *l;
  assert_int_equal(tk_qlinear_create(w, OUT, IN, bias, &l), TK_OK);
  assert_int_equal(tk_qlinear_forward_with(s, l, xb, BATCH, y0), TK_OK);

  /* CSR with empty rows, repeats and unsorted columns; B [COLS][NB]. */
  float dense[ROWS * COLS], bm[COLS * NB], c[ROWS * NB], c0[ROWS * NB], back[ROWS * COLS];
  fill(&r, dense, ROWS * COLS, -1.0f, 1.0f);
  fill(&r, bm, COLS * NB, -1.0f, 1.0f);
  tk_csr *m;
  assert_int_equal(tk_csr_from_dense(dense, ROWS, COLS, 0.9f, &m), TK_OK);
  s->spmm(m, bm, NB, c0);
  assert_int_equal(tk_csr_to_dense(m, back), TK_OK);

  /* A KV cache per storage type, filled by the scalar variant; and the
     stateless attention inputs. */
  enum { HK = 2, H = 4, D = 37, L = 13 };
  float kk[L * HK * D], vv[L * HK * D], qa[L * H * D], o[L * H * D], o0[L * H * D];
  fill(&r, kk, L * HK * D, -1.0f, 1.0f);
  fill(&r, vv, L * HK * D, -1.0f, 1.0f);
  fill(&r, qa, L * H * D, -1.0f, 1.0f);
  tk_kv_cache *kv[3];
  float att0[3][3 * H * D], att[3 * H * D];
  for (int dt = 0; dt < 3; dt++) {
    tk_kv_config cfg = {HK, D, 8, (tk_dtype)dt, true, TK_KV_MEMORY_DEFAULT};
    assert_int_equal(tk_kv_cache_create(&cfg, &kv[dt]), TK_OK);
    assert_int_equal(tk_kv_cache_append_with(s, kv[dt], kk, vv, L), TK_OK);
    assert_int_equal(tk_attend_with(s, kv[dt], qa, 3, H, att0[dt]), TK_OK);
  }
  assert_int_equal(tk_attention_f32_with(s, qa, kk, vv, L, H, HK, D, true, o0), TK_OK);

  const tk_kernels *k = tk_test_table(isa);
  /* int8: bit-exact. */
  assert_int_equal(k->dot_s8(a, b, N), s->dot_s8(a, b, N));
  k->quantize_s8(x, N, 9.0f / 127.0f, q);
  assert_memory_equal(q, q0, N);
  /* qlinear: the int32 sums are exact and the epilogue is the same two fp32
     operations on every ISA, so the outputs are bit-identical. */
  assert_int_equal(tk_qlinear_forward_with(k, l, xb, BATCH, y), TK_OK);
  assert_memory_equal(y, y0, sizeof y);
  /* CSR: the same structure whatever the ISA (to_dense is ISA-free) and
     products within fp32 summation-order rounding. */
  k->spmm(m, bm, NB, c);
  expect_close("spmm", isa, c, c0, ROWS * NB, 1e-5, COLS * 0.1 * 1.0);
  k->spmv(m, bm, c);
  for (size_t i = 0; i < ROWS; i++) {
    double ref = 0.0;
    for (size_t j = 0; j < COLS; j++) ref += (double)back[i * COLS + j] * bm[j];
    if (!(fabs(c[i] - ref) <= 1e-5 * COLS)) {
      print_error("spmv %s (%s) %dx%d row %zu: %g vs %g\n", tk_isa_name(isa), tk_test_kind(isa),
                  ROWS, COLS, i, (double)c[i], ref);
      fail();
    }
  }
  /* Attention: fp32 accumulation in a different order and a polynomial exp:
     agreement within 1e-5 of the values' unit scale. */
  for (int dt = 0; dt < 3; dt++) {
    assert_int_equal(tk_attend_with(k, kv[dt], qa, 3, H, att), TK_OK);
    expect_close("attend", isa, att, att0[dt], 3 * H * D, 1e-5, 1.0);
  }
  assert_int_equal(tk_attention_f32_with(k, qa, kk, vv, L, H, HK, D, true, o), TK_OK);
  expect_close("attention_f32", isa, o, o0, L * H * D, 1e-5, 1.0);
  for (int dt = 0; dt < 3; dt++) tk_kv_cache_destroy(kv[dt]);
  tk_csr_destroy(m);
  tk_qlinear_destroy(l);
}

int main(void) {
  const tk_test_case tests[] = {
      TK_VARIANT_TEST(variant_agrees_with_scalar_on_random_inputs),
  };
  return TK_RUN_TESTS("agreement", tests);
}
