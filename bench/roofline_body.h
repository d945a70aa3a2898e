/* Roofline loops written once for every ISA: the including file supplies the vector header and the register steps. */

/* The including file has included simd/<isa>.h (tk_vf_*, tk_vs32, TK_FN) and
   defines: tkr_s8_in with tkr_s8_in_zero() and
   tkr_s8_step(acc, &in) (TKR_S8_MACS_PER_STEP MACs, the same instructions as
   that ISA's tk_dot_s8_step with register operands). The fp32 peak uses the
   vector header's tk_vf_fmadd (fused where the ISA has FMA, else mul + add),
   the step the fp32 kernels use. */

/* Enough independent chains to cover each unit's latency x throughput on
   current cores (FMA: 4 cycles x 2 per cycle = 8 in flight; int32 adds are
   single-cycle but the step before them is not). */
#define TKR_READ_ACC 8
#define TKR_FMA_ACC 10
/* An including file whose step is one long-latency instruction (vpdpbusd:
   latency 4-5, one or two per cycle) sets more chains. */
#ifndef TKR_S8_ACC
#define TKR_S8_ACC 4
#endif

/* Reads x as `streams` equal parts side by side (accumulator j reads part
   j % streams): several streams keep more hardware prefetchers busy, and the
   best count differs by level and machine, so the caller tries 1, 2 and 4. */
static inline float TK_FN(roofline_read_streams)(const float *x, size_t n, const size_t streams) {
  tk_vf acc[TKR_READ_ACC];
  for (int j = 0; j < TKR_READ_ACC; j++) acc[j] = tk_vf_zero();
  const size_t part = n / streams, step = TKR_READ_ACC / streams * TK_VF_WIDTH;
  for (size_t i = 0; i + step <= part; i += step)
    for (size_t j = 0; j < TKR_READ_ACC; j++)
      acc[j] = tk_vf_add(acc[j], tk_vf_load(x + (j % streams) * part + i + j / streams * TK_VF_WIDTH));
  for (int j = 1; j < TKR_READ_ACC; j++) acc[0] = tk_vf_add(acc[0], acc[j]);
  return tk_vf_hsum(acc[0]);
}

/* One specialised loop per stream count (the count must be a constant for the
   accumulators to stay in registers). */
static float TK_FN(roofline_read)(const float *x, size_t n, int streams) {
  switch (streams) {
    case 1: return TK_FN(roofline_read_streams)(x, n, 1);
    case 2: return TK_FN(roofline_read_streams)(x, n, 2);
    default: return TK_FN(roofline_read_streams)(x, n, 4);
  }
}

/* The inputs are zero (timing of these instructions does not depend on the
   values), which also keeps the scalar accumulators far from overflow;
   tkr_s8_step hides them from the optimizer so every step is computed. */
static int32_t TK_FN(roofline_s8)(size_t iters) {
  tkr_s8_in in = tkr_s8_in_zero();
  tk_vs32 acc[TKR_S8_ACC];
  for (int j = 0; j < TKR_S8_ACC; j++) acc[j] = tk_vs32_zero();
  for (size_t i = 0; i < iters; i++)
    for (int j = 0; j < TKR_S8_ACC; j++) acc[j] = tkr_s8_step(acc[j], &in);
  for (int j = 1; j < TKR_S8_ACC; j++) acc[0] = tk_vs32_add(acc[0], acc[j]);
  return tk_vs32_hsum(acc[0]);
}

/* acc = acc * 0.999 + 0.001 converges to 1: no overflow, no denormals. */
static float TK_FN(roofline_fma)(size_t iters) {
  const tk_vf x = tk_vf_set1(0.999f), y = tk_vf_set1(0.001f);
  tk_vf acc[TKR_FMA_ACC];
  for (int j = 0; j < TKR_FMA_ACC; j++) acc[j] = tk_vf_set1((float)j);
  for (size_t i = 0; i < iters; i++)
    for (int j = 0; j < TKR_FMA_ACC; j++) acc[j] = tk_vf_fmadd(acc[j], x, y);
  for (int j = 1; j < TKR_FMA_ACC; j++) acc[0] = tk_vf_add(acc[0], acc[j]);
  return tk_vf_hsum(acc[0]);
}

/* tkb_roofline_<isa>, named by the vector header's TK_ISA_SUFFIX. */
#define TKR_TABLE_(isa) tkb_roofline_##isa
#define TKR_TABLE(isa) TKR_TABLE_(isa)
const tkb_roofline_fns TKR_TABLE(TK_ISA_SUFFIX) = {
    .read_f32 = TK_FN(roofline_read),
    .s8_mac = TK_FN(roofline_s8),
    .s8_macs_per_iter = TKR_S8_ACC * TKR_S8_MACS_PER_STEP,
    .f32_fma = TK_FN(roofline_fma),
    .f32_fmas_per_iter = TKR_FMA_ACC * TK_VF_WIDTH,
};
