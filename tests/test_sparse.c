/* Sparse: pruning, CSR validation, to_dense, and every variant's SpMV/SpMM against a double reference, plus bad input. */
#include <math.h>

#include "sparse/sparse_kernels.h"
#include "tk_guard.h"
#include "tk_test.h"

static const size_t batch_sizes[] = {1, 2, 7, 8, 9, 64, 65};
enum { N_BATCH = sizeof batch_sizes / sizeof batch_sizes[0] };

/* A matrix as scipy gives it (int32 indptr/indices/data). */
typedef struct csr_arrays {
  size_t rows, cols;
  int32_t *row_ptr, *col_idx;
  float *val;
} csr_arrays;

static void csr_arrays_free(csr_arrays *m) {
  free(m->row_ptr);
  free(m->col_idx);
  free(m->val);
}

/* The nonzeros of a dense [rows][cols] matrix, row by row. */
static csr_arrays csr_from_dense_ref(const float *w, size_t rows, size_t cols) {
  csr_arrays m = {rows, cols, calloc(rows + 1, sizeof(int32_t)), NULL, NULL};
  size_t nnz = 0;
  for (size_t i = 0; i < rows * cols; i++) nnz += w[i] != 0.0f;
  m.col_idx = malloc((nnz + 1) * sizeof(int32_t));
  m.val = malloc((nnz + 1) * sizeof(float));
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

/* Random CSR: each row gets 0..max_len entries at random columns (unsorted,
   repeats possible); every 5th row is empty. */
static csr_arrays csr_random(tk_rng *rng, size_t rows, size_t cols, size_t max_len) {
  csr_arrays m = {rows, cols, calloc(rows + 1, sizeof(int32_t)), NULL, NULL};
  m.col_idx = malloc((rows * max_len + 1) * sizeof(int32_t));
  m.val = malloc((rows * max_len + 1) * sizeof(float));
  assert_non_null(m.row_ptr);
  assert_non_null(m.col_idx);
  assert_non_null(m.val);
  size_t j = 0;
  for (size_t r = 0; r < rows; r++) {
    size_t len = r % 5 == 3 ? 0 : (size_t)(tk_rng_next(rng) % (max_len + 1));
    for (size_t e = 0; e < len; e++) {
      m.col_idx[j] = (int32_t)(tk_rng_next(rng) % cols);
      m.val[j++] = tk_rng_f32(rng, -2.0f, 2.0f);
    }
    m.row_ptr[r + 1] = (int32_t)j;
  }
  return m;
}

static tk_csr *create_or_fail(const csr_arrays *m) {
  tk_csr *a = NULL;
  assert_int_equal(tk_csr_create(m->rows, m->cols, m->row_ptr, m->col_idx, m->val, &a), TK_OK);
  assert_non_null(a);
  assert_int_equal(tk_csr_rows(a), m->rows);
  assert_int_equal(tk_csr_cols(a), m->cols);
  assert_int_equal(tk_csr_nnz(a), (size_t)m->row_ptr[m->rows]);
  return a;
}

/* |got - want| within float rounding of the sum of |terms|. */
static bool close_enough(float got, double want, double abs_sum) {
  return fabs((double)got - want) <= 1e-5 * abs_sum;
}

static const float GUARD = -12345.0f;

/* y = A x and C = A B of one variant (n in batch_sizes up to max_n) against a
   double reference over the given arrays; nothing written outside the outputs. */
static void check_products(tk_isa isa, const tk_csr *a, const csr_arrays *m, size_t max_n,
                           const char *what) {
  tk_rng rng = {0xabcdef ^ m->rows ^ (m->cols << 20)};
  size_t rows = m->rows, cols = m->cols;
  float *x = malloc(cols * sizeof(float));
  float *y = malloc((rows + 2) * sizeof(float));
  float *b = malloc(cols * max_n * sizeof(float));
  float *c = malloc((rows * max_n + 2) * sizeof(float));
  double *want = malloc(rows * max_n * sizeof(double)), *abs_sum = malloc(rows * max_n * sizeof(double));
  assert_non_null(x);
  assert_non_null(y);
  assert_non_null(b);
  assert_non_null(c);
  assert_non_null(want);
  assert_non_null(abs_sum);
  for (size_t i = 0; i < cols; i++) x[i] = tk_rng_f32(&rng, -1.0f, 1.0f);
  for (size_t i = 0; i < cols * max_n; i++) b[i] = tk_rng_f32(&rng, -1.0f, 1.0f);

  for (size_t r = 0; r < rows; r++) {
    double s = 0.0, sa = 0.0;
    for (int32_t j = m->row_ptr[r]; j < m->row_ptr[r + 1]; j++) {
      double t = (double)m->val[j] * x[m->col_idx[j]];
      s += t;
      sa += fabs(t);
    }
    want[r] = s;
    abs_sum[r] = sa;
  }
  for (size_t i = 0; i < rows + 2; i++) y[i] = GUARD;
  tk_test_table(isa)->spmv(a, x, y + 1);
  assert_true(y[0] == GUARD && y[rows + 1] == GUARD);
  for (size_t r = 0; r < rows; r++) {
    if (!close_enough(y[1 + r], want[r], abs_sum[r])) {
      print_error("spmv %s (%s) %zux%zu %s: row %zu got %.9g want %.9g\n", tk_isa_name(isa),
                  tk_test_kind(isa), rows, cols, what, r, (double)y[1 + r], want[r]);
      fail();
    }
  }

  for (size_t bi = 0; bi < N_BATCH && batch_sizes[bi] <= max_n; bi++) {
    size_t n = batch_sizes[bi];
    for (size_t r = 0; r < rows; r++) {
      for (size_t k = 0; k < n; k++) {
        double s = 0.0, sa = 0.0;
        for (int32_t j = m->row_ptr[r]; j < m->row_ptr[r + 1]; j++) {
          double t = (double)m->val[j] * b[(size_t)m->col_idx[j] * n + k];
          s += t;
          sa += fabs(t);
        }
        want[r * n + k] = s;
        abs_sum[r * n + k] = sa;
      }
    }
    for (size_t i = 0; i < rows * n + 2; i++) c[i] = GUARD;
    tk_test_table(isa)->spmm(a, b, n, c + 1);
    assert_true(c[0] == GUARD && c[rows * n + 1] == GUARD);
    for (size_t i = 0; i < rows * n; i++) {
      if (!close_enough(c[1 + i], want[i], abs_sum[i])) {
        print_error("spmm %s (%s) %zux%zu n=%zu %s: C[%zu][%zu] got %.9g want %.9g\n",
                    tk_isa_name(isa), tk_test_kind(isa), rows, cols, n, what, i / n, i % n,
                    (double)c[1 + i], want[i]);
        fail();
      }
    }
  }
  free(x);
  free(y);
  free(b);
  free(c);
  free(want);
  free(abs_sum);
}

/* tk_csr_to_dense against the arrays summed in the order given (bit-exact). */
static void check_to_dense(const tk_csr *a, const csr_arrays *m) {
  size_t total = m->rows * m->cols;
  float *want = calloc(total, sizeof(float)), *got = malloc((total + 1) * sizeof(float));
  assert_non_null(want);
  assert_non_null(got);
  for (size_t r = 0; r < m->rows; r++)
    for (int32_t j = m->row_ptr[r]; j < m->row_ptr[r + 1]; j++)
      want[r * m->cols + (size_t)m->col_idx[j]] += m->val[j];
  got[total] = GUARD;
  assert_int_equal(tk_csr_to_dense(a, got), TK_OK);
  assert_true(got[total] == GUARD);
  for (size_t i = 0; i < total; i++) {
    if (got[i] != want[i]) {
      print_error("to_dense %zux%zu: [%zu][%zu] got %.9g want %.9g\n", m->rows, m->cols,
                  i / m->cols, i % m->cols, (double)got[i], (double)want[i]);
      fail();
    }
  }
  free(want);
  free(got);
}

static size_t count_blocked(const tk_csr *a) {
  size_t n = 0;
  for (size_t g = 0; g < a->n_groups; g++) n += a->groups[g].blocked;
  return n;
}

static void empty_matrix_null_arrays(tk_isa isa) {
  int32_t rp[6] = {0, 0, 0, 0, 0, 0};
  csr_arrays m = {5, 7, rp, NULL, NULL};
  tk_csr *a = create_or_fail(&m);
  assert_int_equal(tk_csr_nnz(a), 0);
  check_products(isa, a, &m, 65, "empty");
  check_to_dense(a, &m);
  tk_csr_destroy(a);
}

static void random_shapes_with_empty_rows_unsorted_and_repeated_columns(tk_isa isa) {
  tk_rng rng = {42};
  const size_t shapes[][3] = {
      /* rows, cols, max entries per row */
      {1, 1, 3},   {1, 37, 40}, {1, 100, 9}, {37, 1, 3}, {3, 5, 6},
      {4, 8, 20},  {9, 33, 30}, {13, 70, 17}, {17, 300, 45},
  };
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    csr_arrays m = csr_random(&rng, shapes[s][0], shapes[s][1], shapes[s][2]);
    tk_csr *a = create_or_fail(&m);
    char what[48];
    snprintf(what, sizeof what, "random (%zu blocked groups)", count_blocked(a));
    check_products(isa, a, &m, 65, what);
    check_to_dense(a, &m);
    tk_csr_destroy(a);
    csr_arrays_free(&m);
  }
}

