/* Attention kernels for AVX-512 + VNNI: the s8 cache's kernel over simd/avx512vnni.h, its tile steps one vpdpwssd each; f32 and f16 are avx512's (meson's routes). */
#include "simd/avx512vnni.h"

#include "attention/attention_kernels.h"

/* Two s8 tiles per step (the zmm tile step keeps one register per chain).
   VNNI adds integer dot products only: the float kernels and the f16
   conversion would be avx512's instructions, so meson routes them there
   (this file defines attend_s8 alone). */
#define TK_ATT_S8_WIDE 2

#include "attention/attention_body.h"
