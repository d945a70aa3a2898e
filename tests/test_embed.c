/* Embedding: tk_exec parts (built-in pool and host parallel-fors) against the plain calls, workspaces, int8 import and export, row blocks. */
#include <math.h>
#include <pthread.h>

#include "qlinear/qlinear_kernels.h"
#include "sparse/sparse_kernels.h"
#include "attention/attention_cache.h"
#include "tk_test.h"

/* A host parallel-for that runs the parts on fresh threads, one per part,
   (at most 16 at once): the most hostile schedule a host could have. */
typedef struct host_part {
  tk_task_fn task;
  void *ctx;
  size_t i;
} host_part;
static void *host_thread(void *arg) {
  const host_part *p = arg;
  p->task(p->ctx, p->i);
  return NULL;
}
static size_t host_calls;
static void host_threads_for(void *host, size_t n, tk_task_fn task, void *ctx) {
  (void)host;
  host_calls++;
  for (size_t base = 0; base < n; base += 16) {
    pthread_t t[16];
    host_part p[16];
    const size_t m = n - base < 16 ? n - base : 16;
    for (size_t i = 0; i < m; i++) {
      p[i] = (host_part){task, ctx, base + i};
      assert_int_equal(pthread_create(&t[i], NULL, host_thread, &p[i]), 0);
    }
    for (size_t i = 0; i < m; i++) pthread_join(t[i], NULL);
  }
}
/* A host parallel-for that runs the parts backwards on this thread: order must not matter. */
static void host_backwards_for(void *host, size_t n, tk_task_fn task, void *ctx) {
  (void)host;
  for (size_t i = n; i-- > 0;) task(ctx, i);
}

static float *random_floats(tk_rng *r, size_t n, float lo, float hi) {
  float *x = malloc((n ? n : 1) * sizeof *x);
  assert_non_null(x);
  for (size_t i = 0; i < n; i++) x[i] = tk_rng_f32(r, lo, hi);
  return x;
}

/* The execs every parallel test runs: pool sizes 1, 2, 3 and 9 (more threads
   than parts for small shapes; the default flags), 2 and 3 with spinning and
   with yielding workers, and the two host parallel-fors with 2, 5 and 64
   parts. n_execs counts those this build offers (no pool without pthreadpool). */
static tk_pool *pools[8];
static tk_exec execs[14];
static size_t n_execs;

/* Made at the first use and kept for the process (the pools' threads too). */
static void setup_execs(void) {
  if (n_execs) return;
  const size_t sizes[8] = {1, 2, 3, 9, 2, 3, 2, 3};
  const unsigned flags[8] = {TK_POOL_DEFAULT, TK_POOL_DEFAULT, TK_POOL_DEFAULT, TK_POOL_DEFAULT,
                             TK_POOL_SPIN,    TK_POOL_SPIN,    TK_POOL_YIELD,   TK_POOL_YIELD};
  for (size_t i = 0; i < 8; i++)
    if (tk_pool_create_ex(sizes[i], flags[i], &pools[i]) == TK_OK)
      execs[n_execs++] = tk_pool_exec(pools[i]);
  const size_t parts[3] = {2, 5, 64};
  for (size_t i = 0; i < 3; i++) {
    execs[n_execs++] = (tk_exec){.parallel_for = host_threads_for, .n_threads = parts[i]};
    execs[n_execs++] = (tk_exec){.parallel_for = host_backwards_for, .n_threads = parts[i]};
  }
}

static const size_t shapes[][3] = {
    /* batch, out, in */
    {1, 1, 1}, {1, 7, 33}, {1, 17, 64}, {1, 100, 5}, {1, 300, 257}, {2, 9, 40},
    {3, 33, 17}, {5, 16, 128}, {64, 70, 96}, {130, 40, 300},
};

/* Every variant's table (native or emulated), every exec, with and without a
   caller workspace of exactly the size asked for: the same bits as one part. */
static void qlinear_parts_bit_identical_to_one_part(tk_isa isa) {
  setup_execs();
  const tk_kernels *k = tk_test_table(isa);
  tk_rng r = {0xe1};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    const size_t batch = shapes[s][0], out = shapes[s][1], in = shapes[s][2];
    float *w = random_floats(&r, out * in, -1, 1), *bias = random_floats(&r, out, -1, 1);
    float *x = random_floats(&r, batch * in, -3, 3);
    float *want = malloc(batch * out * sizeof(float)), *got = malloc(batch * out * sizeof(float));
    assert_non_null(want);
    assert_non_null(got);
    tk_qlinear *l;
    assert_int_equal(tk_qlinear_create(w, out, in, bias, &l), TK_OK);
    assert_int_equal(tk_qlinear_forward_with(k, l, x, batch, want), TK_OK);
    for (size_t e = 0; e < n_execs; e++) {
      for (int ws = 0; ws < 2; ws++) {
        tk_exec ex = execs[e];
        if (ws) {
          ex.workspace_bytes = tk_qlinear_workspace_bytes(l, batch, &ex);
          assert_true(ex.workspace_bytes > 0);
          ex.workspace = malloc(ex.workspace_bytes);
          assert_non_null(ex.workspace);
        }
        memset(got, 0xff, batch * out * sizeof(float));
        assert_int_equal(tk_qlinear_forward_ex_with(k, &ex, l, x, batch, got), TK_OK);
        if (memcmp(got, want, batch * out * sizeof(float))) {
          print_error("qlinear_forward_ex %s (%s) batch=%zu out=%zu in=%zu exec %zu (%zu parts, %s workspace): differs\n",
                      tk_isa_name(isa), tk_test_kind(isa), batch, out, in, e, ex.n_threads,
                      ws ? "caller" : "own");
          fail();
        }
        free(ex.workspace);
      }
    }
    tk_qlinear_destroy(l);
    free(w), free(bias), free(x), free(want), free(got);
  }
}

