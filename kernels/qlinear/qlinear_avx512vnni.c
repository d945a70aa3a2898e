/* qlinear kernels for AVX-512 with VNNI: the shared body over simd/avx512vnni.h (vpdpbusd on tile pairs). */
#include "simd/avx512vnni.h"

#include "qlinear/qlinear_kernels.h"

/* Batch rows per GEMM microkernel step: one zmm accumulator per batch row
   (16 output rows), so 8 rows keep 8 vpdpbusd chains in flight (latency 4-5,
   one per cycle on Zen 4) with the weights and the broadcast in 2 more of the
   32 registers. */
#define TK_QL_MR 8
/* A GEMV's one batch row splits k over 4 accumulators (4 chains). */
#define TK_QL_KU 4
/* tk_linear_f32 is avx512's (meson's routes: VNNI adds nothing to fp32). */
#include "qlinear/qlinear_body.h"
