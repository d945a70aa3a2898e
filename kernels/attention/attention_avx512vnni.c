/* Attention kernels for AVX-512 + VNNI: the shared body over simd/avx512vnni.h, the s8 cache's tile steps one vpdpwssd each. */
#include "simd/avx512vnni.h"

#include "attention/attention_kernels.h"

#include "attention/attention_body.h"
