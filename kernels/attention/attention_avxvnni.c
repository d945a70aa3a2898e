/* Attention kernels for AVX-VNNI (VEX, ymm): the s8 cache's kernel over simd/avxvnni.h, its tile steps one vpdpwssd per half tile; f32 and f16 are avx2's (meson's routes). */
#include "simd/avxvnni.h"

#include "attention/attention_kernels.h"

/* VNNI adds integer dot products only: the float kernels and the f16
   conversion would be avx2's instructions, so meson routes them to avx2's
   (this file defines attend_s8 alone), as avx512vnni's to avx512's. The s8
   step's gain is measured on zmm only (this project has no CPU with
   AVX-VNNI): avx512vnni's vpdpwssd against avx512's vpmaddwd + vpaddd,
   attend/s8 kv 8 and 32, L 256-4096, 1.09-1.33x (Zen 4, bench_attention,
   medians of 5, one interleaved run). */

#include "attention/attention_body.h"
