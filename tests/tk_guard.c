/* Guard-page buffers for the over-read / over-write tests. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tk_guard.h"

void *tk_guard_alloc(tk_guard *g, size_t bytes, tk_guard_side side) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t data = (bytes + page - 1) / page * page;
  if (data == 0) data = page;
  g->map_len = data + 2 * page;
  g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (g->map == MAP_FAILED) abort();
  unsigned char *base = g->map;
  if (mprotect(base, page, PROT_NONE) || mprotect(base + page + data, page, PROT_NONE)) abort();
  g->ptr = side == TK_GUARD_END ? base + page + data - bytes : base + page;
  return g->ptr;
}

void tk_guard_free(tk_guard *g) { munmap(g->map, g->map_len); }
