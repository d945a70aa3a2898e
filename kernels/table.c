/* Which ISA has which kernel: the one list. Each ISA's library compiles this file with -DTK_TABLE_<ISA>. */
#include "dispatch/kernels.h"
#include "attention/attention_kernels.h"
#include "int8/int8_kernels.h"
#include "qlinear/qlinear_kernels.h"
#include "sparse/sparse_kernels.h"

/* A row that names another ISA's kernel (usually _scalar) means that ISA has no
   native version of it yet: this file is the place to see what is native where. */

#ifdef TK_TABLE_SCALAR
const tk_kernels tk_kernels_scalar = {
    .isa = TK_ISA_SCALAR,
    /* int8 */
    .dot_s8 = tk_dot_s8_scalar,
    .absmax_f32 = tk_absmax_f32_scalar,
    .quantize_s8 = tk_quantize_s8_scalar,
    .dequantize_s8 = tk_dequantize_s8_scalar,
    /* qlinear */
    .qlinear_s8 = tk_qlinear_s8_scalar,
    .linear_f32 = tk_linear_f32_scalar,
    /* sparse */
    .spmv = tk_spmv_scalar,
    .spmm = tk_spmm_scalar,
    /* attention */
    .attend_f32 = tk_attend_f32_scalar,
    .attend_f16 = tk_attend_f16_scalar,
    .attend_s8 = tk_attend_s8_scalar,
    .f32_to_f16 = tk_f32_to_f16_scalar,
};
#endif

#ifdef TK_TABLE_SSE41
const tk_kernels tk_kernels_sse41 = {
    .isa = TK_ISA_SSE41,
    /* int8 */
    .dot_s8 = tk_dot_s8_sse41,
    .absmax_f32 = tk_absmax_f32_sse41,
    .quantize_s8 = tk_quantize_s8_sse41,
    .dequantize_s8 = tk_dequantize_s8_sse41,
    /* qlinear */
    .qlinear_s8 = tk_qlinear_s8_sse41,
    .linear_f32 = tk_linear_f32_sse41,
    /* sparse */
    .spmv = tk_spmv_sse41,
    .spmm = tk_spmm_sse41,
    /* attention */
    .attend_f32 = tk_attend_f32_sse41,
    .attend_f16 = tk_attend_f16_sse41,
    .attend_s8 = tk_attend_s8_sse41,
    .f32_to_f16 = tk_f32_to_f16_sse41,
};
#endif

#ifdef TK_TABLE_AVX2
const tk_kernels tk_kernels_avx2 = {
    .isa = TK_ISA_AVX2,
    /* int8 */
    .dot_s8 = tk_dot_s8_avx2,
    .absmax_f32 = tk_absmax_f32_avx2,
    .quantize_s8 = tk_quantize_s8_avx2,
    .dequantize_s8 = tk_dequantize_s8_avx2,
    /* qlinear */
    .qlinear_s8 = tk_qlinear_s8_avx2,
    .linear_f32 = tk_linear_f32_avx2,
    /* sparse */
    .spmv = tk_spmv_avx2,
    .spmm = tk_spmm_avx2,
    /* attention */
    .attend_f32 = tk_attend_f32_avx2,
    .attend_f16 = tk_attend_f16_avx2,
    .attend_s8 = tk_attend_s8_avx2,
    .f32_to_f16 = tk_f32_to_f16_avx2,
};
#endif

#ifdef TK_TABLE_NEON
const tk_kernels tk_kernels_neon = {
    .isa = TK_ISA_NEON,
    /* int8 */
    .dot_s8 = tk_dot_s8_neon,
    .absmax_f32 = tk_absmax_f32_neon,
    .quantize_s8 = tk_quantize_s8_neon,
    .dequantize_s8 = tk_dequantize_s8_neon,
    /* qlinear */
    .qlinear_s8 = tk_qlinear_s8_neon,
    .linear_f32 = tk_linear_f32_neon,
    /* sparse */
    .spmv = tk_spmv_neon,
    .spmm = tk_spmm_neon,
    /* attention */
    .attend_f32 = tk_attend_f32_neon,
    .attend_f16 = tk_attend_f16_neon,
    .attend_s8 = tk_attend_s8_neon,
    .f32_to_f16 = tk_f32_to_f16_neon,
};
#endif

#ifdef TK_TABLE_NEONDOT
const tk_kernels tk_kernels_neondot = {
    .isa = TK_ISA_NEONDOT,
    /* int8 */
    .dot_s8 = tk_dot_s8_neondot,
    .absmax_f32 = tk_absmax_f32_neondot,
    .quantize_s8 = tk_quantize_s8_neondot,
    .dequantize_s8 = tk_dequantize_s8_neondot,
    /* qlinear */
    .qlinear_s8 = tk_qlinear_s8_neondot,
    .linear_f32 = tk_linear_f32_neondot,
    /* sparse (the dot-product extension adds nothing to fp32: NEON kernels) */
    .spmv = tk_spmv_neon,
    .spmm = tk_spmm_neon,
    /* attention (no int8 dot step: the NEON kernels) */
    .attend_f32 = tk_attend_f32_neon,
    .attend_f16 = tk_attend_f16_neon,
    .attend_s8 = tk_attend_s8_neon,
    .f32_to_f16 = tk_f32_to_f16_neon,
};
#endif
