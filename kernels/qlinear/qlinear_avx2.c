/* qlinear kernels for AVX2 + FMA: the shared body over simd/avx2.h. */
#include "simd/avx2.h"

#include "qlinear/qlinear_kernels.h"

#include "qlinear/qlinear_body.h"