static void qlinear_ex_bad_input_writes_nothing(void **state) {
  (void)state;
  tk_rng r = {0xe2};
  const size_t out = 20, in = 30, batch = 3;
  float *w = random_floats(&r, out * in, -1, 1), *x = random_floats(&r, batch * in, -1, 1);
  float y[60], sentinel[60];
  memset(sentinel, 0x5a, sizeof sentinel);
  tk_qlinear *l;
  assert_int_equal(tk_qlinear_create(w, out, in, NULL, &l), TK_OK);
  tk_exec e = {.parallel_for = host_backwards_for, .n_threads = 2};
  const size_t need = tk_qlinear_workspace_bytes(l, batch, &e);
  unsigned char *ws = malloc(need);
  assert_non_null(ws);
  /* A workspace smaller than asked for. */
  e.workspace = ws;
  e.workspace_bytes = need - 1;
  memcpy(y, sentinel, sizeof y);
  assert_int_equal(tk_qlinear_forward_ex(&e, l, x, batch, y), TK_ERR_ARG);
  assert_memory_equal(y, sentinel, sizeof y);
  /* A NaN in the last row: checked before y is touched, whichever part sees it. */
  e.workspace_bytes = need;
  x[(batch - 1) * in + in / 2] = NAN;
  assert_int_equal(tk_qlinear_forward_ex(&e, l, x, batch, y), TK_ERR_ARG);
  assert_memory_equal(y, sentinel, sizeof y);
  assert_int_equal(tk_qlinear_forward_ex(&e, NULL, x, batch, y), TK_ERR_ARG);
  assert_int_equal(tk_qlinear_forward_ex(&e, l, NULL, batch, y), TK_ERR_ARG);
  assert_int_equal(tk_qlinear_forward_ex(&e, l, x, 0, NULL), TK_OK);
  /* A workspace sized for a batch serves every smaller batch, 1 included. */
  for (size_t threads = 1; threads <= 9; threads++) {
    const tk_exec t = {.parallel_for = host_backwards_for, .n_threads = threads};
    const size_t most = tk_qlinear_workspace_bytes(l, batch, &t);
    for (size_t b = 1; b <= batch; b++) assert_true(tk_qlinear_workspace_bytes(l, b, &t) <= most);
  }
  assert_int_equal(tk_qlinear_workspace_bytes(NULL, 1, NULL), 0);
  assert_int_equal(tk_qlinear_workspace_bytes(l, 0, NULL), 0);
  assert_int_equal(tk_qlinear_workspace_bytes(l, SIZE_MAX, NULL), 0);
  assert_int_equal(tk_qlinear_forward_ex(&e, l, x, SIZE_MAX / 2, y), TK_ERR_OVERFLOW);
  tk_qlinear_destroy(l);
  free(w), free(x), free(ws);
}

static void linear_f32_parts_match_one_part(tk_isa isa) {
  setup_execs();
  const tk_kernels *k = tk_test_table(isa);
  tk_rng r = {0xe3};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    const size_t batch = shapes[s][0], out = shapes[s][1], in = shapes[s][2];
    float *w = random_floats(&r, out * in, -1, 1), *bias = random_floats(&r, out, -1, 1);
    float *x = random_floats(&r, batch * in, -3, 3);
    float *want = malloc(batch * out * sizeof(float)), *got = malloc(batch * out * sizeof(float));
    assert_non_null(want);
    assert_non_null(got);
    assert_int_equal(tk_linear_f32_with(k, w, out, in, bias, x, batch, want), TK_OK);
    for (size_t e = 0; e < n_execs; e++) {
      memset(got, 0xff, batch * out * sizeof(float));
      assert_int_equal(tk_linear_f32_ex_with(k, &execs[e], w, out, in, bias, x, batch, got), TK_OK);
      for (size_t i = 0; i < batch * out; i++) {
        /* Sums of `in` products of |x| <= 3, |w| <= 1 in another order. */
        const float tol = 1e-6f * 3.0f * (float)in + 1e-6f;
        if (fabsf(got[i] - want[i]) > tol) {
          print_error("linear_f32_ex %s (%s) batch=%zu out=%zu in=%zu exec %zu: [%zu] %g vs %g\n",
                      tk_isa_name(isa), tk_test_kind(isa), batch, out, in, e, i, (double)got[i],
                      (double)want[i]);
          fail();
        }
      }
      /* Batch 1 splits outputs: each output is the same dot product. */
      if (batch == 1) assert_memory_equal(got, want, out * sizeof(float));
    }
    free(w), free(bias), free(x), free(want), free(got);
  }
}

/* SpMV and SpMM in parts: the same bits as one part, for matrices with empty,
   dense and unevenly filled rows (the parts cut at equal nonzeros). */
