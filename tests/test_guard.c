/* Guard pages: every kernel of every variant, arrays ending at / starting after a PROT_NONE page, every tail. */
#include "qlinear/qlinear_kernels.h"
#include "tk_guard.h"
#include "tk_test.h"

/* Tail lengths up to two vector widths of the widest ISA (AVX-512: 64 int8
   per step, two steps per loop turn; 16 floats per vector) and a little beyond. */
enum { MAX_S8 = 2 * 2 * 64 + 3, MAX_F32 = 2 * 2 * 16 + 3 };

static const tk_guard_side sides[2] = {TK_GUARD_END, TK_GUARD_START};

static void int8_kernels_stay_inside_their_arrays(tk_isa isa) {
  const tk_kernels *k = tk_test_table(isa);
  for (int s = 0; s < 2; s++) {
    for (size_t n = 0; n <= MAX_S8; n++) {
      tk_guard ga, gb, gx, gq;
      int8_t *a = tk_guard_alloc(&ga, n, sides[s]);
      int8_t *b = tk_guard_alloc(&gb, n, sides[s]);
      float *x = tk_guard_alloc(&gx, n * sizeof(float), sides[s]);
      int8_t *q = tk_guard_alloc(&gq, n, sides[s]);
      for (size_t i = 0; i < n; i++) a[i] = (int8_t)i, b[i] = -1, x[i] = (float)i - 3.0f;
      int32_t want = 0;
      for (size_t i = 0; i < n; i++) want -= (int8_t)i;
      if (n) assert_int_equal(k->dot_s8(a, b, n), want);
      bool finite = false;
      if (n) (void)k->absmax_f32(x, n, &finite);
      if (n) k->quantize_s8(x, n, 1.0f, q);
      if (n) k->dequantize_s8(q, n, 0.5f, x);
      for (size_t i = 0; i < n; i++) assert_true(x[i] == 0.5f * (float)q[i]);
      tk_guard_free(&ga), tk_guard_free(&gb), tk_guard_free(&gx), tk_guard_free(&gq);
    }
  }
}

/* qlinear forward and linear_f32: every input and output array guarded, K and
   N over the tails of the 8-row tiles, 16-row tile pairs and 4-wide k-groups
   (and of a GEMV's split-k chains), batch on both sides of the microkernel
   row blocks (TK_QL_MR up to 12, TK_LF_MR up to 4). (The packed weights live
   inside the layer, whose allocation the layer sizes itself: the next test
   guards them.) */
static const size_t outs[] = {1, 7, 9, 16, 17, 33};
static const size_t batches[] = {1, 2, 7, 9, 13, 25};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void qlinear_and_linear_f32_stay_inside_their_arrays(tk_isa isa) {
  const tk_kernels *k = tk_test_table(isa);
  for (int s = 0; s < 2; s++) {
    for (size_t in = 1; in <= MAX_F32; in += 3) {
      for (size_t oi = 0; oi < COUNT(outs); oi++) {
        for (size_t bi = 0; bi < COUNT(batches); bi++) {
          size_t out = outs[oi], batch = batches[bi];
          tk_guard gw, gb, gx, gy;
          float *w = tk_guard_alloc(&gw, out * in * sizeof(float), sides[s]);
          float *bias = tk_guard_alloc(&gb, out * sizeof(float), sides[s]);
          float *x = tk_guard_alloc(&gx, batch * in * sizeof(float), sides[s]);
          float *y = tk_guard_alloc(&gy, batch * out * sizeof(float), sides[s]);
          for (size_t i = 0; i < out * in; i++) w[i] = (float)(i % 7) - 3.0f;
          for (size_t i = 0; i < out; i++) bias[i] = 0.5f;
          for (size_t i = 0; i < batch * in; i++) x[i] = (float)(i % 5) - 2.0f;
          assert_int_equal(tk_linear_f32_with(k, w, out, in, bias, x, batch, y), TK_OK);
          tk_qlinear *l;
          assert_int_equal(tk_qlinear_create(w, out, in, bias, &l), TK_OK);
          assert_int_equal(tk_qlinear_forward_with(k, l, x, batch, y), TK_OK);
          tk_qlinear_destroy(l);
          tk_guard_free(&gw), tk_guard_free(&gb), tk_guard_free(&gx), tk_guard_free(&gy);
        }
      }
    }
  }
}

/* The qlinear kernel itself with its packed tiles guarded too: tiles, the
   quantized activations, their scales, y and the work buffer each end at (or
   start after) a PROT_NONE page, sized exactly as qlinear_kernels.h says
   (TK_QL_TILES(out) tiles; work for min(batch, tk_ql_batch_block(kp)) rows of
   TK_QL_X_BYTES). The tiles are packed here by that layout, and y must be
   the public forward's bits. in runs to 71 (kp 72: 18 k-groups, every rest of
   a split-k GEMV's chains), so the last tile pair's last k-group is read at
   the guard. */
