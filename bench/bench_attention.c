/* Attention benchmarks: decode steps on a KV cache (f32/f16/s8) per variant against the read roofline, and incremental vs recompute. */
#include <stdio.h>

#include "bench/bench_common.h"

/* The shapes of the issue: 32 query heads of 128 dims, 8 or 32 kv heads. */
enum { N_HEADS = 32, HEAD_DIM = 128 };

typedef struct att_case {
  tk_dtype dtype;
} att_case;

static const att_case case_f32 = {TK_DTYPE_F32}, case_f16 = {TK_DTYPE_F16}, case_s8 = {TK_DTYPE_S8};

static size_t elem_bytes(tk_dtype dt) { return dt == TK_DTYPE_F32 ? 4 : dt == TK_DTYPE_F16 ? 2 : 1; }

/* Bytes a decode step over L positions reads from the cache: K and V rows,
   plus the two scales of each s8 row. */
static double kv_bytes(tk_dtype dt, size_t L, size_t n_kv) {
  double rows = 2.0 * (double)n_kv * (double)L;
  return rows * HEAD_DIM * (double)elem_bytes(dt) + (dt == TK_DTYPE_S8 ? rows * 4.0 : 0.0);
}

/* A sliding cache of capacity L, full: L random tokens (the same ones for
   every call with the same shape). NULL if it cannot be made. */
static tk_kv_cache *filled_cache(tk_dtype dt, size_t L, size_t n_kv) {
  tk_kv_config cfg = {n_kv, HEAD_DIM, L, dt, true, TK_KV_MEMORY_DEFAULT};
  tk_kv_cache *c;
  if (tk_kv_cache_create(&cfg, &c) != TK_OK) return NULL;
  /* Fill in chunks of 256 tokens so the staging buffer stays small. */
  const size_t chunk = 256, row = n_kv * HEAD_DIM;
  float *k = tkb_alloc(chunk * row * sizeof(float)), *v = tkb_alloc(chunk * row * sizeof(float));
  bool ok = true;
  for (size_t t = 0; t < L && ok; t += chunk) {
    size_t n = L - t < chunk ? L - t : chunk;
    tkb_fill_f32(k, n * row, 10 + t, -1.0f, 1.0f);
    tkb_fill_f32(v, n * row, 20 + t, -1.0f, 1.0f);
    ok = tk_kv_cache_append(c, k, v, n) == TK_OK;
  }
  tkb_free(k);
  tkb_free(v);
  if (!ok) {
    tk_kv_cache_destroy(c);
    return NULL;
  }
  return c;
}

/* A filled cache and one more token's q, k, v. Made once per run, outside
   the timing. */
typedef struct bench_cache {
  tk_kv_cache *c;
  float *q, *k, *v, *out;
} bench_cache;

/* The row's variant, storage type and shape, and its cache; false (the row
   skipped) when the variant or the cache is not available. */
static bool bench_cache_new(gb_state *st, tk_dtype *dt, size_t *L, size_t *n_kv, bench_cache *b) {
  if (!tkb_variant(st)) return false;
  *dt = ((const att_case *)tkb_user(st))->dtype;
  *L = (size_t)gb_range(st, 0), *n_kv = (size_t)gb_range(st, 1);
  if (!(b->c = filled_cache(*dt, *L, *n_kv))) {
    gb_skip(st, "cannot make the cache");
    return false;
  }
  const size_t row = *n_kv * HEAD_DIM;
  b->q = tkb_alloc(N_HEADS * HEAD_DIM * sizeof(float));
  b->out = tkb_alloc(N_HEADS * HEAD_DIM * sizeof(float));
  b->k = tkb_alloc(row * sizeof(float));
  b->v = tkb_alloc(row * sizeof(float));
  tkb_fill_f32(b->q, N_HEADS * HEAD_DIM, 3, -1.0f, 1.0f);
  tkb_fill_f32(b->k, row, 4, -1.0f, 1.0f);
  tkb_fill_f32(b->v, row, 5, -1.0f, 1.0f);
  return true;
}

static void bench_cache_free(bench_cache *b) {
  tk_kv_cache_destroy(b->c);
  tkb_free(b->q), tkb_free(b->out), tkb_free(b->k), tkb_free(b->v);
}

