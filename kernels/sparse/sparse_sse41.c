/* Sparse kernels for SSE4.1: the shared body over simd/sse41.h. */
#include "simd/sse41.h"

#include "sparse/sparse_kernels.h"

#include "sparse/sparse_body.h"