static void sparse_parts_bit_identical_to_one_part(tk_isa isa) {
  setup_execs();
  const tk_kernels *k = tk_test_table(isa);
  tk_rng r = {0xe7};
  const size_t sizes[][3] = {{1, 1, 1}, {3, 5, 2}, {37, 41, 3}, {130, 70, 17}, {256, 300, 64}};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    const size_t rows = sizes[s][0], cols = sizes[s][1], n = sizes[s][2];
    float *w = random_floats(&r, rows * cols, -1, 1), *x = random_floats(&r, cols * n, -1, 1);
    /* Rows of every density: row i keeps about i % 11 / 10 of its entries. */
    for (size_t i = 0; i < rows; i++)
      for (size_t j = 0; j < cols; j++)
        if ((tk_rng_next(&r) % 10) >= i % 11) w[i * cols + j] = 0.0f;
    float *want = malloc(rows * n * sizeof(float)), *got = malloc(rows * n * sizeof(float));
    assert_non_null(want);
    assert_non_null(got);
    tk_csr *a;
    assert_int_equal(tk_csr_from_dense(w, rows, cols, 0.0f, &a), TK_OK);
    for (int mm = 0; mm < 2; mm++) {
      if (mm)
        assert_int_equal(tk_spmm_ex_with(k, NULL, a, x, n, want), TK_OK);
      else
        assert_int_equal(tk_spmv_ex_with(k, NULL, a, x, want), TK_OK);
      for (size_t e = 0; e < n_execs; e++) {
        memset(got, 0xff, rows * n * sizeof(float));
        if (mm)
          assert_int_equal(tk_spmm_ex_with(k, &execs[e], a, x, n, got), TK_OK);
        else
          assert_int_equal(tk_spmv_ex_with(k, &execs[e], a, x, got), TK_OK);
        if (memcmp(got, want, (mm ? rows * n : rows) * sizeof(float))) {
          print_error("%s_ex %s (%s) %zux%zu n=%zu exec %zu: differs\n", mm ? "spmm" : "spmv",
                      tk_isa_name(isa), tk_test_kind(isa), rows, cols, n, e);
          fail();
        }
      }
    }
    tk_csr_destroy(a);
    free(w), free(x), free(want), free(got);
  }
}

/* tk_attend in parts against one part, for every storage type,
   kv-head counts below and above the part count, decode steps and
   multi-token steps, a wrapped sliding ring, with and without a caller
   workspace (at an odd address). */
static void attend_parts_bit_identical_to_one_part(tk_isa isa) {
  setup_execs();
  const tk_kernels *k = tk_test_table(isa);
  tk_rng r = {0xe8};
  const size_t cfgs[][4] = {/* n_kv, group, head_dim, n_q */
                            {1, 1, 8, 1}, {1, 4, 20, 1}, {2, 3, 16, 3}, {8, 4, 33, 1}, {3, 2, 64, 5}};
  const tk_dtype dtypes[3] = {TK_DTYPE_F32, TK_DTYPE_F16, TK_DTYPE_S8};
  for (size_t ci = 0; ci < sizeof cfgs / sizeof cfgs[0]; ci++)
    for (int dt = 0; dt < 3; dt++) {
      const size_t n_kv = cfgs[ci][0], n_heads = n_kv * cfgs[ci][1], d = cfgs[ci][2];
      const size_t n_q = cfgs[ci][3], cap = 40, len = 57; /* sliding: wraps */
      tk_kv_config cfg = {.n_kv_heads = n_kv, .head_dim = d, .capacity = cap, .dtype = dtypes[dt],
                          .sliding = true};
      tk_kv_cache *c;
      assert_int_equal(tk_kv_cache_create(&cfg, &c), TK_OK);
      float *kv = random_floats(&r, len * n_kv * d, -2, 2), *vv = random_floats(&r, len * n_kv * d, -2, 2);
      assert_int_equal(tk_kv_cache_append_with(k, c, kv, vv, len), TK_OK);
      const size_t n_out = n_q * n_heads * d;
      float *q = random_floats(&r, n_out, -3, 3), *want = malloc(n_out * sizeof(float)),
            *got = malloc(n_out * sizeof(float));
      assert_non_null(want);
      assert_non_null(got);
      assert_int_equal(tk_attend_with(k, c, q, n_q, n_heads, want), TK_OK);
      for (size_t e = 0; e < n_execs; e++)
        for (int ws = 0; ws < 2; ws++) {
          tk_exec ex = execs[e];
          void *raw = NULL;
          if (ws) {
            ex.workspace_bytes = tk_attend_workspace_bytes(c, n_q, n_heads, &ex);
            assert_true(ex.workspace_bytes > 0);
            raw = malloc(ex.workspace_bytes + 1);
            assert_non_null(raw);
            ex.workspace = (char *)raw + 1;
          }
          memset(got, 0xff, n_out * sizeof(float));
          assert_int_equal(tk_attend_ex_with(k, &ex, c, q, n_q, n_heads, got), TK_OK);
          /* The same bits from parts of whole kv heads, of a decode step
             too short to split (40 held positions, less than one range),
             and of whole kernel passes (a token's rows divide 32). Parts
             of a head's tokens otherwise run the kernel on smaller row
             tiles, which sum in another order: within fp32 rounding of
             these outputs (|out| <= max|v| = 2). */
          const size_t group = n_heads / n_kv;
          const bool exact = ex.n_threads <= n_kv || n_q == 1 || 32 % group == 0;
          for (size_t i = 0; i < n_out; i++)
            if (exact ? memcmp(&got[i], &want[i], sizeof(float)) != 0
                            : !(fabsf(got[i] - want[i]) <= 2e-5f)) {
              print_error("attend_ex %s (%s) dtype %d kv=%zu heads=%zu d=%zu n_q=%zu exec %zu (%zu parts)%s: [%zu] %g vs %g\n",
                          tk_isa_name(isa), tk_test_kind(isa), dt, n_kv, n_heads, d, n_q, e,
                          ex.n_threads, ws ? " caller workspace" : "", i, (double)got[i],
                          (double)want[i]);
              fail();
            }
          if (ws) {
            /* One byte short: TK_ERR_ARG, nothing written. */
            ex.workspace_bytes--;
            memset(got, 0x5a, n_out * sizeof(float));
            assert_int_equal(tk_attend_ex_with(k, &ex, c, q, n_q, n_heads, got), TK_ERR_ARG);
            for (size_t i = 0; i < n_out * sizeof(float); i++) assert_int_equal(((unsigned char *)got)[i], 0x5a);
          }
          free(raw);
        }
      assert_int_equal(tk_attend_workspace_bytes(NULL, 1, n_heads, NULL), 0);
      assert_int_equal(tk_attend_workspace_bytes(c, 0, n_heads, NULL), 0);
      if (n_kv > 1) assert_int_equal(tk_attend_workspace_bytes(c, 1, n_heads + 1, NULL), 0);
      tk_kv_cache_destroy(c);
      free(kv), free(vv), free(q), free(want), free(got);
    }
}

