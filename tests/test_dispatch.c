/* Dispatch: names, the first-use choice (TINYKERN_ISA, the qemu CPU models), select, thread-safe first use. */
#include <pthread.h>

#include "dispatch/dispatch.h"
#include "tk_test.h"

/* Must run first: nothing in this binary touches the library before it. The
   test runs with TINYKERN_ISA unset, set to each name, or set to garbage
   (tests/meson.build); TK_EXPECT_ISA names what the CPU model of a qemu run
   must make dispatch pick by itself. */
enum { N_THREADS = 16 };
static const tk_kernels *seen[N_THREADS];
static pthread_barrier_t barrier;

static void *first_call(void *arg) {
  size_t i = (size_t)arg;
  int8_t a[3] = {1, 2, 3};
  int32_t out;
  pthread_barrier_wait(&barrier);
  assert_int_equal(tk_dot_s8(a, a, 3, &out), TK_OK);
  assert_int_equal(out, 14);
  seen[i] = tk_active();
  return NULL;
}

static void first_use_from_many_threads_decides_once_and_reports_env_once(void **state) {
  (void)state;
  tk_test_stderr_begin();
  pthread_t t[N_THREADS];
  pthread_barrier_init(&barrier, NULL, N_THREADS);
  for (size_t i = 0; i < N_THREADS; i++)
    assert_int_equal(pthread_create(&t[i], NULL, first_call, (void *)i), 0);
  for (size_t i = 0; i < N_THREADS; i++) pthread_join(t[i], NULL);
  pthread_barrier_destroy(&barrier);
  /* More queries must not print again. */
  (void)tk_isa_best();
  (void)tk_isa_active();
  const char *err = tk_test_stderr_end();

  assert_int_equal(tk_dispatch_init_count(), 1);
  for (size_t i = 1; i < N_THREADS; i++) assert_ptr_equal(seen[i], seen[0]);

  const char *env = getenv("TINYKERN_ISA");
  tk_isa want;
  size_t lines = 0;
  for (const char *p = err; *p; p++) lines += *p == '\n';
  if (env && tk_isa_from_name(env, &want) == TK_OK && tk_isa_available(want)) {
    assert_int_equal(tk_isa_active(), want);
    assert_int_equal(lines, 0);
  } else if (env) {
    /* Unknown or unavailable: ignored, with exactly one line on stderr. */
    assert_int_equal(tk_isa_active(), tk_isa_best());
    assert_int_equal(lines, 1);
    assert_non_null(strstr(err, "TINYKERN_ISA"));
    print_message("  stderr: %s", err);
  } else {
    assert_int_equal(tk_isa_active(), tk_isa_best());
    assert_int_equal(lines, 0);
  }
  print_message("  active: %s, best: %s\n", tk_isa_name(tk_isa_active()),
                tk_isa_name(tk_isa_best()));
}

static void cpu_model_picks_the_expected_isa(void **state) {
  (void)state;
  const char *expect = getenv("TK_EXPECT_ISA");
  if (!expect) {
    print_message("  TK_EXPECT_ISA unset (native run): best is %s\n", tk_isa_name(tk_isa_best()));
    return;
  }
  tk_isa want;
  assert_int_equal(tk_isa_from_name(expect, &want), TK_OK);
  assert_int_equal(tk_isa_best(), want);
  if (!getenv("TINYKERN_ISA")) assert_int_equal(tk_isa_active(), want);
}

static void names_round_trip(void **state) {
  (void)state;
  /* The public numbers are fixed forever (append-only enum). */
  const char *names[TK_ISA_COUNT] = {"scalar", "sse41", "avx2",       "neon",
                                     "neondot", "avx512", "avx512vnni", "avxvnni"};
  assert_int_equal(TK_ISA_COUNT, 8);
  for (int i = 0; i < TK_ISA_COUNT; i++) {
    tk_isa isa = TK_ISA_COUNT;
    assert_string_equal(tk_isa_name((tk_isa)i), names[i]);
    assert_int_equal(tk_isa_from_name(names[i], &isa), TK_OK);
    assert_int_equal(isa, i);
  }
  tk_isa isa = TK_ISA_NEON;
  assert_int_equal(tk_isa_from_name("AVX2", &isa), TK_ERR_ARG);
  assert_int_equal(tk_isa_from_name("", &isa), TK_ERR_ARG);
  assert_int_equal(tk_isa_from_name(NULL, &isa), TK_ERR_ARG);
  assert_int_equal(tk_isa_from_name("avx2", NULL), TK_ERR_ARG);
  assert_int_equal(isa, TK_ISA_NEON);
  assert_string_equal(tk_isa_name(TK_ISA_COUNT), "unknown");
  assert_string_equal(tk_isa_name((tk_isa)-1), "unknown");
  for (int s = 0; s < 8; s++) assert_non_null(tk_status_str((tk_status)s));
  assert_string_equal(tk_status_str((tk_status)999), "unknown status");
  assert_string_equal(tk_version(), TK_VERSION_STRING);
}

