/* Attention kernels written once for every ISA: blocked online softmax with GQA row tiles, f16 conversion, int8 tiles for s8; steps from simd/<isa>.h. */

/* The including file has included one vector header (simd/<isa>.h) and
   attention/attention_kernels.h. Two block loops share the ring and causal
   bookkeeping (tk_att_pass below): the float one serves f32 and f16 (inlined
   into each tk_attend_<dtype>_<isa> with the type a constant, so the type
   tests fold away), whose rows are converted to fp32 vectors and multiplied
   there; the s8 one stays int8 inside: q.k and the weights times V are
   integer dot products on the packed tiles, one float conversion per 8 lanes
   and block. */
#include <float.h>
#include <math.h>

#include "tinykern.h"

/* 4-dim groups of one exact int32 partial sum of q.k: 127 * 16383 * 4 * 256
   < 2^31. Longer rows (past 1024 dims) add such partial sums in float. */
#define TK_ATT_S8_KGROUPS 256
#define TK_ATT_PV_CHUNK 8
/* s8 tile steps side by side: K tiles per score step, 8-dim tiles per P.V
   step. They share each row's broadcast query values or weights and give
   each row that many independent accumulator chains. 1 unless the variant
   file sets it: AVX-512's single-register accumulators (simd/avx512_a16.h)
   want 2 (a step's latency is several cycles, and 4 rows are 4 chains);
   AVX2's two-register ones fill its 16 registers at 1. Rows are a multiple
   of 16 dims (TK_ATT_ALIGN), so P.V always has whole pairs of dim tiles. */
#ifndef TK_ATT_S8_WIDE
#define TK_ATT_S8_WIDE 1
#endif
_Static_assert(TK_ATT_ALIGN % (8 * TK_ATT_S8_WIDE) == 0, "whole groups of dim tiles per row");

/* Cached rows are read in one of two orders. A tile of several query rows
   reads a few cached rows side by side, a vector of each in turn, which the
   hardware prefetchers do not follow (measured on Zen: 8 GB/s from DRAM
   instead of 28): those tiles prefetch in software, one line for each line
   they read, TK_ATT_PF_BYTES ahead in the same stream (K while scoring, V
   while summing). A tile of one query row (one query head per kv head) reads
   each cached row whole and in order, which the hardware prefetchers follow
   better than software prefetch does (measured 5-10% faster from DRAM).
   The s8 kernels, which read V in columns of 8 dims across a block,
   prefetch K and V as the several-row tiles do (1.6x faster from DRAM).
   Locality 2 (prefetcht1 on x86) fills L2, not L1: prefetcht0 was 2-3x
   slower from DRAM. The distance was measured flat from 8 to 24 KiB. Every
   vector load prefetches, even where a line holds several vectors: testing
   the address for a line start cost more than the repeated prefetches
   (Zen 4, GQA kv 8, bench_attention, two alternating runs: decode f16 L2048
   11-16% faster on avx512vnni and 24-28% on avx2, f32 1-9%, sse41 and scalar
   f32 decode L1024 22-27%; s8 within the noise). */
#define TK_ATT_PF_BYTES 8192
/* Vectors of a one-row tile: a whole 128-dim row with 8- or 16-lane vectors
   (16 accumulators and 16 loaded vectors fit AVX2's 16 and AVX-512's 32
   registers as 8 + 8), 16 vectors with narrower ones. */
#define TK_ATT_ROW_VECS (TK_VF_WIDTH >= 8 ? 128 / TK_VF_WIDTH : 16)
/* Tiles of 4 query rows (f32, f16): TK_ATT_PT positions per score tile and
   TK_ATT_VT vectors per P.V tile, 2 and 2 unless the variant file sets them.
   4 x 2 is 8 accumulators, all AVX2's 16 registers hold beside the loaded
   vectors; AVX-512's 32 hold 4 x 4, which loads half as many query (score)
   or broadcast weight (P.V) vectors per multiply-add. */
#ifndef TK_ATT_PT
#define TK_ATT_PT 2
#endif
#ifndef TK_ATT_VT
#define TK_ATT_VT 2
#endif
_Static_assert(TK_ATT_PT <= 4 && TK_ATT_VT <= TK_ATT_ROW_VECS, "tiles within the accumulators");

TK_ALWAYS_INLINE void TK_FN(att_prefetch)(const void *base, size_t i, tk_dtype dt) {
  const size_t at = i * (dt == TK_DTYPE_F32 ? 4 : dt == TK_DTYPE_F16 ? 2 : 1);
#if defined(__GNUC__)
  __builtin_prefetch((const char *)base + at + TK_ATT_PF_BYTES, 0, 2);
#else
  (void)base, (void)at;
#endif
}

TK_ALWAYS_INLINE tk_vf TK_FN(att_load)(const void *base, size_t i, tk_dtype dt) {
  if (dt == TK_DTYPE_F16) return tk_vf_load_f16((const uint16_t *)base + i);
  return tk_vf_load((const float *)base + i);
}

