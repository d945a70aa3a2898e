/* int8 dot product and quantization: every variant against a plain reference, bit-exact, plus bad input. */
#include <math.h>

#include "tk_test.h"

static int32_t ref_dot(const int8_t *a, const int8_t *b, size_t n) {
  int64_t s = 0;
  for (size_t i = 0; i < n; i++) s += (int64_t)a[i] * b[i];
  return (int32_t)s;
}

/* The documented rule, element by element: clamp(rne(x / scale), -127, 127). */
static int8_t ref_quantize(float x, float scale) {
  float v = rintf(x / scale);
  return (int8_t)(v > 127.0f ? 127 : v < -127.0f ? -127 : v);
}

static void check_dot(tk_isa isa, const int8_t *a, const int8_t *b, size_t n, const char *what) {
  int32_t want = ref_dot(a, b, n);
  int32_t got = tk_test_table(isa)->dot_s8(a, b, n);
  if (got != want) {
    print_error("dot_s8 %s (%s) n=%zu %s: got %d want %d\n", tk_isa_name(isa), tk_test_kind(isa),
                n, what, got, want);
    fail();
  }
}

static size_t lengths[310];
static size_t n_lengths;

/* 0..300, 4096 and the largest n. */
static void build_lengths(void) {
  n_lengths = 0;
  for (size_t n = 0; n <= 300; n++) lengths[n_lengths++] = n;
  lengths[n_lengths++] = 4096;
  lengths[n_lengths++] = TK_DOT_S8_MAX_N;
}

static void dot_s8_random_every_length_and_alignment(tk_isa isa) {
  build_lengths();
  tk_rng r = {0x1234};
  size_t cap = TK_DOT_S8_MAX_N + 8;
  int8_t *a = malloc(cap), *b = malloc(cap);
  assert_non_null(a);
  assert_non_null(b);
  for (size_t i = 0; i < cap; i++) a[i] = tk_rng_s8(&r), b[i] = tk_rng_s8(&r);
  for (size_t li = 0; li < n_lengths; li++) {
    size_t n = lengths[li];
    for (size_t off = 0; off < 4; off++) {
      char what[32];
      snprintf(what, sizeof what, "offsets %zu/%zu", off, 3 - off);
      check_dot(isa, a + off, b + 3 - off, n, what);
    }
  }
  free(a);
  free(b);
}

/* -128 * -128 is the product that saturates the int16 "sign trick"; the
   longest all -128 dot is the largest exact result (131071 * 16384). VNNI
   (vpdpbusd) multiplies a + 128 as u8: with a = 127 and b = -128 its lanes sum
   255 * -128 per pair and wrap around int32 at the longest n, where the
   corrected total (127 * -128 * 131071) still fits; the patterns that change
   every element, every 4 (one vpdpbusd group) and every 64 (one zmm step) put
   different extremes in different lanes and chains. */
static void dot_s8_extreme_values(tk_isa isa) {
  build_lengths();
  size_t n = TK_DOT_S8_MAX_N;
  int8_t *a = malloc(n), *b = malloc(n);
  assert_non_null(a);
  assert_non_null(b);
  struct {
    const char *name;
    size_t period; /* a0, b0 for i / period even, a1, b1 for odd */
    int8_t a0, a1, b0, b1;
  } patterns[] = {
      {"all -128 x -128", 1, -128, -128, -128, -128},
      {"all 127 x 127", 1, 127, 127, 127, 127},
      {"all -128 x 127", 1, -128, -128, 127, 127},
      {"all 127 x -128", 1, 127, 127, -128, -128},
      {"alternating -128/127", 1, -128, 127, -128, 127},
      {"alternating opposite", 1, -128, 127, 127, -128},
      {"alternating 127 x -128 / -128 x -128", 1, 127, -128, -128, -128},
      {"groups of 4: 127 x -128 / -128 x 127", 4, 127, -128, -128, 127},
      {"blocks of 64: 127 x -128 / -128 x -128", 64, 127, -128, -128, -128},
  };
  for (size_t p = 0; p < sizeof patterns / sizeof patterns[0]; p++) {
    for (size_t i = 0; i < n; i++) {
      const bool odd = (i / patterns[p].period) & 1;
      a[i] = odd ? patterns[p].a1 : patterns[p].a0;
      b[i] = odd ? patterns[p].b1 : patterns[p].b0;
    }
    for (size_t li = 0; li < n_lengths; li++) check_dot(isa, a, b, lengths[li], patterns[p].name);
  }
  free(a);
  free(b);
}