static void qlinear_kernel_stays_inside_its_tiles(tk_isa isa) {
  const tk_kernels *k = tk_test_table(isa);
  for (int s = 0; s < 2; s++) {
    for (size_t in = 1; in <= 71; in += 5) {
      const size_t kp = (in + TK_QL_KGROUP - 1) / TK_QL_KGROUP * TK_QL_KGROUP;
      for (size_t oi = 0; oi < COUNT(outs); oi++) {
        for (size_t bi = 0; bi < COUNT(batches); bi++) {
          const size_t out = outs[oi], batch = batches[bi];
          const size_t block = tk_ql_batch_block(kp);
          const size_t tiles_bytes = TK_QL_TILES(out) * TK_QL_TILE_BYTES(kp);
          const size_t work_bytes = (batch < block ? batch : block) * kp * TK_QL_X_BYTES;
          float w[33 * 71], bias[33], x[25 * 71], y_public[25 * 33];
          for (size_t i = 0; i < out * in; i++) w[i] = (float)((i * 5) % 11) - 5.0f;
          for (size_t i = 0; i < out; i++) bias[i] = (float)i * 0.25f;
          for (size_t i = 0; i < batch * in; i++) x[i] = (float)((i * 3) % 7) - 3.0f;
          tk_qlinear *l;
          assert_int_equal(tk_qlinear_create(w, out, in, bias, &l), TK_OK);
          assert_int_equal(tk_qlinear_forward_with(k, l, x, batch, y_public), TK_OK);
          int8_t wq[33 * 71];
          float scale[33];
          assert_int_equal(tk_qlinear_export(l, wq, scale, bias), TK_OK);
          tk_qlinear_destroy(l);

          tk_guard gt, gq, gs, gy, gwk;
          unsigned char *tiles = tk_guard_alloc(&gt, tiles_bytes, sides[s]);
          int8_t *xq = tk_guard_alloc(&gq, batch * kp, sides[s]);
          float *xscale = tk_guard_alloc(&gs, batch * sizeof(float), sides[s]);
          float *y = tk_guard_alloc(&gy, batch * out * sizeof(float), sides[s]);
          void *work = tk_guard_alloc(&gwk, work_bytes, sides[s]);
          memset(tiles, 0, tiles_bytes);
          for (size_t o = 0; o < out; o++) {
            unsigned char *tile = tiles + o / TK_QL_ROWS * TK_QL_TILE_BYTES(kp);
            const size_t r = o % TK_QL_ROWS;
            int32_t wsum = 0;
            for (size_t i = 0; i < in; i++) wsum += wq[o * in + i];
            memcpy(tile + r * sizeof(float), &scale[o], sizeof(float));
            memcpy(tile + (TK_QL_ROWS + r) * sizeof(float), &bias[o], sizeof(float));
            memcpy(tile + (2 * TK_QL_ROWS + r) * sizeof(float), &wsum, sizeof wsum);
            for (size_t i = 0; i < in; i++)
              tile[TK_QL_HEADER_BYTES + i / TK_QL_KGROUP * TK_QL_GROUP_BYTES + r * TK_QL_KGROUP +
                   i % TK_QL_KGROUP] = (unsigned char)wq[o * in + i];
          }
          memset(xq, 0, batch * kp);
          for (size_t b = 0; b < batch; b++)
            assert_int_equal(tk_quantize_s8(x + b * in, in, xq + b * kp, &xscale[b]), TK_OK);
          k->qlinear_s8(tiles, out, kp, xq, xscale, batch, y, work);
          if (memcmp(y, y_public, batch * out * sizeof(float)) != 0) {
            print_error("qlinear_s8 %s (%s) batch=%zu out=%zu in=%zu: the kernel on guarded "
                        "tiles differs from tk_qlinear_forward\n",
                        tk_isa_name(isa), tk_test_kind(isa), batch, out, in);
            fail();
          }
          tk_guard_free(&gt), tk_guard_free(&gq), tk_guard_free(&gs), tk_guard_free(&gy),
              tk_guard_free(&gwk);
        }
      }
    }
  }
}

int main(void) {
  const tk_test_case tests[] = {
      TK_VARIANT_TEST(int8_kernels_stay_inside_their_arrays),
      TK_VARIANT_TEST(qlinear_and_linear_f32_stay_inside_their_arrays),
      TK_VARIANT_TEST(qlinear_kernel_stays_inside_its_tiles),
  };
  return TK_RUN_TESTS("guard", tests);
}