/* A decode step reads the K+V bytes of the cache once (working set: `caches`
   of them) and does 2 ops per multiply-add, q.k and p.v: 4 per head,
   position and dim. */
static void step_counters(gb_state *st, tk_dtype dt, size_t L, size_t n_kv, size_t caches) {
  const double bytes = kv_bytes(dt, L, n_kv);
  tkb_counters(st, TKB_PEAK_F32, 4.0 * N_HEADS * HEAD_DIM * (double)L, bytes,
               caches * (size_t)bytes);
}

/* One decode step's attention (tk_attend, n_q_tokens = 1) over a full cache of
   L positions: what the read roofline bounds. */
static void bm_attend(gb_state *st) {
  tk_dtype dt;
  size_t L, n_kv;
  bench_cache b;
  if (!bench_cache_new(st, &dt, &L, &n_kv, &b)) return;
  GB_LOOP(st) {
    tk_attend(b.c, b.q, 1, N_HEADS, b.out);
    gb_escape(b.out);
  }
  step_counters(st, dt, L, n_kv, 1);
  bench_cache_free(&b);
}

/* Thread scaling of a decode step, best ISA, wall clock: tk_attend_ex with a
   caller workspace, L = 4096, f32 cache, 32 query heads. Args: kv heads,
   threads; the row's context is its path (tkb_path). With fewer kv heads
   than threads the step splits positions (split-K). */
static void bm_threads(gb_state *st) {
  const size_t n_kv = (size_t)gb_range(st, 0), L = 4096;
  tk_exec e = tkb_exec(*(const tkb_path *)gb_ctx(st), (size_t)gb_range(st, 1));
  tk_kv_cache *c = filled_cache(TK_DTYPE_F32, L, n_kv);
  if (!c) {
    gb_skip(st, "cannot make the cache");
    return;
  }
  float *q = tkb_alloc(N_HEADS * HEAD_DIM * sizeof(float)), *out = tkb_alloc(N_HEADS * HEAD_DIM * sizeof(float));
  tkb_fill_f32(q, N_HEADS * HEAD_DIM, 3, -1.0f, 1.0f);
  e.workspace_bytes = tk_attend_workspace_bytes(c, 1, N_HEADS, &e);
  e.workspace = tkb_alloc(e.workspace_bytes);
  GB_LOOP(st) {
    tk_attend_ex(&e, c, q, 1, N_HEADS, out);
    gb_escape(out);
  }
  /* Not a tkb_register'ed row: the counters name the active ISA themselves. */
  const double bytes = kv_bytes(TK_DTYPE_F32, L, n_kv);
  tkb_counters_isa(st, tk_isa_active(), TKB_PEAK_F32, 4.0 * N_HEADS * HEAD_DIM * (double)L, bytes,
                   (size_t)bytes);
  tkb_free(e.workspace), tkb_free(q), tkb_free(out);
  tk_kv_cache_destroy(c);
}

/* A decode step as a model runs it: the caches of its other layers pass
   through the CPU caches between two steps of one layer, so each layer's K/V
   come from DRAM. Here the layers are caches of the same tokens, enough of
   them to hold four times the last cache level, attended in turn: one
   iteration is one layer's step on a cold cache. */
static void bm_decode(gb_state *st) {
  tk_dtype dt;
  size_t L, n_kv;
  bench_cache b;
  if (!bench_cache_new(st, &dt, &L, &n_kv, &b)) return;
  const size_t llc = tkb_roofline_get()->level_capacity[TKB_L3];
  size_t layers = 4 * llc / (size_t)kv_bytes(dt, L, n_kv) + 1;
  if (layers < 2) layers = 2;
  /* Layer 0 is the bench cache. */
  tk_kv_cache **c = tkb_alloc(layers * sizeof *c);
  c[0] = b.c;
  size_t made = 1;
  while (made < layers && (c[made] = filled_cache(dt, L, n_kv))) made++;
  if (made == layers) {
    size_t l = 0;
    GB_LOOP(st) {
      tk_attend(c[l], b.q, 1, N_HEADS, b.out);
      gb_escape(b.out);
      l = l + 1 == layers ? 0 : l + 1;
    }
    step_counters(st, dt, L, n_kv, layers);
    gb_counter(st, "layers", (double)layers, GB_PLAIN);
  } else {
    gb_skip(st, "cannot make the layers' caches");
  }
  for (size_t i = 1; i < made; i++) tk_kv_cache_destroy(c[i]);
  tkb_free(c);
  bench_cache_free(&b);
}

