/* qlinear kernels for AVX-VNNI (VEX, 256-bit): the shared body over simd/avxvnni.h (vpdpbusd on single tiles). */
#include "simd/avxvnni.h"

#include "qlinear/qlinear_kernels.h"

/* Batch rows per GEMM microkernel step: one ymm accumulator per batch row
   (8 output rows), so 12 rows use 12 of the 16 ymm registers, the weights
   and the broadcast 2 more. */
#define TK_QL_MR 12
/* A GEMV's one batch row splits k over 4 accumulators (4 chains). */
#define TK_QL_KU 4

#include "qlinear/qlinear_body.h"
