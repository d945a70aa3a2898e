/* Roofline loops for AVX-VNNI: ymm VEX vpdpbusd on registers (the qlinear step's instruction) with 12 chains, ymm vfmadd for fp32. */
#include "simd/avxvnni.h"

#include "bench/roofline.h"

/* One vpdpbusd per step (32 MACs), register operands, into the accumulator's
   main lane sums (the dot kernel's correction accumulator stays 0). 12 chains
   of the 16 ymm registers cover latency x throughput (4-5 cycles x 2 per cycle). */
#define TKR_S8_ACC 12
#define TKR_S8_MACS_PER_STEP 32
typedef struct tkr_s8_in { __m256i a, b; } tkr_s8_in;
static inline tkr_s8_in tkr_s8_in_zero(void) {
  return (tkr_s8_in){_mm256_setzero_si256(), _mm256_setzero_si256()};
}
static inline tk_vs32 tkr_s8_step(tk_vs32 acc, tkr_s8_in *in) {
  /* The empty asm "changes" the operands, so no step can be hoisted or merged. */
  __asm__ __volatile__("" : "+x"(in->a), "+x"(in->b));
  acc.acc = tk_ymm_dpbusd(acc.acc, in->a, in->b);
  return acc;
}

#include "bench/roofline_body.h"
