/* CPU feature detection from the CPU's own registers (cpuinfo where there is no register path); the detect column of dispatch/isa_list.h reads the result. */
#include <cpuinfo.h>

#include "dispatch/dispatch.h"
#include "dispatch/isa_list.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#elif defined(__linux__) && (defined(__aarch64__) || defined(__arm__))
#include <sys/auxv.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
static bool bit(unsigned r, int b) { return (r >> b) & 1u; }
#endif

/* Why not cpuinfo, which tinykern used to ask: cpuinfo_initialize() allocates,
   and when an allocation fails it prints "Error in cpuinfo: ..." on stderr
   (its logging is internal to libcpuinfo, nothing can redirect it) and
   reports failure, which left the process on scalar. tinykern's only output
   is the TINYKERN_ISA line, so detection reads what cpuinfo reads itself:
   CPUID and XGETBV on x86 (Intel SDM vol. 2A; the OS must have enabled the
   register state: XCR0 bits 1-2 for YMM, 5-7 for the AVX-512 mask and ZMM
   state), the kernel's hwcaps on ARM Linux. No allocation, no output, and
   AVX-VNNI, which Debian 12's cpuinfo (2022) does not know, comes for free.
   tests/test_detect.c checks feature by feature that cpuinfo agrees. */
#if defined(__x86_64__) || defined(__i386__) || \
    (defined(__linux__) && (defined(__aarch64__) || defined(__arm__)))
#define TK_CPU_FROM_REGISTERS 1
#else
#define TK_CPU_FROM_REGISTERS 0
#endif

void tk_cpu_features_from_registers(tk_cpu_features *f) {
  *f = (tk_cpu_features){0};
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d, max = __get_cpuid_max(0, NULL);
  if (max < 1) return;
  __cpuid(1, a, b, c, d);
  f->sse41 = bit(c, 19);
  bool ymm = false, zmm = false;
  if (bit(c, 27) && bit(c, 28)) { /* OSXSAVE and AVX: XGETBV is allowed */
    unsigned lo, hi;
    __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    ymm = (lo & 0x6u) == 0x6u;
    zmm = ymm && (lo & 0xe0u) == 0xe0u;
  }
  f->fma3 = ymm && bit(c, 12);
  f->f16c = ymm && bit(c, 29);
  if (max < 7) return;
  __cpuid_count(7, 0, a, b, c, d);
  f->avx2 = ymm && bit(b, 5);
  f->avx512f = zmm && bit(b, 16);
  f->avx512dq = zmm && bit(b, 17);
  f->avx512bw = zmm && bit(b, 30);
  f->avx512vl = zmm && bit(b, 31);
  f->avx512vnni = zmm && bit(c, 11);
  __cpuid_count(7, 1, a, b, c, d);
  f->avxvnni = ymm && bit(a, 4);
#elif defined(__linux__) && defined(__aarch64__)
  const unsigned long hw = getauxval(AT_HWCAP);
  f->neon = (hw >> 1) & 1u;      /* HWCAP_ASIMD */
  f->neon_dot = (hw >> 20) & 1u; /* HWCAP_ASIMDDP */
#elif defined(__linux__) && defined(__arm__)
  f->neon = (getauxval(AT_HWCAP) >> 12) & 1u; /* HWCAP_NEON */
#endif
}

/* Elsewhere (no register path): cpuinfo, whose has_* queries answer false on
   other architectures. If it fails, only scalar runs. */
static bool features_from_cpuinfo(tk_cpu_features *f) {
  *f = (tk_cpu_features){0};
  if (!cpuinfo_initialize()) return false;
  f->neon = cpuinfo_has_arm_neon();
  f->neon_dot = cpuinfo_has_arm_neon_dot();
  return true;
}

bool tk_cpu_detect(bool runs[TK_ISA_COUNT]) {
  tk_cpu_features f;
  bool ok = true;
  if (TK_CPU_FROM_REGISTERS)
    tk_cpu_features_from_registers(&f);
  else
    ok = features_from_cpuinfo(&f);
#define TK_ISA_DETECT(ID, name, arch, prio, detect) runs[TK_ISA_##ID] = (detect);
  TK_ISA_LIST(TK_ISA_DETECT)
  return ok;
}
