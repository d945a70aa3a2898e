/* Attention kernels for AVX-512 (F/BW/DQ/VL): the shared body over simd/avx512.h, fp32 and f16 on 16-lane zmm vectors. */
#include "simd/avx512.h"

#include "attention/attention_kernels.h"

#include "attention/attention_body.h"