/* 2^x for x <= 0 (-inf included), about 1 ulp: x = n + f with n = round(x),
   |f| <= 1/2; 2^f from a degree-6 polynomial (Cephes' exp2f coefficients),
   2^n built in the exponent bits. x is clamped at -127, where n = -127 gives
   the bit pattern of +0.0: masked scores (-inf) and weights below 2^-126 give
   exactly 0, never a NaN. */
TK_ALWAYS_INLINE tk_vf TK_FN(att_exp2)(tk_vf x) {
  x = tk_vf_max(x, tk_vf_set1(-127.0f));
  tk_vf t = tk_vf_add(x, tk_vf_set1(TK_EXP2_MAGIC));
  tk_vf f = tk_vf_sub(x, tk_vf_sub(t, tk_vf_set1(TK_EXP2_MAGIC)));
  tk_vf p = tk_vf_set1(1.535336188319500e-4f);
  p = tk_vf_fmadd(p, f, tk_vf_set1(1.339887440266574e-3f));
  p = tk_vf_fmadd(p, f, tk_vf_set1(9.618437357674640e-3f));
  p = tk_vf_fmadd(p, f, tk_vf_set1(5.550332471162809e-2f));
  p = tk_vf_fmadd(p, f, tk_vf_set1(2.402264791363012e-1f));
  p = tk_vf_fmadd(p, f, tk_vf_set1(6.931472028550421e-1f));
  p = tk_vf_fmadd(p, f, tk_vf_set1(1.0f));
  return tk_vf_mul(p, tk_vf_pow2_magic(t));
}

/* Scores of rt query rows against pt consecutive cached rows (rt * pt is 1
   or a multiple of 4; rt <= 4, pt <= 8, rt * pt <= 16):
   s[a * TK_ATT_PITCH + b] = q_a . k_(k0 + b), with rt * pt independent chains
   hiding the multiply-add latency. Several query rows share each K vector
   loaded (and converted), so the cached rows are read side by side, prefetched
   when pf; one query row reads each cached row whole, in order. The padding
   of both rows is zero. */
TK_ALWAYS_INLINE void TK_FN(att_dot_tile)(int rt, int pt, const float *q, const void *k, size_t k0,
                                       size_t stride, size_t dw, tk_dtype dt, bool pf, float *s) {
  tk_vf acc[4][8];
  for (int a = 0; a < rt; a++)
    for (int b = 0; b < pt; b++) acc[a][b] = tk_vf_zero();
  if (rt == 1) {
    /* Four partial sums per row: a single chain would wait on the
       multiply-add latency at every vector. */
    const size_t W = TK_VF_WIDTH;
    for (int b = 0; b < pt; b++) {
      const size_t kb = k0 + (size_t)b * stride;
      tk_vf p[4] = {tk_vf_zero(), tk_vf_zero(), tk_vf_zero(), tk_vf_zero()};
      size_t c = 0;
      for (; c + 4 * W <= dw; c += 4 * W)
        for (int u = 0; u < 4; u++)
          p[u] = tk_vf_fmadd(tk_vf_load(q + c + u * W), TK_FN(att_load)(k, kb + c + u * W, dt), p[u]);
      for (; c < dw; c += W) p[0] = tk_vf_fmadd(tk_vf_load(q + c), TK_FN(att_load)(k, kb + c, dt), p[0]);
      acc[0][b] = tk_vf_add(tk_vf_add(p[0], p[1]), tk_vf_add(p[2], p[3]));
    }
  } else {
    for (size_t c = 0; c < dw; c += TK_VF_WIDTH) {
      tk_vf kv[8];
      for (int b = 0; b < pt; b++) {
        if (pf) TK_FN(att_prefetch)(k, k0 + (size_t)b * stride + c, dt);
        kv[b] = TK_FN(att_load)(k, k0 + (size_t)b * stride + c, dt);
      }
      for (int a = 0; a < rt; a++) {
        tk_vf qa = tk_vf_load(q + (size_t)a * stride + c);
        for (int b = 0; b < pt; b++) acc[a][b] = tk_vf_fmadd(qa, kv[b], acc[a][b]);
      }
    }
  }
  /* Horizontal sums four at a time (rt * pt is 1 or a multiple of 4). */
  if (rt * pt == 1) {
    s[0] = tk_vf_hsum(acc[0][0]);
    return;
  }
  for (int i = 0; i < rt * pt; i += 4) {
    float t[4];
    tk_vf_hsum4(acc[i / pt][i % pt], acc[(i + 1) / pt][(i + 1) % pt],
                acc[(i + 2) / pt][(i + 2) % pt], acc[(i + 3) / pt][(i + 3) % pt], t);
    for (int u = 0; u < 4; u++) s[((i + u) / pt) * TK_ATT_PITCH + (i + u) % pt] = t[u];
  }
}

/* Accumulators of rt rows x vt vectors (vt <= TK_ATT_ROW_VECS) kept in
   registers over nb cached rows: o_a = o_a * alpha_a + sum_j w[a][j]
   v_(v0 + j). Each V vector is loaded (and converted) once for the rt rows:
   GQA reads a V row once for all the query heads of its group. pf: prefetch
   V ahead (tiles of several rows). */
