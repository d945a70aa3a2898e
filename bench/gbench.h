/* C interface to Google Benchmark (a C++ library): the bench binaries are C, bench/gbench_shim.cc is the bridge. */
#ifndef TK_BENCH_GBENCH_H
#define TK_BENCH_GBENCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A running benchmark (wraps benchmark::State) and a registered one (wraps
   benchmark::internal::Benchmark). Both are owned by the shim. */
typedef struct gb_state gb_state;
typedef struct gb_bench gb_bench;
typedef void (*gb_fn)(gb_state *st);

/* ---- registration (before gb_main) ---- */
/* Registers `fn` under `name`; gb_ctx() gives it `ctx` back. Each run also
   reports min and max over repetitions next to mean/median/stddev/cv. */
gb_bench *gb_register(const char *name, gb_fn fn, void *ctx);
/* Adds one run with gb_range(st, 0) == x; gb_args2 sets ranges 0 and 1. */
gb_bench *gb_arg(gb_bench *b, int64_t x);
gb_bench *gb_args2(gb_bench *b, int64_t x, int64_t y);
/* Labels the ranges in the run names ("dot_s8/avx2/n:4096" instead of ".../4096"). */
gb_bench *gb_arg_name(gb_bench *b, const char *name);
gb_bench *gb_arg_names2(gb_bench *b, const char *name0, const char *name1);
typedef enum gb_time_unit { GB_NS, GB_US, GB_MS, GB_S } gb_time_unit;
gb_bench *gb_unit(gb_bench *b, gb_time_unit unit);
gb_bench *gb_min_time(gb_bench *b, double seconds);
/* Wall-clock instead of the thread's CPU time (the default) for time and rates. */
gb_bench *gb_use_real_time(gb_bench *b);

/* Adds a key/value line to the report's context (console header, JSON "context"). */
void gb_add_context(const char *key, const char *value);

/* Parses --benchmark_* flags and runs the selected benchmarks. Unless the
   command line (or the BENCHMARK_* environment) says otherwise it runs 5
   repetitions and displays only their aggregates (mean, median, stddev, cv,
   min, max); --benchmark_out files still get every repetition. Returns the
   process exit status. */
int gb_main(int argc, char **argv);
/* true for runs that only list benchmarks (--benchmark_list_tests): nothing is
   timed, so costly set-up (roofline measurement) can be skipped. */
bool gb_listing_only(int argc, char **argv);

/* ---- inside a benchmark ---- */
void *gb_ctx(gb_state *st);
int64_t gb_range(gb_state *st, int i);

/* The timed loop, as fast as C++'s `for (auto _ : state)`: the count is asked
   once, so an iteration costs a decrement and a branch, not a call into C++.
     GB_LOOP(st) { r = kernel(...); GB_DO_NOT_OPTIMIZE(r); }
   gb_loop_begin starts the timer (0 after gb_skip), gb_loop_end stops it and
   returns false. Use either GB_LOOP or gb_keep_running, once per run. */
int64_t gb_loop_begin(gb_state *st);
bool gb_loop_end(gb_state *st);
#define GB_LOOP(st) for (int64_t gb_n_ = gb_loop_begin(st); gb_n_ > 0 || gb_loop_end(st); gb_n_--)
/* One call per iteration (about a nanosecond): fine for long iterations. */
bool gb_keep_running(gb_state *st);
/* Iterations run so far; after the loop, the total. */
int64_t gb_iterations(gb_state *st);
/* Seconds the loop took on the clock the report uses (the thread's CPU time,
   or wall clock after gb_use_real_time), paused time excluded. After the loop. */
double gb_loop_seconds(gb_state *st);
void gb_pause(gb_state *st);
void gb_resume(gb_state *st);

/* Reports the run as an error with `msg` and times nothing: call before the loop
   (the loop then runs zero times). Used for variants this CPU cannot run. */
void gb_skip(gb_state *st, const char *msg);

/* Counters (after the loop). GB_RATE divides by the loop's seconds;
   GB_PER_ITERATION multiplies by the iterations; together (GB_RATE_PER_ITER)
   `value` is an amount per iteration shown as amount per second. */
enum {
  GB_PLAIN = 0,
  GB_RATE = 1u << 0,
  GB_PER_ITERATION = 1u << 1,
  GB_RATE_PER_ITER = GB_RATE | GB_PER_ITERATION,
  GB_AVG_ITERATIONS = 1u << 2, /* divides by the iterations */
  GB_BINARY_PREFIX = 1u << 3,  /* Ki/Mi/Gi instead of k/M/G in the console */
};
void gb_counter(gb_state *st, const char *name, double value, unsigned flags);
/* Google Benchmark's own bytes_per_second / items_per_second (totals for the run). */
void gb_bytes_processed(gb_state *st, int64_t bytes);
void gb_items_processed(gb_state *st, int64_t items);
void gb_label(gb_state *st, const char *label);

/* ---- keeping the compiler honest (GCC and clang) ---- */
/* The value is computed and "used": GB_DO_NOT_OPTIMIZE(r) after r = kernel(). */
#define GB_DO_NOT_OPTIMIZE(v) __asm__ __volatile__("" : : "r,m"(v) : "memory")
/* Whatever `p` points to may be read by someone: stores to it must happen. */
static inline void gb_escape(const void *p) { __asm__ __volatile__("" : : "g"(p) : "memory"); }
/* All pending stores happen here and memory is re-read afterwards. */
static inline void gb_clobber_memory(void) { __asm__ __volatile__("" : : : "memory"); }

#ifdef __cplusplus
}
#endif

#endif
