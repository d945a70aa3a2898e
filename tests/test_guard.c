/* Guard pages: every kernel of every variant, arrays ending at / starting after a PROT_NONE page, every tail. */
#include "tk_guard.h"
#include "tk_test.h"

/* Tail lengths up to two vector widths of the widest ISA (AVX2: 32 int8 per
   step, two steps per loop turn; 8 floats per vector) and a little beyond. */
enum { MAX_S8 = 2 * 2 * 32 + 3, MAX_F32 = 2 * 2 * 8 + 3 };

static const tk_guard_side sides[2] = {TK_GUARD_END, TK_GUARD_START};

static void int8_kernels_stay_inside_their_arrays(void **state) {
  (void)state;
  TK_FOR_EACH_VARIANT(isa) {
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
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(int8_kernels_stay_inside_their_arrays),
  };
  return cmocka_run_group_tests_name("guard", tests, NULL, NULL);
}