TK_ALWAYS_INLINE void TK_FN(att_pv_tile)(int rt, int vt, float *o, size_t stride, const float *alpha,
                                      const float *w, const void *v, size_t v0, size_t nb,
                                      tk_dtype dt, bool pf) {
  tk_vf acc[4][TK_ATT_ROW_VECS];
  for (int a = 0; a < rt; a++)
    for (int b = 0; b < vt; b++) {
      acc[a][b] = tk_vf_load(o + (size_t)a * stride + (size_t)b * TK_VF_WIDTH);
      if (alpha) acc[a][b] = tk_vf_mul(acc[a][b], tk_vf_set1(alpha[a]));
    }
  for (size_t j = 0; j < nb; j++) {
    tk_vf vv[TK_ATT_ROW_VECS];
    for (int b = 0; b < vt; b++) {
      if (pf) TK_FN(att_prefetch)(v, v0 + j * stride + (size_t)b * TK_VF_WIDTH, dt);
      vv[b] = TK_FN(att_load)(v, v0 + j * stride + (size_t)b * TK_VF_WIDTH, dt);
    }
    for (int a = 0; a < rt; a++) {
      tk_vf p = tk_vf_set1(w[a * TK_ATT_PITCH + j]);
      for (int b = 0; b < vt; b++) acc[a][b] = tk_vf_fmadd(p, vv[b], acc[a][b]);
    }
  }
  for (int a = 0; a < rt; a++)
    for (int b = 0; b < vt; b++)
      tk_vf_store(o + (size_t)a * stride + (size_t)b * TK_VF_WIDTH, acc[a][b]);
}

/* Scores of rows [r0, r1) x the block's nb cached rows from slot k0: tiles of
   4 rows x TK_ATT_PT positions (then 4 rows x 1 for the last); leftover rows
   one at a time against 8 positions (then 1). Only the first row tile reads
   new K rows from memory, so only it prefetches. */
TK_ALWAYS_INLINE void TK_FN(att_scores)(const float *q, size_t r0, size_t r1, const void *k,
                                     size_t slot0, size_t nb, size_t stride, size_t dw,
                                     tk_dtype dt, float *s) {
  size_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    size_t j = 0;
    for (; j + TK_ATT_PT <= nb; j += TK_ATT_PT)
      TK_FN(att_dot_tile)(4, TK_ATT_PT, q + r * stride, k, (slot0 + j) * stride, stride, dw, dt,
                          r == r0, s + r * TK_ATT_PITCH + j);
    for (; j < nb; j++)
      TK_FN(att_dot_tile)(4, 1, q + r * stride, k, (slot0 + j) * stride, stride, dw, dt, r == r0,
                          s + r * TK_ATT_PITCH + j);
  }
  for (; r < r1; r++) {
    size_t j = 0;
    for (; j + 8 <= nb; j += 8)
      TK_FN(att_dot_tile)(1, 8, q + r * stride, k, (slot0 + j) * stride, stride, dw, dt, false,
                          s + r * TK_ATT_PITCH + j);
    for (; j < nb; j++)
      TK_FN(att_dot_tile)(1, 1, q + r * stride, k, (slot0 + j) * stride, stride, dw, dt, false,
                          s + r * TK_ATT_PITCH + j);
  }
}

/* o_r = o_r * alpha_r + w_r V for rows [r0, r1): tiles of 4 rows x
   TK_ATT_VT vectors (then x 1 for the last); leftover rows alone,
   TK_ATT_ROW_VECS vectors (then 1) wide. The block's positions are taken TK_ATT_PV_CHUNK at a time,
   all columns of a chunk before the next: the chunk's V rows (4 KiB in f32)
   stay in L1 while the column tiles pass over them, so V streams through
   once, in order (5-10% faster f32 decode on Zen 3 than whole-block column
   strips). */
TK_ALWAYS_INLINE void TK_FN(att_accumulate)(float *o, size_t r0, size_t r1, const float *alpha,
                                         const float *w, const void *v, size_t slot0, size_t nb,
                                         size_t stride, size_t dw, tk_dtype dt) {
  const size_t VT = TK_ATT_VT * TK_VF_WIDTH, VR = TK_ATT_ROW_VECS * TK_VF_WIDTH;
  for (size_t j0 = 0; j0 < nb; j0 += TK_ATT_PV_CHUNK) {
    const size_t nc = nb - j0 < TK_ATT_PV_CHUNK ? nb - j0 : TK_ATT_PV_CHUNK;
    const float *al = j0 == 0 ? alpha : NULL;
    const float *wj = w + j0;
    const size_t s0 = (slot0 + j0) * stride;
    size_t r = r0;
    for (; r + 4 <= r1; r += 4) {
      size_t c = 0;
      for (; c + VT <= dw; c += VT)
        TK_FN(att_pv_tile)(4, TK_ATT_VT, o + r * stride + c, stride, al ? al + r : NULL,
                           wj + r * TK_ATT_PITCH, v, s0 + c, nc, dt, r == r0);
      for (; c < dw; c += TK_VF_WIDTH)
        TK_FN(att_pv_tile)(4, 1, o + r * stride + c, stride, al ? al + r : NULL,
                           wj + r * TK_ATT_PITCH, v, s0 + c, nc, dt, r == r0);
    }
    for (; r < r1; r++) {
      size_t c = 0;
      for (; c + VR <= dw; c += VR)
        TK_FN(att_pv_tile)(1, TK_ATT_ROW_VECS, o + r * stride + c, stride, al ? al + r : NULL,
                           wj + r * TK_ATT_PITCH, v, s0 + c, nc, dt, false);
      for (; c < dw; c += TK_VF_WIDTH)
        TK_FN(att_pv_tile)(1, 1, o + r * stride + c, stride, al ? al + r : NULL,
                           wj + r * TK_ATT_PITCH, v, s0 + c, nc, dt, false);
    }
  }
}

