/* The report's arithmetic: medians, ratios, errors, accuracy, break-even. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double rp_median(const double *v, size_t n) {
  if (n == 0) return NAN;
  double *s = malloc(n * sizeof *s);
  if (!s) return NAN;
  memcpy(s, v, n * sizeof *s);
  qsort(s, n, sizeof *s, cmp_double);
  double m = (n % 2) ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  free(s);
  return m;
}

void rp_minmax(const double *v, size_t n, double *min, double *max) {
  *min = *max = n ? v[0] : NAN;
  for (size_t i = 1; i < n; i++) {
    if (v[i] < *min) *min = v[i];
    if (v[i] > *max) *max = v[i];
  }
}

double rp_speedup(double baseline, double time) {
  if (!(baseline > 0) || !(time > 0) || !isfinite(baseline) || !isfinite(time)) return NAN;
  return baseline / time;
}

double rp_compression(size_t dense_bytes, size_t sparse_bytes) {
  return sparse_bytes ? (double)dense_bytes / (double)sparse_bytes : NAN;
}

double rp_mse(const float *a, const float *b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)a[i] - (double)b[i];
    s += d * d;
  }
  return n ? s / (double)n : 0;
}

double rp_nmse(const float *a, const float *ref, size_t n) {
  double e = rp_mse(a, ref, n);
  if (e == 0) return 0;
  double p = 0;
  for (size_t i = 0; i < n; i++) p += (double)ref[i] * (double)ref[i];
  return p > 0 ? e / (p / (double)n) : NAN;
}

size_t rp_argmax(const float *v, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (v[i] > v[best]) best = i;
  return best;
}

double rp_accuracy(const float *logits, size_t n, size_t classes, const unsigned char *labels) {
  size_t right = 0;
  for (size_t i = 0; i < n; i++) right += rp_argmax(logits + i * classes, classes) == labels[i];
  return n ? (double)right / (double)n : 0;
}

size_t rp_break_even_index(const double *speedup, size_t n) {
  size_t i = n;
  while (i > 0 && speedup[i - 1] >= 1) i--;
  return i;
}

double rp_break_even_length(const double *lengths, const double *speedup, size_t n) {
  size_t i = rp_break_even_index(speedup, n);
  if (i == n) return NAN;
  if (i == 0) return lengths[0];
  /* speedup[i-1] < 1 <= speedup[i]: where the line through the two points on
     log(length) reaches 1. */
  double s0 = speedup[i - 1], s1 = speedup[i];
  double t = (s1 > s0) ? (1 - s0) / (s1 - s0) : 1;
  return exp(log(lengths[i - 1]) + t * (log(lengths[i]) - log(lengths[i - 1])));
}

const char *rp_kv_status(double speedup) {
  if (!(speedup >= 1.2)) return "overhead dominates";
  return speedup < 3 ? "marginal" : "good";
}
