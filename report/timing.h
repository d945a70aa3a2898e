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

/* Runs fn once to warm up (caches, page faults) and to size the samples, then
   measures. A call slower than the whole budget is not repeated: that first
   run is the one sample.
   Returns the first non-zero status of fn (the timing is then unusable). */
int rp_measure(rp_call fn, void *ctx, const rp_budget *b, rp_timing *out);

/* A one-line progress note on stderr: rewritten in place on a terminal;
   elsewhere (logs, CI) only notes with major = true are printed, one per line. */
void rp_progress(bool major, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void rp_progress_done(void); /* clears the line */

#endif