/* ---- s8 storage: int8 x int8 -> int32 on the packed tiles ---- */

/* The 8 int32 sums of a tile step to float, d[c] = t[c] * m1 * m2 (plus
   d[c] * am when add), and the scores' scales, d[c] *= qs * ksc[c], for
   c < 8. Whole vectors where TK_VF_WIDTH divides 8; with 16-lane vectors
   (AVX-512, whose int8 tile steps stay 8 lanes wide) the header's 8-lane
   half vectors tk_vh (GCC left a plain 8-lane loop scalar: 64 vcvtsi2ss per
   kernel, s8 decode 25% slower than AVX2). (m2 is a separate factor:
   m1 * m2 alone could be subnormal, see att_s8_weights.) */
TK_ALWAYS_INLINE void TK_FN(att_s8_to_float8)(float *d, const int32_t *t, float m1, float m2,
                                              float am, bool add) {
#if TK_VF_WIDTH <= 8
  const tk_vf v1 = tk_vf_set1(m1), v2 = tk_vf_set1(m2), va = tk_vf_set1(am);
  for (int c = 0; c < 8; c += TK_VF_WIDTH) {
    const tk_vf x = tk_vf_mul(tk_vf_mul(tk_vf_load_s32(t + c), v1), v2);
    tk_vf_store(d + c, add ? tk_vf_fmadd(tk_vf_load(d + c), va, x) : x);
  }
#else
  const tk_vh x = tk_vh_mul(tk_vh_mul(tk_vh_load_s32(t), tk_vh_set1(m1)), tk_vh_set1(m2));
  tk_vh_store(d, add ? tk_vh_fmadd(tk_vh_load(d), tk_vh_set1(am), x) : x);
#endif
}

TK_ALWAYS_INLINE void TK_FN(att_s8_scale8)(float *d, float qs, const float *ksc) {
#if TK_VF_WIDTH <= 8
  for (int c = 0; c < 8; c += TK_VF_WIDTH)
    tk_vf_store(d + c, tk_vf_mul(tk_vf_mul(tk_vf_load(d + c), tk_vf_set1(qs)), tk_vf_load(ksc + c)));
#else
  tk_vh_store(d, tk_vh_mul(tk_vh_mul(tk_vh_load(d), tk_vh_set1(qs)), tk_vh_load(ksc)));
#endif
}

/* Scores of rt query rows (their 15-bit integers q16, scales qs) against
   the 8 slots of each of nt consecutive K tiles from kt (scales ksc; nt <=
   TK_ATT_S8_WIDE): s[a * TK_ATT_PITCH + 8 t + i] = q16_a . k8_(8 t + i) *
   qs[a] * ksc[8 t + i], the dot product from exact int32 partial sums of
   TK_ATT_S8_KGROUPS groups added in float. The nt tiles share each row's
   4 query values of a step (one broadcast) and give each row nt independent
   chains. pf: prefetch K ahead. */
TK_ALWAYS_INLINE void TK_FN(att_s8_dot_tile)(int rt, int nt, const int16_t *q16, const float *qs,
                                             size_t stride, const int8_t *kt, const float *ksc,
                                             bool pf, float *s) {
  const size_t kp = stride / 4, tb = TK_ATT_S8_KT * stride;
  for (size_t g0 = 0; g0 < kp; g0 += TK_ATT_S8_KGROUPS) {
    const size_t g1 = kp - g0 < TK_ATT_S8_KGROUPS ? kp : g0 + TK_ATT_S8_KGROUPS;
    tk_a16acc acc[4][TK_ATT_S8_WIDE];
    for (int a = 0; a < rt; a++)
      for (int t = 0; t < nt; t++) acc[a][t] = tk_a16acc_zero();
    for (size_t g = g0; g < g1; g++) {
      for (int t = 0; t < nt; t++)
        if (pf) TK_FN(att_prefetch)(kt + (size_t)t * tb, g * 32, TK_DTYPE_S8);
      for (int a = 0; a < rt; a++)
        for (int t = 0; t < nt; t++)
          acc[a][t] = tk_a16_dot(acc[a][t], kt + (size_t)t * tb + g * 32,
                                 q16 + (size_t)a * stride + 4 * g);
    }
    for (int a = 0; a < rt; a++)
      for (int t = 0; t < nt; t++) {
        int32_t sum[8];
        tk_a16acc_store(sum, acc[a][t]);
        TK_FN(att_s8_to_float8)(s + (size_t)a * TK_ATT_PITCH + 8 * t, sum, 1.0f, 1.0f, 1.0f,
                                g0 > 0);
      }
  }
  for (int a = 0; a < rt; a++)
    for (int t = 0; t < nt; t++)
      TK_FN(att_s8_scale8)(s + (size_t)a * TK_ATT_PITCH + 8 * t, qs[a], ksc + 8 * t);
}

