/* Sparse kernels for AVX-512 (zmm, 16 lanes): the shared body over simd/avx512.h; avx512vnni's table uses them too. */
#include "simd/avx512.h"

#include "sparse/sparse_kernels.h"

/* VNNI adds int8 dot products only, nothing for fp32 products: avx512vnni
   takes these kernels and avxvnni (ymm) takes avx2's, by meson's fallback
   chain (no sparse_avx512vnni.c or sparse_avxvnni.c). */

/* Vectors of C-row accumulators an SpMM pass keeps in registers (of 32): 4 x
   16 = 64 floats, a whole n = 64 row of C per pass. Measured on Zen 4 (1024x1024,
   n = 64, 90% sparse, medians of 5, a busy 2-core VM): 0.24-0.27 ms against
   avx2's 0.28-0.32; two accumulator sets over alternate entries, and software
   prefetch of B's rows 4 or 8 entries ahead, changed nothing beyond the noise
   (0.24-0.31 ms): B's rows come from L2 at ~105 GB/s, near the 115 GB/s L2
   read roofline, whatever the ISA. */
#define TK_SPMM_ACC 4
/* Vectors of C accumulators a blocked group's pass keeps in registers: 4 rows
   of 4 zmm, so n = 64 is one pass over the group's columns and each B row
   load feeds 16 FMAs. Unpruned 1024x1024, n = 64: 1.19-1.21 ms against
   1.27-1.29 with 8 and 1.32-1.33 with 4 (four passes, each re-reading the
   indices and broadcasting the weights again). */
#define TK_SPMM_BLOCK_ACC 16

#include "sparse/sparse_body.h"
