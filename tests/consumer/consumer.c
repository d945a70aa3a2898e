/* An embedding program: what a runtime linking tinykern sees (used by scripts/check's install and subproject stages). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <tinykern.h>

int main(void) {
  int8_t a[37], b[37];
  int32_t want = 0, got = -1;
  for (int i = 0; i < 37; i++) {
    a[i] = (int8_t)(i * 7 - 128);
    b[i] = (int8_t)(127 - i * 5);
    want += a[i] * b[i];
  }
  tk_status s = tk_dot_s8(a, b, 37, &got);
  printf("tinykern %s (header %s): best %s, active %s, tk_dot_s8 = %d (%s)\n", tk_version(),
         TK_VERSION_STRING, tk_isa_name(tk_isa_best()), tk_isa_name(tk_isa_active()), (int)got,
         tk_status_str(s));
  if (strcmp(tk_version(), TK_VERSION_STRING) != 0) return 1;
  if (s != TK_OK || got != want) return 1;
  /* Bad input: a status, and the output untouched. */
  got = 12345;
  if (tk_dot_s8(NULL, b, 37, &got) != TK_ERR_ARG || got != 12345) return 1;
  return 0;
}
