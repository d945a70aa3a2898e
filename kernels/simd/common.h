/* Naming for the kernels written once and compiled per ISA: TK_FN(dot_s8) is tk_dot_s8_<isa>. */
#ifndef TK_SIMD_COMMON_H
#define TK_SIMD_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dispatch/isa_list.h"
#include "unaligned.h"

/* Each vector header defines TK_ISA_SUFFIX (scalar, sse41, ...); a shared body
   then defines its functions as TK_FN(name), e.g. tk_dot_s8_avx2 in the AVX2 build. */
#define TK_FN(name) TK_FN_(name, TK_ISA_SUFFIX)
#define TK_FN_(name, isa) TK_FN__(name, isa)
#define TK_FN__(name, isa) TK_KERNEL_NAME(name, isa)

/* Adding this magic number and subtracting it again rounds a float of magnitude
   below 2^22 to the nearest integer, ties to even, in the default rounding mode,
   with the same result on every ISA (no dependence on a round instruction). */
#define TK_ROUND_MAGIC 12582912.0f /* 1.5 * 2^23 */
/* x + TK_EXP2_MAGIC rounds x (an integer n in [-127, 0] after rounding) the
   same way and leaves 127 + n in the low mantissa bits: tk_vf_pow2_magic
   shifts them into the exponent field, giving 2^n (attention's exp2). */
#define TK_EXP2_MAGIC (TK_ROUND_MAGIC + 127.0f)

/* Forces inlining where a function is specialised by a constant argument (the
   sparse kernels' index width, attention's storage type and tile shapes):
   each call site gets its own copy. */
#if defined(__GNUC__)
#define TK_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define TK_ALWAYS_INLINE static inline
#endif

#endif
