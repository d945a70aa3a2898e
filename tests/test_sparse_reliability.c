/* Sparse reliability: Inf/NaN in x or B reaches only the rows that have that column, whatever the storage; every array argument at any byte address. */
#include <math.h>

#include "sparse/sparse_kernels.h"
#include "tk_test.h"

static const size_t batch_sizes[] = {1, 2, 7, 8, 9, 16, 17, 33, 64, 65};
enum { N_BATCH = sizeof batch_sizes / sizeof batch_sizes[0] };

static size_t count_blocked(const tk_csr *a) {
  size_t n = 0;
  for (size_t g = 0; g < a->n_groups; g++) n += a->groups[g].blocked;
  return n;
}

/* The CSR arrays of a dense [rows][cols] matrix (its nonzeros, row by row). */
typedef struct csr_arrays {
  size_t rows, cols;
  int32_t *row_ptr, *col_idx;
  float *val;
} csr_arrays;

static csr_arrays csr_of_dense(const float *w, size_t rows, size_t cols) {
  csr_arrays m = {rows, cols, calloc(rows + 1, sizeof(int32_t)),
                  malloc(rows * cols * sizeof(int32_t)), malloc(rows * cols * sizeof(float))};
  assert_non_null(m.row_ptr);
  assert_non_null(m.col_idx);
  assert_non_null(m.val);
  size_t j = 0;
  for (size_t r = 0; r < rows; r++) {
    for (size_t c = 0; c < cols; c++) {
      if (w[r * cols + c] != 0.0f) {
        m.col_idx[j] = (int32_t)c;
        m.val[j++] = w[r * cols + c];
      }
    }
    m.row_ptr[r + 1] = (int32_t)j;
  }
  return m;
}

static void csr_arrays_free(csr_arrays *m) {
  free(m->row_ptr);
  free(m->col_idx);
  free(m->val);
}

/* What one output must be, from its row's own entries only (scipy's rule):
   NaN when a product is NaN (NaN, or 0 * Inf) or both infinities occur, else
   that infinity, else the finite sum within fp32 rounding. sum and abs_sum
   are the row's products summed in double (no finite overflow here). */
static bool matches(float got, double sum, double abs_sum) {
  if (isnan(sum)) return isnan(got);
  if (isinf(sum)) return (double)got == sum;
  return fabs((double)got - sum) <= 1e-5 * abs_sum;
}

/* C = A B (SpMV when n == 0, x = b) of every variant against the per-row rule. */
static void check_rows_own_entries(tk_isa isa, const tk_csr *a, const csr_arrays *m, const float *b, size_t n,
                                   const char *what) {
  size_t nn = n ? n : 1;
  float *c = malloc(m->rows * nn * sizeof(float));
  assert_non_null(c);
  {
    const tk_kernels *k = tk_test_table(isa);
    if (n)
      k->spmm(a, b, n, c);
    else
      k->spmv(a, b, c);
    for (size_t r = 0; r < m->rows; r++) {
      for (size_t i = 0; i < nn; i++) {
        double s = 0.0, sa = 0.0;
        for (int32_t j = m->row_ptr[r]; j < m->row_ptr[r + 1]; j++) {
          double t = (double)m->val[j] * b[(size_t)m->col_idx[j] * nn + i];
          s += t;
          sa += fabs(t);
        }
        if (!matches(c[r * nn + i], s, sa)) {
          print_error("%s %s (%s) %zux%zu n=%zu %s: [%zu][%zu] got %.9g want %.9g\n",
                      n ? "spmm" : "spmv", tk_isa_name(isa), tk_test_kind(isa), m->rows, m->cols,
                      n, what, r, i, (double)c[r * nn + i], s);
          fail();
        }
      }
    }
  }
  free(c);
}

/* Issue 13 item 4, its exact input: a 4x8 matrix of ones except row 2 column
   5 is stored as one block (the zero there is "absent"); x = 1 with x[5] =
   Inf gives y = [inf inf 7 inf] (as scipy, and as the same row in a split
   group), and -Inf / NaN there likewise reach rows 0, 1, 3 only. SpMM: the
   same with B's row 5 holding Inf, -Inf and NaN in turn along the batch. */
