/* Attention kernels for AVX-512 + VNNI: the shared body over simd/avx512vnni.h, the s8 cache's tile steps one vpdpwssd each. */
#include "simd/avx512vnni.h"

#include "attention/attention_kernels.h"

/* Tiles for 32 registers: 4 rows x 4 positions (scores) and x 4 vectors
   (P.V); two s8 tiles per step (the zmm tile step keeps one register per
   chain). */
#define TK_ATT_PT 4
#define TK_ATT_VT 4
#define TK_ATT_S8_WIDE 2

#include "attention/attention_body.h"
