/* int8 kernels for AVX-512 with VNNI: the shared body over simd/avx512vnni.h. */
#include "simd/avx512vnni.h"

#include "int8/int8_kernels.h"

#include "int8/int8_body.h"
