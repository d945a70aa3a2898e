/* libFuzzer harness: tk_csr_create from raw arrays (often malformed), then spmv/spmm/to_dense against a double reference. */
#include <stdbool.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "tinykern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What tk_csr_create must say about these arrays (API.md). */
static tk_status expected_status(size_t rows, size_t cols, const int32_t *rp, const int32_t *ci,
                                 const float *v) {
  if (rp[0] != 0) return TK_ERR_FORMAT;
  for (size_t r = 0; r < rows; r++)
    if (rp[r + 1] < rp[r]) return TK_ERR_FORMAT;
  for (int32_t i = 0; i < rp[rows]; i++)
    if (ci[i] < 0 || (size_t)ci[i] >= cols) return TK_ERR_FORMAT;
  for (int32_t i = 0; i < rp[rows]; i++)
    if (!isfinite(v[i])) return TK_ERR_ARG;
  return TK_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tk_fuzz_in in = {data, size};
  fz_select_isa(&in);

  size_t rows = 1 + fz_below(&in, 40);
  /* Column counts near the 16-bit index switch are as likely as small ones. */
  static const size_t wide[4] = {65535, 65536, 65537, 70000};
  uint8_t c = fz_u8(&in);
  size_t cols = c < 32 ? wide[c % 4] : 1 + c % 48;
  size_t cap = 256;
  int32_t *rp = calloc(rows + 1, sizeof *rp), *ci = calloc(cap, sizeof *ci);
  float *v = calloc(cap, sizeof *v);
  if (!rp || !ci || !v) abort();
  /* Row pointers: usually a valid running count, sometimes arbitrary. */
  bool raw = (fz_u8(&in) & 7) == 0;
  for (size_t r = 1; r <= rows; r++) {
    int32_t step = (int32_t)fz_below(&in, 8) - (raw ? 2 : 0);
    rp[r] = rp[r - 1] + step;
    if (rp[r] > (int32_t)cap) rp[r] = (int32_t)cap;
  }
  if (raw && (fz_u8(&in) & 1)) rp[0] = (int32_t)fz_below(&in, 3) - 1;
  for (size_t i = 0; i < cap; i++) {
    uint8_t k = fz_u8(&in);
    ci[i] = k < 8 ? (int32_t)cols - 4 + k : (int32_t)fz_below(&in, cols);
    v[i] = fz_float(&in);
  }
  tk_status want = expected_status(rows, cols, rp, ci, v);
  if (rp[rows] < 0) want = TK_ERR_FORMAT;

  tk_csr *a = (tk_csr *)(uintptr_t)0x1;
  tk_status s = tk_csr_create(rows, cols, rp, ci, v, &a);
  if ((s == TK_OK) != (want == TK_OK)) abort();
  if (s != TK_OK) {
    if (a != (tk_csr *)(uintptr_t)0x1) abort(); /* nothing written */
    if (want == TK_ERR_FORMAT && s != TK_ERR_FORMAT && s != TK_ERR_ARG) abort();
    free(rp), free(ci), free(v);
    return 0;
  }
  if (tk_csr_rows(a) != rows || tk_csr_cols(a) != cols || tk_csr_nnz(a) != (size_t)rp[rows])
    abort();

  /* x with a few moderate values; reference in double; tolerance scaled by the
     sum of |products| (fp32 accumulation in any order). */
  size_t n = 1 + fz_below(&in, 9);
  float *x = malloc(cols * n * sizeof *x), *y = malloc((rows * n + 1) * sizeof *y);
  double *ref = calloc(rows * n, sizeof *ref), *mag = calloc(rows * n, sizeof *mag);
  if (!x || !y || !ref || !mag) abort();
  for (size_t i = 0; i < cols * n; i++) x[i] = (float)((int)(i * 2654435761u % 17) - 8) / 4.0f;
  for (size_t r = 0; r < rows; r++)
    for (int32_t i = rp[r]; i < rp[r + 1]; i++)
      for (size_t j = 0; j < n; j++) {
        double p = (double)v[i] * x[(size_t)ci[i] * n + j];
        ref[r * n + j] += p;
        mag[r * n + j] += fabs(p);
      }
  y[rows * n] = 12345.0f;
  if (tk_spmm(a, x, n, y) != TK_OK) abort();
  for (size_t i = 0; i < rows * n; i++)
    if (fabs(y[i] - ref[i]) > 1e-5 * mag[i] + 1e-30) abort();
  if (y[rows * n] != 12345.0f) abort();
  /* SpMV: the n == 1 product over x's first column-major slice. */
  for (size_t j = 0; j < cols; j++) x[j] = x[j * n];
  for (size_t r = 0; r < rows; r++) ref[r] = mag[r] = 0.0;
  for (size_t r = 0; r < rows; r++)
    for (int32_t i = rp[r]; i < rp[r + 1]; i++) {
      double p = (double)v[i] * x[ci[i]];
      ref[r] += p;
      mag[r] += fabs(p);
    }
  if (tk_spmv(a, x, y) != TK_OK) abort();
  for (size_t r = 0; r < rows; r++)
    if (fabs(y[r] - ref[r]) > 1e-5 * mag[r] + 1e-30) abort();

  if (rows * cols <= 4096) {
    float *w = malloc(rows * cols * sizeof *w);
    double *dw = calloc(rows * cols, sizeof *dw);
    if (!w || !dw) abort();
    for (size_t r = 0; r < rows; r++)
      for (int32_t i = rp[r]; i < rp[r + 1]; i++) dw[r * cols + (size_t)ci[i]] += v[i];
    if (tk_csr_to_dense(a, w) != TK_OK) abort();
    for (size_t i = 0; i < rows * cols; i++)
      if (fabs(w[i] - dw[i]) > 1e-6 * fabs(dw[i]) + 1e-30 && !(isinf(dw[i]))) abort();
    free(w), free(dw);
  }
  tk_csr_destroy(a);
  free(x), free(y), free(ref), free(mag), free(rp), free(ci), free(v);
  return 0;
}
