/* The one list of ISAs: every place that enumerates ISAs (names, detection, tables, declarations, tests, bench) expands it. */
#ifndef TK_DISPATCH_ISA_LIST_H
#define TK_DISPATCH_ISA_LIST_H

#include <stdbool.h>

/* One row per ISA, in the order of the public tk_isa enum (append-only: a new
   ISA is a new last row and a new last enumerator in tinykern.h):

     X(ID, name, arch, priority, detect)

   ID        the enumerator is TK_ISA_<ID>
   name      tk_isa_name(), TINYKERN_ISA, file suffixes (int8_<name>.c), symbols (tk_dot_s8_<name>)
   arch      any, x86, arm (aarch64 and armv7) or aarch64, as in meson.build
   priority  dispatch picks the available ISA with the highest priority; the
             enum order says nothing
   detect    whether this CPU runs the variant's instructions: an expression over
             the features `f` (tk_cpu_features, dispatch/dispatch.h) that
             dispatch/cpu.c detects, expanded only there. It covers every flag
             the ISA's meson row compiles with.

   The build side (flags, the fallback ISA of a family without its own file)
   is the `isas` dict in the root meson.build. */
#define TK_ISA_LIST(X)                                                              \
  X(SCALAR, scalar, any, 0, true)                                                   \
  X(SSE41, sse41, x86, 10, f.sse41)                                                 \
  X(AVX2, avx2, x86, 20, f.avx2 && f.fma3 && f.f16c)                                \
  X(NEON, neon, arm, 10, f.neon)                                                    \
  X(NEONDOT, neondot, aarch64, 20, f.neon && f.neon_dot)                            \
  X(AVX512, avx512, x86, 40, TK_CPU_AVX512(f))                                      \
  X(AVX512VNNI, avx512vnni, x86, 50, TK_CPU_AVX512(f) && f.avx512vnni)              \
  X(AVXVNNI, avxvnni, x86, 30, f.avx2 && f.fma3 && f.f16c && f.avxvnni)

/* The CPU features the detect column reads (dispatch/cpu.c fills them from
   the CPU's registers). A new ISA whose instructions need a feature not here
   adds a field here and its bit in dispatch/cpu.c. */
typedef struct tk_cpu_features {
  bool sse41, avx2, fma3, f16c, avx512f, avx512bw, avx512dq, avx512vl, avx512vnni, avxvnni;
  bool neon, neon_dot;
} tk_cpu_features;

/* The avx512 variant's flags: F, BW, DQ, VL, plus FMA and F16C (every CPU with
   AVX-512 F has both, but the variant is compiled with them, so ask). */
#define TK_CPU_AVX512(f) \
  ((f).avx512f && (f).avx512bw && (f).avx512dq && (f).avx512vl && (f).fma3 && (f).f16c)

/* The symbol of kernel `name` of ISA `isa`: tk_<name>_<isa>, or in the test
   binaries' emulated twin of a native ISA (meson.build) tk_<name>_<isa>_emu. */
#ifdef TK_EMULATED_TWIN
#define TK_KERNEL_NAME(name, isa) tk_##name##_##isa##_emu
#else
#define TK_KERNEL_NAME(name, isa) tk_##name##_##isa
#endif

/* Helpers for expansions that need only some columns. */
#define TK_ISA_LIST_NAME_STR(ID, name, arch, prio, detect) " " #name

#endif