/* Split-K decode steps (fewer kv heads than parts, more held positions than
   one range) against one part, every variant, dtype and exec: caches that
   wrap, group sizes that do and do not divide 32, and rows whose logits
   need the front's scaling (huge q: a per-row exponent multiplier of 2^a)
   and whose weights need 2^-b (huge V), where the combination must rebase
   each part's sum with the row's multiplier. */
static void attend_split_k_matches_one_part(tk_isa isa) {
  setup_execs();
  const tk_kernels *k = tk_test_table(isa);
  tk_rng r = {0xe9};
  const size_t cfgs[][5] = {/* n_kv, group, head_dim, capacity, appended */
                            {1, 1, 8, 300, 333}, {1, 4, 33, 200, 200}, {2, 5, 16, 130, 150},
                            {1, 8, 128, 256, 300}, {2, 3, 64, 65, 65}};
  const tk_dtype dtypes[3] = {TK_DTYPE_F32, TK_DTYPE_F16, TK_DTYPE_S8};
  for (size_t ci = 0; ci < sizeof cfgs / sizeof cfgs[0]; ci++)
    for (int dt = 0; dt < 3; dt++)
      /* The huge inputs on the two smaller shapes (the emulated variants are slow). */
      for (int huge = 0; huge < (ci == 0 || ci == 2 ? 3 : 1); huge++) {
        const size_t n_kv = cfgs[ci][0], n_heads = n_kv * cfgs[ci][1], d = cfgs[ci][2];
        const size_t cap = cfgs[ci][3], len = cfgs[ci][4];
        tk_kv_config cfg = {.n_kv_heads = n_kv, .head_dim = d, .capacity = cap,
                            .dtype = dtypes[dt], .sliding = true};
        tk_kv_cache *c;
        assert_int_equal(tk_kv_cache_create(&cfg, &c), TK_OK);
        /* huge 1: q of 1e30 (scaled by 2^-a); huge 2: V of 1e37 over many positions (2^-b). */
        const float vmax = huge == 2 ? 1e37f : 2.0f;
        float *kv = random_floats(&r, len * n_kv * d, -2, 2);
        float *vv = random_floats(&r, len * n_kv * d, -vmax, vmax);
        assert_int_equal(tk_kv_cache_append_with(k, c, kv, vv, len), TK_OK);
        const size_t n_out = n_heads * d;
        const float qmax = huge == 1 ? 1e30f : 3.0f;
        float *q = random_floats(&r, n_out, -qmax, qmax), *want = malloc(n_out * sizeof(float)),
              *got = malloc(n_out * sizeof(float));
        assert_non_null(want);
        assert_non_null(got);
        assert_int_equal(tk_attend_with(k, c, q, 1, n_heads, want), TK_OK);
        for (size_t e = 0; e < n_execs; e++)
          for (int ws = 0; ws < 2; ws++) {
            tk_exec ex = execs[e];
            void *raw = NULL;
            if (ws) {
              ex.workspace_bytes = tk_attend_workspace_bytes(c, 1, n_heads, &ex);
              raw = malloc(ex.workspace_bytes + 3);
              assert_non_null(raw);
              ex.workspace = (char *)raw + 3;
            }
            memset(got, 0xff, n_out * sizeof(float));
            assert_int_equal(tk_attend_ex_with(k, &ex, c, q, 1, n_heads, got), TK_OK);
            /* f32, f16: the parts' sums in another order plus the
               combination's rounding: a few ulps of max|v| (measured up to
               3.9e-7 max|v| on avx512). s8: the weights are 14-bit integers
               relative to their block's largest, and a range's blocks start
               elsewhere than one part's: up to 2^-15 of the block's largest
               weight per weight (measured up to 4.3e-5 max|v|). Every
               result finite. */
            const float tol = (dtypes[dt] == TK_DTYPE_S8 ? 5e-4f : 4e-6f) * vmax;
            for (size_t i = 0; i < n_out; i++)
              if (!isfinite(got[i]) || !(fabsf(got[i] - want[i]) <= tol)) {
                print_error("split-K attend_ex %s (%s) dtype %d kv=%zu heads=%zu d=%zu len=%zu "
                            "cap=%zu huge=%d exec %zu (%zu parts)%s: [%zu] %g vs %g\n",
                            tk_isa_name(isa), tk_test_kind(isa), dt, n_kv, n_heads, d, len, cap,
                            huge, e, ex.n_threads, ws ? " caller workspace" : "", i,
                            (double)got[i], (double)want[i]);
                fail();
              }
            free(raw);
          }
        tk_kv_cache_destroy(c);
        free(kv), free(vv), free(q), free(want), free(got);
      }
}

