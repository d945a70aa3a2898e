/* Test support: the table of every ISA, which can run here, stderr capture. */
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

bool tk_test_runnable(tk_isa isa) { return tk_test_table(isa) != NULL; }

const char *tk_test_kind(tk_isa isa) { return tk_isa_available(isa) ? "native" : "emulated"; }

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
