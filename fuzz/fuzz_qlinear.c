/* libFuzzer harness: tk_qlinear_create + forward with fuzzed shapes and values, against the quantized math in double. */
#include <stdbool.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "tinykern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The documented rule: scale = max|x| / 127 (1 when all zero), q = clamp(rne(x / scale)). */
static bool ref_quantize(const float *x, size_t n, int8_t *q, float *scale) {
  float m = 0.0f;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(x[i])) return false;
    m = fmaxf(m, fabsf(x[i]));
  }
  float s = m == 0.0f ? 1.0f : m / 127.0f;
  if (s == 0.0f) s = 0x1p-149f;
  for (size_t i = 0; i < n; i++) {
    float v = rintf(x[i] / s);
    q[i] = (int8_t)(v > 127.0f ? 127 : v < -127.0f ? -127 : v);
  }
  *scale = s;
  return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tk_fuzz_in in = {data, size};
  fz_select_isa(&in);

  size_t out = 1 + fz_below(&in, 24), k = 1 + fz_below(&in, 80), batch = fz_below(&in, 6);
  bool has_bias = fz_u8(&in) & 1;
  float *w = malloc(out * k * sizeof *w), *bias = malloc(out * sizeof *bias);
  float *x = malloc((batch * k + 1) * sizeof *x), *y = malloc((batch * out + 1) * sizeof *y);
  int8_t *wq = malloc(out * k), *xq = malloc(k + 1);
  float *ws = malloc(out * sizeof *ws);
  if (!w || !bias || !x || !y || !wq || !xq || !ws) abort();
  for (size_t i = 0; i < out * k; i++) w[i] = fz_float(&in);
  for (size_t i = 0; i < out; i++) bias[i] = fz_float(&in);
  for (size_t i = 0; i < batch * k; i++) x[i] = fz_float(&in);

  bool w_ok = true;
  for (size_t o = 0; o < out; o++) w_ok = w_ok && ref_quantize(w + o * k, k, wq + o * k, &ws[o]);
  for (size_t o = 0; has_bias && o < out; o++) w_ok = w_ok && isfinite(bias[o]);

  tk_qlinear *l = (tk_qlinear *)(uintptr_t)0x1;
  tk_status s = tk_qlinear_create(w, out, k, has_bias ? bias : NULL, &l);
  if (!w_ok) {
    if (s != TK_ERR_ARG || l != (tk_qlinear *)(uintptr_t)0x1) abort();
    goto done;
  }
  if (s != TK_OK) abort();
  if (tk_qlinear_bytes(l) < out * k) abort();

  bool x_ok = true;
  for (size_t i = 0; i < batch * k; i++) x_ok = x_ok && isfinite(x[i]);
  for (size_t i = 0; i <= batch * out; i++) y[i] = 777.0f;
  s = tk_qlinear_forward(l, x, batch, y);
  if (!x_ok) {
    if (s != TK_ERR_ARG) abort();
    for (size_t i = 0; i <= batch * out; i++)
      if (y[i] != 777.0f) abort();
  } else {
    if (s != TK_OK || y[batch * out] != 777.0f) abort();
    for (size_t b = 0; b < batch; b++) {
      float xs;
      ref_quantize(x + b * k, k, xq, &xs);
      for (size_t o = 0; o < out; o++) {
        int64_t acc = 0;
        for (size_t i = 0; i < k; i++) acc += (int64_t)wq[o * k + i] * xq[i];
        double scaled = (double)acc * ws[o] * xs;
        double want = scaled + (has_bias ? bias[o] : 0.0);
        double tol = 1e-5 * (fabs(scaled) + (has_bias ? fabs(bias[o]) : 0.0)) + 1e-37;
        double got = y[b * out + o];
        /* fp32 may overflow where the double reference does not. */
        if (fabs(want) < 1e38 && !(fabs(got - want) <= tol)) abort();
      }
    }
  }
  tk_qlinear_destroy(l);
done:
  free(w), free(bias), free(x), free(y), free(wq), free(xq), free(ws);
  return 0;
}
