/* Declarations of the int8 kernels of every ISA (defined by int8_body.h, listed in kernels/table.c). */
#ifndef TK_INT8_KERNELS_H
#define TK_INT8_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dispatch/isa_list.h"
#include "tinykern.h"

/* Declares tk_dot_s8_<isa>, tk_absmax_f32_<isa>, tk_quantize_s8_<isa>,
   tk_dequantize_s8_<isa>; signatures as in the tk_kernels table. */
#define TK_INT8_DECLARE(ID, isa, ...)                                                   \
  int32_t TK_KERNEL_NAME(dot_s8, isa)(const int8_t *a, const int8_t *b, size_t n);         \
  float TK_KERNEL_NAME(absmax_f32, isa)(const float *x, size_t n, bool *finite);           \
  void TK_KERNEL_NAME(quantize_s8, isa)(const float *x, size_t n, float scale, int8_t *q); \
  void TK_KERNEL_NAME(dequantize_s8, isa)(const int8_t *q, size_t n, float scale, float *x);

TK_ISA_LIST(TK_INT8_DECLARE)

/* tk_quantize_s8 with an explicit kernel table: the one place of the scale rule,
   shared by the layers that quantize (qlinear rows, s8 KV cache rows). */
struct tk_kernels;
tk_status tk_quantize_s8_with(const struct tk_kernels *k, const float *x, size_t n, int8_t *q,
                              float *scale);

#endif
