/* Test support shared by the cmocka suites: one case per (test, variant), every ISA's table, a seeded RNG. */
#ifndef TK_TEST_H
#define TK_TEST_H

/* How to write a per-variant test. A test that checks a kernel of every ISA is
   written for one ISA, `static void name(tk_isa isa)`, and listed as
   TK_VARIANT_TEST(name) in the suite's tk_test_case array; tk_test_run() makes
   it one cmocka case per row of TK_ISA_LIST, named "name/<isa> (native)" or
   "name/<isa> (emulated)", so each variant passes, fails or is skipped on its
   own line. The body reaches the variant through tk_test_table(isa) (native
   where this CPU runs it, else SIMDe-emulated: every ISA has one), builds its
   inputs from a fixed seed, so every variant sees the same data and a case
   runs alone (inputs and references too slow to rebuild in each case may be
   built once and then only read, as in test_qlinear.c), and names the kernel,
   tk_isa_name(isa), tk_test_kind(isa) and the shape in every failure message.
   A test of the public API under each ISA starts with tk_test_use_isa(isa): it
   skips the case, with the reason printed, where this CPU cannot run isa
   natively, and the runner restores the previously active ISA when the case
   ends, also after a failure. Tests that do not depend on the variant stay
   plain cmocka functions, listed as TK_TEST(name). TK_TEST_FILTER=<pattern> in
   the environment runs only the matching cases ('*' and '?' wildcards; e.g.
   TK_TEST_FILTER='*avx2 (*' build/tests/test_int8). TK_TEST_ISAS=<names>
   (comma- or space-separated, e.g. "scalar,avx2") makes per-variant tests run
   only those ISAs' cases and keeps every plain case (scripts/check's valgrind
   stage uses it: memcheck is too slow for every ISA). In short:

     static void dot_s8_matches_reference(tk_isa isa) {
       ... tk_test_table(isa)->dot_s8(a, b, n) against the reference ...
     }
     static void public_dot_s8(tk_isa isa) {
       tk_test_use_isa(isa);
       ... tk_dot_s8(a, b, n, &out) ...
     }
     int main(void) {
       const tk_test_case tests[] = {TK_VARIANT_TEST(dot_s8_matches_reference),
                                     TK_VARIANT_TEST(public_dot_s8), TK_TEST(bad_input)};
       return TK_RUN_TESTS("int8", tests);
     } */

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

/* One entry of a suite: a per-variant test (one case per ISA) or a plain one. */
typedef void (*tk_variant_test_fn)(tk_isa isa);
typedef struct tk_test_case {
  const char *name;
  tk_variant_test_fn variant; /* cases "name/<isa> (<kind>)" for every ISA of TK_ISA_LIST */
  CMUnitTestFunction plain;   /* or one case "name" */
} tk_test_case;
#define TK_VARIANT_TEST(fn) {#fn, fn, NULL}
#define TK_TEST(fn) {#fn, NULL, fn}

/* Expands the entries (in order; a variant test's cases in TK_ISA_LIST order)
   and runs them as the cmocka group `group`; returns the number of failed cases. */
int tk_test_run(const char *group, const tk_test_case *cases, size_t n_cases);
#define TK_RUN_TESTS(group, cases) tk_test_run(group, cases, sizeof(cases) / sizeof((cases)[0]))

/* For a test of the public API: makes isa the active ISA (tk_isa_select) for
   the rest of the case, which skips (a visible SKIPPED, reason printed) when
   this CPU cannot run isa natively. May be called again in the same case (to
   switch, e.g. to scalar and back); the ISA active before the first call is
   restored when the case ends, whether it passed, failed or skipped. */
void tk_test_use_isa(tk_isa isa);

/* Captures what the library writes to stderr (fd 2) from now until
   tk_test_stderr_end(), which returns it (static buffer). */
void tk_test_stderr_begin(void);
const char *tk_test_stderr_end(void);

#endif