static void quantize_s8_matches_reference_rounding_and_clamp(tk_isa isa) {
  tk_rng r = {99};
  enum { N = 4099 };
  float *x = malloc((N + 1) * sizeof(float));
  int8_t *q = malloc(N + 1);
  assert_non_null(x);
  assert_non_null(q);
  /* Values beyond +-127 * scale (clamped), exact ties k + 0.5 (to even), zeros. */
  const float scales[] = {1.0f, 0.25f, 3.0f / 127.0f};
  const tk_kernels *k = tk_test_table(isa);
  for (size_t si = 0; si < 3; si++) {
    float scale = scales[si];
    for (size_t i = 0; i <= N; i++) {
      switch (i % 4) {
        case 0: x[i] = tk_rng_f32(&r, -140.0f, 140.0f) * scale; break;
        case 1: x[i] = ((float)(int)(i % 300) - 150.0f + 0.5f) * scale; break;
        case 2: x[i] = 0.0f; break;
        default: x[i] = tk_rng_f32(&r, -1e30f, 1e30f); break;
      }
    }
    for (size_t n = 0; n <= N; n += (n < 40 ? 1 : 1021)) {
      for (size_t off = 0; off < 2; off++) {
        memset(q, 0x55, N + 1);
        k->quantize_s8(x + off, n, scale, q + off);
        for (size_t i = 0; i < n; i++) {
          int8_t w = ref_quantize(x[off + i], scale);
          if (q[off + i] != w) {
            print_error("quantize_s8 %s (%s) n=%zu i=%zu x=%a scale=%a: got %d want %d\n",
                        tk_isa_name(isa), tk_test_kind(isa), n, i, (double)x[off + i],
                        (double)scale, q[off + i], w);
            fail();
          }
        }
        /* Nothing written past n. */
        for (size_t i = off + n; i <= N; i++) assert_int_equal(q[i], 0x55);
      }
    }
  }
  free(x);
  free(q);
}

static void dequantize_s8_matches_reference(tk_isa isa) {
  enum { N = 300 };
  int8_t q[N + 1];
  float x[N + 1];
  for (int i = 0; i <= N; i++) q[i] = (int8_t)(i * 37 - 128);
  for (size_t n = 0; n <= N; n++) {
    for (int i = 0; i <= N; i++) x[i] = -7.0f;
    tk_test_table(isa)->dequantize_s8(q + 1, n, 0.0371f, x + 1);
    for (size_t i = 0; i < n; i++) {
      float w = (float)q[1 + i] * 0.0371f;
      if (x[1 + i] != w) {
        print_error("dequantize_s8 %s (%s) n=%zu i=%zu: got %a want %a\n", tk_isa_name(isa),
                    tk_test_kind(isa), n, i, (double)x[1 + i], (double)w);
        fail();
      }
    }
    assert_true(x[0] == -7.0f);
    for (size_t i = n + 1; i <= N; i++) assert_true(x[i] == -7.0f);
  }
}

static void absmax_f32_finds_max_and_flags_nonfinite_at_every_position(tk_isa isa) {
  enum { N = 37 };
  float x[N];
  const float bad[] = {NAN, INFINITY, -INFINITY};
  const tk_kernels *k = tk_test_table(isa);
  for (size_t n = 1; n <= N; n++) {
    for (size_t pos = 0; pos < n; pos++) {
      for (size_t i = 0; i < n; i++) x[i] = (float)i * 0.5f - 3.0f;
      x[pos] = -1000.0f - (float)pos;
      bool finite = false;
      float m = k->absmax_f32(x, n, &finite);
      if (!finite || m != 1000.0f + (float)pos) {
        print_error("absmax_f32 %s (%s) n=%zu pos=%zu: got %g finite=%d\n", tk_isa_name(isa),
                    tk_test_kind(isa), n, pos, (double)m, finite);
        fail();
      }
      for (size_t b = 0; b < 3; b++) {
        x[pos] = bad[b];
        finite = true;
        k->absmax_f32(x, n, &finite);
        if (finite) {
          print_error("absmax_f32 %s (%s) n=%zu: %g at %zu not flagged\n", tk_isa_name(isa),
                      tk_test_kind(isa), n, (double)bad[b], pos);
          fail();
        }
      }
    }
  }
}

/* The public functions, through dispatch, under each ISA this CPU runs. */
static void public_int8_functions(tk_isa isa) {
  tk_test_use_isa(isa);
  tk_rng r = {7};
  enum { N = 1000 };
  float x[N], back[N];
  int8_t q[N], a[N], b[N];
  for (int i = 0; i < N; i++) a[i] = tk_rng_s8(&r), b[i] = tk_rng_s8(&r);
  int32_t d = 0;
  assert_int_equal(tk_dot_s8(a, b, N, &d), TK_OK);
  assert_int_equal(d, ref_dot(a, b, N));
  for (size_t n = 0; n < 70; n++) {
    for (size_t i = 0; i < n; i++) x[i] = tk_rng_f32(&r, -5.0f, 3.0f);
    float scale = -1.0f;
    assert_int_equal(tk_quantize_s8(x, n, q, &scale), TK_OK);
    if (n == 0) {
      assert_true(scale == -1.0f); /* empty: nothing written */
      continue;
    }
    float m = 0.0f;
    for (size_t i = 0; i < n; i++) m = fmaxf(m, fabsf(x[i]));
    assert_true(scale == (m == 0.0f ? 1.0f : m / 127.0f));
    for (size_t i = 0; i < n; i++) assert_int_equal(q[i], ref_quantize(x[i], scale));
    assert_int_equal(tk_dequantize_s8(q, n, scale, back), TK_OK);
    for (size_t i = 0; i < n; i++) assert_true(fabsf(back[i] - x[i]) <= 0.5f * scale * 1.0001f);
  }
  /* All zero: scale 1, all q zero. */
  float zeros[5] = {0}, s = 0.0f;
  int8_t qz[5] = {1, 1, 1, 1, 1};
  assert_int_equal(tk_quantize_s8(zeros, 5, qz, &s), TK_OK);
  assert_true(s == 1.0f);
  for (int i = 0; i < 5; i++) assert_int_equal(qz[i], 0);
  /* The extremes reach exactly +-127. */
  float ext[3] = {-2.5f, 2.5f, 1.25f};
  int8_t qe[3];
  assert_int_equal(tk_quantize_s8(ext, 3, qe, &s), TK_OK);
  assert_int_equal(qe[0], -127);
  assert_int_equal(qe[1], 127);
}

