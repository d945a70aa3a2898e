/* CPU detection: the registers agree with cpuinfo, and a first use whose allocations fail prints nothing and picks the same ISA. */
#include <sys/wait.h>
#include <unistd.h>

#include <cpuinfo.h>

#include "dispatch/dispatch.h"
#include "tk_test.h"

/* Allocation failure injection: this executable's malloc family fails every
   call once `fail_from` calls have passed (0: never), forwarding to glibc's
   allocator otherwise. Only the forked children below arm it. */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
static long calls, fail_from;
static bool fails(void) { return fail_from && ++calls >= fail_from; }
void *malloc(size_t n) { return fails() ? NULL : __libc_malloc(n); }
void *calloc(size_t n, size_t size) { return fails() ? NULL : __libc_calloc(n, size); }
void *realloc(void *p, size_t n) { return fails() ? NULL : __libc_realloc(p, n); }

/* In a child: arm the failure at allocation n, make the first use, report
   the best ISA through the exit code and anything written on stderr through
   `err`. Must run before this process uses the library (the choice is once). */
static int first_use_with_failing_allocation(long n, char *err, size_t err_size) {
  int pipefd[2];
  assert_int_equal(pipe(pipefd), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(pipefd[1], 2);
    fail_from = n;
    tk_isa best = tk_isa_best();
    int32_t out = -1;
    int8_t a[2] = {3, 4};
    const bool ok = tk_dot_s8(a, a, 2, &out) == TK_OK && out == 25;
    _exit(ok ? (int)best : 100);
  }
  close(pipefd[1]);
  ssize_t got = read(pipefd[0], err, err_size - 1);
  err[got > 0 ? got : 0] = '\0';
  close(pipefd[0]);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static void failed_allocation_at_first_use_is_silent_and_picks_the_same_isa(void **state) {
  (void)state;
  int picks[40];
  char err[512];
  for (long n = 1; n <= 40; n++) {
    picks[n - 1] = first_use_with_failing_allocation(n, err, sizeof err);
    if (err[0]) print_error("allocation %ld failing: stderr \"%s\"\n", n, err);
    assert_string_equal(err, "");
  }
  /* Now this process makes its own first use, with a working allocator. */
  const int want = (int)tk_isa_best();
  for (long n = 1; n <= 40; n++) {
    if (picks[n - 1] != want)
      print_error("allocation %ld failing: picked %s, with working allocation %s\n", n,
                  tk_isa_name((tk_isa)picks[n - 1]), tk_isa_name((tk_isa)want));
    assert_int_equal(picks[n - 1], want);
  }
}

/* Where both answer, the CPU's registers and cpuinfo agree feature by feature. */
static void registers_agree_with_cpuinfo(void **state) {
  (void)state;
  if (!cpuinfo_initialize()) skip();
  tk_cpu_features r;
  tk_cpu_features_from_registers(&r);
  assert_int_equal(r.sse41, cpuinfo_has_x86_sse4_1());
  assert_int_equal(r.avx2, cpuinfo_has_x86_avx2());
  assert_int_equal(r.fma3, cpuinfo_has_x86_fma3());
  assert_int_equal(r.f16c, cpuinfo_has_x86_f16c());
  assert_int_equal(r.avx512f, cpuinfo_has_x86_avx512f());
  assert_int_equal(r.avx512bw, cpuinfo_has_x86_avx512bw());
  assert_int_equal(r.avx512dq, cpuinfo_has_x86_avx512dq());
  assert_int_equal(r.avx512vl, cpuinfo_has_x86_avx512vl());
  assert_int_equal(r.avx512vnni, cpuinfo_has_x86_avx512vnni());
  assert_int_equal(r.neon, cpuinfo_has_arm_neon());
  assert_int_equal(r.neon_dot, cpuinfo_has_arm_neon_dot());
  print_message("  avx-vnni (registers only): %s\n", r.avxvnni ? "yes" : "no");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(failed_allocation_at_first_use_is_silent_and_picks_the_same_isa),
      cmocka_unit_test(registers_agree_with_cpuinfo),
  };
  return cmocka_run_group_tests_name("detect", tests, NULL, NULL);
}
