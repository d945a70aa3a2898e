/* The s8 KV cache's int16-times-int8 step on zmm, one instruction per tile step: included by simd/avx512.h and simd/avx512vnni.h after their tk_zmm_dpwssd. */
#ifndef TK_SIMD_AVX512_A16_H
#define TK_SIMD_AVX512_A16_H

/* acc lane i += the dot product of a tile's 4 int8 at lane i (qlinear's
   packed layout, 8 lanes x 4, 32 bytes) with 4 int16 w in [-16383, 16383]
   (attention/attention_kernels.h: the s8 cache's 15-bit queries times K,
   14-bit weights times V). vpmovsxbw widens the whole tile into one zmm of
   int16 (lane i's 4 values in int16 lanes 4i..4i+3), one 64-bit broadcast
   puts w beside every lane, and tk_zmm_dpwssd (vpdpwssd on VNNI, vpmaddwd +
   vpaddd without) adds the two pair products into int32 lane 2i + p (p: dims
   0-1 or 2-3). One zmm instruction per step where simd/x86_a16.h takes two
   ymm vpmaddwd and two vpaddd: the same multiplies on Zen 4 (a zmm multiply
   is two ymm halves), half the add and front-end work. The store adds each
   lane pair and keeps the low 32 bits (vpsrlq + vpaddd + vpmovqd): every add
   wraps mod 2^32 and the true sums fit int32 (attention_body.h's bounds),
   so the 8 sums are exact, the same integers as every other ISA. Each
   product is at most 16383 * 128 in magnitude: vpdpwssd (not vpdpwssds)
   never saturates here. vpdpbusd instead (w split into two 7-bit halves,
   as simd/generic.h does for the int8 steps, K biased to u8) multiplies
   64 bytes per instruction but needs two per step, one for each half: the
   same 32 useful products, plus the split and a correction. */
#define TK_NATIVE_A16_DOT
/* A GNU vector of int32, the mode the adds work in (see simd/x86_q8.h: an
   __m512i accumulator made GCC copy registers at every step). */
typedef int32_t tk_a16acc __attribute__((vector_size(64)));
static inline tk_a16acc tk_a16acc_zero(void) {
  tk_a16acc z = {0};
  return z;
}
static inline tk_a16acc tk_a16_dot(tk_a16acc a, const int8_t *tile, const int16_t *w) {
  int64_t w4;
  memcpy(&w4, w, sizeof w4);
  const __m512i t = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(const void *)tile));
  __m512i r;
  memcpy(&r, &a, sizeof r);
  r = tk_zmm_dpwssd(r, t, _mm512_set1_epi64(w4));
  memcpy(&a, &r, sizeof a);
  return a;
}
static inline void tk_a16acc_store(int32_t *out, tk_a16acc a) {
  __m512i r;
  memcpy(&r, &a, sizeof r);
  r = _mm512_add_epi32(r, _mm512_srli_epi64(r, 32));
  _mm256_storeu_si256((__m256i *)(void *)out, _mm512_cvtepi64_epi32(r));
}

#endif
