/* int8 kernels for AVX-VNNI (VEX, 256-bit): the shared body over simd/avxvnni.h. */
#include "simd/avxvnni.h"

#include "int8/int8_kernels.h"

#include "int8/int8_body.h"
