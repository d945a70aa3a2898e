/* What every tinykern bench binary shares: variant registration, buffers, measured rooflines, counters, main. */
#include "bench/bench_common.h"

#include <cpuinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/roofline.h"
#include "dispatch/isa_list.h"
#include "report/cold_set.h"
#include "tk_build_config.h"
#include "tkb_rooflines.h"

#ifdef TK_HAVE_CBLAS
#include <cblas.h>
#endif

/* ---- variants ---- */

/* What tkb_register hands to the shim as the run's context; lives as long as
   the process, like the registration itself. */
typedef struct tkb_reg {
  tk_isa isa;
  const void *user;
} tkb_reg;

gb_bench *tkb_register(const char *name, tk_isa isa, gb_fn fn, const void *user) {
  char full[256];
  snprintf(full, sizeof full, "%s/%s", name, tk_isa_name(isa));
  tkb_reg *reg = malloc(sizeof *reg);
  if (!reg) {
    fprintf(stderr, "tkb_register: out of memory\n");
    exit(1);
  }
  reg->isa = isa;
  reg->user = user;
  return gb_register(full, fn, reg);
}

tk_isa tkb_isa(gb_state *st) { return ((const tkb_reg *)gb_ctx(st))->isa; }

const void *tkb_user(gb_state *st) { return ((const tkb_reg *)gb_ctx(st))->user; }

const tk_kernels *tkb_variant(gb_state *st) {
  tk_isa isa = tkb_isa(st);
  if (tk_isa_select(isa) != TK_OK) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s: not supported by this CPU (not timed)", tk_isa_name(isa));
    gb_skip(st, msg);
    return NULL;
  }
  return tk_active();
}

/* ---- buffers ---- */

void *tkb_alloc(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  void *p = aligned_alloc(64, rounded ? rounded : 64);
  if (!p) {
    fprintf(stderr, "tkb_alloc: cannot allocate %zu bytes\n", bytes);
    exit(1);
  }
  return p;
}

void tkb_free(void *p) { free(p); }