/* Scores of rows [r0, r1) against the nt K tiles from `kt`: TK_ATT_S8_WIDE
   tiles (then 1) at a time, in tiles of 4 rows, leftover rows alone. Only
   the first row tile prefetches. */
TK_ALWAYS_INLINE void TK_FN(att_s8_scores)(const int16_t *q16, const float *qs, size_t r0, size_t r1,
                                        const int8_t *kt, size_t nt, const float *ksc,
                                        size_t stride, float *s) {
  for (size_t ti = 0; ti < nt;) {
    const int w = nt - ti >= TK_ATT_S8_WIDE ? TK_ATT_S8_WIDE : 1;
    const int8_t *tile = kt + ti * TK_ATT_S8_KT * stride;
    size_t r = r0;
    for (; r + 4 <= r1; r += 4)
      TK_FN(att_s8_dot_tile)(4, w, q16 + r * stride, qs + r, stride, tile, ksc + ti * 8, r == r0,
                             s + r * TK_ATT_PITCH + ti * 8);
    for (; r < r1; r++)
      TK_FN(att_s8_dot_tile)(1, w, q16 + r * stride, qs + r, stride, tile, ksc + ti * 8, r == r0,
                             s + r * TK_ATT_PITCH + ti * 8);
    ti += (size_t)w;
  }
}

/* The weights of one row and block (w >= 0, times their V scale) as 14-bit
   integers wq = rne(w / wscale) in [0, 16383]; the float o += acc * wscale *
   wmul brings them back. 7 bits were not enough: in a block holding a peak,
   every weight below 1/254 of it rounds to 0, and a tail of such weights
   loses its whole mass (the fuzzer found outputs outside the range of V).
   Weights below 2^-96 are first scaled up by 2^64 (wmul = 2^-64), so that
   16383 / max w stays finite and wscale normal. */
TK_ALWAYS_INLINE void TK_FN(att_s8_weights)(float *w, size_t nbw, int16_t *wq, float *wscale,
                                         float *wmul) {
  tk_vf bm = tk_vf_zero();
  for (size_t j = 0; j < nbw; j += TK_VF_WIDTH) bm = tk_vf_max(bm, tk_vf_load(w + j));
  float mx = tk_vf_hmax(bm);
  *wmul = 1.0f;
  if (mx < 0x1p-96f) {
    for (size_t j = 0; j < nbw; j += TK_VF_WIDTH)
      tk_vf_store(w + j, tk_vf_mul(tk_vf_load(w + j), tk_vf_set1(0x1p64f)));
    mx *= 0x1p64f;
    *wmul = 0x1p-64f;
  }
  *wscale = mx / 16383.0f;
  const tk_vf k = tk_vf_set1(mx > 0.0f ? 16383.0f / mx : 0.0f), magic = tk_vf_set1(TK_ROUND_MAGIC);
  /* x + TK_ROUND_MAGIC - TK_ROUND_MAGIC rounds x in [0, 16383] to nearest even. */
  for (size_t j = 0; j < nbw; j += TK_VF_WIDTH)
    tk_vf_store_s16(wq + j, tk_vf_sub(tk_vf_add(tk_vf_mul(tk_vf_load(w + j), k), magic), magic));
}

/* For rt rows, the 8 * TK_ATT_S8_WIDE dims from dim tile dt (tiles of 8
   dims, adjacent in a V group) of o_a = o_a * alpha_a + wscale_a * wmul_a *
   sum_j wq[a][j] v_j over the ng V groups from vg, summed in int32 (at most
   16383 * 127 * 64 slots < 2^31). The dim tiles share each row's 4 weights
   of a step (one broadcast) and give each row TK_ATT_S8_WIDE chains. */
