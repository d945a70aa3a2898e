/* Shared helpers of the Llama example: error messages and the clock. */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

bool llama_fail(llama_err *err, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return false;
}

static double clock_seconds(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double llama_now(void) { return clock_seconds(CLOCK_MONOTONIC); }
double llama_cpu_now(void) { return clock_seconds(CLOCK_THREAD_CPUTIME_ID); }
double llama_process_cpu_now(void) { return clock_seconds(CLOCK_PROCESS_CPUTIME_ID); }
