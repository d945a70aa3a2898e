/* qlinear kernels for NEON (aarch64 and armv7): the shared body over simd/neon.h. */
#include "simd/neon.h"

#include "qlinear/qlinear_kernels.h"

/* Batch rows per GEMM microkernel step: 4 accumulator registers per batch row
   (simd/neon.h), so 2 rows fit armv7's 16 q registers. */
#define TK_QL_MR 2

#include "qlinear/qlinear_body.h"
