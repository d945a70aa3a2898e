/* Attention kernels for SSE4.1: the shared body over simd/sse41.h. */
#include "simd/sse41.h"

#include "attention/attention_kernels.h"

#include "attention/attention_body.h"
