/* Sparse kernels for SSE4.1: the shared body over simd/sse41.h. */
#include "simd/sse41.h"

#include "sparse/sparse_kernels.h"

/* Vectors of C-row accumulators an SpMM pass keeps in registers (of 16). */
#define TK_SPMM_ACC 8
/* Vectors of C accumulators a blocked group's pass keeps in registers (4 rows
   of TK_SPMM_BLOCK_ACC / 4 vectors each). */
#define TK_SPMM_BLOCK_ACC 8

#include "sparse/sparse_body.h"
