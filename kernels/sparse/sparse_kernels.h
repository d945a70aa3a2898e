/* The tk_csr storage format and the declarations of the sparse kernels of every ISA (listed in kernels/table.c). */
#ifndef TK_SPARSE_KERNELS_H
#define TK_SPARSE_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dispatch/isa_list.h"
#include "tinykern.h"

/* Rows are stored in groups of this many consecutive rows. */
#define TK_CSR_GROUP 4

/* One group of rows: rows TK_CSR_GROUP * g ... (fewer in the last group).
   - split (blocked == false): its rows one after the other as plain CSR: row r
     of the group has len[r] entries, columns at idx[idx_off ...], values at
     val[val_off ...] (the two run in parallel), in the order they were given,
     repeats kept as separate entries (they add up in every product).
   - blocked (blocked == true, only for a full group of 4 rows whose entries
     are all nonzero and in distinct columns per row): the union of the 4
     rows' columns, len[0] = u of them in increasing order at idx[idx_off ...];
     each column has 4 values, val[val_off + 4 j + r] for row r of the group,
     0 exactly where row r lacks column j (no explicit zero or repeat is ever
     blocked, so a stored 0 always means "absent"). One load of x[col] (SpMV) or
     of B's row col (SpMM) then feeds 4 output rows, and one index serves 4
     values: 18 bytes per column instead of 24 when all 4 rows have it.
     The kernels multiply the absent zeros too; when x or B holds Inf or NaN
     there, 0 * Inf = NaN would reach a row without that column, so a blocked
     result that comes out NaN is recomputed from the row's own entries
     (sparse_body.h): every row's result depends only on its entries, whatever
     the storage. */
typedef struct tk_csr_group {
  size_t idx_off;
  size_t val_off;
  size_t len[TK_CSR_GROUP];
  bool blocked;
} tk_csr_group;

/* Storage of a tk_csr, chosen at creation and the same whichever ISA runs it:
   - column indices are uint16_t when cols <= 65536 (every index <= 65535),
     uint32_t otherwise (then wide == true); every index is < 2^31, so the
     signed 32-bit lanes of a hardware gather hold it;
   - a group of 4 rows is stored blocked when the rows share most columns
     (entries >= 3/4 of 4 * union: BLOCK_FILL_NUM / BLOCK_FILL_DEN in
     sparse.c, where the measurements are), split otherwise:
     for unstructured pruning beyond ~50% the rows share few columns and stay
     split; for dense-ish or column-structured weights the blocks pay.
   The object is immutable after creation. */
struct tk_csr {
  size_t rows, cols;
  size_t nnz;      /* entries as created (tk_csr_create: row_ptr[rows]; repeats count) */
  size_t n_groups; /* ceil(rows / 4) */
  bool wide;
  void *idx;       /* uint16_t[] or uint32_t[] */
  float *val;
  tk_csr_group *groups;
  size_t bytes;    /* everything this object holds */
};

/* Declares tk_spmv_<isa> (y[rows] = A x) and tk_spmm_<isa> (C[rows][n] = A B,
   B [cols][n]); a is valid, x/b/y/c non-NULL, n >= 1. Every output element is written. */
#define TK_SPARSE_DECLARE(ID, isa, ...)                                               \
  void TK_KERNEL_NAME(spmv, isa)(const struct tk_csr *a, const float *x, float *y);      \
  void TK_KERNEL_NAME(spmm, isa)(const struct tk_csr *a, const float *b, size_t n, float *c);

TK_ISA_LIST(TK_SPARSE_DECLARE)

/* The public products with an explicit kernel table (the tests run every
   variant through them) and exec. */
struct tk_kernels;
tk_status tk_spmv_ex_with(const struct tk_kernels *k, const tk_exec *e, const tk_csr *a,
                          const float *x, float *y);
tk_status tk_spmm_ex_with(const struct tk_kernels *k, const tk_exec *e, const tk_csr *a,
                          const float *b, size_t n, float *c);

#endif
