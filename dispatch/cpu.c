/* CPU feature detection through cpuinfo: which ISA variants this CPU can run (the detect column of dispatch/isa_list.h). */
#include <cpuinfo.h>

#include "dispatch/dispatch.h"
#include "dispatch/isa_list.h"

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
