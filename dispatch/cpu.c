/* CPU feature detection through cpuinfo: which ISA variants this CPU can run (the detect column of dispatch/isa_list.h). */
#include <cpuinfo.h>

#include "dispatch/dispatch.h"
#include "dispatch/isa_list.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

/* The avx512 variant's flags: F, BW, DQ, VL, plus FMA and F16C (every CPU with
   AVX-512 F has both, but the variant is compiled with them, so ask). cpuinfo
   reports AVX-512 only when the OS saves the ZMM and mask state. */
static bool tk_cpu_has_avx512(void) {
  return cpuinfo_has_x86_avx512f() && cpuinfo_has_x86_avx512bw() && cpuinfo_has_x86_avx512dq() &&
         cpuinfo_has_x86_avx512vl() && cpuinfo_has_x86_fma3() && cpuinfo_has_x86_f16c();
}

/* AVX-VNNI (the VEX encoding of vpdpbusd on ymm): CPUID leaf 7, subleaf 1, EAX
   bit 4. Debian 12's cpuinfo (2022) has no query for it, so this is the one
   place that reads CPUID itself; the register state it needs is the YMM state
   cpuinfo_has_x86_avx2() already requires of the OS. */
static bool tk_cpu_has_avxvnni(void) {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax, ebx, ecx, edx;
  if (__get_cpuid_max(0, NULL) < 7) return false;
  __cpuid_count(7, 1, eax, ebx, ecx, edx);
  return (eax >> 4) & 1u;
#else
  return false;
#endif
}

bool tk_cpu_detect(bool runs[TK_ISA_COUNT]) {
  for (int i = 0; i < TK_ISA_COUNT; i++) runs[i] = false;
  runs[TK_ISA_SCALAR] = true;
  if (!cpuinfo_initialize()) return false;
  /* cpuinfo's has_* queries answer false on other architectures, so no #if
     here; it reports AVX features only when the OS saves the YMM/ZMM state. */
#define TK_ISA_DETECT(ID, name, arch, prio, detect) runs[TK_ISA_##ID] = (detect);
  TK_ISA_LIST(TK_ISA_DETECT)
  return true;
}
