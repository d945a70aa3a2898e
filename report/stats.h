/* The report's arithmetic: medians, ratios, errors, accuracy, break-even (unit-tested on fixed inputs). */
#ifndef TK_REPORT_STATS_H
#define TK_REPORT_STATS_H

#include <stddef.h>

/* Median of v[0..n) (v is not reordered); the mean of the two middle values
   when n is even; NAN when n == 0. */
double rp_median(const double *v, size_t n);
/* Smallest and largest of v[0..n); both NAN when n == 0. */
void rp_minmax(const double *v, size_t n, double *min, double *max);

/* How many times faster `time` is than `baseline` (baseline / time); NAN when
   either is not a positive finite number. */
double rp_speedup(double baseline, double time);
/* dense_bytes / sparse_bytes; NAN when sparse_bytes == 0. */
double rp_compression(size_t dense_bytes, size_t sparse_bytes);

/* Mean squared difference of a and b (accumulated in double); 0 when n == 0. */
double rp_mse(const float *a, const float *b, size_t n);
/* rp_mse(a, ref) / mean(ref^2): the error relative to the signal; 0 when the
   error is 0, NAN when ref is all zero and a is not. */
double rp_nmse(const float *a, const float *ref, size_t n);

/* Index of the largest of v[0..n) (the first on ties); 0 when n == 0. */
size_t rp_argmax(const float *v, size_t n);
/* Fraction of the n rows of logits ([n][classes]) whose argmax is the label;
   0 when n == 0. */
double rp_accuracy(const float *logits, size_t n, size_t classes, const unsigned char *labels);

/* Break-even of a sweep over increasing lengths: the index of the first point
   from which speedup >= 1 at that point and every later one (0: the cheaper
   method wins everywhere measured); n when it never holds to the end. */
size_t rp_break_even_index(const double *speedup, size_t n);
/* The break-even length itself: lengths[i] where i is rp_break_even_index,
   interpolated on log(length) between the last losing point and the first
   winning one where speedup crosses 1; lengths[0] when i == 0 (it is at most
   that); NAN when i == n. */
double rp_break_even_length(const double *lengths, const double *speedup, size_t n);

/* The KV-cache status of one speedup: "overhead dominates" below 1.2x,
   "marginal" below 3x, "good" from 3x (also for NAN: "overhead dominates"). */
const char *rp_kv_status(double speedup);

#endif
