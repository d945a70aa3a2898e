/* How the report writes figures: times and sizes as text, timings marked when noisy, timings as JSON objects. */
#ifndef TK_REPORT_FORMAT_H
#define TK_REPORT_FORMAT_H

#include <stddef.h>
#include <stdio.h>

#include "json.h"
#include "timing.h"

/* Where the text tables go, and what writing them found: the count of
   timings marked noisy travels here, from the sections back to the caller
   that prints the footnote. */
typedef struct rp_text {
  FILE *f;
  unsigned noisy; /* timings written with a "*" so far */
} rp_text;

/* Human-readable time and size into buf (returns buf). */
const char *rp_fmt_time(char *buf, size_t n, double seconds);
const char *rp_fmt_bytes(char *buf, size_t n, size_t bytes);
/* A timing's median, marked "*" when it is noisy: more than 1.5x the fastest
   sample (the machine was busy with something else); counted in out->noisy. */
const char *rp_fmt_timing(rp_text *out, char *buf, size_t n, const rp_timing *t);

/* A timing as {"median_s", "min_s", "max_s", "samples", "calls_per_sample"}. */
void rp_timing_json(rp_json *j, const char *key, const rp_timing *t);

#endif
