/* int8 kernels written once for every ISA: blocking and tails here, the innermost step from simd/<isa>.h. */

/* The including file has included one vector header (simd/<isa>.h), which names
   the functions through TK_FN and supplies the per-ISA steps. Tails go through a
   zero-padded stack block of one vector, so no kernel reads or writes past n. */

/* Two accumulators hide the latency of the multiply-add chain. Lane sums never
   overflow: each lane adds a subset of the products, whose total magnitude is at
   most n * 16384 < 2^31 for n <= TK_DOT_S8_MAX_N. */
int32_t TK_FN(dot_s8)(const int8_t *a, const int8_t *b, size_t n) {
  tk_vs32 acc0 = tk_vs32_zero(), acc1 = tk_vs32_zero();
  size_t i = 0;
  for (; i + 2 * TK_S8_STEP <= n; i += 2 * TK_S8_STEP) {
    acc0 = tk_dot_s8_step(acc0, a + i, b + i);
    acc1 = tk_dot_s8_step(acc1, a + i + TK_S8_STEP, b + i + TK_S8_STEP);
  }
  if (i + TK_S8_STEP <= n) {
    acc0 = tk_dot_s8_step(acc0, a + i, b + i);
    i += TK_S8_STEP;
  }
  if (i < n) {
    int8_t ta[TK_S8_STEP] = {0}, tb[TK_S8_STEP] = {0};
    memcpy(ta, a + i, n - i);
    memcpy(tb, b + i, n - i);
    acc1 = tk_dot_s8_step(acc1, ta, tb);
  }
  return tk_vs32_hsum(tk_vs32_add(acc0, acc1));
}

/* The float kernels below are each left out where meson routes this ISA's
   to another ISA's (kernels/table.c: the VNNI ISAs take their base ISA's). */
#ifndef TK_ROUTE_absmax_f32
/* x * 0 is 0 for finite x and NaN for NaN or Inf, so one running sum of those
   products flags any non-finite input without a compare per element. */
float TK_FN(absmax_f32)(const float *x, size_t n, bool *finite) {
  tk_vf m = tk_vf_zero(), nan_probe = tk_vf_zero();
  const tk_vf zero = tk_vf_zero();
  size_t i = 0;
  for (; i + TK_VF_WIDTH <= n; i += TK_VF_WIDTH) {
    tk_vf v = tk_vf_load(x + i);
    m = tk_vf_max(m, tk_vf_abs(v));
    nan_probe = tk_vf_add(nan_probe, tk_vf_mul(v, zero));
  }
  if (i < n) {
    float t[TK_VF_WIDTH] = {0};
    memcpy(t, x + i, (n - i) * sizeof(float));
    tk_vf v = tk_vf_load(t);
    m = tk_vf_max(m, tk_vf_abs(v));
    nan_probe = tk_vf_add(nan_probe, tk_vf_mul(v, zero));
  }
  *finite = tk_vf_hsum(nan_probe) == 0.0f;
  return tk_vf_hmax(m);
}
#endif

#ifndef TK_ROUTE_quantize_s8
/* Divide (not multiply by a reciprocal) so every ISA gives the documented
   rne(x / scale) bit for bit; clamping first keeps |v| <= 127, inside the
   range where the magic-number rounding is exact. */
static inline tk_vf TK_FN(quantize_step)(tk_vf x, tk_vf scale) {
  tk_vf v = tk_vf_div(x, scale);
  v = tk_vf_min(tk_vf_max(v, tk_vf_set1(-127.0f)), tk_vf_set1(127.0f));
  return tk_vf_sub(tk_vf_add(v, tk_vf_set1(TK_ROUND_MAGIC)), tk_vf_set1(TK_ROUND_MAGIC));
}

void TK_FN(quantize_s8)(const float *x, size_t n, float scale, int8_t *q) {
  const tk_vf s = tk_vf_set1(scale);
  size_t i = 0;
  for (; i + TK_VF_WIDTH <= n; i += TK_VF_WIDTH)
    tk_vf_store_s8(q + i, TK_FN(quantize_step)(tk_vf_load(x + i), s));
  if (i < n) {
    float t[TK_VF_WIDTH] = {0};
    int8_t tq[TK_VF_WIDTH];
    memcpy(t, x + i, (n - i) * sizeof(float));
    tk_vf_store_s8(tq, TK_FN(quantize_step)(tk_vf_load(t), s));
    memcpy(q + i, tq, n - i);
  }
}
#endif

#ifndef TK_ROUTE_dequantize_s8
void TK_FN(dequantize_s8)(const int8_t *q, size_t n, float scale, float *x) {
  const tk_vf s = tk_vf_set1(scale);
  size_t i = 0;
  for (; i + TK_VF_WIDTH <= n; i += TK_VF_WIDTH)
    tk_vf_store(x + i, tk_vf_mul(tk_vf_load_s8(q + i), s));
  if (i < n) {
    int8_t tq[TK_VF_WIDTH] = {0};
    float t[TK_VF_WIDTH];
    memcpy(tq, q + i, n - i);
    tk_vf_store(t, tk_vf_mul(tk_vf_load_s8(tq), s));
    memcpy(x + i, t, (n - i) * sizeof(float));
  }
}
#endif
