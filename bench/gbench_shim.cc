// The C++ side of bench/gbench.h: C callbacks registered as Google Benchmark lambdas.
#include "gbench.h"

#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

// What a registration owns: the C callback, its context, and the clock the
// report uses (needed by gb_loop_seconds). Lives as long as the process, like
// the benchmark::internal::Benchmark it belongs to.
struct gb_bench {
  benchmark::internal::Benchmark *b;
  gb_fn fn;
  void *ctx;
  bool real_time;
};

// One run: the library's State plus our own timing of the same interval, so C
// code can turn an amount into a rate (for "% of roofline" counters).
struct gb_state {
  benchmark::State *s;
  const gb_bench *reg;
  bool started;       // the library's loop has begun (its timer started)
  bool in_batch;      // gb_loop_begin handed out iterations: gb_loop_end must finish
  bool timing;        // our clock runs (started, not paused, not finished)
  double t_started;   // clock at the last start or resume
  double t_total;     // accumulated seconds while timing
};

namespace {

double now(bool real_time) {
  struct timespec ts;
  clock_gettime(real_time ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void clock_start(gb_state *st) {
  st->timing = true;
  st->t_started = now(st->reg->real_time);
}

void clock_stop(gb_state *st) {
  if (!st->timing) return;
  st->t_total += now(st->reg->real_time) - st->t_started;
  st->timing = false;
}

double stat_min(const std::vector<double> &v) {
  return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
}

double stat_max(const std::vector<double> &v) {
  return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end());
}

bool has_flag(int argc, char **argv, const char *flag) {
  size_t len = std::strlen(flag);
  for (int i = 1; i < argc; i++)
    if (std::strncmp(argv[i], flag, len) == 0 && (argv[i][len] == '=' || argv[i][len] == '\0'))
      return true;
  return false;
}

}  // namespace

extern "C" {

gb_bench *gb_register(const char *name, gb_fn fn, void *ctx) {
  gb_bench *reg = new gb_bench{nullptr, fn, ctx, false};
  reg->b = benchmark::RegisterBenchmark(name, [reg](benchmark::State &s) {
    gb_state st{&s, reg, false, false, false, 0.0, 0.0};
    reg->fn(&st);
  });
  reg->b->ComputeStatistics("min", stat_min)->ComputeStatistics("max", stat_max);
  return reg;
}

gb_bench *gb_arg(gb_bench *b, int64_t x) {
  b->b->Arg(x);
  return b;
}

gb_bench *gb_args2(gb_bench *b, int64_t x, int64_t y) {
  b->b->Args({x, y});
  return b;
}

gb_bench *gb_arg_name(gb_bench *b, const char *name) {
  b->b->ArgName(name);
  return b;
}

gb_bench *gb_arg_names2(gb_bench *b, const char *name0, const char *name1) {
  b->b->ArgNames({name0, name1});
  return b;
}

gb_bench *gb_unit(gb_bench *b, gb_time_unit unit) {
  static const benchmark::TimeUnit units[] = {benchmark::kNanosecond, benchmark::kMicrosecond,
                                              benchmark::kMillisecond, benchmark::kSecond};
  b->b->Unit(units[unit]);
  return b;
}

gb_bench *gb_min_time(gb_bench *b, double seconds) {
  b->b->MinTime(seconds);
  return b;
}

gb_bench *gb_use_real_time(gb_bench *b) {
  b->b->UseRealTime();
  b->real_time = true;
  return b;
}

void gb_add_context(const char *key, const char *value) { benchmark::AddCustomContext(key, value); }

bool gb_listing_only(int argc, char **argv) { return has_flag(argc, argv, "--benchmark_list_tests"); }

int gb_main(int argc, char **argv) {
  // Defaults go first so that anything on the command line overrides them
  // (the last occurrence of a flag wins).
  std::vector<char *> args{argv[0]};
  static char reps[] = "--benchmark_repetitions=5";
  static char aggregates[] = "--benchmark_display_aggregates_only=true";
  if (!has_flag(argc, argv, "--benchmark_repetitions") && !std::getenv("BENCHMARK_REPETITIONS"))
    args.push_back(reps);
  if (!has_flag(argc, argv, "--benchmark_report_aggregates_only") &&
      !has_flag(argc, argv, "--benchmark_display_aggregates_only") &&
      !std::getenv("BENCHMARK_REPORT_AGGREGATES_ONLY") &&
      !std::getenv("BENCHMARK_DISPLAY_AGGREGATES_ONLY"))
    args.push_back(aggregates);
  for (int i = 1; i < argc; i++) args.push_back(argv[i]);
  int n = (int)args.size();
  args.push_back(nullptr);
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

void *gb_ctx(gb_state *st) { return st->reg->ctx; }

int64_t gb_range(gb_state *st, int i) { return st->s->range((size_t)i); }

int64_t gb_loop_begin(gb_state *st) {
  // One batch of exactly max_iterations: the library starts its timer here,
  // and the next KeepRunningBatch call (in gb_loop_end) stops it.
  benchmark::IterationCount n = st->s->max_iterations;
  st->started = true;
  if (!st->s->KeepRunningBatch(n)) return 0;  // skipped: the library finished the run
  st->in_batch = true;
  clock_start(st);
  return (int64_t)n;
}

bool gb_loop_end(gb_state *st) {
  clock_stop(st);
  if (st->in_batch) (void)st->s->KeepRunningBatch(st->s->max_iterations);
  st->in_batch = false;
  return false;
}

bool gb_keep_running(gb_state *st) {
  bool first = !st->started;
  st->started = true;
  bool more = st->s->KeepRunning();
  if (first && more) clock_start(st);
  if (!more) clock_stop(st);
  return more;
}

int64_t gb_iterations(gb_state *st) { return (int64_t)st->s->iterations(); }

double gb_loop_seconds(gb_state *st) { return st->t_total; }

void gb_pause(gb_state *st) {
  st->s->PauseTiming();
  clock_stop(st);
}

void gb_resume(gb_state *st) {
  clock_start(st);
  st->s->ResumeTiming();
}

void gb_skip(gb_state *st, const char *msg) { st->s->SkipWithError(msg); }

void gb_counter(gb_state *st, const char *name, double value, unsigned flags) {
  int f = 0;
  if (flags & GB_RATE) f |= benchmark::Counter::kIsRate;
  if (flags & GB_PER_ITERATION) f |= benchmark::Counter::kIsIterationInvariant;
  if (flags & GB_AVG_ITERATIONS) f |= benchmark::Counter::kAvgIterations;
  st->s->counters[name] =
      benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(f),
                         (flags & GB_BINARY_PREFIX) ? benchmark::Counter::kIs1024
                                                    : benchmark::Counter::kIs1000);
}

void gb_bytes_processed(gb_state *st, int64_t bytes) { st->s->SetBytesProcessed(bytes); }

void gb_items_processed(gb_state *st, int64_t items) { st->s->SetItemsProcessed(items); }

void gb_label(gb_state *st, const char *label) { st->s->SetLabel(label); }

}  // extern "C"
