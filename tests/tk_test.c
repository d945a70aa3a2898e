/* Test support: one cmocka case per (test, variant), the table of every ISA, the public-API ISA switch, stderr capture. */
#include <unistd.h>

#include "tk_test.h"
#include "tk_build_config.h"

#define TK_TEST_TABLE(ID, name, ...) [TK_ISA_##ID] = &tk_kernels_##name,
static const tk_kernels *const tables[TK_ISA_COUNT] = {TK_ISA_LIST(TK_TEST_TABLE)};

#define TK_TEST_TWIN(ID, name) extern const tk_kernels tk_kernels_##name##_emu;
TK_TWIN_ISAS(TK_TEST_TWIN)
#define TK_TEST_TWIN_ROW(ID, name) [TK_ISA_##ID] = &tk_kernels_##name##_emu,
static const tk_kernels *const twins[TK_ISA_COUNT] = {TK_TWIN_ISAS(TK_TEST_TWIN_ROW)};

const tk_kernels *tk_test_table(tk_isa isa) {
  if ((unsigned)isa >= TK_ISA_COUNT) return NULL;
  if (tk_isa_built(isa) && !tk_isa_available(isa) && twins[isa]) return twins[isa];
  return tables[isa];
}

const char *tk_test_kind(tk_isa isa) { return tk_isa_available(isa) ? "native" : "emulated"; }

/* ---- one case per (test, variant) ---- */

/* The cmocka state of a variant case: which test, which ISA. */
typedef struct variant_case {
  tk_variant_test_fn fn;
  tk_isa isa;
} variant_case;

static void run_variant(void **state) {
  const variant_case *c = *state;
  if (!tk_test_table(c->isa)) {
    print_message("  skipped: this test binary has no table of %s\n", tk_isa_name(c->isa));
    skip();
  }
  c->fn(c->isa);
}

/* What tk_test_use_isa switched from, put back by every case's teardown. */
static bool restore_pending;
static tk_isa restore_to;

void tk_test_use_isa(tk_isa isa) {
  if (!tk_isa_available(isa)) {
    print_message("  skipped: the public API cannot select %s here (%s); its %s kernels are "
                  "tested through tk_test_table\n",
                  tk_isa_name(isa),
                  tk_isa_built(isa) ? "built, but this CPU cannot run it" : "not built for this target",
                  tk_test_kind(isa));
    skip();
  }
  if (!restore_pending) {
    restore_to = tk_isa_active();
    restore_pending = true;
  }
  assert_int_equal(tk_isa_select(isa), TK_OK);
  assert_int_equal(tk_isa_active(), isa);
}

static int restore_isa(void **state) {
  (void)state;
  if (!restore_pending) return 0;
  restore_pending = false;
  return tk_isa_select(restore_to) == TK_OK ? 0 : -1;
}

/* The ISAs in the order of their rows in TK_ISA_LIST. */
#define TK_TEST_ISA_ROW(ID, ...) TK_ISA_##ID,
static const tk_isa list_order[] = {TK_ISA_LIST(TK_TEST_ISA_ROW)};
enum { N_ISAS = sizeof list_order / sizeof list_order[0] };

/* "test/isa (kind)", allocated. */
static char *variant_name(const char *test, tk_isa isa) {
  const char *fmt = "%s/%s (%s)";
  int len = snprintf(NULL, 0, fmt, test, tk_isa_name(isa), tk_test_kind(isa));
  char *name = len < 0 ? NULL : malloc((size_t)len + 1);
  if (!name) abort();
  snprintf(name, (size_t)len + 1, fmt, test, tk_isa_name(isa), tk_test_kind(isa));
  return name;
}

/* Whether TK_TEST_ISAS (names separated by commas or spaces; unset or empty:
   every ISA) lets the cases of isa run. */
static bool isa_selected(tk_isa isa) {
  const char *list = getenv("TK_TEST_ISAS");
  if (!list || !*list) return true;
  const char *name = tk_isa_name(isa);
  const size_t len = strlen(name);
  for (const char *p = list; *p;) {
    const size_t n = strcspn(p, ", ");
    if (n == len && strncmp(p, name, len) == 0) return true;
    p += n;
    p += strspn(p, ", ");
  }
  return false;
}

int tk_test_run(const char *group, const tk_test_case *cases, size_t n_cases) {
  size_t total = 0;
  for (size_t i = 0; i < n_cases; i++) total += cases[i].variant ? N_ISAS : 1;
  struct CMUnitTest *tests = calloc(total, sizeof *tests);
  variant_case *states = calloc(total, sizeof *states);
  char **names = calloc(total, sizeof *names);
  if (!tests || !states || !names) abort();
  size_t t = 0;
  for (size_t i = 0; i < n_cases; i++) {
    if (!cases[i].variant) {
      tests[t++] = (struct CMUnitTest){cases[i].name, cases[i].plain, NULL, restore_isa, NULL};
      continue;
    }
    for (size_t v = 0; v < N_ISAS; v++) {
      if (!isa_selected(list_order[v])) continue;
      names[t] = variant_name(cases[i].name, list_order[v]);
      states[t] = (variant_case){cases[i].variant, list_order[v]};
      tests[t] = (struct CMUnitTest){names[t], run_variant, NULL, restore_isa, &states[t]};
      t++;
    }
  }
  const char *filter = getenv("TK_TEST_FILTER");
  if (filter && *filter) cmocka_set_test_filter(filter);
  int failed = _cmocka_run_group_tests(group, tests, t, NULL, NULL);
  for (size_t i = 0; i < total; i++) free(names[i]);
  free(names);
  free(states);
  free(tests);
  return failed;
}

static FILE *capture;
static int saved_fd = -1;
static char captured[4096];

void tk_test_stderr_begin(void) {
  fflush(stderr);
  capture = tmpfile();
  saved_fd = dup(2);
  dup2(fileno(capture), 2);
}

const char *tk_test_stderr_end(void) {
  fflush(stderr);
  dup2(saved_fd, 2);
  close(saved_fd);
  rewind(capture);
  size_t got = fread(captured, 1, sizeof captured - 1, capture);
  captured[got] = '\0';
  fclose(capture);
  return captured;
}
