/* Test support shared by the cmocka suites: every ISA's table, runnability, a seeded RNG. */
#ifndef TK_TEST_H
#define TK_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dispatch/kernels.h"
#include "tinykern.h"

/* Every ISA's kernel table for the tests: the native one where this CPU runs
   it; else a SIMDe-emulated one (the only build of a foreign ISA, or the
   emulated twin meson builds of a native ISA this CPU lacks: avx512 on a Zen
   3, avx2 under qemu -cpu Nehalem). So every variant's logic runs on every host. */
const tk_kernels *tk_test_table(tk_isa isa);
/* Whether tk_test_table(isa) has a table (every ISA in the list has one). */
bool tk_test_runnable(tk_isa isa);
const char *tk_test_kind(tk_isa isa); /* "native" or "emulated" */

/* xorshift64*: deterministic across hosts. */
typedef struct tk_rng {
  uint64_t s;
} tk_rng;
static inline uint64_t tk_rng_next(tk_rng *r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 0x2545F4914F6CDD1DULL;
}
static inline int8_t tk_rng_s8(tk_rng *r) { return (int8_t)(tk_rng_next(r) >> 56); }
/* Uniform in [lo, hi). */
static inline float tk_rng_f32(tk_rng *r, float lo, float hi) {
  return lo + (hi - lo) * (float)((double)(tk_rng_next(r) >> 11) * 0x1.0p-53);
}

/* Runs body once per runnable variant, naming it in cmocka's output. */
#define TK_FOR_EACH_VARIANT(isa_var)                                     \
  for (tk_isa isa_var = TK_ISA_SCALAR; isa_var < TK_ISA_COUNT;           \
       isa_var = (tk_isa)(isa_var + 1))                                  \
    if (!tk_test_runnable(isa_var)) {                                    \
      print_message("  [skip] %s: built natively, this CPU cannot run it\n", \
                    tk_isa_name(isa_var));                               \
    } else

/* Captures what the library writes to stderr (fd 2) from now until
   tk_test_stderr_end(), which returns it (static buffer). */
void tk_test_stderr_begin(void);
const char *tk_test_stderr_end(void);

#endif
