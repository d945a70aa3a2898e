/* Sparse kernels for NEON (aarch64 and armv7; ISAs that fall back to NEON use these too): the shared body over simd/neon.h. */
#include "simd/neon.h"

#include "sparse/sparse_kernels.h"

/* Vectors of C-row accumulators an SpMM pass keeps in registers (16 on armv7, 32 on aarch64). */
#define TK_SPMM_ACC 8
/* Vectors of C accumulators a blocked group's pass keeps in registers (4 rows
   of TK_SPMM_BLOCK_ACC / 4 vectors each). */
#define TK_SPMM_BLOCK_ACC 8

#include "sparse/sparse_body.h"
