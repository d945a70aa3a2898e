/* Wall-clock measurement for the report: repeated runs, median and spread, a progress line. */
#ifndef TK_REPORT_TIMING_H
#define TK_REPORT_TIMING_H

#include <stdbool.h>
#include <stddef.h>

/* One measured call: returns 0 (TK_OK) or the tk_status of a failed call. */
typedef int (*rp_call)(void *ctx);

/* How long to measure one figure: about `budget` seconds in total, split into
   between min_samples and max_samples samples of `iters` back-to-back calls,
   `iters` chosen so that a sample lasts about `sample` seconds. */
typedef struct rp_budget {
  double budget;
  double sample;
  unsigned min_samples;
  unsigned max_samples;
  /* > 0: "cold" timing. Before every timed call, this many bytes are read
     through so that the call's data comes from DRAM, as in a model whose
     layers together exceed the caches (each sample is then one call): set it
     to rp_cold_flush_bytes(). 0: warm caches, calls back to back. */
  size_t flush_bytes;
} rp_budget;

/* Seconds per call: median over the samples, and the fastest and slowest sample. */
typedef struct rp_timing {
  double median;
  double min;
  double max;
  unsigned samples;
  unsigned iters; /* calls per sample */
} rp_timing;

double rp_now(void); /* CLOCK_MONOTONIC, seconds */

/* One figure to measure: fn(ctx), its result into *out. */
typedef struct rp_job {
  rp_call fn;
  void *ctx;
  rp_timing *out;
} rp_job;

/* Measures the jobs side by side: each runs once to warm up (caches, page
   faults) and to size its samples, then the samples take turns (one of each
   job per round), so that a machine busy with something else slows every
   compared figure alike; with b->flush_bytes each timed call starts cold. The rounds last about n * budget seconds. A call
   slower than the whole budget is not repeated: its first run is its one
   sample. Returns the first non-zero status of a call (timings then unusable). */
int rp_measure_jobs(const rp_job *jobs, size_t n, const rp_budget *b);
/* Evicts the caches by reading `bytes` of a buffer kept for the purpose
   (allocated on first use). Returns the seconds the reading took. */
double rp_flush(size_t bytes);
/* How much a flush must read so that the next call starts cold: the cold-set
   rule the bench shares (report/cold_set.h: 8x the largest cache any source
   reports, at least 256 MiB). */
size_t rp_cold_flush_bytes(void);

/* A one-line progress note on stderr: rewritten in place on a terminal;
   elsewhere (logs, CI) only notes with major = true are printed, one per line. */
void rp_progress(bool major, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void rp_progress_done(void); /* clears the line */

#endif
