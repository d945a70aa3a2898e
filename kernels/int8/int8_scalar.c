/* int8 kernels for scalar C (compiled without auto-vectorization: the baseline every ISA is compared to): the shared body over simd/scalar.h. */
#include "simd/scalar.h"

#include "int8/int8_kernels.h"

#include "int8/int8_body.h"