/* 4 rows sharing columns, given unsorted and with repeats: the repeats keep
   the group split (in a block a stored 0 must mean "absent", so repeats are
   never summed into one); odd and even union sizes. Blocked groups with
   unsorted columns: test_sparse_reliability.c. */
static void blocked_groups_with_repeats_and_unsorted_columns(tk_isa isa) {
  for (int extra = 0; extra < 2; extra++) {
    int32_t rp[10], ci[96];
    float v[96];
    size_t j = 0;
    rp[0] = 0;
    for (int r = 0; r < 9; r++) {
      int cols_here[] = {9, 2, 5, 2, 7, 0, 3, 11, 12, 1};
      int ncols = 8 + extra; /* 8 or 9 columns per row, unsorted, 2 repeated */
      if (r == 6) ncols = 0; /* an empty row inside the second group */
      for (int e = 0; e < ncols; e++) {
        ci[j] = cols_here[(e + r) % 10];
        v[j] = (float)(r + 1) * 0.25f - (float)e * 0.125f + 1e-3f * (float)j;
        j++;
      }
      rp[r + 1] = (int32_t)j;
    }
    csr_arrays m = {9, 13, rp, ci, v};
    tk_csr *a = create_or_fail(&m);
    assert_false(a->groups[0].blocked);
    assert_false(a->groups[2].blocked); /* the single last row stays split */
    check_products(isa, a, &m, 65, "blocked with repeats");
    check_to_dense(a, &m);
    tk_csr_destroy(a);
  }
}

