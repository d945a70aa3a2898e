/* qlinear kernels for NEON (aarch64 and armv7): the shared body over simd/neon.h. */
#include "simd/neon.h"

#include "qlinear/qlinear_kernels.h"

#include "qlinear/qlinear_body.h"
