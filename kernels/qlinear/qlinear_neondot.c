/* qlinear kernels for NEON with the armv8.2 dot-product extension: the shared body over simd/neondot.h. */
#include "simd/neondot.h"

#include "qlinear/qlinear_kernels.h"

/* Batch rows per GEMM microkernel step: 2 SDOT accumulator registers per
   batch row (simd/neondot.h). */
#define TK_QL_MR 4

#include "qlinear/qlinear_body.h"