/* tk_attention_f32_ex against tk_attention_f32, every variant and exec,
   causal and not: the same bits from parts of whole kv heads or whole
   kernel passes (a token's rows divide 32), else within fp32 rounding; a
   caller workspace at any address; one byte short: TK_ERR_ARG. */
static void attention_f32_parts_match_one_part(tk_isa isa) {
  setup_execs();
  const tk_kernels *k = tk_test_table(isa);
  tk_rng r = {0xea};
  const size_t cfgs[][4] = {/* seq, n_kv, group, head_dim */
                            {1, 1, 1, 8},   {5, 1, 3, 20},  {40, 1, 4, 16}, {70, 2, 3, 33},
                            {33, 3, 2, 64}, {100, 1, 8, 128}, {17, 8, 1, 16}};
  for (size_t ci = 0; ci < sizeof cfgs / sizeof cfgs[0]; ci++)
    for (int causal = 0; causal < 2; causal++) {
      const size_t seq = cfgs[ci][0], n_kv = cfgs[ci][1], group = cfgs[ci][2], d = cfgs[ci][3];
      const size_t n_heads = n_kv * group, n_out = seq * n_heads * d;
      float *q = random_floats(&r, n_out, -3, 3), *kk = random_floats(&r, seq * n_kv * d, -2, 2),
            *vv = random_floats(&r, seq * n_kv * d, -2, 2), *want = malloc(n_out * sizeof(float)),
            *got = malloc(n_out * sizeof(float));
      assert_non_null(want);
      assert_non_null(got);
      assert_int_equal(tk_attention_f32_with(k, q, kk, vv, seq, n_heads, n_kv, d, causal, want), TK_OK);
      for (size_t e = 0; e < n_execs; e++)
        for (int ws = 0; ws < 2; ws++) {
          tk_exec ex = execs[e];
          void *raw = NULL;
          if (ws) {
            ex.workspace_bytes = tk_attention_f32_workspace_bytes(seq, n_heads, n_kv, d, &ex);
            assert_true(ex.workspace_bytes > 0);
            raw = malloc(ex.workspace_bytes + 5);
            assert_non_null(raw);
            ex.workspace = (char *)raw + 5;
          }
          memset(got, 0xff, n_out * sizeof(float));
          assert_int_equal(tk_attention_f32_ex_with(k, &ex, q, kk, vv, seq, n_heads, n_kv, d, causal, got), TK_OK);
          const bool exact = ex.n_threads <= n_kv || 32 % group == 0;
          for (size_t i = 0; i < n_out; i++)
            if (exact ? memcmp(&got[i], &want[i], sizeof(float)) != 0
                      : !(fabsf(got[i] - want[i]) <= 2e-5f)) {
              print_error("attention_f32_ex %s (%s) seq=%zu kv=%zu heads=%zu d=%zu causal=%d "
                          "exec %zu (%zu parts)%s: [%zu] %g vs %g\n",
                          tk_isa_name(isa), tk_test_kind(isa), seq, n_kv, n_heads, d, causal, e,
                          ex.n_threads, ws ? " caller workspace" : "", i, (double)got[i],
                          (double)want[i]);
              fail();
            }
          if (ws) {
            ex.workspace_bytes--;
            memset(got, 0x5a, n_out * sizeof(float));
            assert_int_equal(tk_attention_f32_ex_with(k, &ex, q, kk, vv, seq, n_heads, n_kv, d, causal, got),
                             TK_ERR_ARG);
            for (size_t i = 0; i < n_out * sizeof(float); i++)
              assert_int_equal(((unsigned char *)got)[i], 0x5a);
          }
          free(raw);
        }
      free(q), free(kk), free(vv), free(want), free(got);
    }
}

/* Bad arguments of tk_attention_f32_ex and its size query: TK_ERR_ARG (or
   TK_ERR_OVERFLOW) and nothing written; tk_attention_f32_ex in place (out = q). */
