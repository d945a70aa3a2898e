/* qlinear kernels for SSE4.1: the shared body over simd/sse41.h. */
#include "simd/sse41.h"

#include "qlinear/qlinear_kernels.h"

/* Batch rows per GEMM microkernel step: 4 accumulator registers per batch row
   (simd/sse41.h), so 2 rows fit the 16 xmm registers. */
#define TK_QL_MR 2

#include "qlinear/qlinear_body.h"