static void available_implies_built_and_scalar_always(void **state) {
  (void)state;
  assert_true(tk_isa_available(TK_ISA_SCALAR));
  assert_true(tk_isa_built(TK_ISA_SCALAR));
  for (int i = 0; i < TK_ISA_COUNT; i++)
    if (tk_isa_available((tk_isa)i)) assert_true(tk_isa_built((tk_isa)i));
  assert_false(tk_isa_available(TK_ISA_COUNT));
  assert_false(tk_isa_built(TK_ISA_COUNT));
  assert_true(tk_isa_available(tk_isa_best()));
  /* x86 and ARM variants never both run natively. */
  assert_false(tk_isa_available(TK_ISA_AVX2) && tk_isa_available(TK_ISA_NEON));
}

static void select_switches_and_rejects_unavailable_without_change(void **state) {
  (void)state;
  tk_isa before = tk_isa_active();
  for (int i = 0; i < TK_ISA_COUNT; i++) {
    if (tk_isa_available((tk_isa)i)) continue;
    assert_int_equal(tk_isa_select((tk_isa)i), TK_ERR_UNSUPPORTED);
    assert_int_equal(tk_isa_active(), before);
  }
  assert_int_equal(tk_isa_select(TK_ISA_COUNT), TK_ERR_UNSUPPORTED);
  assert_int_equal(tk_isa_select((tk_isa)-5), TK_ERR_UNSUPPORTED);
  assert_int_equal(tk_isa_active(), before);
  for (int i = 0; i < TK_ISA_COUNT; i++) {
    if (!tk_isa_available((tk_isa)i)) continue;
    assert_int_equal(tk_isa_select((tk_isa)i), TK_OK);
    assert_int_equal(tk_isa_active(), i);
    assert_int_equal(tk_active()->isa, i);
  }
  assert_int_equal(tk_isa_select(before), TK_OK);
}

