/* int8 kernels for NEON with the armv8.2 dot-product extension: the shared body over simd/neondot.h. */
#include "simd/neondot.h"

#include "int8/int8_kernels.h"

#include "int8/int8_body.h"
