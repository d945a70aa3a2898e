/* Arrays at any address: the int8 and qlinear functions with every argument array at byte offsets 1..7 give the aligned results (UBSan's alignment check runs this in scripts/check). */
#include "int8/int8_kernels.h"
#include "qlinear/qlinear_kernels.h"
#include "tk_test.h"

/* A copy of n bytes of src at byte offset `off` of a fresh buffer. */
static void *at_offset(const void *src, size_t n, size_t off, void **base) {
  unsigned char *b = malloc(n + 16);
  assert_non_null(b);
  *base = b;
  if (src) memcpy(b + off, src, n);
  return b + off;
}

static void int8_functions_at_every_offset(tk_isa isa) {
  const tk_kernels *k = tk_test_table(isa);
  tk_rng r = {0xa1};
  enum { N = 77 };
  int8_t a[N], b[N], q[N];
  float x[N], scale, back[N];
  for (int i = 0; i < N; i++)
    a[i] = tk_rng_s8(&r), b[i] = tk_rng_s8(&r), x[i] = tk_rng_f32(&r, -3, 3);
  const int32_t want_dot = k->dot_s8(a, b, N);
  assert_int_equal(tk_quantize_s8_with(k, x, N, q, &scale), TK_OK);
  k->dequantize_s8(q, N, scale, back);
  for (size_t off = 1; off < 8; off++) {
    void *ba, *bb, *bx, *bq, *bs, *bo, *bd;
    const int8_t *ua = at_offset(a, N, off, &ba), *ub = at_offset(b, N, 8 - off, &bb);
    const float *ux = at_offset(x, sizeof x, off, &bx);
    int8_t *uq = at_offset(NULL, N, 8 - off, &bq);
    float *us = at_offset(NULL, sizeof(float), off, &bs), *ud = at_offset(NULL, sizeof back, off, &bd);
    int32_t *uo = at_offset(NULL, sizeof(int32_t), off, &bo);
    assert_int_equal(k->dot_s8(ua, ub, N), want_dot);
    assert_int_equal(tk_quantize_s8_with(k, ux, N, uq, us), TK_OK);
    assert_memory_equal(uq, q, N);
    assert_memory_equal(us, &scale, sizeof scale);
    k->dequantize_s8(uq, N, scale, ud);
    assert_memory_equal(ud, back, sizeof back);
    /* The public entry points write their scalar results through memcpy. */
    if (tk_isa_available(isa) && tk_isa_select(isa) == TK_OK) {
      assert_int_equal(tk_dot_s8(ua, ub, N, uo), TK_OK);
      assert_memory_equal(uo, &want_dot, sizeof want_dot);
    }
    free(ba), free(bb), free(bx), free(bq), free(bs), free(bo), free(bd);
  }
}

static void qlinear_functions_at_every_offset(tk_isa isa) {
  const tk_kernels *k = tk_test_table(isa);
  tk_rng r = {0xa2};
  enum { OUT = 19, IN = 37, BATCH = 3 };
  float w[OUT * IN], bias[OUT], x[BATCH * IN], want[BATCH * OUT], want_f[BATCH * OUT];
  for (int i = 0; i < OUT * IN; i++) w[i] = tk_rng_f32(&r, -1, 1);
  for (int i = 0; i < OUT; i++) bias[i] = tk_rng_f32(&r, -1, 1);
  for (int i = 0; i < BATCH * IN; i++) x[i] = tk_rng_f32(&r, -2, 2);
  tk_qlinear *l;
  assert_int_equal(tk_qlinear_create(w, OUT, IN, bias, &l), TK_OK);
  assert_int_equal(tk_qlinear_forward_with(k, l, x, BATCH, want), TK_OK);
  assert_int_equal(tk_linear_f32_with(k, w, OUT, IN, bias, x, BATCH, want_f), TK_OK);
  int8_t wq[OUT * IN];
  float scale[OUT];
  assert_int_equal(tk_qlinear_export(l, wq, scale, NULL), TK_OK);
  for (size_t off = 1; off < 8; off++) {
    void *bw, *bbias, *bx, *by, *bs, *bq;
    const float *uw = at_offset(w, sizeof w, off, &bw), *ubias = at_offset(bias, sizeof bias, 8 - off, &bbias);
    const float *ux = at_offset(x, sizeof x, off, &bx);
    float *uy = at_offset(NULL, sizeof want, 8 - off, &by);
    const float *us = at_offset(scale, sizeof scale, off, &bs);
    const int8_t *uq = at_offset(wq, sizeof wq, 8 - off, &bq);
    assert_int_equal(tk_qlinear_forward_with(k, l, ux, BATCH, uy), TK_OK);
    assert_memory_equal(uy, want, sizeof want);
    assert_int_equal(tk_linear_f32_with(k, uw, OUT, IN, ubias, ux, BATCH, uy), TK_OK);
    assert_memory_equal(uy, want_f, sizeof want_f);
    /* Layers made from arrays at odd addresses are the same layers. */
    tk_qlinear *l2, *l3;
    assert_int_equal(tk_qlinear_create(uw, OUT, IN, ubias, &l2), TK_OK);
    assert_int_equal(tk_qlinear_create_s8(uq, us, OUT, IN, ubias, &l3), TK_OK);
    assert_int_equal(tk_qlinear_forward_with(k, l2, x, BATCH, uy), TK_OK);
    assert_memory_equal(uy, want, sizeof want);
    assert_int_equal(tk_qlinear_forward_with(k, l3, x, BATCH, uy), TK_OK);
    assert_memory_equal(uy, want, sizeof want);
    tk_qlinear_destroy(l2);
    tk_qlinear_destroy(l3);
    free(bw), free(bbias), free(bx), free(by), free(bs), free(bq);
  }
  tk_qlinear_destroy(l);
}

int main(void) {
  const tk_test_case tests[] = {
      TK_VARIANT_TEST(int8_functions_at_every_offset),
      TK_VARIANT_TEST(qlinear_functions_at_every_offset),
  };
  return TK_RUN_TESTS("unaligned", tests);
}
