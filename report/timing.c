/* Wall-clock measurement for the report: repeated runs, median and spread, a progress line. */
#include "timing.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cold_set.h"
#include "stats.h"

double rp_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

enum { MAX_SAMPLES = 256, MAX_JOBS = 4 };

static unsigned char *flush_buf;
static size_t flush_size;
static volatile uint64_t flush_sink; /* keeps the reads from being optimised away */

double rp_flush(size_t bytes) {
  if (bytes > flush_size) {
    free(flush_buf);
    flush_size = 0;
    /* calloc's pages are all the one zero page until written: write them. */
    if (!(flush_buf = malloc(bytes))) return 0;
    for (size_t i = 0; i < bytes; i++) flush_buf[i] = (unsigned char)i;
    flush_size = bytes;
  }
  double t0 = rp_now();
  uint64_t sum = 0;
  for (size_t i = 0; i < bytes; i += 64) sum += flush_buf[i]; /* one read per cache line */
  flush_sink += sum;
  return rp_now() - t0;
}

size_t rp_cold_flush_bytes(void) { return tk_cold_set_bytes(); }

/* One timed call, after a flush when the budget asks for cold caches. */
static int timed_call(const rp_job *job, const rp_budget *b, unsigned iters, double *seconds) {
  if (b->flush_bytes) rp_flush(b->flush_bytes);
  double a = rp_now();
  for (unsigned i = 0; i < iters; i++) {
    int st = job->fn(job->ctx);
    if (st) return st;
  }
  *seconds = (rp_now() - a) / iters;
  return 0;
}

int rp_measure_jobs(const rp_job *jobs, size_t n, const rp_budget *b) {
  if (n > MAX_JOBS) return -1;
  unsigned iters[MAX_JOBS], want = b->min_samples;
  double t[MAX_JOBS][MAX_SAMPLES], round = 0;
  bool repeat[MAX_JOBS];
  double flush = b->flush_bytes ? rp_flush(b->flush_bytes) : 0;
  for (size_t j = 0; j < n; j++) {
    double first;
    int st = timed_call(&jobs[j], b, 1, &first);
    if (st) return st;
    first = fmax(first, 1e-9);
    /* Longer than the whole budget (recomputing attention over 2048 tokens
       with the scalar variant takes seconds): that run is the figure; warm-up
       effects are small against it, and repeating it is not affordable. */
    repeat[j] = first < b->budget;
    if (!repeat[j]) *jobs[j].out = (rp_timing){first, first, first, 1, 1};
    /* Short samples: on a shared machine most of them fit between two
       preemptions, so the median stays the speed of the code. */
    iters[j] = b->sample / first > 1 && !b->flush_bytes ? (unsigned)fmin(b->sample / first, 1e7) : 1;
    if (repeat[j]) round += first * iters[j] + flush;
  }
  if (round > 0) want = (unsigned)fmin(fmax(b->budget * (double)n / round, b->min_samples), b->max_samples);
  if (want > MAX_SAMPLES) want = MAX_SAMPLES;
  if (want == 0) want = 1;

  for (unsigned s = 0; s < want && round > 0; s++)
    for (size_t j = 0; j < n; j++) {
      if (!repeat[j]) continue;
      int st = timed_call(&jobs[j], b, iters[j], &t[j][s]);
      if (st) return st;
    }
  for (size_t j = 0; j < n; j++) {
    if (!repeat[j]) continue;
    rp_timing *o = jobs[j].out;
    o->median = rp_median(t[j], want);
    rp_minmax(t[j], want, &o->min, &o->max);
    o->samples = want;
    o->iters = iters[j];
  }
  return 0;
}

static int progress_shown; /* a line is on the terminal */

void rp_progress(bool major, const char *fmt, ...) {
  bool tty = isatty(STDERR_FILENO);
  if (!tty && !major) return;
  va_list ap;
  va_start(ap, fmt);
  if (tty) fputs("\r\033[K", stderr);
  vfprintf(stderr, fmt, ap);
  if (!tty) fputc('\n', stderr);
  va_end(ap);
  fflush(stderr);
  progress_shown = tty;
}

void rp_progress_done(void) {
  if (progress_shown) fputs("\r\033[K", stderr);
  progress_shown = 0;
  fflush(stderr);
}
