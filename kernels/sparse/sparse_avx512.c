/* Sparse kernels for AVX-512 (zmm, 16 lanes): the shared body over simd/avx512.h; avx512vnni's table uses them too. */
#include "simd/avx512.h"

#include "sparse/sparse_kernels.h"

/* VNNI adds int8 dot products only, nothing for fp32 products: avx512vnni
   takes these kernels and avxvnni (ymm) takes avx2's, by meson's fallback
   chain (no sparse_avx512vnni.c or sparse_avxvnni.c).

   SpMV is avx2's (meson's `routes`, so this file defines SpMM only): each
   entry of x is a gather, and Zen 4 gathers no more elements per cycle from
   a zmm gather than from a ymm one. 4096x4096, bench_sparse, medians of 7,
   one interleaved run: avx512 against avx2 0.99x time at 0% sparsity, 1.01-1.03x
   at 50-80%, 0.93x at 90%, 1.03x at 95%, 1.18x at 98% (shorter rows: the
   16-lane tail and horizontal sums weigh more). */

/* Vectors of C-row accumulators an SpMM pass keeps in registers (of 32): 4 x
   16 = 64 floats, a whole n = 64 row of C per pass. Zen 4 (1024x1024, n =
   64, 90% sparse; bench_sparse, medians of 5, three runs on a busy 2-core
   VM): 0.25-0.26 ms against avx2's 0.29-0.34, 1.15-1.29x, not more: Zen 4
   runs a zmm FMA as two ymm halves (the bench's register-only fp32 peaks:
   avx512 115.0, avx2 117.1 GFLOPS), and each entry streams a 256-byte B row
   from L2 (B is 256 KiB), 26.8 MB per product, ~105 GB/s against the
   measured 115 GB/s L2 read roofline. Two accumulator sets over alternate
   entries, and software prefetch of B's rows 4 or 8 entries ahead, changed
   nothing beyond the noise (0.24-0.31 ms). */
#define TK_SPMM_ACC 4
/* Vectors of C accumulators a blocked group's pass keeps in registers: 4 rows
   of 4 zmm, so n = 64 is one pass over the group's columns and each B row
   load feeds 16 FMAs. Unpruned 1024x1024 (every group blocked), n = 64:
   1.19-1.21 ms against 1.27-1.29 with 8 and 1.32-1.33 with 4 (four passes,
   each re-reading the indices and broadcasting the weights again); avx2
   1.77-1.98 ms in the same runs as above. */
#define TK_SPMM_BLOCK_ACC 16

#include "sparse/sparse_body.h"