static void bad_input_returns_status_and_writes_nothing(void **state) {
  (void)state;
  int8_t a[4] = {1, 2, 3, 4};
  int32_t out = 12345;
  assert_int_equal(tk_dot_s8(NULL, a, 4, &out), TK_ERR_ARG);
  assert_int_equal(tk_dot_s8(a, NULL, 4, &out), TK_ERR_ARG);
  assert_int_equal(tk_dot_s8(a, a, 4, NULL), TK_ERR_ARG);
  assert_int_equal(out, 12345);
  /* n just past the exact range, without touching memory. */
  assert_int_equal(tk_dot_s8(a, a, TK_DOT_S8_MAX_N + 1, &out), TK_ERR_OVERFLOW);
  assert_int_equal(tk_dot_s8(a, a, SIZE_MAX, &out), TK_ERR_OVERFLOW);
  assert_int_equal(out, 12345);
  /* n == 0: NULL arrays accepted, result zero. */
  assert_int_equal(tk_dot_s8(NULL, NULL, 0, &out), TK_OK);
  assert_int_equal(out, 0);

  float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  int8_t q[9];
  float scale = 42.0f;
  memset(q, 0x33, sizeof q);
  assert_int_equal(tk_quantize_s8(NULL, 9, q, &scale), TK_ERR_ARG);
  assert_int_equal(tk_quantize_s8(x, 9, NULL, &scale), TK_ERR_ARG);
  assert_int_equal(tk_quantize_s8(x, 9, q, NULL), TK_ERR_ARG);
  const float bad[] = {NAN, INFINITY, -INFINITY};
  for (size_t b = 0; b < 3; b++) {
    for (size_t pos = 0; pos < 9; pos++) {
      float y[9];
      memcpy(y, x, sizeof y);
      y[pos] = bad[b];
      assert_int_equal(tk_quantize_s8(y, 9, q, &scale), TK_ERR_ARG);
    }
  }
  for (size_t i = 0; i < 9; i++) assert_int_equal(q[i], 0x33);
  assert_true(scale == 42.0f);
  /* Empty: TK_OK and nothing written, the scale included. */
  assert_int_equal(tk_quantize_s8(NULL, 0, NULL, &scale), TK_OK);
  assert_true(scale == 42.0f);

  float back[9];
  for (size_t i = 0; i < 9; i++) back[i] = -1.0f;
  assert_int_equal(tk_dequantize_s8(NULL, 9, 1.0f, back), TK_ERR_ARG);
  assert_int_equal(tk_dequantize_s8(q, 9, 1.0f, NULL), TK_ERR_ARG);
  assert_int_equal(tk_dequantize_s8(q, 9, NAN, back), TK_ERR_ARG);
  assert_int_equal(tk_dequantize_s8(q, 9, INFINITY, back), TK_ERR_ARG);
  for (size_t i = 0; i < 9; i++) assert_true(back[i] == -1.0f);
  assert_int_equal(tk_dequantize_s8(NULL, 0, 1.0f, NULL), TK_OK);
}

/* A max|x| whose /127 underflows to zero still gives a usable, positive scale. */
static void quantize_s8_tiny_values(void **state) {
  (void)state;
  float x[3] = {0x1p-149f, -0x1p-149f, 0.0f}, scale = 0.0f;
  int8_t q[3];
  assert_int_equal(tk_quantize_s8(x, 3, q, &scale), TK_OK);
  assert_true(scale > 0.0f);
  assert_int_equal(q[0], 1);
  assert_int_equal(q[1], -1);
  assert_int_equal(q[2], 0);
}

int main(void) {
  const tk_test_case tests[] = {
      TK_VARIANT_TEST(dot_s8_random_every_length_and_alignment),
      TK_VARIANT_TEST(dot_s8_extreme_values),
      TK_VARIANT_TEST(quantize_s8_matches_reference_rounding_and_clamp),
      TK_VARIANT_TEST(dequantize_s8_matches_reference),
      TK_VARIANT_TEST(absmax_f32_finds_max_and_flags_nonfinite_at_every_position),
      TK_VARIANT_TEST(public_int8_functions),
      TK_TEST(bad_input_returns_status_and_writes_nothing),
      TK_TEST(quantize_s8_tiny_values),
  };
  return TK_RUN_TESTS("int8", tests);
}
