/* Sparse kernels for NEON (aarch64 and armv7; the neondot table uses these too): the shared body over simd/neon.h. */
#include "simd/neon.h"

#include "sparse/sparse_kernels.h"

#include "sparse/sparse_body.h"