/* cols 65536 keeps 16-bit indices (max index 65535); 65537 switches to 32-bit. */
static void index_width_switch_at_65536_columns(tk_isa isa) {
  const size_t widths[] = {65536, 65537};
  for (size_t wi = 0; wi < 2; wi++) {
    size_t cols = widths[wi];
    tk_rng rng = {cols};
    csr_arrays m = csr_random(&rng, 9, cols, 40);
    /* The largest index in a few rows, and a dense-ish group to get blocks. */
    m.col_idx[0] = (int32_t)(cols - 1);
    m.col_idx[m.row_ptr[2]] = (int32_t)(cols - 1);
    tk_csr *a = create_or_fail(&m);
    assert_int_equal(a->wide, cols > 65536);
    check_products(isa, a, &m, 9, cols > 65536 ? "32-bit indices" : "16-bit indices");
    tk_csr_destroy(a);
    csr_arrays_free(&m);

    /* A pruned wide matrix: every group blocked at sparsity 0. */
    size_t rows = 4;
    float *w = malloc(rows * cols * sizeof(float));
    assert_non_null(w);
    for (size_t i = 0; i < rows * cols; i++) w[i] = (i % 7 == 0) ? 0.0f : (float)(i % 17) - 8.0f;
    w[cols - 1] = 5.0f;
    tk_csr *d = NULL;
    assert_int_equal(tk_csr_from_dense(w, rows, cols, 0.0f, &d), TK_OK);
    assert_int_equal(count_blocked(d), 1);
    assert_int_equal(d->wide, cols > 65536);
    csr_arrays md = csr_from_dense_ref(w, rows, cols);
    check_products(isa, d, &md, 2, "pruned wide, blocked");
    tk_csr_destroy(d);
    csr_arrays_free(&md);
    free(w);
  }
}

/* Plain reference for pruning: sort by (|w| desc, flat index asc), keep k. */
static const float *sort_w;
static int by_magnitude(const void *pa, const void *pb) {
  size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
  float fa = fabsf(sort_w[a]), fb = fabsf(sort_w[b]);
  if (fa != fb) return fa > fb ? -1 : 1;
  return a < b ? -1 : 1;
}