static void attention_f32_ex_bad_input_writes_nothing(void **state) {
  (void)state;
  tk_rng r = {0xeb};
  const size_t seq = 6, nh = 4, nkv = 2, d = 8, n = seq * nh * d;
  float *q = random_floats(&r, n, -1, 1), *kk = random_floats(&r, seq * nkv * d, -1, 1),
        *vv = random_floats(&r, seq * nkv * d, -1, 1), *out = malloc(n * sizeof(float)),
        *want = malloc(n * sizeof(float));
  assert_non_null(out);
  assert_non_null(want);
  const tk_exec e = {.parallel_for = host_backwards_for, .n_threads = 3};
  const tk_exec *es[2] = {NULL, &e};
  for (int i = 0; i < 2; i++) {
    memset(out, 0x5a, n * sizeof(float));
    assert_int_equal(tk_attention_f32_ex(es[i], NULL, kk, vv, seq, nh, nkv, d, true, out), TK_ERR_ARG);
    assert_int_equal(tk_attention_f32_ex(es[i], q, NULL, vv, seq, nh, nkv, d, true, out), TK_ERR_ARG);
    assert_int_equal(tk_attention_f32_ex(es[i], q, kk, NULL, seq, nh, nkv, d, true, out), TK_ERR_ARG);
    assert_int_equal(tk_attention_f32_ex(es[i], q, kk, vv, seq, nh, nkv, d, true, NULL), TK_ERR_ARG);
    assert_int_equal(tk_attention_f32_ex(es[i], q, kk, vv, seq, 0, nkv, d, true, out), TK_ERR_ARG);
    assert_int_equal(tk_attention_f32_ex(es[i], q, kk, vv, seq, nh, 0, d, true, out), TK_ERR_ARG);
    assert_int_equal(tk_attention_f32_ex(es[i], q, kk, vv, seq, nh, 3, d, true, out), TK_ERR_ARG);
    assert_int_equal(tk_attention_f32_ex(es[i], q, kk, vv, seq, nh, nkv, 0, true, out), TK_ERR_ARG);
    assert_int_equal(tk_attention_f32_ex(es[i], q, kk, vv, SIZE_MAX / 2, nh, nkv, d, true, out),
                     TK_ERR_OVERFLOW);
    assert_int_equal(tk_attention_f32_ex(es[i], NULL, NULL, NULL, 0, nh, nkv, d, true, NULL), TK_OK);
    for (size_t j = 0; j < n * sizeof(float); j++) assert_int_equal(((unsigned char *)out)[j], 0x5a);
  }
  assert_int_equal(tk_attention_f32_workspace_bytes(0, nh, nkv, d, &e), 0);
  assert_int_equal(tk_attention_f32_workspace_bytes(seq, 0, nkv, d, &e), 0);
  assert_int_equal(tk_attention_f32_workspace_bytes(seq, nh, 0, d, &e), 0);
  assert_int_equal(tk_attention_f32_workspace_bytes(seq, nh, 3, d, &e), 0);
  assert_int_equal(tk_attention_f32_workspace_bytes(seq, nh, nkv, 0, &e), 0);
  assert_int_equal(tk_attention_f32_workspace_bytes(SIZE_MAX / 2, nh, nkv, d, &e), 0);
  /* In place: every part reads its query rows before writing those results. */
  assert_int_equal(tk_attention_f32(q, kk, vv, seq, nh, nkv, d, true, want), TK_OK);
  assert_int_equal(tk_attention_f32_ex(&e, q, kk, vv, seq, nh, nkv, d, true, q), TK_OK);
  assert_memory_equal(q, want, n * sizeof(float));
  free(q), free(kk), free(vv), free(out), free(want);
}

/* Rows quantized by the tk_quantize_s8 rule, imported, give the layer that
   tk_qlinear_create makes of their dequantized values. */