TK_ALWAYS_INLINE void TK_FN(att_s8_pv_tile)(int rt, float *o, size_t stride, const float *alpha,
                                         const float *wscale, const float *wmul, const int16_t *wq,
                                         const int8_t *vg, size_t ng, size_t dt, bool pf) {
  tk_a16acc acc[4][TK_ATT_S8_WIDE];
  for (int a = 0; a < rt; a++)
    for (int t = 0; t < TK_ATT_S8_WIDE; t++) acc[a][t] = tk_a16acc_zero();
  for (size_t g = 0; g < ng; g++) {
    const size_t at = g * TK_ATT_S8_VG * stride + dt * 32;
    if (pf) TK_FN(att_prefetch)(vg, at, TK_DTYPE_S8);
    for (int a = 0; a < rt; a++)
      for (int t = 0; t < TK_ATT_S8_WIDE; t++)
        acc[a][t] = tk_a16_dot(acc[a][t], vg + at + 32 * (size_t)t,
                               wq + (size_t)a * TK_ATT_PITCH + TK_ATT_S8_VG * g);
  }
  for (int a = 0; a < rt; a++)
    for (int t = 0; t < TK_ATT_S8_WIDE; t++) {
      int32_t sum[8];
      tk_a16acc_store(sum, acc[a][t]);
      TK_FN(att_s8_to_float8)(o + (size_t)a * stride + (dt + (size_t)t) * 8, sum, wscale[a],
                              wmul[a], alpha[a], true);
    }
}

/* o_r = o_r * alpha_r + w_r V for rows [r0, r1) over the ng V groups from vg:
   per TK_ATT_S8_WIDE dim tiles, tiles of 4 rows (leftover rows alone). The
   first row tile prefetches, each 64-byte line once. */
TK_ALWAYS_INLINE void TK_FN(att_s8_accumulate)(float *o, size_t r0, size_t r1, const float *alpha,
                                            const float *wscale, const float *wmul,
                                            const int16_t *wq, const int8_t *vg, size_t ng,
                                            size_t stride) {
  for (size_t dt = 0; dt < stride / 8; dt += TK_ATT_S8_WIDE)
    for (size_t r = r0; r < r1;) {
      const int rt = r1 - r >= 4 ? 4 : 1;
      if (rt == 4)
        TK_FN(att_s8_pv_tile)(4, o + r * stride, stride, alpha + r, wscale + r, wmul + r,
                              wq + r * TK_ATT_PITCH, vg, ng, dt, r == r0 && dt % 2 == 0);
      else
        TK_FN(att_s8_pv_tile)(1, o + r * stride, stride, alpha + r, wscale + r, wmul + r,
                              wq + r * TK_ATT_PITCH, vg, ng, dt, r == r0 && dt % 2 == 0);
      r += (size_t)rt;
    }
}

/* ---- the block loops ---- */

/* Turns row r's raw scores of one block into softmax weights and updates the
   row's running max m, sum l and rescale factor alpha (for the accumulator).
   Positions before first or at or past lim (another position's slots in an
   s8 tile, the causal mask, or past the block) get weight 0. s8 storage: V
   row j is v_s8 * vsc[j], and the scale rides on the weight. */
TK_ALWAYS_INLINE void TK_FN(att_softmax_row)(float *sr, size_t first, size_t lim, size_t nbw,
                                             const float *vsc, float exp_mul, float exp_bias,
                                             float *m, float *l, float *alpha) {
  for (size_t j = 0; j < first; j++) sr[j] = -INFINITY;
  for (size_t j = lim; j < nbw; j++) sr[j] = -INFINITY;
  tk_vf bm = tk_vf_set1(-INFINITY);
  for (size_t j = 0; j < nbw; j += TK_VF_WIDTH) bm = tk_vf_max(bm, tk_vf_load(sr + j));
  /* Position lim - 1 >= first of this block is visible, so mn is a finite
     score (q.k is kept finite by the front's scaling) and s - mn <= 0. */
  float mn = fmaxf(*m, tk_vf_hmax(bm));
  *alpha = exp2f((*m - mn) * exp_mul); /* 0 on the first block: *m is -inf */
  *m = mn;
  const tk_vf vm = tk_vf_set1(mn), vmul = tk_vf_set1(exp_mul), vbias = tk_vf_set1(exp_bias);
  tk_vf sum = tk_vf_zero();
  for (size_t j = 0; j < nbw; j += TK_VF_WIDTH) {
    tk_vf p = TK_FN(att_exp2)(tk_vf_fmadd(tk_vf_sub(tk_vf_load(sr + j), vm), vmul, vbias));
    sum = tk_vf_add(sum, p);
    tk_vf_store(sr + j, vsc ? tk_vf_mul(p, tk_vf_load(vsc + j)) : p);
  }
  *l = *l * *alpha + tk_vf_hsum(sum);
}

/* The ring and causal bookkeeping, written once for both loops. A job's rows
   are taken TK_ATT_ROWS at a time (a pass); a pass walks its positions in
   blocks. Rows are in token order, so their ends hi(r) never decrease: the
   last row ends last, and the rows still active in a block are a suffix
   [ra, nr). A block never crosses the ring's end, so its slots are
   consecutive; with tiles of `align` slots (s8) it starts at its first
   slot's tile, `off` slots before slot0. */
