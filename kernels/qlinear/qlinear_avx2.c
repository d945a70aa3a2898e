/* qlinear kernels for AVX2 + FMA: the shared body over simd/avx2.h. */
#include "simd/avx2.h"

#include "qlinear/qlinear_kernels.h"

/* Batch rows per GEMM microkernel step: 2 accumulator registers per batch row
   (simd/avx2.h), so 6 rows use 12 of the 16 ymm registers, the widened
   weights 2 and the broadcast 1; each weight load and widening then serves
   6 x 32 MACs. */
#define TK_QL_MR 6

#include "qlinear/qlinear_body.h"