static void nonfinite_input_reaches_only_rows_with_that_column(tk_isa isa) {
  float w[4 * 8];
  for (size_t i = 0; i < 4 * 8; i++) w[i] = 1.0f;
  w[2 * 8 + 5] = 0.0f;
  csr_arrays m = csr_of_dense(w, 4, 8);
  tk_csr *a = NULL;
  assert_int_equal(tk_csr_create(4, 8, m.row_ptr, m.col_idx, m.val, &a), TK_OK);
  assert_int_equal(count_blocked(a), 1);

  const float bad[3] = {INFINITY, -INFINITY, NAN};
  for (int k = 0; k < 3; k++) {
    float x[8] = {1, 1, 1, 1, 1, 1, 1, 1}, y[4];
    x[5] = bad[k];
    {
      tk_test_table(isa)->spmv(a, x, y);
      for (int r = 0; r < 4; r++) {
        bool ok = r == 2 ? y[r] == 7.0f : (isnan(bad[k]) ? isnan(y[r]) : y[r] == bad[k]);
        if (!ok) {
          print_error("spmv %s (%s): x[5] = %g, y[%d] = %g\n", tk_isa_name(isa), tk_test_kind(isa),
                      (double)bad[k], r, (double)y[r]);
          fail();
        }
      }
    }
    check_rows_own_entries(isa, a, &m, x, 0, "issue 13.4");
  }
  /* The public function too, under the active ISA. */
  float x[8] = {1, 1, 1, 1, 1, INFINITY, 1, 1}, y[4];
  assert_int_equal(tk_spmv(a, x, y), TK_OK);
  assert_true(isinf(y[0]) && isinf(y[1]) && y[2] == 7.0f && isinf(y[3]));

  for (size_t bi = 0; bi < N_BATCH; bi++) {
    size_t n = batch_sizes[bi];
    float *b = malloc(8 * n * sizeof(float)), *c = malloc(4 * n * sizeof(float));
    assert_non_null(b);
    assert_non_null(c);
    for (size_t i = 0; i < 8 * n; i++) b[i] = 1.0f;
    for (size_t i = 0; i < n; i++) b[5 * n + i] = bad[i % 3];
    {
      tk_test_table(isa)->spmm(a, b, n, c);
      for (size_t i = 0; i < n; i++) {
        if (c[2 * n + i] != 7.0f) {
          print_error("spmm %s (%s) n=%zu: C[2][%zu] = %g, want 7\n", tk_isa_name(isa),
                      tk_test_kind(isa), n, i, (double)c[2 * n + i]);
          fail();
        }
      }
    }
    check_rows_own_entries(isa, a, &m, b, n, "issue 13.4");
    assert_int_equal(tk_spmm(a, b, n, c), TK_OK);
    for (size_t i = 0; i < n; i++) assert_true(c[2 * n + i] == 7.0f);
    free(b);
    free(c);
  }
  tk_csr_destroy(a);
  csr_arrays_free(&m);
}

/* Dense-ish matrices (every full group blocked, holes at random), 16- and
   32-bit indices, with Inf, -Inf and NaN at random places of x and B: every
   output follows its row's own entries, for every variant, batch sizes
   around every vector tail. */
static void nonfinite_at_random_places_blocked_groups(tk_isa isa) {
  tk_rng rng = {1313};
  const size_t shapes[][2] = {{4, 8}, {8, 13}, {13, 40}, {4, 65537}};
  const float bad[3] = {INFINITY, -INFINITY, NAN};
  for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++) {
    size_t rows = shapes[sh][0], cols = shapes[sh][1];
    float *w = malloc(rows * cols * sizeof(float));
    assert_non_null(w);
    for (size_t i = 0; i < rows * cols; i++)
      w[i] = tk_rng_next(&rng) % 16 == 0 ? 0.0f : tk_rng_f32(&rng, 0.5f, 2.0f);
    csr_arrays m = csr_of_dense(w, rows, cols);
    tk_csr *a = NULL;
    assert_int_equal(tk_csr_create(rows, cols, m.row_ptr, m.col_idx, m.val, &a), TK_OK);
    assert_int_equal(count_blocked(a), rows / 4);
    size_t max_n = cols > 1000 ? 2 : 65;
    float *b = malloc(cols * max_n * sizeof(float));
    assert_non_null(b);
    for (size_t bi = 0; bi < N_BATCH && batch_sizes[bi] <= max_n; bi++) {
      size_t n = batch_sizes[bi];
      for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < cols * n; i++) b[i] = tk_rng_f32(&rng, -1.0f, 1.0f);
        /* A few non-finite entries, and for the wide shape one in a column
           row 0 lacks. */
        for (int e = 0; e < 3; e++) b[tk_rng_next(&rng) % (cols * n)] = bad[(size_t)e % 3];
        if (cols > 1000) {
          size_t c0 = 0;
          while (w[c0] != 0.0f) c0++;
          b[c0 * n] = bad[pass];
        }
        check_rows_own_entries(isa, a, &m, b, n, "random blocked");
        if (n == 1) check_rows_own_entries(isa, a, &m, b, 0, "random blocked");
      }
    }
    free(b);
    tk_csr_destroy(a);
    csr_arrays_free(&m);
    free(w);
  }
}

