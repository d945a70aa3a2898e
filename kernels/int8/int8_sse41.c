/* int8 kernels for SSE4.1: the shared body over simd/sse41.h. */
#include "simd/sse41.h"

#include "int8/int8_kernels.h"

#include "int8/int8_body.h"
