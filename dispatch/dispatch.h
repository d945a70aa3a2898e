/* Internal dispatch interface: CPU detection and the pure choice function (tested directly). */
#ifndef TK_DISPATCH_H
#define TK_DISPATCH_H

#include "dispatch/isa_list.h"
#include "tinykern.h"

/* The features as the CPU's own registers report them (CPUID/XGETBV on x86,
   hwcaps on ARM Linux; all false elsewhere): no allocation, no output. */
void tk_cpu_features_from_registers(tk_cpu_features *f);

/* Fills runs[isa] with whether this CPU can run that ISA's instructions
   (independent of what is built), from the CPU's registers (dispatch/cpu.c
   says why not cpuinfo). Returns false if detection failed; then only
   runs[TK_ISA_SCALAR] is true. */
bool tk_cpu_detect(bool runs[TK_ISA_COUNT]);

/* The decision of the first use, without side effects: `env` is TINYKERN_ISA
   (NULL when unset), available[] what is built and runs here. Returns the ISA to
   use; *warning is set to a message for stderr, or NULL. */
tk_isa tk_dispatch_choose(const bool available[TK_ISA_COUNT], const char *env,
                          char *warning, size_t warning_size);

/* How many times the first-use initialisation ran (1 after any use). */
unsigned tk_dispatch_init_count(void);

#endif
