/* Sparse kernels for AVX2 (+FMA): the shared body over simd/avx2.h. */
#include "simd/avx2.h"

#include "sparse/sparse_kernels.h"

#include "sparse/sparse_body.h"
