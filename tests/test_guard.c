/* Guard pages: every kernel of every variant, arrays ending at / starting after a PROT_NONE page, every tail. */
#include "qlinear/qlinear_kernels.h"
#include "tk_guard.h"
#include "tk_test.h"

/* Tail lengths up to two vector widths of the widest ISA (AVX2: 32 int8 per
   step, two steps per loop turn; 8 floats per vector) and a little beyond. */
enum { MAX_S8 = 2 * 2 * 32 + 3, MAX_F32 = 2 * 2 * 8 + 3 };

static const tk_guard_side sides[2] = {TK_GUARD_END, TK_GUARD_START};

static void int8_kernels_stay_inside_their_arrays(tk_isa isa) {
  const tk_kernels *k = tk_test_table(isa);
  for (int s = 0; s < 2; s++) {
    for (size_t n = 0; n <= MAX_S8; n++) {
      tk_guard ga, gb, gx, gq;
      int8_t *a = tk_guard_alloc(&ga, n, sides[s]);
      int8_t *b = tk_guard_alloc(&gb, n, sides[s]);
      float *x = tk_guard_alloc(&gx, n * sizeof(float), sides[s]);
      int8_t *q = tk_guard_alloc(&gq, n, sides[s]);
      for (size_t i = 0; i < n; i++) a[i] = (int8_t)i, b[i] = -1, x[i] = (float)i - 3.0f;
      int32_t want = 0;
      for (size_t i = 0; i < n; i++) want -= (int8_t)i;
      if (n) assert_int_equal(k->dot_s8(a, b, n), want);
      bool finite = false;
      if (n) (void)k->absmax_f32(x, n, &finite);
      if (n) k->quantize_s8(x, n, 1.0f, q);
      if (n) k->dequantize_s8(q, n, 0.5f, x);
      for (size_t i = 0; i < n; i++) assert_true(x[i] == 0.5f * (float)q[i]);
      tk_guard_free(&ga), tk_guard_free(&gb), tk_guard_free(&gx), tk_guard_free(&gq);
    }
  }
}

/* qlinear forward and linear_f32: every input and output array guarded, K and
   N over the tails of the 8-row tiles and 4-wide k-groups, batch over the
   microkernel row blocks. (The packed weights live inside the layer, whose
   allocation the layer sizes itself.) */
static void qlinear_and_linear_f32_stay_inside_their_arrays(tk_isa isa) {
  static const size_t batches[] = {1, 2, 7};
  const tk_kernels *k = tk_test_table(isa);
  for (int s = 0; s < 2; s++) {
    for (size_t in = 1; in <= MAX_F32; in += 3) {
      for (size_t out = 1; out <= 19; out += 6) {
        for (size_t bi = 0; bi < 3; bi++) {
          size_t batch = batches[bi];
          tk_guard gw, gb, gx, gy;
          float *w = tk_guard_alloc(&gw, out * in * sizeof(float), sides[s]);
          float *bias = tk_guard_alloc(&gb, out * sizeof(float), sides[s]);
          float *x = tk_guard_alloc(&gx, batch * in * sizeof(float), sides[s]);
          float *y = tk_guard_alloc(&gy, batch * out * sizeof(float), sides[s]);
          for (size_t i = 0; i < out * in; i++) w[i] = (float)(i % 7) - 3.0f;
          for (size_t i = 0; i < out; i++) bias[i] = 0.5f;
          for (size_t i = 0; i < batch * in; i++) x[i] = (float)(i % 5) - 2.0f;
          assert_int_equal(tk_linear_f32_with(k, w, out, in, bias, x, batch, y), TK_OK);
          tk_qlinear *l;
          assert_int_equal(tk_qlinear_create(w, out, in, bias, &l), TK_OK);
          assert_int_equal(tk_qlinear_forward_with(k, l, x, batch, y), TK_OK);
          tk_qlinear_destroy(l);
          tk_guard_free(&gw), tk_guard_free(&gb), tk_guard_free(&gx), tk_guard_free(&gy);
        }
      }
    }
  }
}

int main(void) {
  const tk_test_case tests[] = {
      TK_VARIANT_TEST(int8_kernels_stay_inside_their_arrays),
      TK_VARIANT_TEST(qlinear_and_linear_f32_stay_inside_their_arrays),
  };
  return TK_RUN_TESTS("guard", tests);
}
