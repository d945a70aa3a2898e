/* Overflow-checked size arithmetic for the front files: every size product a public function forms goes through these. */
#ifndef TK_SIZE_H
#define TK_SIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* *r = a * b and false; true (with *r untouched) when that overflows size_t. */
static inline bool tk_mul_overflows(size_t a, size_t b, size_t *r) {
  if (b && a > SIZE_MAX / b) return true;
  *r = a * b;
  return false;
}

/* *r = a + b and false; true (with *r untouched) when that overflows size_t. */
static inline bool tk_add_overflows(size_t a, size_t b, size_t *r) {
  if (a > SIZE_MAX - b) return true;
  *r = a + b;
  return false;
}

/* Whether the byte ranges [a, a + an) and [b, b + bn) share a byte (empty ranges never do). */
static inline bool tk_overlaps(const void *a, size_t an, const void *b, size_t bn) {
  const uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
  return an && bn && x < y + bn && y < x + an;
}

#endif
