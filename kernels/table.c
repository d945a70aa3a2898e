/* One ISA's kernel table. Each ISA's library compiles this file once; meson says, per family, whose kernels fill it. */
#include "dispatch/kernels.h"
#include "attention/attention_kernels.h"
#include "int8/int8_kernels.h"
#include "qlinear/qlinear_kernels.h"
#include "sparse/sparse_kernels.h"

/* Set by meson (root meson.build, the `isas` dict): TK_TABLE_ISA is this ISA's
   name, TK_TABLE_ID its enumerator suffix, and TK_TABLE_<FAMILY> the ISA whose
   kernels serve that family: this ISA when kernels/<family>/<family>_<isa>.c
   exists, else the nearest ISA down its `fallback` chain that has one. Which
   ISA has which kernel: `meson setup` prints it (the "Kernels" summary), and
   kernels/README.md explains the chain. */
#define TK_CAT_(a, b) a##b
#define TK_CAT(a, b) TK_CAT_(a, b)
/* A kernel routed elsewhere (the `routes` of the family owner's row in meson's
   `isas`: that ISA's own would be no faster than the other ISA's, measured,
   or the same instructions) has
   TK_ROUTE_<kernel> defined as `~, <isa>`. TK_OWNER names that ISA when the
   route is defined, else the family's: an undefined TK_ROUTE_<kernel> stays
   one argument, so the second argument is then TK_TABLE_<family>. */
#define TK_SECOND_(a, b, ...) b
#define TK_SECOND(...) TK_SECOND_(__VA_ARGS__)
#define TK_OWNER(family, kernel) TK_SECOND(TK_ROUTE_##kernel, TK_TABLE_##family, ~)
#define TK_K(family, kernel) TK_CAT(tk_##kernel##_, TK_OWNER(family, kernel))

const tk_kernels TK_CAT(tk_kernels_, TK_TABLE_ISA) = {
    .isa = TK_CAT(TK_ISA_, TK_TABLE_ID),
    /* int8 */
    .dot_s8 = TK_K(INT8, dot_s8),
    .absmax_f32 = TK_K(INT8, absmax_f32),
    .quantize_s8 = TK_K(INT8, quantize_s8),
    .dequantize_s8 = TK_K(INT8, dequantize_s8),
    /* qlinear */
    .qlinear_s8 = TK_K(QLINEAR, qlinear_s8),
    .linear_f32 = TK_K(QLINEAR, linear_f32),
    /* sparse */
    .spmv = TK_K(SPARSE, spmv),
    .spmm = TK_K(SPARSE, spmm),
    /* attention */
    .attend_f32 = TK_K(ATTENTION, attend_f32),
    .attend_f16 = TK_K(ATTENTION, attend_f16),
    .attend_s8 = TK_K(ATTENTION, attend_s8),
    .f32_to_f16 = TK_K(ATTENTION, f32_to_f16),
};
