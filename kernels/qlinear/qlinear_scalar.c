/* qlinear kernels for scalar C (compiled without auto-vectorization: the baseline every ISA is compared to): the shared body over simd/scalar.h. */
#include "simd/scalar.h"

#include "qlinear/qlinear_kernels.h"

/* Batch rows per GEMM microkernel step: one (no registers to block for). */
#define TK_QL_MR 1

#include "qlinear/qlinear_body.h"