typedef struct tk_att_pass {
  size_t r0, nr;  /* the pass's rows: [r0, r0 + nr) of the job */
  size_t hi_end;  /* one past the last position any of them sees */
  size_t p0;      /* the block's first position */
  size_t ra;      /* the block's first active row (of the pass) */
  size_t slot0;   /* p0's slot */
  size_t off, sb; /* slot0 % align, and the block's first slot slot0 - off */
  size_t nb;      /* positions in the block */
  size_t nbw;     /* score columns: off + nb rounded up to a whole vector or tile */
} tk_att_pass;

/* Starts the pass at row r0: rows zeroed, running max -inf, sum 0. */
TK_ALWAYS_INLINE void TK_FN(att_pass_begin)(const tk_att_job *job, size_t r0, float *m, float *l,
                                            tk_att_pass *ps) {
  ps->r0 = r0;
  ps->nr = job->rows - r0 < TK_ATT_ROWS ? job->rows - r0 : TK_ATT_ROWS;
  ps->hi_end = job->first_hi + (r0 + ps->nr - 1) / job->rows_per_token;
  ps->p0 = job->lo;
  ps->nb = 0;
  ps->ra = 0;
  for (size_t r = 0; r < ps->nr; r++) {
    m[r] = -INFINITY;
    l[r] = 0.0f;
    memset(job->out + (r0 + r) * job->stride, 0, job->stride * sizeof(float));
  }
}

/* Moves to the next block of at most `block` positions (tiles of `align`
   slots, score columns in multiples of bw); false when the pass is done. */
TK_ALWAYS_INLINE bool TK_FN(att_next_block)(const tk_att_job *job, size_t align, size_t block,
                                            size_t bw, tk_att_pass *ps) {
  ps->p0 += ps->nb;
  if (ps->p0 >= ps->hi_end) return false;
  const size_t cap = job->capacity;
  ps->slot0 = ps->p0 % cap;
  ps->off = ps->slot0 % align;
  ps->sb = ps->slot0 - ps->off;
  ps->nb = ps->hi_end - ps->p0;
  if (ps->nb > block - ps->off) ps->nb = block - ps->off;
  if (ps->nb > cap - ps->slot0) ps->nb = cap - ps->slot0;
  ps->nbw = (ps->off + ps->nb + bw - 1) / bw * bw;
  while (job->first_hi + (ps->r0 + ps->ra) / job->rows_per_token <= ps->p0) ps->ra++;
  return true;
}

/* Positions of the block that row r (of the pass) sees: the causal limit,
   at most the block. */
TK_ALWAYS_INLINE size_t TK_FN(att_row_lim)(const tk_att_job *job, const tk_att_pass *ps, size_t r) {
  const size_t lim = job->first_hi + (ps->r0 + r) / job->rows_per_token - ps->p0;
  return lim < ps->nb ? lim : ps->nb;
}

/* out = acc / l, clamped to +-out_max: a convex combination of finite V rows
   is finite, but its rounding could step past FLT_MAX. (The operand order
   passes a NaN through on every ISA.) l is 0 only for a row that saw no
   position (it cannot happen through the public functions): out 0. The
   rows' m and l go to the job's row_m, row_l when it asks for them. */
TK_ALWAYS_INLINE void TK_FN(att_pass_end)(const tk_att_job *job, const tk_att_pass *ps,
                                          const float *m, const float *l) {
  const size_t dw = (job->head_dim + TK_VF_WIDTH - 1) / TK_VF_WIDTH * TK_VF_WIDTH;
  const tk_vf lo = tk_vf_set1(-job->out_max), hi = tk_vf_set1(job->out_max);
  for (size_t r = 0; r < ps->nr; r++) {
    const tk_vf inv = tk_vf_set1(l[r] > 0.0f ? 1.0f / l[r] : 0.0f);
    float *o = job->out + (ps->r0 + r) * job->stride;
    for (size_t c = 0; c < dw; c += TK_VF_WIDTH)
      tk_vf_store(o + c, tk_vf_min(hi, tk_vf_max(lo, tk_vf_mul(tk_vf_load(o + c), inv))));
    if (job->row_m) {
      job->row_m[ps->r0 + r] = m[r];
      job->row_l[ps->r0 + r] = l[r];
    }
  }
}

/* f32 and f16 storage: blocks of TK_ATT_BLOCK positions, scores and sums in fp32. */
TK_ALWAYS_INLINE void TK_FN(att_run_float)(const tk_att_job *job, tk_dtype dt) {
  tk_att_scratch *w = job->scratch;
  const size_t stride = job->stride;
  /* Vectors per row: the padding to the next multiple of TK_VF_WIDTH is read
     (zero), the rest of the stride is not. */
  const size_t dw = (job->head_dim + TK_VF_WIDTH - 1) / TK_VF_WIDTH * TK_VF_WIDTH;
  tk_att_pass ps;
  for (size_t r0 = 0; r0 < job->rows; r0 += TK_ATT_ROWS) {
    const float *q = job->q + r0 * stride;
    float *o = job->out + r0 * stride;
    TK_FN(att_pass_begin)(job, r0, w->m, w->l, &ps);
    while (TK_FN(att_next_block)(job, 1, TK_ATT_BLOCK, TK_VF_WIDTH, &ps)) {
      TK_FN(att_scores)(q, ps.ra, ps.nr, job->k, ps.slot0, ps.nb, stride, dw, dt, w->s);
      for (size_t r = ps.ra; r < ps.nr; r++)
        TK_FN(att_softmax_row)(w->s + r * TK_ATT_PITCH, 0, TK_FN(att_row_lim)(job, &ps, r),
                               ps.nbw, NULL, job->exp_mul[r0 + r], job->exp_bias, &w->m[r], &w->l[r],
                               &w->alpha[r]);
      TK_FN(att_accumulate)(o, ps.ra, ps.nr, w->alpha, w->s, job->v, ps.slot0, ps.nb, stride, dw,
                            dt);
    }
    TK_FN(att_pass_end)(job, &ps, w->m, w->l);
  }
}

