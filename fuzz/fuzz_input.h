/* A cursor over the fuzzer's bytes: sizes, small floats and raw values, zero once the input runs out. */
#ifndef TK_FUZZ_INPUT_H
#define TK_FUZZ_INPUT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tinykern.h"

typedef struct tk_fuzz_in {
  const uint8_t *p;
  size_t left;
} tk_fuzz_in;

static inline uint8_t fz_u8(tk_fuzz_in *in) {
  if (!in->left) return 0;
  in->left--;
  return *in->p++;
}
static inline uint32_t fz_u32(tk_fuzz_in *in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v = v << 8 | fz_u8(in);
  return v;
}
/* In [0, n). */
static inline size_t fz_below(tk_fuzz_in *in, size_t n) { return n ? fz_u32(in) % n : 0; }

/* Mostly moderate values (so products stay finite and comparable), sometimes
   extreme ones, zero, subnormal, or non-finite. */
static inline float fz_float(tk_fuzz_in *in) {
  uint8_t kind = fz_u8(in);
  int8_t v = (int8_t)fz_u8(in);
  switch (kind % 32) {
    case 0: return NAN;
    case 1: return (kind & 32) ? INFINITY : -INFINITY;
    case 2: return v * 1e30f;
    case 3: return v * 1e-42f; /* subnormal */
    case 4: return 0.0f;
    default: return v / 16.0f;
  }
}

/* Makes one of the ISAs available here active, picked by the next byte, so
   every input runs under one variant and the corpus covers them all. */
static inline void fz_select_isa(tk_fuzz_in *in) {
  tk_isa avail[TK_ISA_COUNT];
  int n_avail = 0;
  for (int i = 0; i < TK_ISA_COUNT; i++)
    if (tk_isa_available((tk_isa)i)) avail[n_avail++] = (tk_isa)i;
  if (tk_isa_select(avail[fz_u8(in) % n_avail]) != TK_OK) abort();
}

#endif