/* splitmix64: tiny, fast, and the same sequence everywhere. */
static uint64_t tkb_next(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

void tkb_fill_s8(int8_t *p, size_t n, uint64_t seed) {
  uint64_t s = seed;
  for (size_t i = 0; i < n; i++) p[i] = (int8_t)(uint8_t)(tkb_next(&s) >> 56);
}

void tkb_fill_f32(float *p, size_t n, uint64_t seed, float lo, float hi) {
  uint64_t s = seed;
  for (size_t i = 0; i < n; i++)
    p[i] = lo + (hi - lo) * (float)((double)(tkb_next(&s) >> 40) / (double)(1u << 24));
}

/* ---- rooflines ---- */

/* The roofline loops of the ISAs built natively (bench/roofline_<isa>.c, or
   the fallback's, listed by meson in tkb_rooflines.h); NULL for the others,
   whose instructions this target cannot run. */
static const tkb_roofline_fns *tkb_roofline_fns_of(tk_isa isa) {
#define TKB_ROOFLINE_ROW(ID, owner) [TK_ISA_##ID] = &tkb_roofline_##owner,
  static const tkb_roofline_fns *const fns[TK_ISA_COUNT] = {TKB_NATIVE_ROOFLINES(TKB_ROOFLINE_ROW)};
  return (unsigned)isa < TK_ISA_COUNT ? fns[isa] : NULL;
}

/* The same clock Google Benchmark reports by default: this thread's CPU time,
   so time the shared machine gives to others is not counted. */
static double tkb_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Peaks are maxima: take the best of several runs of at least 20 ms each. */
#define TKB_ROOF_RUNS 5
#define TKB_ROOF_SECONDS 0.02

static volatile float tkb_sink_f32;
static volatile int32_t tkb_sink_s32;

/* Best of the stream counts 1, 2 and 4 (see roofline_body.h); *streams_out
   gets the count that won, which the roofline row then uses. */
static double tkb_measure_read(const tkb_roofline_fns *f, size_t bytes, int *streams_out) {
  size_t n = bytes / sizeof(float) / 64 * 64;
  float *x = tkb_alloc(n * sizeof(float));
  tkb_fill_f32(x, n, 1, -1.0f, 1.0f);
  double best = 0.0;
  *streams_out = 1;
  for (int streams = 1; streams <= 4; streams *= 2) {
    size_t passes = 1;
    for (int run = 0; run < TKB_ROOF_RUNS; run++) {
      double t;
      for (;;) {
        double t0 = tkb_now();
        for (size_t p = 0; p < passes; p++) tkb_sink_f32 = f->read_f32(x, n, streams);
        t = tkb_now() - t0;
        if (t >= TKB_ROOF_SECONDS) break;
        passes *= 2;
      }
      double bps = (double)passes * (double)(n * sizeof(float)) / t;
      if (bps > best) {
        best = bps;
        *streams_out = streams;
      }
    }
  }
  tkb_free(x);
  return best;
}

/* kind 0: int8 MAC sequence, 1: fp32 FMA. Returns ops/s (2 per multiply-add). */
static double tkb_measure_peak(const tkb_roofline_fns *f, int kind) {
  size_t iters = 1024;
  double best = 0.0;
  for (int run = 0; run < TKB_ROOF_RUNS; run++) {
    double t;
    for (;;) {
      double t0 = tkb_now();
      if (kind == 0)
        tkb_sink_s32 = f->s8_mac(iters);
      else
        tkb_sink_f32 = f->f32_fma(iters);
      t = tkb_now() - t0;
      if (t >= TKB_ROOF_SECONDS) break;
      iters *= 2;
    }
    double per_iter = (double)(kind == 0 ? f->s8_macs_per_iter : f->f32_fmas_per_iter);
    double ops = 2.0 * per_iter * (double)iters / t;
    if (ops > best) best = ops;
  }
  return best;
}

/* Cache sizes from cpuinfo; typical values when it cannot tell (under qemu).
   The last level is at least the largest cache any source reports
   (report/cold_set.h: cpuinfo or sysfs): on a VM cpuinfo's L3 can be smaller
   than the one the data actually stays in (8 MiB reported while a 16 MiB
   layer streamed from L3), and a set judged against DRAM would pass 100%. */
static void tkb_levels(tkb_roofline *r) {
  size_t l1 = 32 << 10, l2 = 512 << 10, l3 = 8 << 20;
  if (cpuinfo_initialize()) {
    if (cpuinfo_get_l1d_caches_count() && cpuinfo_get_l1d_cache(0)->size)
      l1 = cpuinfo_get_l1d_cache(0)->size;
    if (cpuinfo_get_l2_caches_count() && cpuinfo_get_l2_cache(0)->size)
      l2 = cpuinfo_get_l2_cache(0)->size;
    if (cpuinfo_get_l3_caches_count() && cpuinfo_get_l3_cache(0)->size)
      l3 = cpuinfo_get_l3_cache(0)->size;
  }
  size_t largest = tk_cache_largest();
  if (largest > l3) l3 = largest;
  /* Half of L1 and L2 leaves room for whatever else lives there; a quarter of
     the L3, which other cores (and, in a VM, other tenants) share; DRAM is
     measured over a cold set, the rule the report's cold runs follow too
     (report/cold_set.h: 8x the largest cache any source reports, at least
     256 MiB; a smaller set stays partly cached on a VM whose cpuinfo
     under-reports the L3). */
  size_t dram = tk_cold_set_bytes();
  const size_t cap[TKB_LEVEL_COUNT] = {l1, l2, l3, SIZE_MAX};
  const size_t buf[TKB_LEVEL_COUNT] = {l1 / 2, l2 / 2, l3 / 4, dram};
  memcpy(r->level_capacity, cap, sizeof cap);
  memcpy(r->level_buffer, buf, sizeof buf);
}

static tkb_roofline tkb_roof;
static bool tkb_roof_done;

const tkb_roofline *tkb_roofline_get(void) {
  if (tkb_roof_done) return &tkb_roof;
  tkb_levels(&tkb_roof);
  tkb_roof.read_isa = tk_isa_best();
  const tkb_roofline_fns *best = tkb_roofline_fns_of(tkb_roof.read_isa);
  for (int l = 0; l < TKB_LEVEL_COUNT; l++)
    tkb_roof.read_bps[l] =
        best ? tkb_measure_read(best, tkb_roof.level_buffer[l], &tkb_roof.read_streams[l]) : 0.0;
  for (tk_isa isa = TK_ISA_SCALAR; isa < TK_ISA_COUNT; isa++) {
    const tkb_roofline_fns *f = tkb_roofline_fns_of(isa);
    bool runs = f && tk_isa_available(isa);
    tkb_roof.s8_ops[isa] = runs ? tkb_measure_peak(f, 0) : 0.0;
    tkb_roof.f32_ops[isa] = runs ? tkb_measure_peak(f, 1) : 0.0;
  }
  tkb_roof_done = true;
  return &tkb_roof;
}

double tkb_read_bps_of(size_t bytes) {
  static struct {
    size_t bytes;
    double bps;
  } seen[16];
  static size_t n_seen;
  for (size_t i = 0; i < n_seen; i++)
    if (seen[i].bytes == bytes) return seen[i].bps;
  const tkb_roofline_fns *best = tkb_roofline_fns_of(tkb_roofline_get()->read_isa);
  int streams;
  const double bps = best ? tkb_measure_read(best, bytes, &streams) : 0.0;
  if (n_seen < sizeof seen / sizeof seen[0]) seen[n_seen].bytes = bytes, seen[n_seen++].bps = bps;
  return bps;
}

/* The first level whose size holds the working set: the conservative
   reference (the fastest one the set could come from). Sets between half
   and all of a level read slower than its roofline (on a 32 MiB L3: 4-16
   MiB at the L3 rate, 24 MiB at 3/4 of it, 32 MiB at 3/5), so their pct_bw
   understates; the attention bench's decode rows read from DRAM by
   construction. */
tkb_level tkb_level_of(size_t bytes) {
  const tkb_roofline *r = tkb_roofline_get();
  for (int l = 0; l < TKB_DRAM; l++)
    if (bytes <= r->level_capacity[l]) return (tkb_level)l;
  return TKB_DRAM;
}

const char *tkb_level_name(tkb_level level) {
  static const char *const names[TKB_LEVEL_COUNT] = {"L1", "L2", "L3", "DRAM"};
  return level < TKB_LEVEL_COUNT ? names[level] : "unknown";
}

/* ---- counters ---- */

void tkb_counters_isa(gb_state *st, tk_isa isa, tkb_peak peak, double ops_per_iter,
                      double bytes_per_iter, size_t working_set) {
  double secs = gb_loop_seconds(st), iters = (double)gb_iterations(st);
  if (iters <= 0 || secs <= 0) return;
  const tkb_roofline *r = tkb_roofline_get();
  if (ops_per_iter > 0) {
    gb_counter(st, "ops", ops_per_iter, GB_RATE_PER_ITER);
    double ref = peak == TKB_PEAK_S8 ? r->s8_ops[isa] : peak == TKB_PEAK_F32 ? r->f32_ops[isa] : 0;
    if (ref > 0) gb_counter(st, "pct_peak", 100.0 * ops_per_iter * iters / secs / ref, GB_PLAIN);
  }
  if (bytes_per_iter > 0) {
    gb_counter(st, "bytes", bytes_per_iter, GB_RATE_PER_ITER);
    double ref = r->read_bps[tkb_level_of(working_set)];
    if (ref > 0) gb_counter(st, "pct_bw", 100.0 * bytes_per_iter * iters / secs / ref, GB_PLAIN);
  }
}

void tkb_counters(gb_state *st, tkb_peak peak, double ops_per_iter, double bytes_per_iter,
                  size_t working_set) {
  tkb_counters_isa(st, tkb_isa(st), peak, ops_per_iter, bytes_per_iter, working_set);
}

/* ---- the roofline rows, timed by Google Benchmark like everything else ---- */

static const tkb_level tkb_levels_all[TKB_LEVEL_COUNT] = {TKB_L1, TKB_L2, TKB_L3, TKB_DRAM};

static void bm_roofline_read(gb_state *st) {
  if (!tkb_variant(st)) return;
  const tkb_roofline_fns *f = tkb_roofline_fns_of(tkb_isa(st));
  const tkb_roofline *r = tkb_roofline_get();
  tkb_level level = *(const tkb_level *)tkb_user(st);
  size_t bytes = r->level_buffer[level];
  int streams = r->read_streams[level];
  size_t n = bytes / sizeof(float) / 64 * 64;
  float *x = tkb_alloc(n * sizeof(float));
  tkb_fill_f32(x, n, 1, -1.0f, 1.0f);
  GB_LOOP(st) {
    float s = f->read_f32(x, n, streams);
    GB_DO_NOT_OPTIMIZE(s);
  }
  gb_counter(st, "bytes", (double)(n * sizeof(float)), GB_RATE_PER_ITER);
  tkb_free(x);
}

/* 1024 rounds per iteration: a few microseconds, so the loop's own cost vanishes. */
#define TKB_PEAK_ITERS 1024

static void bm_roofline_s8(gb_state *st) {
  if (!tkb_variant(st)) return;
  const tkb_roofline_fns *f = tkb_roofline_fns_of(tkb_isa(st));
  GB_LOOP(st) {
    int32_t s = f->s8_mac(TKB_PEAK_ITERS);
    GB_DO_NOT_OPTIMIZE(s);
  }
  gb_counter(st, "ops", 2.0 * (double)(f->s8_macs_per_iter * TKB_PEAK_ITERS), GB_RATE_PER_ITER);
}

static void bm_roofline_f32(gb_state *st) {
  if (!tkb_variant(st)) return;
  const tkb_roofline_fns *f = tkb_roofline_fns_of(tkb_isa(st));
  GB_LOOP(st) {
    float s = f->f32_fma(TKB_PEAK_ITERS);
    GB_DO_NOT_OPTIMIZE(s);
  }
  gb_counter(st, "ops", 2.0 * (double)(f->f32_fmas_per_iter * TKB_PEAK_ITERS), GB_RATE_PER_ITER);
}

static void tkb_register_rooflines(void) {
  tk_isa best = tk_isa_best();
  if (tkb_roofline_fns_of(best))
    for (int l = 0; l < TKB_LEVEL_COUNT; l++) {
      char name[64];
      snprintf(name, sizeof name, "roofline/read/%s", tkb_level_name(tkb_levels_all[l]));
      tkb_register(name, best, bm_roofline_read, &tkb_levels_all[l]);
    }
  TKB_FOR_EACH_ISA(isa) {
    if (!tkb_roofline_fns_of(isa)) continue;
    tkb_register("roofline/s8_mac", isa, bm_roofline_s8, NULL);
    tkb_register("roofline/f32_fma", isa, bm_roofline_f32, NULL);
  }
}

/* ---- threads ---- */

#include <unistd.h>

const char *tkb_path_name(tkb_path path) {
  return path == TKB_HOST ? "host" : path == TKB_POOL_SPIN ? "pool_spin" : "pool_yield";
}

#if TKB_HAVE_PTHREADPOOL
#include <pthreadpool.h>

size_t tkb_max_threads(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (size_t)n : 1;
}


/* The host path's parallel-for: the bench plays a runtime with its own pool. */
static void tkb_host_for(void *host, size_t n, tk_task_fn task, void *ctx) {
  pthreadpool_parallelize_1d((pthreadpool_t)host, task, ctx, n, 0);
}

/* One pool per thread count and path, made at first use and kept. */
tk_exec tkb_exec(tkb_path path, size_t threads) {
  static tk_pool *pools[2][64];
  static pthreadpool_t hosts[64];
  if (threads < 1 || threads > 64) threads = 1;
  if (path != TKB_HOST) {
    const int spin = path == TKB_POOL_SPIN;
    tk_pool **p = &pools[spin][threads - 1];
    if (!*p && tk_pool_create_ex(threads, spin ? TK_POOL_SPIN : TK_POOL_YIELD, p) != TK_OK) {
      fprintf(stderr, "tkb_exec: tk_pool_create_ex(%zu) failed\n", threads);
      exit(1);
    }
    return tk_pool_exec(*p);
  }
  if (!hosts[threads - 1] && !(hosts[threads - 1] = pthreadpool_create(threads))) {
    fprintf(stderr, "tkb_exec: pthreadpool_create(%zu) failed\n", threads);
    exit(1);
  }
  return (tk_exec){.parallel_for = tkb_host_for, .host = hosts[threads - 1], .n_threads = threads};
}

typedef struct read_call {
  const tkb_roofline_fns *f;
  const float *x;
  size_t n, parts;
  int streams;
  float sum[64];
} read_call;

static void read_part(void *ctx, size_t i) {
  read_call *rc = ctx;
  /* Whole multiples of 64 floats, as the loop needs (n is one). */
  const size_t units = rc->n / 64, b = units * i / rc->parts * 64, e = units * (i + 1) / rc->parts * 64;
  rc->sum[i] = rc->f->read_f32(rc->x + b, e - b, rc->streams);
}

static void bm_read_threads(gb_state *st) {
  const tkb_roofline *r = tkb_roofline_get();
  read_call rc = {.f = tkb_roofline_fns_of(r->read_isa), .streams = r->read_streams[TKB_DRAM]};
  if (!rc.f) {
    gb_skip(st, "no read loop for this CPU");
    return;
  }
  const size_t threads = (size_t)gb_range(st, 0);
  const tk_exec e = tkb_exec(TKB_HOST, threads);
  rc.n = r->level_buffer[TKB_DRAM] / sizeof(float) / 64 * 64;
  rc.parts = threads;
  float *x = tkb_alloc(rc.n * sizeof(float));
  tkb_fill_f32(x, rc.n, 1, -1.0f, 1.0f);
  rc.x = x;
  GB_LOOP(st) {
    e.parallel_for(e.host, rc.parts, read_part, &rc);
    GB_DO_NOT_OPTIMIZE(rc.sum[0]);
  }
  gb_counter(st, "bytes", (double)(rc.n * sizeof(float)), GB_RATE_PER_ITER);
  tkb_free(x);
}

void tkb_register_read_threads(void) {
  gb_bench *b = gb_use_real_time(gb_register("threads/roofline/read/DRAM/host", bm_read_threads, NULL));
  gb_arg_name(gb_unit(b, GB_MS), "threads");
  for (size_t t = 1; t <= tkb_max_threads() && t <= 64; t++) gb_arg(b, (int64_t)t);
}
#else /* built without pthreadpool: no thread rows */
size_t tkb_max_threads(void) { return 0; }
void tkb_register_read_threads(void) {}
tk_exec tkb_exec(tkb_path path, size_t threads) {
  (void)path, (void)threads;
  return (tk_exec){0};
}
#endif

/* ---- main ---- */

static void tkb_context(void) {
  char key[64], val[256];
  char built[96] = "", avail[96] = "";
  for (tk_isa isa = TK_ISA_SCALAR; isa < TK_ISA_COUNT; isa++) {
    if (tk_isa_built(isa)) {
      strcat(built, built[0] ? " " : "");
      strcat(built, tk_isa_name(isa));
    }
    if (tk_isa_available(isa)) {
      strcat(avail, avail[0] ? " " : "");
      strcat(avail, tk_isa_name(isa));
    }
  }
  snprintf(val, sizeof val, "built natively: %s; runs here: %s (SIMDe-emulated variants are never timed)",
           built, avail);
  gb_add_context("tinykern_variants", val);
  /* A row of a borrowed kernel times the kernel that ISA's table dispatches
     to: the other ISA's (spmv/avx512 is avx2's SpMV). */
  gb_add_context("tinykern_borrowed", TK_BUILD_BORROWED);
  /* Every ISA name in tk_isa order: bench/summarize.py and attention_table.py read it.
     Each name comes with a leading space: skip the first (through a named
     array: clang warns on "literal" + 1). */
  static const char isa_names[] = TK_ISA_LIST(TK_ISA_LIST_NAME_STR);
  gb_add_context("tinykern_isas", isa_names + 1);
#ifdef TK_HAVE_CBLAS
  gb_add_context("cblas", openblas_get_config());
#endif
  const tkb_roofline *r = tkb_roofline_get();
  for (int l = 0; l < TKB_LEVEL_COUNT; l++) {
    snprintf(key, sizeof key, "roofline_read_%s", tkb_level_name(tkb_levels_all[l]));
    snprintf(val, sizeof val, "%.1f GB/s (%zu KiB read by %s as %d stream%s)", r->read_bps[l] * 1e-9,
             r->level_buffer[l] >> 10, tk_isa_name(r->read_isa), r->read_streams[l],
             r->read_streams[l] > 1 ? "s" : "");
    gb_add_context(key, val);
  }
  for (tk_isa isa = TK_ISA_SCALAR; isa < TK_ISA_COUNT; isa++) {
    if (r->s8_ops[isa] <= 0) continue;
    snprintf(key, sizeof key, "roofline_peak_%s", tk_isa_name(isa));
    snprintf(val, sizeof val, "int8 %.1f GOPS, fp32 %.1f GFLOPS (register-only, 2 ops per multiply-add)",
             r->s8_ops[isa] * 1e-9, r->f32_ops[isa] * 1e-9);
    gb_add_context(key, val);
  }
}

int tkb_main(int argc, char **argv) {
#ifdef TK_HAVE_CBLAS
  /* Baselines are single-threaded like tinykern, and the machine has 2 cores. */
  openblas_set_num_threads(1);
#endif
  tkb_register_rooflines();
  if (!gb_listing_only(argc, argv)) tkb_context();
  return gb_main(argc, argv);
}
