/* int8 public functions: argument checks, then the active ISA's kernels. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "dispatch/kernels.h"
#include "int8/int8_kernels.h"

tk_status tk_dot_s8(const int8_t *a, const int8_t *b, size_t n, int32_t *out) {
  if (!out || (n && (!a || !b))) return TK_ERR_ARG;
  if (n > TK_DOT_S8_MAX_N) return TK_ERR_OVERFLOW;
  const int32_t r = n ? tk_active()->dot_s8(a, b, n) : 0;
  memcpy(out, &r, sizeof r); /* out may be at any address (API.md) */
  return TK_OK;
}

tk_status tk_quantize_s8_with(const tk_kernels *k, const float *x, size_t n, int8_t *q,
                               float *scale) {
  if (!scale || (n && (!x || !q))) return TK_ERR_ARG;
  if (n == 0) return TK_OK; /* empty: nothing written, as every empty length */
  bool finite = true;
  const float m = k->absmax_f32(x, n, &finite);
  if (!finite) return TK_ERR_ARG;
  /* All zero: 1.0f, as documented. A max|x| so small that max/127
     underflows to 0 gets the smallest positive float instead, so x / scale
     stays defined (it then still lies within [-127, 127]). */
  float s = m == 0.0f ? 1.0f : m / 127.0f;
  if (s == 0.0f) s = FLT_TRUE_MIN;
  k->quantize_s8(x, n, s, q);
  memcpy(scale, &s, sizeof s);
  return TK_OK;
}

tk_status tk_quantize_s8(const float *x, size_t n, int8_t *q, float *scale) {
  return tk_quantize_s8_with(tk_active(), x, n, q, scale);
}

tk_status tk_dequantize_s8(const int8_t *q, size_t n, float scale, float *x) {
  if (n && (!q || !x)) return TK_ERR_ARG;
  if (!isfinite(scale)) return TK_ERR_ARG;
  if (n) tk_active()->dequantize_s8(q, n, scale, x);
  return TK_OK;
}
