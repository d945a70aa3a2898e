/* Sparse kernels for scalar C (compiled without auto-vectorization: the baseline every ISA is compared to): the shared body over simd/scalar.h. */
#include "simd/scalar.h"

#include "sparse/sparse_kernels.h"

/* Vectors of C-row accumulators an SpMM pass keeps in registers. */
#define TK_SPMM_ACC 4
/* Vectors of C accumulators a blocked group's pass keeps in registers (4 rows
   of TK_SPMM_BLOCK_ACC / 4 vectors each). */
#define TK_SPMM_BLOCK_ACC 4

#include "sparse/sparse_body.h"
