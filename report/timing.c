/* Wall-clock measurement for the report: repeated runs, median and spread, a progress line. */
#include "timing.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"

double rp_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

enum { MAX_SAMPLES = 64 };

int rp_measure(rp_call fn, void *ctx, const rp_budget *b, rp_timing *out) {
  double t0 = rp_now();
  int st = fn(ctx);
  if (st) return st;
  double first = rp_now() - t0;
  if (first < 1e-9) first = 1e-9;
  if (first >= b->budget) {
    /* One call longer than the whole budget (recomputing attention over 2048
       tokens with the scalar variant takes seconds): its first run is the
       figure; warm-up effects are small against it, repeating is not affordable. */
    *out = (rp_timing){first, first, first, 1, 1};
    return 0;
  }

  double want = b->sample / first;
  unsigned iters = want > 1 ? (unsigned)fmin(want, 1e7) : 1;
  double per_sample = first * iters;
  double fit = b->budget / per_sample;
  unsigned samples = (unsigned)fmin(fmax(fit, b->min_samples), b->max_samples);
  if (samples > MAX_SAMPLES) samples = MAX_SAMPLES;
  if (samples == 0) samples = 1;

  double t[MAX_SAMPLES];
  for (unsigned s = 0; s < samples; s++) {
    double a = rp_now();
    for (unsigned i = 0; i < iters; i++)
      if ((st = fn(ctx)) != 0) return st;
    t[s] = (rp_now() - a) / iters;
  }
  out->median = rp_median(t, samples);
  rp_minmax(t, samples, &out->min, &out->max);
  out->samples = samples;
  out->iters = iters;
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
