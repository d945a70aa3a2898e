/* libFuzzer harness: tk_csr_create from raw arrays (often malformed), then spmv/spmm (Inf/NaN inputs, misaligned arrays) and to_dense against a per-row double reference. */
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

/* One output against its row's own entries summed in double (products that
   stay far from fp32 overflow here: |values| <= 1.28e32, |x| <= 2): NaN when a
   product is NaN (NaN, or 0 * Inf from an explicit zero) or both infinities
   occur, else that infinity, else the sum within fp32 rounding (tolerance
   scaled by the sum of |products|: fp32 accumulation in any order). Storage
   must not matter: an entry a row lacks contributes nothing, even where x or
   B is Inf or NaN (issue 13 item 4: a blocked group's stored zeros once did). */
static bool row_ok(float got, double want, double mag) {
  if (isnan(want)) return isnan(got);
  if (isinf(want)) return (double)got == want;
  return fabs(got - want) <= 1e-5 * mag + 1e-30;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tk_fuzz_in in = {data, size};
  fz_select_isa(&in);

  size_t rows = 1 + fz_below(&in, 40);
  /* Column counts near the 16-bit index switch are as likely as small ones. */
  static const size_t wide[4] = {65535, 65536, 65537, 70000};
  uint8_t c = fz_u8(&in);
  size_t cols = c < 32 ? wide[c % 4] : 1 + c % 48;
  /* The products' shape and inputs come next (early, so that short inputs
     reach them): batch n, up to 3 Inf / -Inf / NaN placed in B ([cols][n];
     its first column is x for SpMV), the byte offset of B, C, x and y
     (pointers need no alignment). */
  size_t n = 1 + fz_below(&in, 9);
  size_t n_bad = fz_u8(&in) % 4, bad_at[3], bad_kind[3];
  for (size_t k = 0; k < n_bad; k++) {
    bad_at[k] = fz_below(&in, cols * n);
    bad_kind[k] = fz_u8(&in) % 3;
  }
  size_t off = fz_u8(&in) % 8;
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

  /* B with moderate values and the non-finite ones picked above; the
     reference is each row's own entries in double (row_ok). */
  float *x = malloc(cols * n * sizeof *x), *y = malloc(rows * n * sizeof *y);
  double *ref = calloc(rows * n, sizeof *ref), *mag = calloc(rows * n, sizeof *mag);
  if (!x || !y || !ref || !mag) abort();
  for (size_t i = 0; i < cols * n; i++) x[i] = (float)((int)(i * 2654435761u % 17) - 8) / 4.0f;
  static const float bad[3] = {INFINITY, -INFINITY, NAN};
  for (size_t k = 0; k < n_bad; k++) x[bad_at[k]] = bad[bad_kind[k]];
  unsigned char *xb = malloc(cols * n * sizeof *x + off);
  unsigned char *yb = malloc(rows * n * sizeof *y + off + sizeof(float));
  if (!xb || !yb) abort();
  for (size_t r = 0; r < rows; r++)
    for (int32_t i = rp[r]; i < rp[r + 1]; i++)
      for (size_t j = 0; j < n; j++) {
        double p = (double)v[i] * x[(size_t)ci[i] * n + j];
        ref[r * n + j] += p;
        mag[r * n + j] += fabs(p);
      }
  const float guard = 12345.0f;
  memcpy(xb + off, x, cols * n * sizeof *x);
  memcpy(yb + off + rows * n * sizeof *y, &guard, sizeof guard);
  const float *xs = (const float *)(void *)(xb + off);
  float *ys = (float *)(void *)(yb + off);
  if (tk_spmm(a, xs, n, ys) != TK_OK) abort();
  memcpy(y, yb + off, rows * n * sizeof *y);
  for (size_t i = 0; i < rows * n; i++)
    if (!row_ok(y[i], ref[i], mag[i])) abort();
  if (memcmp(yb + off + rows * n * sizeof *y, &guard, sizeof guard)) abort();
  /* SpMV: the n == 1 product over x's first column-major slice. */
  for (size_t j = 0; j < cols; j++) x[j] = x[j * n];
  for (size_t r = 0; r < rows; r++) ref[r] = mag[r] = 0.0;
  for (size_t r = 0; r < rows; r++)
    for (int32_t i = rp[r]; i < rp[r + 1]; i++) {
      double p = (double)v[i] * x[ci[i]];
      ref[r] += p;
      mag[r] += fabs(p);
    }
  memcpy(xb + off, x, cols * sizeof *x);
  if (tk_spmv(a, xs, ys) != TK_OK) abort();
  memcpy(y, yb + off, rows * sizeof *y);
  for (size_t r = 0; r < rows; r++)
    if (!row_ok(y[r], ref[r], mag[r])) abort();
  free(xb), free(yb);

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
