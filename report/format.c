/* How the report writes figures: times and sizes as text, timings marked when noisy, timings as JSON objects. */
#include "format.h"

#include <math.h>
#include <stdbool.h>

const char *rp_fmt_time(char *buf, size_t n, double s) {
  if (!isfinite(s))
    snprintf(buf, n, "-");
  else if (s < 1e-6)
    snprintf(buf, n, "%.0f ns", s * 1e9);
  else if (s < 1e-3)
    snprintf(buf, n, "%.1f us", s * 1e6);
  else if (s < 1)
    snprintf(buf, n, "%.2f ms", s * 1e3);
  else
    snprintf(buf, n, "%.2f s", s);
  return buf;
}

const char *rp_fmt_bytes(char *buf, size_t n, size_t b) {
  if (b < 1024)
    snprintf(buf, n, "%zu B", b);
  else if (b < 1024 * 1024)
    snprintf(buf, n, "%.1f KiB", (double)b / 1024);
  else
    snprintf(buf, n, "%.1f MiB", (double)b / (1024 * 1024));
  return buf;
}

const char *rp_fmt_timing(rp_text *out, char *buf, size_t n, const rp_timing *t) {
  char v[32];
  bool busy = t->median > 1.5 * t->min;
  out->noisy += busy;
  snprintf(buf, n, "%s%s", rp_fmt_time(v, sizeof v, t->median), busy ? "*" : "");
  return buf;
}

void rp_timing_json(rp_json *j, const char *key, const rp_timing *t) {
  rp_json_object(j, key);
  rp_json_num(j, "median_s", t->median);
  rp_json_num(j, "min_s", t->min);
  rp_json_num(j, "max_s", t->max);
  rp_json_uint(j, "samples", t->samples);
  rp_json_uint(j, "calls_per_sample", t->iters);
  rp_json_end(j);
}
