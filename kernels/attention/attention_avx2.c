/* Attention kernels for AVX2 + FMA + F16C: the shared body over simd/avx2.h. */
#include "simd/avx2.h"

#include "attention/attention_kernels.h"

#include "attention/attention_body.h"
