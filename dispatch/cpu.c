/* CPU feature detection through cpuinfo: which ISA variants this CPU can run. */
#include <cpuinfo.h>

#include "dispatch/dispatch.h"

bool tk_cpu_detect(bool runs[TK_ISA_COUNT]) {
  for (int i = 0; i < TK_ISA_COUNT; i++) runs[i] = false;
  runs[TK_ISA_SCALAR] = true;
  if (!cpuinfo_initialize()) return false;
  /* cpuinfo's has_* queries answer false on other architectures, so no #if here. */
  runs[TK_ISA_SSE41] = cpuinfo_has_x86_sse4_1();
  /* The AVX2 variant is compiled with -mavx2 -mfma -mf16c: all three must be
     present (cpuinfo reports AVX features only when the OS saves the YMM state). */
  runs[TK_ISA_AVX2] = cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3() && cpuinfo_has_x86_f16c();
  runs[TK_ISA_NEON] = cpuinfo_has_arm_neon();
  runs[TK_ISA_NEONDOT] = cpuinfo_has_arm_neon() && cpuinfo_has_arm_neon_dot();
  return true;
}
