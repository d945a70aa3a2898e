/* Attention kernels for scalar C (compiled without auto-vectorization: the baseline every ISA is compared to): the shared body over simd/scalar.h. */
#include "simd/scalar.h"

#include "attention/attention_kernels.h"

#include "attention/attention_body.h"
