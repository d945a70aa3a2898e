/* int8 kernels for NEON (aarch64 and armv7): the shared body over simd/neon.h. */
#include "simd/neon.h"

#include "int8/int8_kernels.h"

#include "int8/int8_body.h"
