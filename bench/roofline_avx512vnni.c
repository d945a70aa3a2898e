/* Roofline loops for AVX-512 VNNI: zmm vpdpbusd on registers (the qlinear step's instruction) with 16 chains, zmm vfmadd for fp32. */
#include "simd/avx512vnni.h"

#include "bench/roofline.h"

/* One vpdpbusd per step (64 MACs), register operands, into the accumulator's
   main lane sums (the dot kernel's correction accumulator stays 0). 16
   independent chains cover latency x throughput (4-5 cycles x 1 per cycle on
   Zen 4, x 2 on Zen 5); the qlinear GEMM's peak is this instruction's. */
#define TKR_S8_ACC 16
#define TKR_S8_MACS_PER_STEP 64
typedef struct tkr_s8_in { __m512i a, b; } tkr_s8_in;
static inline tkr_s8_in tkr_s8_in_zero(void) {
  return (tkr_s8_in){_mm512_setzero_si512(), _mm512_setzero_si512()};
}
static inline tk_vs32 tkr_s8_step(tk_vs32 acc, tkr_s8_in *in) {
  /* The empty asm "changes" the operands, so no step can be hoisted or merged. */
  __asm__ __volatile__("" : "+v"(in->a), "+v"(in->b));
  acc.acc = tk_v16s32_dpbusd(acc.acc, in->a, in->b);
  return acc;
}

#include "bench/roofline_body.h"
