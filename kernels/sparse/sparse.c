/* sparse public functions: CSR validation, magnitude pruning, packing into the tk_csr format, products through the active ISA. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch/kernels.h"
#include "exec.h"
#include "size.h"
#include "sparse/sparse_kernels.h"
#include "unaligned.h"

/* A full group of 4 rows is stored blocked when its (row, column) entries,
   all distinct and nonzero (see tk_csr_group), fill at least BLOCK_FILL_NUM /
   BLOCK_FILL_DEN of the 4 x union block.
   3/4 is where a block's 18 bytes per column (16-bit index + 4 values) equal
   split storage's 6 bytes per entry, and memory-bound SpMV broke even there
   when measured (avx2, 4096x4096, rows sharing 20% of the columns: blocked
   0.90 vs split 1.25-1.33 ms at fill 1.0, a tie at 0.8, split ahead at 0.7
   and below). SpMM (compute-bound, one B row load feeds 4 rows) gained from
   blocks from fill ~0.5 (1024x1024 n=64: 0.32 vs 0.65 ms at fill 1.0, 0.30 vs
   0.32 at 0.5), so above 3/4 both products gain. */
#define BLOCK_FILL_NUM 3
#define BLOCK_FILL_DEN 4

/* |x| as its bit pattern: for finite x, ordering these integers orders |x|. */
static uint32_t abs_key(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u & 0x7fffffffu;
}

/* One entry of a row while packing: column, position in the row as given, value. */
typedef struct entry {
  size_t col, pos;
  float val;
} entry;

/* Where the rows come from: scipy-style arrays (row_ptr != NULL), or a dense
   matrix with the pruning rule (keep |w| above the threshold key, and the
   first `take` entries equal to it in flat order; ties_before[r] counts those
   equal entries in the rows before r). */
typedef struct source {
  const int32_t *row_ptr, *col_idx;
  const float *values;
  const float *w;
  size_t cols;
  uint32_t thr;
  size_t take;
  const size_t *ties_before;
} source;

/* Writes row r's entries, in the order given, into e; returns how many. */
static size_t source_row(const source *s, size_t r, entry *e) {
  size_t n = 0;
  if (s->row_ptr) {
    int32_t end = tk_ld_i32(s->row_ptr + r + 1);
    for (int32_t j = tk_ld_i32(s->row_ptr + r); j < end; j++, n++)
      e[n] = (entry){(size_t)tk_ld_i32(s->col_idx + j), n, tk_ld_f32(s->values + j)};
    return n;
  }
  const float *wr = s->w + r * s->cols;
  size_t rank = s->ties_before[r];
  for (size_t c = 0; c < s->cols; c++) {
    float w = tk_ld_f32(wr + c);
    uint32_t key = abs_key(w);
    bool keep = key > s->thr || (key == s->thr && rank++ < s->take);
    if (keep && w != 0.0f) {
      e[n] = (entry){c, n, w};
      n++;
    }
  }
  return n;
}