/* The incremental step a runtime pays per generated token: append the new
   token's k, v (the sliding cache drops its oldest) and attend its query. */
static void bm_step(gb_state *st) {
  tk_dtype dt;
  size_t L, n_kv;
  bench_cache b;
  if (!bench_cache_new(st, &dt, &L, &n_kv, &b)) return;
  GB_LOOP(st) {
    tk_kv_cache_append(b.c, b.k, b.v, 1);
    tk_attend(b.c, b.q, 1, N_HEADS, b.out);
    gb_escape(b.out);
  }
  step_counters(st, dt, L, n_kv, 1);
  bench_cache_free(&b);
}

/* Thread scaling of the recompute baseline, best ISA, wall clock:
   tk_attention_f32_ex (causal, 32 query heads) with a caller workspace.
   L = 512. Args: kv heads, threads; the row's context is its path. */
static void bm_threads_recompute(gb_state *st) {
  const size_t L = 512, n_kv = (size_t)gb_range(st, 0);
  tk_exec e = tkb_exec(*(const tkb_path *)gb_ctx(st), (size_t)gb_range(st, 1));
  const size_t qn = L * N_HEADS * HEAD_DIM, kn = L * n_kv * HEAD_DIM;
  float *q = tkb_alloc(qn * sizeof(float)), *out = tkb_alloc(qn * sizeof(float));
  float *k = tkb_alloc(kn * sizeof(float)), *v = tkb_alloc(kn * sizeof(float));
  tkb_fill_f32(q, qn, 6, -1.0f, 1.0f);
  tkb_fill_f32(k, kn, 7, -1.0f, 1.0f);
  tkb_fill_f32(v, kn, 8, -1.0f, 1.0f);
  e.workspace_bytes = tk_attention_f32_workspace_bytes(L, N_HEADS, n_kv, HEAD_DIM, &e);
  e.workspace = tkb_alloc(e.workspace_bytes);
  GB_LOOP(st) {
    tk_attention_f32_ex(&e, q, k, v, L, N_HEADS, n_kv, HEAD_DIM, true, out);
    gb_escape(out);
  }
  const double pairs = (double)L * (double)(L + 1) / 2.0;
  tkb_counters_isa(st, tk_isa_active(), TKB_PEAK_F32, 4.0 * N_HEADS * HEAD_DIM * pairs, 0.0, 0);
  tkb_free(e.workspace), tkb_free(q), tkb_free(out), tkb_free(k), tkb_free(v);
}

/* Without a cache, the token at position L costs causal attention over the
   whole prefix: tk_attention_f32 over L tokens. */
static void bm_recompute(gb_state *st) {
  if (!tkb_variant(st)) return;
  const size_t L = (size_t)gb_range(st, 0), n_kv = (size_t)gb_range(st, 1);
  const size_t qn = L * N_HEADS * HEAD_DIM, kn = L * n_kv * HEAD_DIM;
  float *q = tkb_alloc(qn * sizeof(float)), *out = tkb_alloc(qn * sizeof(float));
  float *k = tkb_alloc(kn * sizeof(float)), *v = tkb_alloc(kn * sizeof(float));
  tkb_fill_f32(q, qn, 6, -1.0f, 1.0f);
  tkb_fill_f32(k, kn, 7, -1.0f, 1.0f);
  tkb_fill_f32(v, kn, 8, -1.0f, 1.0f);
  GB_LOOP(st) {
    tk_attention_f32(q, k, v, L, N_HEADS, n_kv, HEAD_DIM, true, out);
    gb_escape(out);
  }
  /* Causal: L (L + 1) / 2 query-key pairs per head. */
  const double pairs = (double)L * (double)(L + 1) / 2.0;
  tkb_counters(st, TKB_PEAK_F32, 4.0 * N_HEADS * HEAD_DIM * pairs, 0.0, 0);
  tkb_free(q), tkb_free(out), tkb_free(k), tkb_free(v);
}

