/* qlinear kernels for NEON with the armv8.2 dot-product extension: the shared body over simd/neondot.h. */
#include "simd/neondot.h"

#include "qlinear/qlinear_kernels.h"

#include "qlinear/qlinear_body.h"
