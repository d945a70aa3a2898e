/* Scalar loads and stores of caller arrays at any address: API.md promises that pointers need no alignment. */
#ifndef TK_UNALIGNED_H
#define TK_UNALIGNED_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A caller may pass a float or int32 array at any byte address (a slice of a
   byte buffer, a packed struct); dereferencing such a pointer is undefined in
   C (UBSan -fsanitize=alignment reports it). memcpy of the element is the
   access C defines for it, and compiles to the same single load or store. Only
   the library's own arrays (malloc'ed, hence aligned) are indexed directly. */
static inline float tk_ld_f32(const float *p) {
  float v;
  memcpy(&v, p, sizeof v);
  return v;
}
static inline void tk_st_f32(float *p, float v) { memcpy(p, &v, sizeof v); }
static inline int32_t tk_ld_i32(const int32_t *p) {
  int32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

#endif
