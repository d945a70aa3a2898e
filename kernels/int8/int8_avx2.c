/* int8 kernels for AVX2: the shared body over simd/avx2.h. */
#include "simd/avx2.h"

#include "int8/int8_kernels.h"

#include "int8/int8_body.h"