/* ---- KV memory policy (tk_kv_config.memory) ---- */

/* A decoder's caches: KVM_LAYERS layers of 8 kv heads x 128 dims, f32,
   capacity KVM_CAP (a model's context length: 16 MiB per layer, more than
   most of it ever holds). */
enum { KVM_KV = 8, KVM_CAP = 2048, KVM_LAYERS = 8 };

static tk_kv_cache *kvm_cache(tk_kv_memory memory) {
  tk_kv_config cfg = {KVM_KV, HEAD_DIM, KVM_CAP, TK_DTYPE_F32, false, memory};
  tk_kv_cache *c;
  return tk_kv_cache_create(&cfg, &c) == TK_OK ? c : NULL;
}

/* The first token's append to a new cache, wall clock: the page faults of
   every kv head's first rows (with huge pages: every head's whole 2 MiB,
   zeroed). Create and destroy are outside the timing. Context: the policy. */
static void bm_kvm_first_append(gb_state *st) {
  const tk_kv_memory memory = *(const tk_kv_memory *)gb_ctx(st);
  const size_t row = KVM_KV * HEAD_DIM;
  float *k = tkb_alloc(row * sizeof(float)), *v = tkb_alloc(row * sizeof(float));
  tkb_fill_f32(k, row, 1, -1.0f, 1.0f);
  tkb_fill_f32(v, row, 2, -1.0f, 1.0f);
  while (gb_keep_running(st)) {
    gb_pause(st);
    tk_kv_cache *c = kvm_cache(memory);
    gb_resume(st);
    if (!c || tk_kv_cache_append(c, k, v, 1) != TK_OK) {
      tk_kv_cache_destroy(c);
      gb_skip(st, "cache not made");
      break;
    }
    gb_pause(st);
    tk_kv_cache_destroy(c);
    gb_resume(st);
  }
  tkb_free(k), tkb_free(v);
}

/* Steady decode, wall clock per token: every layer appends one token and
   attends with 32 query heads over the L + 1 positions it then holds, and is
   truncated back to L (so L stays put). Caches made and filled outside the
   timing. Arg: L; context: the policy. */
static void bm_kvm_decode(gb_state *st) {
  const tk_kv_memory memory = *(const tk_kv_memory *)gb_ctx(st);
  const size_t L = (size_t)gb_range(st, 0), row = KVM_KV * HEAD_DIM;
  tk_kv_cache *c[KVM_LAYERS] = {NULL};
  float *k = tkb_alloc(L * row * sizeof(float)), *v = tkb_alloc(L * row * sizeof(float));
  float *q = tkb_alloc(N_HEADS * HEAD_DIM * sizeof(float)), *out = tkb_alloc(N_HEADS * HEAD_DIM * sizeof(float));
  tkb_fill_f32(k, L * row, 3, -1.0f, 1.0f);
  tkb_fill_f32(v, L * row, 4, -1.0f, 1.0f);
  tkb_fill_f32(q, N_HEADS * HEAD_DIM, 5, -1.0f, 1.0f);
  bool ok = true;
  for (size_t l = 0; l < KVM_LAYERS && ok; l++)
    ok = (c[l] = kvm_cache(memory)) && tk_kv_cache_append(c[l], k, v, L) == TK_OK;
  if (!ok) gb_skip(st, "caches not made");
  while (ok && gb_keep_running(st))
    for (size_t l = 0; l < KVM_LAYERS; l++) {
      tk_kv_cache_append(c[l], k, v, 1);
      tk_attend(c[l], q, 1, N_HEADS, out);
      tk_kv_cache_truncate(c[l], L);
    }
  for (size_t l = 0; l < KVM_LAYERS; l++) tk_kv_cache_destroy(c[l]);
  tkb_free(k), tkb_free(v), tkb_free(q), tkb_free(out);
}