static float *prune_ref(const float *w, size_t total, float sparsity, size_t *nnz) {
  size_t *order = malloc(total * sizeof(size_t));
  float *out = calloc(total, sizeof(float));
  assert_non_null(order);
  assert_non_null(out);
  for (size_t i = 0; i < total; i++) order[i] = i;
  sort_w = w;
  qsort(order, total, sizeof(size_t), by_magnitude);
  size_t k = (size_t)floor((1.0 - (double)sparsity) * (double)total + 0.5);
  *nnz = 0;
  for (size_t i = 0; i < k; i++) {
    out[order[i]] = w[order[i]];
    *nnz += w[order[i]] != 0.0f;
  }
  free(order);
  return out;
}

/* Every (shape, kind of values, sparsity) of the pruning test: without a
   variant, checks what tk_csr_from_dense keeps against prune_ref; with one,
   checks that variant's products on some of the pruned matrices. */
static void pruning_cases(const tk_isa *variant) {
  tk_rng rng = {2024};
  const float sparsities[] = {0.0f, 0.5f, 0.9f, 0.98f, 1.0f, 0.37f, 0.75f};
  const size_t shapes[][2] = {{1, 50}, {50, 1}, {7, 9}, {20, 33}, {64, 64}};
  for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++) {
    size_t rows = shapes[sh][0], cols = shapes[sh][1], total = rows * cols;
    float *w = malloc(total * sizeof(float));
    assert_non_null(w);
    for (int kind = 0; kind < 2; kind++) {
      /* kind 0: few distinct magnitudes (many ties, both signs, zeros, -0);
         kind 1: continuous values. */
      for (size_t i = 0; i < total; i++) {
        if (kind == 0) {
          int q = (int)(tk_rng_next(&rng) % 9) - 4;
          w[i] = q == 0 && (i & 1) ? -0.0f : (float)q * 0.5f;
        } else {
          w[i] = tk_rng_f32(&rng, -3.0f, 3.0f);
        }
      }
      for (size_t si = 0; si < sizeof sparsities / sizeof sparsities[0]; si++) {
        size_t want_nnz;
        float *want = prune_ref(w, total, sparsities[si], &want_nnz);
        tk_csr *a = NULL;
        assert_int_equal(tk_csr_from_dense(w, rows, cols, sparsities[si], &a), TK_OK);
        float *got = malloc(total * sizeof(float));
        assert_non_null(got);
        if (!variant) {
          assert_int_equal(tk_csr_nnz(a), want_nnz);
          assert_int_equal(tk_csr_to_dense(a, got), TK_OK);
          for (size_t i = 0; i < total; i++) {
            if (memcmp(&got[i], &want[i], sizeof(float)) != 0 && !(got[i] == 0.0f && want[i] == 0.0f)) {
              print_error("from_dense %zux%zu sparsity %g kind %d: [%zu] got %g want %g\n", rows,
                          cols, (double)sparsities[si], kind, i, (double)got[i], (double)want[i]);
              fail();
            }
          }
        }
        csr_arrays m = csr_from_dense_ref(want, rows, cols);
        char what[48];
        snprintf(what, sizeof what, "pruned %.2f kind %d", (double)sparsities[si], kind);
        if (variant && (sh == 3 || sh == 4 || si < 2))
          check_products(*variant, a, &m, sh == 4 ? 9 : 65, what);
        csr_arrays_free(&m);
        free(got);
        free(want);
        tk_csr_destroy(a);
      }
    }
    free(w);
  }
}

static void pruning_keeps_the_k_largest_with_ties_by_flat_index(void **state) {
  (void)state;
  pruning_cases(NULL);
}

static void pruned_matrices_products_match_reference(tk_isa isa) { pruning_cases(&isa); }