static void qlinear_create_s8_matches_create_of_dequantized(void **state) {
  (void)state;
  tk_rng r = {0xe4};
  const size_t out = 37, in = 45, batch = 4;
  float *w = random_floats(&r, out * in, -2, 2), *bias = random_floats(&r, out, -1, 1);
  float *x = random_floats(&r, batch * in, -1, 1), *deq = malloc(out * in * sizeof(float));
  int8_t *q = malloc(out * in), *q2 = malloc(out * in);
  float scale[37], scale2[37], bias2[37], y1[148], y2[148];
  assert_non_null(deq);
  assert_non_null(q);
  assert_non_null(q2);
  for (size_t o = 0; o < out; o++) {
    assert_int_equal(tk_quantize_s8(w + o * in, in, q + o * in, &scale[o]), TK_OK);
    assert_int_equal(tk_dequantize_s8(q + o * in, in, scale[o], deq + o * in), TK_OK);
  }
  tk_qlinear *a, *b;
  assert_int_equal(tk_qlinear_create_s8(q, scale, out, in, bias, &a), TK_OK);
  assert_int_equal(tk_qlinear_create(deq, out, in, bias, &b), TK_OK);
  assert_int_equal(tk_qlinear_out_features(a), out);
  assert_int_equal(tk_qlinear_in_features(a), in);
  assert_int_equal(tk_qlinear_forward(a, x, batch, y1), TK_OK);
  assert_int_equal(tk_qlinear_forward(b, x, batch, y2), TK_OK);
  assert_memory_equal(y1, y2, sizeof y1);
  /* Export gives back exactly what was imported. */
  assert_int_equal(tk_qlinear_export(b, q2, scale2, bias2), TK_OK);
  assert_memory_equal(q2, q, out * in);
  assert_memory_equal(scale2, scale, sizeof scale);
  assert_memory_equal(bias2, bias, sizeof bias2);
  assert_int_equal(tk_qlinear_export(a, q2, scale2, NULL), TK_OK);
  assert_memory_equal(q2, q, out * in);
  tk_qlinear_destroy(a);
  tk_qlinear_destroy(b);

  /* Bad input: nothing created, *out untouched. */
  tk_qlinear *keep = (tk_qlinear *)(uintptr_t)1, *l = keep;
  assert_int_equal(tk_qlinear_create_s8(NULL, scale, out, in, NULL, &l), TK_ERR_ARG);
  assert_int_equal(tk_qlinear_create_s8(q, NULL, out, in, NULL, &l), TK_ERR_ARG);
  assert_int_equal(tk_qlinear_create_s8(q, scale, 0, in, NULL, &l), TK_ERR_ARG);
  assert_int_equal(tk_qlinear_create_s8(q, scale, out, 0, NULL, &l), TK_ERR_ARG);
  assert_int_equal(tk_qlinear_create_s8(q, scale, out, in, NULL, NULL), TK_ERR_ARG);
  const float bad_scales[] = {0.0f, -1.0f, NAN, INFINITY};
  for (size_t i = 0; i < 4; i++) {
    const float saved = scale[5];
    scale[5] = bad_scales[i];
    assert_int_equal(tk_qlinear_create_s8(q, scale, out, in, NULL, &l), TK_ERR_ARG);
    scale[5] = saved;
  }
  q[7] = -128;
  assert_int_equal(tk_qlinear_create_s8(q, scale, out, in, NULL, &l), TK_ERR_ARG);
  q[7] = 0;
  bias[3] = NAN;
  assert_int_equal(tk_qlinear_create_s8(q, scale, out, in, bias, &l), TK_ERR_ARG);
  assert_int_equal(tk_qlinear_create_s8(q, scale, out, TK_QLINEAR_MAX_IN + 1, NULL, &l),
                   TK_ERR_OVERFLOW);
  assert_ptr_equal(l, keep);
  assert_int_equal(tk_qlinear_export(NULL, q2, scale2, NULL), TK_ERR_ARG);
  assert_int_equal(tk_qlinear_out_features(NULL), 0);
  free(w), free(bias), free(x), free(deq), free(q), free(q2);
}

static void qlinear_create_rows_matches_concatenated(void **state) {
  (void)state;
  tk_rng r = {0xe5};
  const size_t in = 50, rows[3] = {5, 16, 9}, out = 30, batch = 3;
  float *w = random_floats(&r, out * in, -1, 1), *bias = random_floats(&r, out, -1, 1);
  float *x = random_floats(&r, batch * in, -1, 1);
  float y1[90], y2[90];
  /* Block 1 has no bias: zeros, as in the concatenated bias below. */
  for (size_t o = 5; o < 21; o++) bias[o] = 0.0f;
  const tk_qlinear_rows blocks[3] = {
      {w, rows[0], bias}, {w + 5 * in, rows[1], NULL}, {w + 21 * in, rows[2], bias + 21}};
  tk_qlinear *a, *b;
  assert_int_equal(tk_qlinear_create_rows(blocks, 3, in, &a), TK_OK);
  assert_int_equal(tk_qlinear_create(w, out, in, bias, &b), TK_OK);
  assert_int_equal(tk_qlinear_out_features(a), out);
  assert_int_equal(tk_qlinear_forward(a, x, batch, y1), TK_OK);
  assert_int_equal(tk_qlinear_forward(b, x, batch, y2), TK_OK);
  assert_memory_equal(y1, y2, sizeof y1);
  tk_qlinear_destroy(a);
  tk_qlinear_destroy(b);

  tk_qlinear *keep = (tk_qlinear *)(uintptr_t)1, *l = keep;
  tk_qlinear_rows bad[3] = {blocks[0], blocks[1], blocks[2]};
  assert_int_equal(tk_qlinear_create_rows(NULL, 3, in, &l), TK_ERR_ARG);
  assert_int_equal(tk_qlinear_create_rows(blocks, 0, in, &l), TK_ERR_ARG);
  bad[1].w = NULL;
  assert_int_equal(tk_qlinear_create_rows(bad, 3, in, &l), TK_ERR_ARG);
  bad[1] = blocks[1];
  bad[2].rows = 0;
  assert_int_equal(tk_qlinear_create_rows(bad, 3, in, &l), TK_ERR_ARG);
  bad[2] = blocks[2];
  bad[2].rows = SIZE_MAX;
  assert_int_equal(tk_qlinear_create_rows(bad, 3, in, &l), TK_ERR_OVERFLOW);
  bad[2] = blocks[2];
  w[21 * in + 3] = INFINITY;
  assert_int_equal(tk_qlinear_create_rows(bad, 3, in, &l), TK_ERR_ARG);
  assert_ptr_equal(l, keep);
  free(w), free(bias), free(x);
}

/* Functions that read an input while writing an overlapping output refuse it;
   qlinear_forward quantizes first, so in place works. */
