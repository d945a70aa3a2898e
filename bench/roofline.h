/* The register-only and streaming loops behind the roofline rows: one table per natively built ISA. */
#ifndef TK_BENCH_ROOFLINE_H
#define TK_BENCH_ROOFLINE_H

#include <stddef.h>
#include <stdint.h>

#include "dispatch/isa_list.h"
#include "tinykern.h"

/* Each bench/roofline_<isa>.c is compiled with that ISA's flags and only for
   ISAs this target runs natively (an ISA without its own file uses its meson
   fallback's: tkb_rooflines.h, generated); bench_common.c calls a table only
   when tk_isa_available() says the CPU can run it. */
typedef struct tkb_roofline_fns {
  /* Sums x[0..n) (n a multiple of 64) with vector loads into independent
     accumulators, as `streams` (1, 2 or 4) parts read side by side: limited by
     the read bandwidth of wherever x lives. */
  float (*read_f32)(const float *x, size_t n, int streams);
  /* `iters` rounds of the int8 dot kernel's multiply-add sequence with register
     operands (no loads): the int8 MAC peak of that instruction sequence. */
  int32_t (*s8_mac)(size_t iters);
  size_t s8_macs_per_iter;
  /* `iters` rounds of fp32 fused (or, without FMA, separate) multiply-adds on
     registers: the fp32 peak the other families compare against. */
  float (*f32_fma)(size_t iters);
  size_t f32_fmas_per_iter;
} tkb_roofline_fns;

#define TKB_ROOFLINE_DECLARE(ID, name, ...) extern const tkb_roofline_fns tkb_roofline_##name;
TK_ISA_LIST(TKB_ROOFLINE_DECLARE)

#endif
