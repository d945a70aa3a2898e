/* Attention kernels for NEON (aarch64 and armv7): the shared body over simd/neon.h. */
#include "simd/neon.h"

#include "attention/attention_kernels.h"

#include "attention/attention_body.h"