/* The pure choice: detection failure (only scalar available) and env handling. */
static void choose_falls_back_and_reports(void **state) {
  (void)state;
  char w[256];
  bool only_scalar[TK_ISA_COUNT] = {true, false, false, false, false};
  assert_int_equal(tk_dispatch_choose(only_scalar, NULL, w, sizeof w), TK_ISA_SCALAR);
  assert_string_equal(w, "");
  assert_int_equal(tk_dispatch_choose(only_scalar, "avx2", w, sizeof w), TK_ISA_SCALAR);
  assert_non_null(strstr(w, "not available"));
  bool x86[TK_ISA_COUNT] = {true, true, true, false, false};
  assert_int_equal(tk_dispatch_choose(x86, NULL, w, sizeof w), TK_ISA_AVX2);
  assert_int_equal(tk_dispatch_choose(x86, "sse41", w, sizeof w), TK_ISA_SSE41);
  assert_string_equal(w, "");
  assert_int_equal(tk_dispatch_choose(x86, "neon", w, sizeof w), TK_ISA_AVX2);
  assert_int_equal(tk_dispatch_choose(x86, "fast", w, sizeof w), TK_ISA_AVX2);
  assert_non_null(strstr(w, "not an ISA name"));
  bool a53[TK_ISA_COUNT] = {true, false, false, true, false};
  assert_int_equal(tk_dispatch_choose(a53, NULL, w, sizeof w), TK_ISA_NEON);
  bool a76[TK_ISA_COUNT] = {true, false, false, true, true};
  assert_int_equal(tk_dispatch_choose(a76, NULL, w, sizeof w), TK_ISA_NEONDOT);
  assert_int_equal(tk_dispatch_choose(a76, "scalar", w, sizeof w), TK_ISA_SCALAR);
  /* x86 by priority, not enum order: avx512vnni > avx512 > avxvnni > avx2. */
  bool zen5[TK_ISA_COUNT] = {[TK_ISA_SCALAR] = true, [TK_ISA_SSE41] = true, [TK_ISA_AVX2] = true,
                             [TK_ISA_AVX512] = true, [TK_ISA_AVX512VNNI] = true,
                             [TK_ISA_AVXVNNI] = true};
  assert_int_equal(tk_dispatch_choose(zen5, NULL, w, sizeof w), TK_ISA_AVX512VNNI);
  assert_int_equal(tk_dispatch_choose(zen5, "avxvnni", w, sizeof w), TK_ISA_AVXVNNI);
  zen5[TK_ISA_AVX512VNNI] = false; /* Skylake-SP-like with AVX-VNNI: not a real CPU, a priority check */
  assert_int_equal(tk_dispatch_choose(zen5, NULL, w, sizeof w), TK_ISA_AVX512);
  bool alder[TK_ISA_COUNT] = {[TK_ISA_SCALAR] = true, [TK_ISA_SSE41] = true, [TK_ISA_AVX2] = true,
                              [TK_ISA_AVXVNNI] = true};
  assert_int_equal(tk_dispatch_choose(alder, NULL, w, sizeof w), TK_ISA_AVXVNNI);
  /* A long garbage value is cut, and the line still ends with a newline. */
  char longname[300];
  memset(longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  assert_int_equal(tk_dispatch_choose(zen5, longname, w, sizeof w), TK_ISA_AVX512);
  assert_true(strlen(w) > 0 && w[strlen(w) - 1] == '\n');
}

/* The tables name what meson's routes say (kernels/table.c's TK_OWNER): a
   VNNI ISA's float kernels are its base ISA's, its int8 dot kernels its own;
   avx512's SpMV is avx2's, its SpMM its own. Compared only between tables of
   one kind (both native or both emulated: an avx512 CPU without VNNI runs
   the native avx512 table beside the emulated avx512vnni one). */
#define SAME(a, b, f) assert_ptr_equal((void *)(uintptr_t)(a)->f, (void *)(uintptr_t)(b)->f)
#define OWN(a, b, f) assert_ptr_not_equal((void *)(uintptr_t)(a)->f, (void *)(uintptr_t)(b)->f)
static void tables_follow_the_routes(void **state) {
  (void)state;
  const tk_isa vnni[2][2] = {{TK_ISA_AVX512VNNI, TK_ISA_AVX512}, {TK_ISA_AVXVNNI, TK_ISA_AVX2}};
  int compared = 0;
  for (int i = 0; i < 2; i++) {
    if (strcmp(tk_test_kind(vnni[i][0]), tk_test_kind(vnni[i][1])) != 0) continue;
    const tk_kernels *t = tk_test_table(vnni[i][0]), *base = tk_test_table(vnni[i][1]);
    SAME(t, base, absmax_f32);
    SAME(t, base, quantize_s8);
    SAME(t, base, dequantize_s8);
    SAME(t, base, linear_f32);
    SAME(t, base, attend_f32);
    SAME(t, base, attend_f16);
    SAME(t, base, f32_to_f16);
    SAME(t, base, spmv);
    SAME(t, base, spmm);
    OWN(t, base, dot_s8);
    OWN(t, base, qlinear_s8);
    OWN(t, base, attend_s8);
    compared++;
  }
  if (strcmp(tk_test_kind(TK_ISA_AVX512), tk_test_kind(TK_ISA_AVX2)) == 0) {
    SAME(tk_test_table(TK_ISA_AVX512), tk_test_table(TK_ISA_AVX2), spmv);
    OWN(tk_test_table(TK_ISA_AVX512), tk_test_table(TK_ISA_AVX2), spmm);
    compared++;
  }
  /* Some pair matches in kind on every host: both avx512 tables are native
     or both emulated except on an AVX-512 CPU without VNNI, where avx512 and
     avx2 are both native. */
  assert_true(compared >= 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(first_use_from_many_threads_decides_once_and_reports_env_once),
      cmocka_unit_test(cpu_model_picks_the_expected_isa),
      cmocka_unit_test(names_round_trip),
      cmocka_unit_test(available_implies_built_and_scalar_always),
      cmocka_unit_test(select_switches_and_rejects_unavailable_without_change),
      cmocka_unit_test(choose_falls_back_and_reports),
      cmocka_unit_test(tables_follow_the_routes),
  };
  return cmocka_run_group_tests_name("dispatch", tests, NULL, NULL);
}