static void register_kv_memory(void) {
  static const struct {
    const char *name;
    tk_kv_memory memory;
  } policies[] = {{"pages", TK_KV_MEMORY_PAGES}, {"huge", TK_KV_MEMORY_HUGE}};
  static const int64_t held[] = {128, 512, 2047};
  char name[64];
  for (size_t i = 0; i < 2; i++) {
    snprintf(name, sizeof name, "kvmem/first_append/%s", policies[i].name);
    gb_unit(gb_use_real_time(gb_register(name, bm_kvm_first_append, (void *)&policies[i].memory)), GB_US);
    snprintf(name, sizeof name, "kvmem/decode/%s", policies[i].name);
    gb_bench *b = gb_arg_name(gb_use_real_time(gb_register(name, bm_kvm_decode, (void *)&policies[i].memory)), "L");
    gb_unit(b, GB_US);
    for (size_t j = 0; j < sizeof held / sizeof held[0]; j++) gb_arg(b, held[j]);
  }
}

int main(int argc, char **argv) {
  static const int64_t lengths[] = {8, 32, 96, 256, 512, 1024, 2048, 4096};
  static const int64_t kv_heads[] = {8, 32};
  static const struct {
    const char *name;
    const att_case *c;
  } dtypes[] = {{"f32", &case_f32}, {"f16", &case_f16}, {"s8", &case_s8}};
  const size_t n_len = sizeof lengths / sizeof lengths[0];
  char name[64];
  for (size_t di = 0; di < 3; di++)
    for (int cold = 0; cold < 2; cold++) {
      snprintf(name, sizeof name, "%s/%s", cold ? "decode" : "attend", dtypes[di].name);
      TKB_FOR_EACH_ISA(isa) {
        gb_bench *b = gb_arg_names2(
            tkb_register(name, isa, cold ? bm_decode : bm_attend, dtypes[di].c), "L", "kv");
        for (size_t h = 0; h < 2; h++)
          for (size_t i = 0; i < n_len; i++) gb_args2(b, lengths[i], kv_heads[h]);
      }
    }
  /* Incremental vs recompute: f32 storage, every variant. Recompute grows as
     L^2 (seconds per call at L = 4096 on AVX2, ten times that in scalar): the
     longest two lengths only on the best ISA. */
  const tk_isa best = tk_isa_best();
  TKB_FOR_EACH_ISA(isa) {
    gb_bench *s = gb_arg_names2(tkb_register("step/f32", isa, bm_step, &case_f32), "L", "kv");
    gb_bench *r = gb_arg_names2(tkb_register("recompute/f32", isa, bm_recompute, NULL), "L", "kv");
    gb_unit(r, GB_US);
    for (size_t h = 0; h < 2; h++)
      for (size_t i = 0; i < n_len; i++) {
        gb_args2(s, lengths[i], kv_heads[h]);
        if (lengths[i] <= 1024 || isa == best) gb_args2(r, lengths[i], kv_heads[h]);
      }
  }
  /* Thread scaling: decode steps (kv 1 and 2 split positions on 2 or more
     threads), recompute at L = 512, and the read roofline they meet. */
  static const tkb_path paths[TKB_PATHS] = {TKB_POOL_YIELD, TKB_HOST, TKB_POOL_SPIN};
  static const int64_t thread_kv[] = {1, 2, 8, 32};
  for (int p = 0; p < TKB_PATHS; p++) {
    snprintf(name, sizeof name, "threads/attend/f32/L:4096/%s", tkb_path_name(paths[p]));
    gb_bench *t = gb_use_real_time(gb_register(name, bm_threads, (void *)&paths[p]));
    gb_arg_names2(t, "kv", "threads");
    for (size_t h = 0; h < sizeof thread_kv / sizeof thread_kv[0]; h++)
      for (size_t n = 1; n <= tkb_max_threads(); n++) gb_args2(t, thread_kv[h], (int64_t)n);
    snprintf(name, sizeof name, "threads/recompute/f32/L:512/%s", tkb_path_name(paths[p]));
    gb_bench *r = gb_register(name, bm_threads_recompute, (void *)&paths[p]);
    gb_arg_names2(gb_use_real_time(gb_unit(r, GB_MS)), "kv", "threads");
    for (size_t h = 0; h < sizeof thread_kv / sizeof thread_kv[0]; h++)
      for (size_t n = 1; n <= tkb_max_threads(); n++) gb_args2(r, thread_kv[h], (int64_t)n);
  }
  register_kv_memory();
  tkb_register_read_threads();
  return tkb_main(argc, argv);
}
