/* Guard-page buffers: arrays that end exactly at, or start right after, a PROT_NONE page. */
#ifndef TK_GUARD_H
#define TK_GUARD_H

#include <stdbool.h>
#include <stddef.h>

/* One mapping: a PROT_NONE page, the data pages, a PROT_NONE page. Any read or
   write one byte outside [ptr, ptr + bytes) on the guarded side faults. */
typedef struct tk_guard {
  void *map;
  size_t map_len;
  void *ptr;
} tk_guard;

typedef enum tk_guard_side {
  TK_GUARD_END,   /* the array's last byte is the last byte before a PROT_NONE page */
  TK_GUARD_START, /* the array's first byte is the first byte after a PROT_NONE page */
} tk_guard_side;

/* Returns g->ptr (never NULL; for bytes == 0 it points at the guard boundary). */
void *tk_guard_alloc(tk_guard *g, size_t bytes, tk_guard_side side);
void tk_guard_free(tk_guard *g);

#endif
