/* What every tinykern bench binary shares: variants, buffers, rooflines, counters and main. */
#ifndef TK_BENCH_COMMON_H
#define TK_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "bench/gbench.h"
#include "dispatch/kernels.h"
#include "tinykern.h"

/* A family bench (bench/bench_<name>.c) looks like:

     static void bm_dot(gb_state *st) {
       const tk_kernels *k = tkb_variant(st);    // NULL: skipped, not timed
       if (!k) return;
       size_t n = (size_t)gb_range(st, 0);
       ... allocate and fill (not timed) ...
       GB_LOOP(st) { r = k->dot_s8(a, b, n); GB_DO_NOT_OPTIMIZE(r); }
       tkb_counters(st, TKB_PEAK_S8, 2.0 * n, 2.0 * n, 2 * n);
       ... free ...
     }
     int main(int argc, char **argv) {
       TKB_FOR_EACH_ISA(isa) gb_arg(tkb_register("dot_s8", isa, bm_dot, NULL), 4096);
       return tkb_main(argc, argv);
     }
*/

/* ---- variants ---- */
/* Every ISA built natively into this library (the SIMDe-emulated variants the
   tests link are never registered, so never timed). */
#define TKB_FOR_EACH_ISA(isa)                                 \
  for (tk_isa isa = TK_ISA_SCALAR; isa < TK_ISA_COUNT; isa++) \
    if (tk_isa_built(isa))

/* Registers "<name>/<isa>" (gb_ctx(st) is then internal: use tkb_user). At run
   time the variant is skipped with a message if this CPU cannot run it. */
gb_bench *tkb_register(const char *name, tk_isa isa, gb_fn fn, const void *user);
/* In a tkb_register'ed benchmark, before its loop: selects its ISA process-wide
   (so public functions run it too) and returns its kernel table; or skips the
   run with "<isa>: not supported by this CPU" and returns NULL. */
const tk_kernels *tkb_variant(gb_state *st);
tk_isa tkb_isa(gb_state *st);
const void *tkb_user(gb_state *st);

/* ---- buffers ---- */
/* 64-byte aligned, size rounded up; exits with a message when out of memory
   (a bench cannot do anything useful then). Free with tkb_free. */
void *tkb_alloc(size_t bytes);
void tkb_free(void *p);
/* Deterministic pseudo-random contents from `seed` (the same on every run and
   machine): int8 over the full range [-128, 127], fp32 uniform in [lo, hi). */
void tkb_fill_s8(int8_t *p, size_t n, uint64_t seed);
void tkb_fill_f32(float *p, size_t n, uint64_t seed, float lo, float hi);

/* ---- rooflines, measured by the bench itself ---- */
typedef enum tkb_level { TKB_L1, TKB_L2, TKB_L3, TKB_DRAM, TKB_LEVEL_COUNT } tkb_level;
typedef struct tkb_roofline {
  tk_isa read_isa;                        /* best available ISA: its loop measured the bandwidths */
  size_t level_capacity[TKB_LEVEL_COUNT]; /* cache size (SIZE_MAX for DRAM); L3: at least the
                                             largest cache any source reports */
  size_t level_buffer[TKB_LEVEL_COUNT];   /* bytes streamed to measure that level; DRAM: the
                                             cold-set size (report/cold_set.h), which a working
                                             set meant to come from DRAM should reach too */
  double read_bps[TKB_LEVEL_COUNT];       /* read bandwidth, bytes per second */
  int read_streams[TKB_LEVEL_COUNT];      /* parts read side by side that reached it (1, 2, 4) */
  double s8_ops[TK_ISA_COUNT];  /* int8 kernel sequence, register-only: 2 ops per MAC; 0 if unavailable */
  double f32_ops[TK_ISA_COUNT]; /* fp32 multiply-add, register-only: 2 ops per FMA; 0 if unavailable */
} tkb_roofline;
/* Measured once per process (best of several timed runs), then cached.
   tkb_main measures it before the benchmarks run and puts it in the context. */
const tkb_roofline *tkb_roofline_get(void);
/* The read bandwidth of a buffer of exactly `bytes` (the read roofline's loop
   and stream counts), measured at the first request of a size and cached:
   the roofline of a set that lies between two levels' buffers. A 16 MiB
   layer on a 32 MiB L3 that other cores (and tenants) share reads slower
   than the L3 row's quarter-L3 buffer: on the development VM 38-56 GB/s
   against 83-85 GB/s at 8 MiB. */
double tkb_read_bps_of(size_t bytes);
/* The level a working set of `bytes` fits in (the bandwidth it can stream at). */
tkb_level tkb_level_of(size_t bytes);
const char *tkb_level_name(tkb_level level);

/* ---- counters ---- */
typedef enum tkb_peak { TKB_PEAK_NONE, TKB_PEAK_S8, TKB_PEAK_F32 } tkb_peak;
/* After the loop: "ops" (ops/s; 2 per multiply-add) and "bytes" (bytes/s) from
   per-iteration amounts, and the share of the roofline as plain numbers:
   "pct_peak" = ops/s against the register-only peak of this run's ISA (peak:
   which one; NONE: no pct_peak), "pct_bw" = bytes/s against the read bandwidth
   of the level `working_set` bytes fit in. The ISA is tkb_isa(st) for
   tkb_register'ed runs; pass it to tkb_counters_isa otherwise. */
void tkb_counters(gb_state *st, tkb_peak peak, double ops_per_iter, double bytes_per_iter,
                  size_t working_set);
void tkb_counters_isa(gb_state *st, tk_isa isa, tkb_peak peak, double ops_per_iter,
                      double bytes_per_iter, size_t working_set);

/* ---- threads ---- */
/* Thread-scaling rows run the _ex calls with 1 .. nproc threads, through the
   built-in pool with yielding workers ("pool_yield", TK_POOL_YIELD), through
   a host parallel-for that drives the bench's own pthreadpool_t through
   tk_exec ("host": the path a runtime with its own threads takes; its
   workers spin, pthreadpool's default), and through the built-in pool with
   spinning workers ("pool_spin", TK_POOL_SPIN). Rows whose path is an
   argument number them in this order (path:0, 1, 2). They time wall clock
   (gb_use_real_time): CPU time would count one thread. tkb_exec returns the
   exec of a row: threads = n. */
typedef enum tkb_path { TKB_POOL_YIELD, TKB_HOST, TKB_POOL_SPIN, TKB_PATHS } tkb_path;
tk_exec tkb_exec(tkb_path path, size_t threads);
size_t tkb_max_threads(void); /* online CPUs; 0 when built without pthreadpool (no thread rows) */
const char *tkb_path_name(tkb_path path);
/* Registers "threads/roofline/read/DRAM/host" (arg: threads): the read
   roofline's loop over the DRAM buffer, cut into one contiguous range per
   thread (host path): the bandwidth a memory-bound call can reach with n
   threads. */
void tkb_register_read_threads(void);

/* ---- main ---- */
/* Registers the roofline rows ("roofline/read/<level>/<isa>", "roofline/s8_mac/<isa>",
   "roofline/f32_fma/<isa>"; filter them out with --benchmark_filter=-roofline),
   forces OpenBLAS to one thread when linked (TK_HAVE_CBLAS), measures the
   rooflines and runs gb_main. Call it last, after registering the family's rows. */
int tkb_main(int argc, char **argv);

#endif