/* Explicit zeros and repeated columns count as entries, as in scipy: 0 * Inf
   = NaN, and (2, -1) at an Inf column is Inf - Inf = NaN (not Inf, as their
   sum would give). Groups holding them stay split, so no block ever hides
   one. */
static void explicit_zeros_and_repeats_are_entries(tk_isa isa) {
  /* 4 rows over columns 0-3; row 1 has an explicit 0 in column 2, row 3
     has column 2 twice (2 and -1). */
  int32_t rp[5] = {0, 4, 8, 12, 17};
  int32_t ci[17] = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 2};
  float v[17] = {1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 2, 1, -1};
  csr_arrays m = {4, 4, rp, ci, v};
  tk_csr *a = NULL;
  assert_int_equal(tk_csr_create(4, 4, rp, ci, v, &a), TK_OK);
  assert_int_equal(count_blocked(a), 0);
  float x[4] = {1, 1, INFINITY, 1};
  check_rows_own_entries(isa, a, &m, x, 0, "explicit zero and repeat");
  float y[4];
  assert_int_equal(tk_spmv(a, x, y), TK_OK);
  assert_true(isinf(y[0]) && isnan(y[1]) && isinf(y[2]) && isnan(y[3]));
  tk_csr_destroy(a);
  /* Without them the same rows are blocked. */
  int32_t rp2[5] = {0, 4, 8, 12, 16};
  float v2[16] = {1, 1, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1, 2, 1};
  assert_int_equal(tk_csr_create(4, 4, rp2, ci, v2, &a), TK_OK);
  assert_int_equal(count_blocked(a), 1);
  tk_csr_destroy(a);
}

/* Blocked groups from rows whose columns come unsorted (no repeats): the
   columns are merged in order, products and to_dense as given. */
static void blocked_groups_from_unsorted_columns(tk_isa isa) {
  int32_t rp[5] = {0, 5, 10, 14, 19};
  int32_t ci[19] = {4, 0, 3, 1, 2, 2, 4, 1, 0, 3, 3, 0, 4, 1, 1, 2, 4, 3, 0};
  float v[19];
  for (int i = 0; i < 19; i++) v[i] = 0.25f + 0.125f * (float)i;
  csr_arrays m = {4, 5, rp, ci, v};
  tk_csr *a = NULL;
  assert_int_equal(tk_csr_create(4, 5, rp, ci, v, &a), TK_OK);
  assert_int_equal(count_blocked(a), 1);
  float w[20], want[20] = {0};
  for (size_t r = 0; r < 4; r++)
    for (int32_t j = rp[r]; j < rp[r + 1]; j++) want[r * 5 + (size_t)ci[j]] = v[j];
  assert_int_equal(tk_csr_to_dense(a, w), TK_OK);
  assert_memory_equal(w, want, sizeof w);
  float b[5 * 9];
  tk_rng rng = {8};
  for (int i = 0; i < 5 * 9; i++) b[i] = tk_rng_f32(&rng, -1.0f, 1.0f);
  check_rows_own_entries(isa, a, &m, b, 0, "unsorted blocked");
  check_rows_own_entries(isa, a, &m, b, 9, "unsorted blocked");
  tk_csr_destroy(a);
}

/* A copy of `bytes` bytes of src at byte offset off of a fresh buffer (so a
   float or int32 array starts off bytes past an aligned address). */
static void *at_offset(void **buf, const void *src, size_t bytes, size_t off) {
  *buf = malloc(bytes + off + 1);
  assert_non_null(*buf);
  unsigned char *p = (unsigned char *)*buf + off;
  if (src) memcpy(p, src, bytes);
  return p;
}

/* API.md: pointers need no alignment. Every array argument of every sparse
   function, and the out pointer, at byte offsets 1..7 (0 for reference),
   with each array at its own offset: the same bits as the aligned call, for
   the public functions and every variant's kernels. Run under UBSan
   (-fsanitize=alignment, scripts/check asan-ubsan) a misaligned dereference
   fails the test. Matrix: a blocked group, split rows, an empty row. */
