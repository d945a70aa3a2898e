/* qlinear kernels for SSE4.1: the shared body over simd/sse41.h. */
#include "simd/sse41.h"

#include "qlinear/qlinear_kernels.h"

#include "qlinear/qlinear_body.h"
