/* Picks the next token from logits: greedy, temperature, or top-p (nucleus), with a seeded generator. */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>

bool llama_sampler_init(llama_sampler *s, size_t vocab_size, float temperature, float top_p,
                        uint64_t seed, llama_err *err) {
  if (!(temperature >= 0.0f) || !isfinite(temperature))
    return llama_fail(err, "temperature %g: must be >= 0", (double)temperature);
  if (!(top_p >= 0.0f && top_p <= 1.0f))
    return llama_fail(err, "top-p %g: must be in [0, 1]", (double)top_p);
  s->vocab_size = vocab_size;
  s->temperature = temperature;
  s->top_p = top_p;
  llama_sampler_seed(s, seed);
  s->candidates = malloc(vocab_size * sizeof *s->candidates);
  if (!s->candidates) return llama_fail(err, "out of memory for %zu candidates", vocab_size);
  return true;
}

void llama_sampler_free(llama_sampler *s) {
  free(s->candidates);
  s->candidates = NULL;
}

void llama_sampler_seed(llama_sampler *s, uint64_t seed) {
  s->rng = seed ? seed : 0x9E3779B97F4A7C15ull; /* xorshift stays at 0 from 0 */
}

/* Uniform in [0, 1), from xorshift64*: the same sequence on every host. */
static float random_unit(llama_sampler *s) {
  s->rng ^= s->rng >> 12;
  s->rng ^= s->rng << 25;
  s->rng ^= s->rng >> 27;
  return (float)((s->rng * 0x2545F4914F6CDD1Dull) >> 40) * 0x1.0p-24f;
}

static int32_t argmax(const float *x, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (x[i] > x[best]) best = i;
  return (int32_t)best;
}

/* x = softmax(x / temperature), the max subtracted so exp cannot overflow. */
static void softmax(float *x, size_t n, float temperature) {
  float max = x[argmax(x, n)], sum = 0.0f;
  for (size_t i = 0; i < n; i++) {
    x[i] = expf((x[i] - max) / temperature);
    sum += x[i];
  }
  for (size_t i = 0; i < n; i++) x[i] /= sum;
}

/* The index where the cumulative mass of p [n] passes r (the last one when
   rounding leaves the total just short of r). */
static int32_t sample_mass(const float *p, size_t n, float r) {
  float cdf = 0.0f;
  for (size_t i = 0; i < n; i++) {
    cdf += p[i];
    if (r < cdf) return (int32_t)i;
  }
  return (int32_t)(n - 1);
}

static int by_probability_desc(const void *a, const void *b) {
  float x = ((const llama_candidate *)a)->p, y = ((const llama_candidate *)b)->p;
  return (x < y) - (x > y);
}

/* Top-p without sorting the whole vocabulary: a token with probability below
   (1 - top_p) / (n - 1) is never needed, since all the others together hold
   less than 1 - top_p (llama2.c's cut). Usually a few hundred survive of
   32000; only those are sorted. */
static int32_t sample_top_p(llama_sampler *s, const float *p) {
  size_t n = s->vocab_size, kept = 0;
  float cutoff = (1.0f - s->top_p) / (float)(n > 1 ? n - 1 : 1);
  for (size_t i = 0; i < n; i++)
    if (p[i] >= cutoff) s->candidates[kept++] = (llama_candidate){p[i], (int32_t)i};
  if (kept == 0) return argmax(p, n); /* tiny vocabularies: the cut can exceed every p */
  qsort(s->candidates, kept, sizeof *s->candidates, by_probability_desc);
  /* the smallest prefix whose mass exceeds top_p */
  size_t last = kept - 1;
  float mass = 0.0f;
  for (size_t i = 0; i < kept; i++) {
    mass += s->candidates[i].p;
    if (mass > s->top_p) {
      last = i;
      break;
    }
  }
  float r = random_unit(s) * mass, cdf = 0.0f;
  for (size_t i = 0; i < last; i++) {
    cdf += s->candidates[i].p;
    if (r < cdf) return s->candidates[i].id;
  }
  return s->candidates[last].id;
}

int32_t llama_sample(llama_sampler *s, float *logits) {
  if (s->temperature == 0.0f) return argmax(logits, s->vocab_size);
  softmax(logits, s->vocab_size, s->temperature);
  if (s->top_p > 0.0f && s->top_p < 1.0f) return sample_top_p(s, logits);
  return sample_mass(logits, s->vocab_size, random_unit(s));
}
