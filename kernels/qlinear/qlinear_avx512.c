/* qlinear kernels for AVX-512 (F/BW/DQ/VL) without VNNI: the shared body over simd/avx512.h (vpmaddwd on tile pairs). */
#include "simd/avx512.h"

#include "qlinear/qlinear_kernels.h"

/* Batch rows per GEMM microkernel step: two zmm accumulators per batch row
   (tile t and t + 1), so 12 rows use 24 of the 32 registers, the widened
   weights 2 and the broadcast 1. */
#define TK_QL_MR 12
/* A GEMV's one batch row splits k over 2 accumulator pairs. */
#define TK_QL_KU 2
/* tk_linear_f32's microkernel: 4 x 5 zmm accumulators + 4 activations + 1
   weight = 25 of the 32 registers; 9 loads per 20 FMAs, where 3 x 4 needed 7
   per 12 and Zen 4 loads one zmm per cycle. */
#define TK_LF_MR 4
#define TK_LF_NR 5
/* Its broadcast form (qlinear_body.h) for whole blocks of 16 batch rows:
   TK_LF_PMR accumulators + the activation vector (the 4 x 5 dot form above
   serves a GEMV and the last batch % 16 rows). 64x1024x1024 on Zen 4
   (bench_qlinear, medians of 11 under load): 1.46 ms, 80% of the measured
   FMA peak, where the dot form took 1.68-1.75 ms (avx2 1.5-1.9 ms: its
   time moves between runs with the buffers' addresses). */
#define TK_LF_PMR 16

#include "qlinear/qlinear_body.h"