static void every_array_argument_at_any_byte_offset(tk_isa isa) {
  enum { R = 9, C = 21, N = 19 };
  float w[R * C];
  tk_rng rng = {99};
  for (size_t r = 0; r < R; r++)
    for (size_t c = 0; c < C; c++)
      w[r * C + c] = r < 4                                  ? tk_rng_f32(&rng, 0.5f, 1.0f)
                     : r == 6 || tk_rng_next(&rng) % 3 ? 0.0f
                                                       : tk_rng_f32(&rng, -1.0f, 1.0f);
  csr_arrays m = csr_of_dense(w, R, C);
  size_t nnz = (size_t)m.row_ptr[R];
  float x[C], b[C * N];
  for (size_t i = 0; i < C; i++) x[i] = tk_rng_f32(&rng, -1.0f, 1.0f);
  for (size_t i = 0; i < C * N; i++) b[i] = tk_rng_f32(&rng, -1.0f, 1.0f);

  tk_csr *a = NULL;
  assert_int_equal(tk_csr_create(R, C, m.row_ptr, m.col_idx, m.val, &a), TK_OK);
  assert_int_equal(count_blocked(a), 1);
  float y_ref[TK_ISA_COUNT][R], c_ref[TK_ISA_COUNT][R * N];
  /* References of this case's variant and of the active one (the public calls). */
  const tk_isa refs[2] = {isa, tk_isa_active()};
  for (int i = 0; i < 2; i++) {
    tk_test_table(refs[i])->spmv(a, x, y_ref[refs[i]]);
    tk_test_table(refs[i])->spmm(a, b, N, c_ref[refs[i]]);
  }
  float dense_ref[R * C];
  assert_int_equal(tk_csr_to_dense(a, dense_ref), TK_OK);

  for (size_t off = 1; off < 8; off++) {
    /* A different offset per array: off, off + 1, ... mod 8 (never 0 for
       the one under test at off). */
    size_t o[8];
    for (size_t k = 0; k < 8; k++) o[k] = (off + k) % 8 ? (off + k) % 8 : 1;
    void *bufs[10];
    int32_t *rp = at_offset(&bufs[0], m.row_ptr, (R + 1) * sizeof(int32_t), o[0]);
    int32_t *ci = at_offset(&bufs[1], m.col_idx, nnz * sizeof(int32_t), o[1]);
    float *v = at_offset(&bufs[2], m.val, nnz * sizeof(float), o[2]);
    float *wd = at_offset(&bufs[3], w, sizeof w, o[3]);
    float *xs = at_offset(&bufs[4], x, sizeof x, o[4]);
    float *bs = at_offset(&bufs[5], b, sizeof b, o[5]);
    float *ys = at_offset(&bufs[6], NULL, R * sizeof(float), o[6]);
    float *cs = at_offset(&bufs[7], NULL, R * N * sizeof(float), o[7]);
    float *dense = at_offset(&bufs[8], NULL, sizeof dense_ref, o[3]);
    tk_csr **outp = at_offset(&bufs[9], NULL, sizeof(tk_csr *), off);

    assert_int_equal(tk_csr_create(R, C, rp, ci, v, outp), TK_OK);
    tk_csr *a2;
    memcpy(&a2, outp, sizeof a2);
    assert_int_equal(tk_csr_nnz(a2), nnz);
    assert_int_equal(tk_csr_to_dense(a2, dense), TK_OK);
    assert_memory_equal(dense, dense_ref, sizeof dense_ref);
    tk_csr_destroy(a2);

    assert_int_equal(tk_csr_from_dense(wd, R, C, 0.0f, outp), TK_OK);
    memcpy(&a2, outp, sizeof a2);
    assert_int_equal(tk_csr_nnz(a2), nnz);
    assert_int_equal(count_blocked(a2), 1);
    assert_int_equal(tk_spmv(a2, xs, ys), TK_OK);
    assert_memory_equal(ys, y_ref[tk_isa_active()], sizeof y_ref[0]);
    assert_int_equal(tk_spmm(a2, bs, N, cs), TK_OK);
    assert_memory_equal(cs, c_ref[tk_isa_active()], sizeof c_ref[0]);
    tk_csr_destroy(a2);

    {
      const tk_kernels *k = tk_test_table(isa);
      k->spmv(a, xs, ys);
      k->spmm(a, bs, N, cs);
      if (memcmp(ys, y_ref[isa], sizeof y_ref[0]) || memcmp(cs, c_ref[isa], sizeof c_ref[0])) {
        print_error("%s (%s): misaligned arrays (offset %zu) changed the result\n",
                    tk_isa_name(isa), tk_test_kind(isa), off);
        fail();
      }
    }
    for (int k = 0; k < 10; k++) free(bufs[k]);
  }
  tk_csr_destroy(a);
  csr_arrays_free(&m);
}

int main(void) {
  const tk_test_case tests[] = {
      TK_VARIANT_TEST(nonfinite_input_reaches_only_rows_with_that_column),
      TK_VARIANT_TEST(nonfinite_at_random_places_blocked_groups),
      TK_VARIANT_TEST(explicit_zeros_and_repeats_are_entries),
      TK_VARIANT_TEST(blocked_groups_from_unsorted_columns),
      TK_VARIANT_TEST(every_array_argument_at_any_byte_offset),
  };
  return TK_RUN_TESTS("sparse_reliability", tests);
}
