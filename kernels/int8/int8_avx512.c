/* int8 kernels for AVX-512 (F/BW/DQ/VL) without VNNI: the shared body over simd/avx512.h. */
#include "simd/avx512.h"

#include "int8/int8_kernels.h"

#include "int8/int8_body.h"