/* Round-half-up of (1 - sparsity) * total, and zeros never stored. */
static void pruning_count_rounding_and_zeros(void **state) {
  (void)state;
  float w2[2] = {1.0f, -3.0f};
  tk_csr *a = NULL;
  /* 0.25 * 2 = 0.5 rounds up to 1: only -3 kept. */
  assert_int_equal(tk_csr_from_dense(w2, 1, 2, 0.75f, &a), TK_OK);
  assert_int_equal(tk_csr_nnz(a), 1);
  float d[2];
  assert_int_equal(tk_csr_to_dense(a, d), TK_OK);
  assert_true(d[0] == 0.0f && d[1] == -3.0f);
  tk_csr_destroy(a);
  /* Equal magnitudes: the lower flat index wins. */
  float w4[4] = {2.0f, -2.0f, 2.0f, -2.0f};
  assert_int_equal(tk_csr_from_dense(w4, 2, 2, 0.5f, &a), TK_OK);
  float d4[4];
  assert_int_equal(tk_csr_to_dense(a, d4), TK_OK);
  assert_true(d4[0] == 2.0f && d4[1] == -2.0f && d4[2] == 0.0f && d4[3] == 0.0f);
  tk_csr_destroy(a);
  /* All zero at sparsity 0: nothing stored. */
  float z[6] = {0.0f, -0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  assert_int_equal(tk_csr_from_dense(z, 2, 3, 0.0f, &a), TK_OK);
  assert_int_equal(tk_csr_nnz(a), 0);
  tk_csr_destroy(a);
  /* Sparsity 1: nothing kept, products are zero. */
  float w3[3] = {1.0f, 2.0f, 3.0f}, x[3] = {1.0f, 1.0f, 1.0f}, y = 7.0f;
  assert_int_equal(tk_csr_from_dense(w3, 1, 3, 1.0f, &a), TK_OK);
  assert_int_equal(tk_csr_nnz(a), 0);
  assert_int_equal(tk_spmv(a, x, &y), TK_OK);
  assert_true(y == 0.0f);
  tk_csr_destroy(a);
}

/* Unstructured pruning at 90% stays split; a dense matrix is all blocked. */
static void layout_choice(void **state) {
  (void)state;
  tk_rng rng = {5};
  enum { R = 64, C = 96 };
  float *w = malloc(R * C * sizeof(float));
  assert_non_null(w);
  for (size_t i = 0; i < R * C; i++) w[i] = tk_rng_f32(&rng, -1.0f, 1.0f);
  tk_csr *a = NULL;
  assert_int_equal(tk_csr_from_dense(w, R, C, 0.9f, &a), TK_OK);
  assert_int_equal(count_blocked(a), 0);
  assert_false(a->wide);
  tk_csr_destroy(a);
  assert_int_equal(tk_csr_from_dense(w, R, C, 0.0f, &a), TK_OK);
  assert_int_equal(count_blocked(a), R / 4);
  /* 16-bit indices and 4 values per column: the size this object reports. */
  assert_int_equal(tk_csr_bytes(a), sizeof(tk_csr) + (R / 4) * sizeof(tk_csr_group) +
                                        (R / 4) * C * (2 + 4 * sizeof(float)));
  tk_csr_destroy(a);
  free(w);
}

/* The public functions, through dispatch, under each ISA this CPU runs. */
static void public_products(tk_isa isa) {
  tk_test_use_isa(isa);
  tk_rng rng = {77};
  csr_arrays m = csr_random(&rng, 11, 29, 12);
  tk_csr *a = create_or_fail(&m);
  float x[29], y[11], b[29 * 3], c[11 * 3];
  for (int i = 0; i < 29; i++) x[i] = tk_rng_f32(&rng, -1.0f, 1.0f);
  for (int i = 0; i < 29 * 3; i++) b[i] = tk_rng_f32(&rng, -1.0f, 1.0f);
  assert_int_equal(tk_spmv(a, x, y), TK_OK);
  assert_int_equal(tk_spmm(a, b, 3, c), TK_OK);
  for (size_t r = 0; r < 11; r++) {
    double s = 0, sa = 0, s1 = 0, sa1 = 0;
    for (int32_t j = m.row_ptr[r]; j < m.row_ptr[r + 1]; j++) {
      s += (double)m.val[j] * x[m.col_idx[j]];
      sa += fabs((double)m.val[j] * x[m.col_idx[j]]);
      s1 += (double)m.val[j] * b[m.col_idx[j] * 3 + 1];
      sa1 += fabs((double)m.val[j] * b[m.col_idx[j] * 3 + 1]);
    }
    if (!close_enough(y[r], s, sa) || !close_enough(c[r * 3 + 1], s1, sa1)) {
      print_error("tk_spmv/tk_spmm under %s, 11x29 n=3: row %zu\n", tk_isa_name(isa), r);
      fail();
    }
  }
  tk_csr_destroy(a);
  csr_arrays_free(&m);
}

/* Each malformed kind on its own: TK_ERR_FORMAT, *out untouched. */
static void malformed_csr_rejected(void **state) {
  (void)state;
  tk_csr *const sentinel = (tk_csr *)&sentinel;
  tk_csr *a = sentinel;
  int32_t ci[4] = {0, 1, 2, 1};
  float v[4] = {1, 2, 3, 4};
  int32_t rp_first[4] = {1, 2, 3, 4};   /* row_ptr[0] != 0 */
  int32_t rp_decr[4] = {0, 3, 2, 4};    /* decreasing */
  int32_t rp_neg[4] = {0, 1, 2, -1};    /* negative (at the end: nnz < 0) */
  int32_t rp_neg0[4] = {-1, 1, 2, 4};   /* negative first */
  int32_t rp_ok[4] = {0, 1, 3, 4};
  assert_int_equal(tk_csr_create(3, 3, rp_first, ci, v, &a), TK_ERR_FORMAT);
  assert_int_equal(tk_csr_create(3, 3, rp_decr, ci, v, &a), TK_ERR_FORMAT);
  assert_int_equal(tk_csr_create(3, 3, rp_neg, ci, v, &a), TK_ERR_FORMAT);
  assert_int_equal(tk_csr_create(3, 3, rp_neg0, ci, v, &a), TK_ERR_FORMAT);
  int32_t ci_neg[4] = {0, -1, 2, 1}, ci_big[4] = {0, 1, 3, 1}, ci_huge[4] = {0, 1, 2, INT32_MAX};
  assert_int_equal(tk_csr_create(3, 3, rp_ok, ci_neg, v, &a), TK_ERR_FORMAT);
  assert_int_equal(tk_csr_create(3, 3, rp_ok, ci_big, v, &a), TK_ERR_FORMAT);
  assert_int_equal(tk_csr_create(3, 3, rp_ok, ci_huge, v, &a), TK_ERR_FORMAT);
  /* The last column index matters only within nnz: entries past row_ptr[rows] are not read. */
  int32_t rp_short[4] = {0, 1, 2, 3};
  assert_int_equal(tk_csr_create(3, 3, rp_short, ci_huge, v, &a), TK_OK);
  assert_true(a != sentinel);
  tk_csr_destroy(a);
  a = sentinel;

  /* Argument errors. */
  float v_bad[4] = {1, NAN, 3, 4}, v_inf[4] = {1, 2, 3, -INFINITY};
  assert_int_equal(tk_csr_create(3, 3, NULL, ci, v, &a), TK_ERR_ARG);
  assert_int_equal(tk_csr_create(3, 3, rp_ok, NULL, v, &a), TK_ERR_ARG);
  assert_int_equal(tk_csr_create(3, 3, rp_ok, ci, NULL, &a), TK_ERR_ARG);
  assert_int_equal(tk_csr_create(3, 3, rp_ok, ci, v_bad, &a), TK_ERR_ARG);
  assert_int_equal(tk_csr_create(3, 3, rp_ok, ci, v_inf, &a), TK_ERR_ARG);
  assert_int_equal(tk_csr_create(0, 3, rp_ok, ci, v, &a), TK_ERR_ARG);
  assert_int_equal(tk_csr_create(3, 0, rp_ok, ci, v, &a), TK_ERR_ARG);
  assert_int_equal(tk_csr_create(3, 3, rp_ok, ci, v, NULL), TK_ERR_ARG);
  /* Size products that overflow, before any array is read. */
  assert_int_equal(tk_csr_create(SIZE_MAX / 2, 3, rp_ok, ci, v, &a), TK_ERR_OVERFLOW);
  assert_int_equal(tk_csr_create(3, SIZE_MAX / 8, rp_ok, ci, v, &a), TK_ERR_OVERFLOW);
  assert_int_equal(tk_csr_create(SIZE_MAX, 1, rp_ok, ci, v, &a), TK_ERR_OVERFLOW);
  assert_true(a == sentinel);
}

static void pruning_bad_input(void **state) {
  (void)state;
  tk_csr *const sentinel = (tk_csr *)&sentinel;
  tk_csr *a = sentinel;
  float w[6] = {1, 2, 3, 4, 5, 6};
  const float bad_s[] = {-0.01f, 1.01f, NAN, INFINITY, -INFINITY};
  for (size_t i = 0; i < 5; i++) assert_int_equal(tk_csr_from_dense(w, 2, 3, bad_s[i], &a), TK_ERR_ARG);
  const float bad_w[] = {NAN, INFINITY, -INFINITY};
  for (size_t b = 0; b < 3; b++) {
    for (size_t pos = 0; pos < 6; pos++) {
      float v[6];
      memcpy(v, w, sizeof v);
      v[pos] = bad_w[b];
      assert_int_equal(tk_csr_from_dense(v, 2, 3, 0.5f, &a), TK_ERR_ARG);
    }
  }
  assert_int_equal(tk_csr_from_dense(NULL, 2, 3, 0.5f, &a), TK_ERR_ARG);
  assert_int_equal(tk_csr_from_dense(w, 0, 3, 0.5f, &a), TK_ERR_ARG);
  assert_int_equal(tk_csr_from_dense(w, 2, 0, 0.5f, &a), TK_ERR_ARG);
  assert_int_equal(tk_csr_from_dense(w, 2, 3, 0.5f, NULL), TK_ERR_ARG);
  assert_int_equal(tk_csr_from_dense(w, SIZE_MAX / 2, 3, 0.5f, &a), TK_ERR_OVERFLOW);
  assert_true(a == sentinel);
}

static void products_bad_input_write_nothing(void **state) {
  (void)state;
  int32_t rp[3] = {0, 1, 2}, ci[2] = {0, 1};
  float v[2] = {1, 2}, x[2] = {1, 1}, y[2] = {GUARD, GUARD}, c[4] = {GUARD, GUARD, GUARD, GUARD};
  tk_csr *a = NULL;
  assert_int_equal(tk_csr_create(2, 2, rp, ci, v, &a), TK_OK);
  assert_int_equal(tk_spmv(NULL, x, y), TK_ERR_ARG);
  assert_int_equal(tk_spmv(a, NULL, y), TK_ERR_ARG);
  assert_int_equal(tk_spmv(a, x, NULL), TK_ERR_ARG);
  assert_int_equal(tk_spmm(NULL, x, 1, c), TK_ERR_ARG);
  assert_int_equal(tk_spmm(a, NULL, 2, c), TK_ERR_ARG);
  assert_int_equal(tk_spmm(a, x, 2, NULL), TK_ERR_ARG);
  assert_int_equal(tk_spmm(a, x, SIZE_MAX / 2, c), TK_ERR_OVERFLOW);
  assert_int_equal(tk_spmm(a, NULL, 0, NULL), TK_OK);
  assert_int_equal(tk_spmm(a, x, 0, c), TK_OK);
  assert_int_equal(tk_csr_to_dense(a, NULL), TK_ERR_ARG);
  assert_int_equal(tk_csr_to_dense(NULL, c), TK_ERR_ARG);
  for (int i = 0; i < 2; i++) assert_true(y[i] == GUARD);
  for (int i = 0; i < 4; i++) assert_true(c[i] == GUARD);
  assert_int_equal(tk_csr_rows(NULL), 0);
  assert_int_equal(tk_csr_cols(NULL), 0);
  assert_int_equal(tk_csr_nnz(NULL), 0);
  assert_int_equal(tk_csr_bytes(NULL), 0);
  tk_csr_destroy(NULL);
  tk_csr_destroy(a);
}

/* Every kernel of every variant reads and writes only inside its arrays: the
   matrix's index and value arrays, x, y, B and C each end at (or start right
   after) a PROT_NONE page, for split rows of 0..40 entries and blocked groups
   of 0..20 columns, and batch sizes around every tail. */
static void kernels_stay_inside_their_arrays(tk_isa isa) {
  static const tk_guard_side sides[2] = {TK_GUARD_END, TK_GUARD_START};
  static const size_t ns[] = {1, 3, 7, 8, 9, 15, 16, 17, 33, 64, 65};
  enum { COLS = 50, MAXN = 65 };
  tk_rng rng = {31};
  for (int blocked = 0; blocked < 2; blocked++) {
    for (size_t len = 0; len <= (blocked ? 20u : 40u); len++) {
      /* One row of len entries (the last column among them), or 4 rows over
         the same len columns (stored blocked). */
      size_t rows = blocked ? 4 : 1;
      int32_t rp[5] = {0}, ci[4 * 40];
      float v[4 * 40];
      for (size_t r = 0; r < rows; r++) {
        for (size_t e = 0; e < len; e++) {
          ci[r * len + e] = (int32_t)(COLS - 1 - e);
          v[r * len + e] = tk_rng_f32(&rng, -1.0f, 1.0f);
        }
        rp[r + 1] = (int32_t)((r + 1) * len);
      }
      csr_arrays m = {rows, COLS, rp, ci, v};
      tk_csr *a = create_or_fail(&m);
      assert_int_equal(count_blocked(a), (size_t)(blocked && len));
      size_t n_idx = 0, n_val = 0;
      for (size_t g = 0; g < a->n_groups; g++) {
        const tk_csr_group *gr = &a->groups[g];
        size_t cnt = gr->blocked ? gr->len[0] : gr->len[0] + gr->len[1] + gr->len[2] + gr->len[3];
        n_idx += cnt;
        n_val += gr->blocked ? 4 * cnt : cnt;
      }
      size_t isz = a->wide ? 4 : 2;
      for (int s = 0; s < 2; s++) {
        tk_guard gi, gv, gx, gy, gb, gc;
        struct tk_csr copy = *a;
        copy.idx = tk_guard_alloc(&gi, n_idx * isz, sides[s]);
        copy.val = tk_guard_alloc(&gv, n_val * sizeof(float), sides[s]);
        memcpy(copy.idx, a->idx, n_idx * isz);
        memcpy(copy.val, a->val, n_val * sizeof(float));
        float *x = tk_guard_alloc(&gx, COLS * sizeof(float), sides[s]);
        float *y = tk_guard_alloc(&gy, rows * sizeof(float), sides[s]);
        for (size_t i = 0; i < COLS; i++) x[i] = (float)i;
        const tk_kernels *k = tk_test_table(isa);
        k->spmv(&copy, x, y);
        for (size_t r = 0; r < rows; r++) {
          double want = 0, sa = 0;
          for (size_t e = 0; e < len; e++) {
            want += (double)v[r * len + e] * x[ci[r * len + e]];
            sa += fabs((double)v[r * len + e] * x[ci[r * len + e]]);
          }
          assert_true(close_enough(y[r], want, sa));
        }
        for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
          size_t n = ns[ni];
          float *b = tk_guard_alloc(&gb, COLS * n * sizeof(float), sides[s]);
          float *c = tk_guard_alloc(&gc, rows * n * sizeof(float), sides[s]);
          for (size_t i = 0; i < COLS * n; i++) b[i] = (float)(i % 13) - 6.0f;
          k->spmm(&copy, b, n, c);
          for (size_t r = 0; r < rows; r++) {
            double want = 0, sa = 0;
            for (size_t e = 0; e < len; e++) {
              want += (double)v[r * len + e] * b[(size_t)ci[r * len + e] * n + n - 1];
              sa += fabs((double)v[r * len + e] * b[(size_t)ci[r * len + e] * n + n - 1]);
            }
            if (!close_enough(c[r * n + n - 1], want, sa)) {
              print_error("spmm %s (%s) guarded rows=%zu cols=%d len=%zu blocked=%d n=%zu\n",
                          tk_isa_name(isa), tk_test_kind(isa), rows, COLS, len, blocked, n);
              fail();
            }
          }
          tk_guard_free(&gb), tk_guard_free(&gc);
        }
        tk_guard_free(&gi), tk_guard_free(&gv), tk_guard_free(&gx), tk_guard_free(&gy);
      }
      tk_csr_destroy(a);
    }
  }
}

int main(void) {
  const tk_test_case tests[] = {
      TK_VARIANT_TEST(empty_matrix_null_arrays),
      TK_VARIANT_TEST(random_shapes_with_empty_rows_unsorted_and_repeated_columns),
      TK_VARIANT_TEST(blocked_groups_with_repeats_and_unsorted_columns),
      TK_VARIANT_TEST(index_width_switch_at_65536_columns),
      TK_TEST(pruning_keeps_the_k_largest_with_ties_by_flat_index),
      TK_VARIANT_TEST(pruned_matrices_products_match_reference),
      TK_TEST(pruning_count_rounding_and_zeros),
      TK_TEST(layout_choice),
      TK_VARIANT_TEST(public_products),
      TK_TEST(malformed_csr_rejected),
      TK_TEST(pruning_bad_input),
      TK_TEST(products_bad_input_write_nothing),
      TK_VARIANT_TEST(kernels_stay_inside_their_arrays),
  };
  return TK_RUN_TESTS("sparse", tests);
}