static int entry_cmp(const void *pa, const void *pb) {
  const entry *a = pa, *b = pb;
  if (a->col != b->col) return a->col < b->col ? -1 : 1;
  return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* Orders a row by column, repeats in the order given (rows usually come sorted). */
static void sort_row(entry *e, size_t n) {
  for (size_t i = 1; i < n; i++) {
    if (e[i].col < e[i - 1].col) {
      qsort(e, n, sizeof *e, entry_cmp);
      return;
    }
  }
}

static size_t distinct_cols(const entry *e, size_t n) {
  size_t d = n ? 1 : 0;
  for (size_t i = 1; i < n; i++) d += e[i].col != e[i - 1].col;
  return d;
}

/* Merges 4 sorted rows; returns the number of distinct columns u. With
   idx/val non-NULL also writes the blocked layout: the u columns and 4 values
   per column (val zeroed by the caller, so a row lacking column j keeps 0
   there; a blocked group has no repeated columns, pass 1 made sure). */
static size_t merge4(entry *const er[4], const size_t len[4], void *idx, bool wide, float *val) {
  size_t p[4] = {0, 0, 0, 0}, u = 0;
  for (;;) {
    size_t m = SIZE_MAX;
    bool any = false;
    for (int r = 0; r < 4; r++) {
      if (p[r] < len[r] && er[r][p[r]].col <= m) {
        m = er[r][p[r]].col;
        any = true;
      }
    }
    if (!any) return u;
    if (idx) {
      if (wide)
        ((uint32_t *)idx)[u] = (uint32_t)m;
      else
        ((uint16_t *)idx)[u] = (uint16_t)m;
    }
    for (int r = 0; r < 4; r++) {
      for (; p[r] < len[r] && er[r][p[r]].col == m; p[r]++)
        if (val) val[4 * u + (size_t)r] += er[r][p[r]].val;
    }
    u++;
  }
}

static void csr_free(tk_csr *a) {
  if (!a) return;
  free(a->idx);
  free(a->val);
  free(a->groups);
  free(a);
}

/* Builds the tk_csr format from a source whose rows have at most maxlen entries:
   pass 1 decides each group's layout and counts, pass 2 fills. */
static tk_status pack(const source *s, size_t rows, size_t cols, size_t maxlen, tk_csr **out) {
  size_t n_groups = rows / TK_CSR_GROUP + (rows % TK_CSR_GROUP != 0);
  size_t scratch_bytes;
  if (tk_mul_overflows(maxlen ? maxlen : 1, TK_CSR_GROUP * sizeof(entry), &scratch_bytes))
    return TK_ERR_OVERFLOW;
  tk_csr *a = calloc(1, sizeof *a);
  entry *scratch = malloc(scratch_bytes);
  if (a) a->groups = calloc(n_groups, sizeof *a->groups);
  if (!a || !scratch || !a->groups) {
    free(scratch);
    csr_free(a);
    return TK_ERR_NOMEM;
  }
  a->rows = rows;
  a->cols = cols;
  a->n_groups = n_groups;
  a->wide = cols > 65536;
  entry *er[TK_CSR_GROUP];
  for (int r = 0; r < TK_CSR_GROUP; r++) er[r] = scratch + (size_t)r * maxlen;

  size_t n_idx = 0, n_val = 0;
  for (size_t g = 0; g < n_groups; g++) {
    tk_csr_group *gr = &a->groups[g];
    size_t nr = rows - g * TK_CSR_GROUP, len[TK_CSR_GROUP] = {0}, sum = 0;
    if (nr > TK_CSR_GROUP) nr = TK_CSR_GROUP;
    for (size_t r = 0; r < nr; r++) {
      len[r] = source_row(s, g * TK_CSR_GROUP + r, er[r]);
      sum += len[r];
      a->nnz += len[r];
    }
    gr->idx_off = n_idx;
    gr->val_off = n_val;
    if (nr == TK_CSR_GROUP && sum) {
      size_t dist = 0;
      bool zero = false;
      for (size_t r = 0; r < nr; r++) {
        sort_row(er[r], len[r]);
        dist += distinct_cols(er[r], len[r]);
        for (size_t j = 0; j < len[r]; j++) zero |= er[r][j].val == 0.0f;
      }
      size_t u = merge4(er, len, NULL, false, NULL);
      /* Repeated columns (dist < sum) or explicit zeros keep the group split:
         in a block a stored 0 must mean "absent" (tk_csr_group). */
      gr->blocked = dist == sum && !zero &&
                    dist * BLOCK_FILL_DEN >= BLOCK_FILL_NUM * TK_CSR_GROUP * u;
      if (gr->blocked) {
        gr->len[0] = u;
        n_idx += u;
        n_val += TK_CSR_GROUP * u; /* <= 4 * sum: no overflow */
        continue;
      }
    }
    for (size_t r = 0; r < nr; r++) gr->len[r] = len[r];
    n_idx += sum;
    n_val += sum;
  }

  size_t isz = a->wide ? sizeof(uint32_t) : sizeof(uint16_t), idx_bytes, val_bytes, bytes;
  if (tk_mul_overflows(n_idx ? n_idx : 1, isz, &idx_bytes) ||
      tk_mul_overflows(n_val ? n_val : 1, sizeof(float), &val_bytes) ||
      tk_add_overflows(idx_bytes, val_bytes, &bytes) ||
      tk_add_overflows(bytes, sizeof *a + n_groups * sizeof *a->groups, &bytes)) {
    free(scratch);
    csr_free(a);
    return TK_ERR_OVERFLOW;
  }
  a->idx = malloc(idx_bytes);
  a->val = calloc(1, val_bytes);
  if (!a->idx || !a->val) {
    free(scratch);
    csr_free(a);
    return TK_ERR_NOMEM;
  }
  a->bytes = bytes;

  for (size_t g = 0; g < n_groups; g++) {
    const tk_csr_group *gr = &a->groups[g];
    size_t nr = rows - g * TK_CSR_GROUP, len[TK_CSR_GROUP] = {0};
    if (nr > TK_CSR_GROUP) nr = TK_CSR_GROUP;
    for (size_t r = 0; r < nr; r++) len[r] = source_row(s, g * TK_CSR_GROUP + r, er[r]);
    if (gr->blocked) {
      for (size_t r = 0; r < nr; r++) sort_row(er[r], len[r]);
      void *idx = a->wide ? (void *)((uint32_t *)a->idx + gr->idx_off)
                          : (void *)((uint16_t *)a->idx + gr->idx_off);
      merge4(er, len, idx, a->wide, a->val + gr->val_off);
      continue;
    }
    size_t o = 0;
    for (size_t r = 0; r < nr; r++) {
      for (size_t j = 0; j < len[r]; j++, o++) {
        if (a->wide)
          ((uint32_t *)a->idx)[gr->idx_off + o] = (uint32_t)er[r][j].col;
        else
          ((uint16_t *)a->idx)[gr->idx_off + o] = (uint16_t)er[r][j].col;
        a->val[gr->val_off + o] = er[r][j].val;
      }
    }
  }
  free(scratch);
  *out = a;
  return TK_OK;
}

/* rows x cols floats must be addressable (tk_csr_to_dense writes them). */
static tk_status check_shape(size_t rows, size_t cols) {
  size_t total;
  if (rows == SIZE_MAX || tk_mul_overflows(rows, cols, &total) || total > SIZE_MAX / sizeof(float))
    return TK_ERR_OVERFLOW;
  return TK_OK;
}

tk_status tk_csr_create(size_t rows, size_t cols, const int32_t *row_ptr, const int32_t *col_idx,
                        const float *values, tk_csr **out) {
  if (!out || !row_ptr || !rows || !cols) return TK_ERR_ARG;
  tk_status st = check_shape(rows, cols);
  if (st != TK_OK) return st;
  if (tk_ld_i32(row_ptr) != 0) return TK_ERR_FORMAT;
  size_t maxlen = 0;
  for (size_t r = 0; r < rows; r++) {
    int32_t begin = tk_ld_i32(row_ptr + r), end = tk_ld_i32(row_ptr + r + 1);
    if (end < 0 || end < begin) return TK_ERR_FORMAT;
    size_t len = (size_t)(end - begin);
    if (len > maxlen) maxlen = len;
  }
  size_t nnz = (size_t)tk_ld_i32(row_ptr + rows);
  if (nnz && (!col_idx || !values)) return TK_ERR_ARG;
  for (size_t j = 0; j < nnz; j++) {
    int32_t c = tk_ld_i32(col_idx + j);
    if (c < 0 || (size_t)c >= cols) return TK_ERR_FORMAT;
    if (!isfinite(tk_ld_f32(values + j))) return TK_ERR_ARG;
  }
  source s = {.row_ptr = row_ptr, .col_idx = col_idx, .values = values, .cols = cols};
  tk_csr *a;
  st = pack(&s, rows, cols, maxlen, &a);
  if (st == TK_OK) memcpy(out, &a, sizeof a); /* out too may be at any address */
  return st;
}

/* The key of the k-th largest |w| (k >= 1) by a two-pass radix select on the
   high and low 16 bits of the keys (O(total), no worst case); *above gets the
   number of entries whose key is larger. */
static uint32_t select_kth_key(const float *w, size_t total, size_t k, size_t *hist,
                               size_t *above) {
  size_t cnt = 0, h = 65535, l = 65535;
  memset(hist, 0, 65536 * sizeof *hist);
  for (size_t i = 0; i < total; i++) hist[abs_key(tk_ld_f32(w + i)) >> 16]++;
  for (; cnt + hist[h] < k; h--) cnt += hist[h];
  memset(hist, 0, 65536 * sizeof *hist);
  for (size_t i = 0; i < total; i++) {
    uint32_t key = abs_key(tk_ld_f32(w + i));
    if (key >> 16 == h) hist[key & 0xffffu]++;
  }
  for (; cnt + hist[l] < k; l--) cnt += hist[l];
  *above = cnt;
  return (uint32_t)(h << 16 | l);
}

tk_status tk_csr_from_dense(const float *w, size_t rows, size_t cols, float sparsity,
                            tk_csr **out) {
  if (!out || !w || !rows || !cols) return TK_ERR_ARG;
  if (!(sparsity >= 0.0f && sparsity <= 1.0f)) return TK_ERR_ARG; /* NaN too */
  tk_status st = check_shape(rows, cols);
  if (st != TK_OK) return st;
  if (cols > (size_t)INT32_MAX + 1) return TK_ERR_OVERFLOW; /* indices stay < 2^31 */
  size_t total = rows * cols;
  for (size_t i = 0; i < total; i++)
    if (!isfinite(tk_ld_f32(w + i))) return TK_ERR_ARG;

  /* k = round-half-up((1 - sparsity) * total), computed in double. */
  double kd = floor((1.0 - (double)sparsity) * (double)total + 0.5);
  size_t k = kd >= (double)total ? total : (size_t)kd;

  size_t *ties_before = calloc(rows + 1, sizeof *ties_before);
  size_t *hist = k ? malloc(65536 * sizeof *hist) : NULL;
  if (!ties_before || (k && !hist)) {
    free(ties_before);
    free(hist);
    return TK_ERR_NOMEM;
  }
  /* k == 0 keeps nothing: no finite key reaches UINT32_MAX. */
  source s = {.w = w, .cols = cols, .thr = UINT32_MAX, .take = 0, .ties_before = ties_before};
  if (k) {
    size_t above;
    s.thr = select_kth_key(w, total, k, hist, &above);
    s.take = k - above;
    for (size_t r = 0; r < rows; r++) {
      size_t t = 0;
      for (size_t c = 0; c < cols; c++) t += abs_key(tk_ld_f32(w + r * cols + c)) == s.thr;
      ties_before[r + 1] = ties_before[r] + t;
    }
  }
  free(hist);
  tk_csr *a;
  st = pack(&s, rows, cols, cols, &a);
  free(ties_before);
  if (st == TK_OK) memcpy(out, &a, sizeof a);
  return st;
}

size_t tk_csr_rows(const tk_csr *a) { return a ? a->rows : 0; }
size_t tk_csr_cols(const tk_csr *a) { return a ? a->cols : 0; }
size_t tk_csr_nnz(const tk_csr *a) { return a ? a->nnz : 0; }
size_t tk_csr_bytes(const tk_csr *a) { return a ? a->bytes : 0; }

static size_t col_at(const tk_csr *a, size_t j) {
  return a->wide ? ((const uint32_t *)a->idx)[j] : ((const uint16_t *)a->idx)[j];
}

/* w[i] += v, w at any address. */
static void add_at(float *w, size_t i, float v) { tk_st_f32(w + i, tk_ld_f32(w + i) + v); }

tk_status tk_csr_to_dense(const tk_csr *a, float *w) {
  if (!a || !w) return TK_ERR_ARG;
  memset(w, 0, a->rows * a->cols * sizeof *w);
  for (size_t g = 0; g < a->n_groups; g++) {
    const tk_csr_group *gr = &a->groups[g];
    float *wg = w + g * TK_CSR_GROUP * a->cols;
    if (gr->blocked) {
      for (size_t j = 0; j < gr->len[0]; j++) {
        size_t c = col_at(a, gr->idx_off + j);
        for (size_t r = 0; r < TK_CSR_GROUP; r++)
          add_at(wg, r * a->cols + c, a->val[gr->val_off + TK_CSR_GROUP * j + r]);
      }
      continue;
    }
    size_t o = 0;
    for (size_t r = 0; r < TK_CSR_GROUP; r++)
      for (size_t j = 0; j < gr->len[r]; j++, o++)
        add_at(wg, r * a->cols + col_at(a, gr->idx_off + o), a->val[gr->val_off + o]);
  }
  return TK_OK;
}

/* ---- products, in parts ----
   A part is a range of row groups. Each group's offsets point into the whole
   matrix's arrays, so a shallow copy of the tk_csr with a range of groups is
   a matrix of its own to the kernels: the part computes exactly what the
   whole call computes for those rows. Ranges are cut at equal shares of the
   stored values (val_off grows along the groups), not of the rows, so parts
   cost about the same however the nonzeros fall. */

static size_t group_at_share(const tk_csr *a, size_t parts, size_t i) {
  if (i == 0) return 0;
  if (i >= parts) return a->n_groups;
  const size_t total = a->n_groups ? a->groups[a->n_groups - 1].val_off + 1 : 0;
  const size_t want = (size_t)((double)total * (double)i / (double)parts);
  size_t lo = 0, hi = a->n_groups; /* the first group whose val_off >= want */
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (a->groups[mid].val_off < want)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static tk_csr csr_rows_view(const tk_csr *a, size_t g0, size_t g1) {
  tk_csr v = *a;
  v.groups = a->groups + g0;
  v.n_groups = g1 - g0;
  const size_t r0 = g0 * TK_CSR_GROUP, r1 = g1 * TK_CSR_GROUP;
  v.rows = (r1 < a->rows ? r1 : a->rows) - r0;
  return v;
}

typedef struct sp_job {
  const tk_kernels *k;
  const tk_csr *a;
  const float *x; /* x (SpMV) or B (SpMM) */
  float *y;       /* y or C */
  size_t n;       /* 0: SpMV, else SpMM's batch */
  size_t parts;
} sp_job;

static void sp_part(void *ctx, size_t i) {
  const sp_job *j = ctx;
  const size_t g0 = group_at_share(j->a, j->parts, i), g1 = group_at_share(j->a, j->parts, i + 1);
  if (g1 <= g0) return;
  const tk_csr v = csr_rows_view(j->a, g0, g1);
  const size_t row0 = g0 * TK_CSR_GROUP;
  if (j->n)
    j->k->spmm(&v, j->x, j->n, j->y + row0 * j->n);
  else
    j->k->spmv(&v, j->x, j->y + row0);
}

static void sp_run(const tk_kernels *k, const tk_exec *e, const tk_csr *a, const float *x,
                   size_t n, float *y) {
  size_t parts = tk_exec_parts(e);
  if (parts > a->n_groups) parts = a->n_groups;
  sp_job j = {.k = k, .a = a, .x = x, .y = y, .n = n, .parts = parts};
  if (parts <= 1) {
    sp_part(&j, 0);
    return;
  }
  tk_exec_run(e, parts, sp_part, &j);
}

tk_status tk_spmv_ex_with(const tk_kernels *k, const tk_exec *e, const tk_csr *a, const float *x,
                          float *y) {
  if (!a || !x || !y) return TK_ERR_ARG;
  /* The kernels read x while they write y: no overlap. */
  if (tk_overlaps(y, a->rows * sizeof(float), x, a->cols * sizeof(float))) return TK_ERR_ARG;
  sp_run(k, e, a, x, 0, y);
  return TK_OK;
}

tk_status tk_spmm_ex_with(const tk_kernels *k, const tk_exec *e, const tk_csr *a, const float *b,
                          size_t n, float *c) {
  if (!a) return TK_ERR_ARG;
  if (!n) return TK_OK;
  if (!b || !c) return TK_ERR_ARG;
  size_t nb, nc;
  if (tk_mul_overflows(a->cols, n, &nb) || nb > SIZE_MAX / sizeof(float) ||
      tk_mul_overflows(a->rows, n, &nc) || nc > SIZE_MAX / sizeof(float))
    return TK_ERR_OVERFLOW;
  if (tk_overlaps(c, nc * sizeof(float), b, nb * sizeof(float))) return TK_ERR_ARG;
  sp_run(k, e, a, b, n, c);
  return TK_OK;
}

tk_status tk_spmv_ex(const tk_exec *e, const tk_csr *a, const float *x, float *y) {
  return tk_spmv_ex_with(tk_active(), e, a, x, y);
}
tk_status tk_spmm_ex(const tk_exec *e, const tk_csr *a, const float *b, size_t n, float *c) {
  return tk_spmm_ex_with(tk_active(), e, a, b, n, c);
}
tk_status tk_spmv(const tk_csr *a, const float *x, float *y) {
  return tk_spmv_ex_with(tk_active(), NULL, a, x, y);
}
tk_status tk_spmm(const tk_csr *a, const float *b, size_t n, float *c) {
  return tk_spmm_ex_with(tk_active(), NULL, a, b, n, c);
}

void tk_csr_destroy(tk_csr *a) { csr_free(a); }