/* s8 storage: blocks of whole K tiles (TK_ATT_S8_BLOCK slots), integer dot
   products, the weights carried as 14-bit integers with their V scales. */
TK_ALWAYS_INLINE void TK_FN(att_run_s8)(const tk_att_job *job) {
  tk_att_scratch *w = job->scratch;
  const size_t stride = job->stride;
  const int8_t *k = (const int8_t *)job->k, *v = (const int8_t *)job->v;
  tk_att_pass ps;
  for (size_t r0 = 0; r0 < job->rows; r0 += TK_ATT_ROWS) {
    float *o = job->out + r0 * stride;
    TK_FN(att_pass_begin)(job, r0, w->m, w->l, &ps);
    while (TK_FN(att_next_block)(job, TK_ATT_S8_KT, TK_ATT_S8_BLOCK, TK_ATT_S8_KT, &ps)) {
      /* Softmax and weights run over whole vectors: nv >= nbw columns, the
         ones past the block's tiles masked (the kernels never read past a
         tile), with V scales 0 there. */
      const size_t nv = (ps.nbw + TK_VF_WIDTH - 1) / TK_VF_WIDTH * TK_VF_WIDTH;
      memcpy(w->vsc, job->v_scale + ps.sb, ps.nbw * sizeof(float));
      for (size_t j = ps.nbw; j < nv; j++) w->vsc[j] = 0.0f;
      TK_FN(att_s8_scores)(job->q16 + r0 * stride, job->q_scale + r0, ps.ra, ps.nr,
                           k + ps.sb * stride, ps.nbw / TK_ATT_S8_KT, job->k_scale + ps.sb,
                           stride, w->s);
      for (size_t r = ps.ra; r < ps.nr; r++) {
        float *sr = w->s + r * TK_ATT_PITCH;
        TK_FN(att_softmax_row)(sr, ps.off, ps.off + TK_FN(att_row_lim)(job, &ps, r), nv, w->vsc,
                               job->exp_mul[r0 + r], job->exp_bias, &w->m[r], &w->l[r],
                               &w->alpha[r]);
        TK_FN(att_s8_weights)(sr, nv, w->wq + r * TK_ATT_PITCH, &w->wscale[r], &w->wmul[r]);
      }
      TK_FN(att_s8_accumulate)(o, ps.ra, ps.nr, w->alpha, w->wscale, w->wmul, w->wq,
                               v + ps.sb * stride, ps.nbw / TK_ATT_S8_VG, stride);
    }
    TK_FN(att_pass_end)(job, &ps, w->m, w->l);
  }
}

/* Each kernel is left out where meson routes this ISA's to another ISA's
   (kernels/table.c: the VNNI ISAs take their base ISA's float kernels). */
#ifndef TK_ROUTE_attend_f32
void TK_FN(attend_f32)(const tk_att_job *job) { TK_FN(att_run_float)(job, TK_DTYPE_F32); }
#endif
#ifndef TK_ROUTE_attend_f16
void TK_FN(attend_f16)(const tk_att_job *job) { TK_FN(att_run_float)(job, TK_DTYPE_F16); }
#endif
void TK_FN(attend_s8)(const tk_att_job *job) { TK_FN(att_run_s8)(job); }

#ifndef TK_ROUTE_f32_to_f16
/* Clamping to +-65504 first keeps every result finite (f16 saturates rather
   than overflowing to Inf); the conversion rounds to nearest even on every ISA. */
void TK_FN(f32_to_f16)(const float *x, size_t n, uint16_t *h) {
  const tk_vf lo = tk_vf_set1(-65504.0f), hi = tk_vf_set1(65504.0f);
  size_t i = 0;
  for (; i + TK_VF_WIDTH <= n; i += TK_VF_WIDTH)
    tk_vf_store_f16(h + i, tk_vf_min(tk_vf_max(tk_vf_load(x + i), lo), hi));
  if (i < n) {
    float t[TK_VF_WIDTH] = {0};
    uint16_t th[TK_VF_WIDTH];
    memcpy(t, x + i, (n - i) * sizeof(float));
    tk_vf_store_f16(th, tk_vf_min(tk_vf_max(tk_vf_load(t), lo), hi));
    memcpy(h + i, th, (n - i) * sizeof(uint16_t));
  }
}
#endif
