/* libFuzzer harness: tk_dot_s8 / tk_quantize_s8 / tk_dequantize_s8 from raw bytes, against a plain reference, under each available ISA. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "tinykern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Layout of an input: byte 0 picks the ISA (mod the available ones), the rest
   is split in half: two int8 arrays for the dot product, and the same bytes
   reinterpreted as floats (any bit pattern: NaN, Inf, subnormals) to quantize. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  tk_fuzz_in in = {data, 1};
  fz_select_isa(&in);
  data++, size--;

  size_t n = size / 2;
  const int8_t *a = (const int8_t *)data, *b = (const int8_t *)data + n;
  int64_t want = 0;
  for (size_t i = 0; i < n; i++) want += (int64_t)a[i] * b[i];
  int32_t got = 1;
  if (tk_dot_s8(a, b, n, &got) != TK_OK || got != want) abort();

  size_t nf = size / sizeof(float);
  float *x = malloc(nf * sizeof(float) + 1), *back = malloc(nf * sizeof(float) + 1);
  int8_t *q = malloc(nf + 1);
  if (!x || !back || !q) abort();
  memcpy(x, data, nf * sizeof(float));
  memset(q, 0x5a, nf + 1);
  float scale = -3.0f, m = 0.0f;
  bool finite = true;
  for (size_t i = 0; i < nf; i++) {
    finite = finite && isfinite(x[i]);
    m = fmaxf(m, fabsf(x[i]));
  }
  tk_status s = tk_quantize_s8(x, nf, q, &scale);
  if (nf == 0) {
    /* Empty: TK_OK, nothing written. */
    if (s != TK_OK || scale != -3.0f || q[0] != 0x5a) abort();
  } else if (!finite) {
    /* Rejected, nothing written. */
    if (s != TK_ERR_ARG || scale != -3.0f) abort();
    for (size_t i = 0; i <= nf; i++)
      if (q[i] != 0x5a) abort();
  } else {
    if (s != TK_OK || !(scale > 0.0f) || !isfinite(scale)) abort();
    if (m > 0.0f && m / 127.0f > 0.0f && scale != m / 127.0f) abort();
    for (size_t i = 0; i < nf; i++) {
      float v = rintf(x[i] / scale);
      int8_t w = (int8_t)(v > 127.0f ? 127 : v < -127.0f ? -127 : v);
      if (q[i] != w) abort();
    }
    if (q[nf] != 0x5a) abort();
    if (tk_dequantize_s8(q, nf, scale, back) != TK_OK) abort();
    for (size_t i = 0; i < nf; i++)
      if (back[i] != (float)q[i] * scale) abort();
  }
  free(x), free(back), free(q);
  return 0;
}