static void overlapping_outputs_rejected_or_handled(void **state) {
  (void)state;
  tk_rng r = {0xe6};
  const size_t n = 16;
  float *buf = random_floats(&r, 4 * n * n, -1, 1), *w = random_floats(&r, n * n, -1, 1);
  float *x = buf, *keep = malloc(4 * n * n * sizeof(float));
  assert_non_null(keep);
  memcpy(keep, buf, 4 * n * n * sizeof(float));
  assert_int_equal(tk_linear_f32(w, n, n, NULL, x, 2, x), TK_ERR_ARG);
  assert_int_equal(tk_linear_f32(w, n, n, NULL, x, 2, x + n + 3), TK_ERR_ARG);
  assert_int_equal(tk_linear_f32(x, n, n, NULL, buf + 2 * n * n, 1, x + 5), TK_ERR_ARG);
  assert_int_equal(tk_linear_f32(w, n, n, x, buf + n * n, 1, x), TK_ERR_ARG);
  assert_memory_equal(buf, keep, 4 * n * n * sizeof(float));
  assert_int_equal(tk_linear_f32(w, n, n, NULL, x, 2, x + 2 * n), TK_OK); /* adjacent: fine */

  tk_csr *a;
  assert_int_equal(tk_csr_from_dense(w, n, n, 0.5f, &a), TK_OK);
  memcpy(buf, keep, 4 * n * n * sizeof(float));
  assert_int_equal(tk_spmv(a, x, x), TK_ERR_ARG);
  assert_int_equal(tk_spmv(a, x, x + n - 1), TK_ERR_ARG);
  assert_int_equal(tk_spmm(a, x, 3, x + 3 * n - 1), TK_ERR_ARG);
  assert_memory_equal(buf, keep, 4 * n * n * sizeof(float));
  assert_int_equal(tk_spmv(a, x, x + n), TK_OK);
  tk_csr_destroy(a);

  /* qlinear in place: the same as into another array. */
  tk_qlinear *l;
  float want[32];
  assert_int_equal(tk_qlinear_create(w, n, n, NULL, &l), TK_OK);
  memcpy(buf, keep, 2 * n * sizeof(float));
  assert_int_equal(tk_qlinear_forward(l, buf, 2, want), TK_OK);
  assert_int_equal(tk_qlinear_forward(l, buf, 2, buf), TK_OK);
  assert_memory_equal(buf, want, sizeof want);
  tk_qlinear_destroy(l);
  free(buf), free(w), free(keep);
}

static void pool_lifecycle_and_bad_input(void **state) {
  (void)state;
  tk_pool *p = NULL;
  assert_int_equal(tk_pool_create(1, NULL), TK_ERR_ARG);
  /* Flags: one of TK_POOL_SPIN and TK_POOL_YIELD, or neither; else TK_ERR_ARG, nothing made. */
  assert_int_equal(tk_pool_create_ex(1, TK_POOL_SPIN | TK_POOL_YIELD, &p), TK_ERR_ARG);
  assert_int_equal(tk_pool_create_ex(1, 4, &p), TK_ERR_ARG);
  assert_int_equal(tk_pool_create_ex(1, TK_POOL_SPIN, NULL), TK_ERR_ARG);
  assert_null(p);
  assert_int_equal(tk_pool_wrap(NULL, &p), TK_ERR_ARG);
  const tk_status st = tk_pool_create(0, &p);
  if (st == TK_ERR_UNSUPPORTED) {
    print_message("  built without pthreadpool: tk_pool_* answer TK_ERR_UNSUPPORTED\n");
    assert_null(p);
  } else {
    assert_int_equal(st, TK_OK);
    assert_true(tk_pool_threads(p) >= 1);
    const tk_exec e = tk_pool_exec(p);
    assert_non_null(e.parallel_for);
    assert_int_equal(e.n_threads, tk_pool_threads(p));
    tk_pool_destroy(p);
  }
  assert_int_equal(tk_pool_threads(NULL), 0);
  tk_pool_destroy(NULL);
  const tk_exec none = tk_pool_exec(NULL);
  assert_null(none.parallel_for);
  assert_null(none.workspace);
}

int main(void) {
  const tk_test_case tests[] = {
      TK_VARIANT_TEST(qlinear_parts_bit_identical_to_one_part),
      TK_TEST(qlinear_ex_bad_input_writes_nothing),
      TK_VARIANT_TEST(linear_f32_parts_match_one_part),
      TK_VARIANT_TEST(sparse_parts_bit_identical_to_one_part),
      TK_VARIANT_TEST(attend_parts_bit_identical_to_one_part),
      TK_VARIANT_TEST(attend_split_k_matches_one_part),
      TK_VARIANT_TEST(attention_f32_parts_match_one_part),
      TK_TEST(attention_f32_ex_bad_input_writes_nothing),
      TK_TEST(qlinear_create_s8_matches_create_of_dequantized),
      TK_TEST(qlinear_create_rows_matches_concatenated),
      TK_TEST(overlapping_outputs_rejected_or_handled),
      TK_TEST(pool_lifecycle_and_bad_input),
  };
  const int rc = TK_RUN_TESTS("embed", tests);
  for (size_t i = 0; i < 8; i++) tk_pool_destroy(pools[i]);
  return rc;
}
