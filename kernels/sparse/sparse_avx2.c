/* Sparse kernels for AVX2 (+FMA): the shared body over simd/avx2.h. */
#include "simd/avx2.h"

#include "sparse/sparse_kernels.h"

/* Vectors of C-row accumulators an SpMM pass keeps in registers (of 16):
   8 x 8 = 64 floats, a whole n = 64 row of C in one pass. */
#define TK_SPMM_ACC 8
/* Vectors of C accumulators a blocked group's pass keeps in registers (4 rows
   of TK_SPMM_BLOCK_ACC / 4 vectors each). */
#define TK_SPMM_BLOCK_ACC 8

#include "sparse/sparse_body.h"
