/* Picks the next token from logits: greedy, temperature, or top-p (nucleus), with a seeded generator. */
#ifndef LLAMA_SAMPLER_H
#define LLAMA_SAMPLER_H

#include "util.h"

typedef struct llama_candidate {
  float p;
  int32_t id;
} llama_candidate;

typedef struct llama_sampler {
  size_t vocab_size;
  float temperature;  /* 0: greedy (argmax) */
  float top_p;        /* in (0, 1): sample from the smallest set holding this mass; else all */
  uint64_t rng;       /* xorshift64* state, never 0 */
  llama_candidate *candidates; /* [vocab_size] scratch for top-p */
} llama_sampler;

bool llama_sampler_init(llama_sampler *s, size_t vocab_size, float temperature, float top_p,
                        uint64_t seed, llama_err *err);
void llama_sampler_free(llama_sampler *s);
/* Restarts the random sequence (0 picks a fixed nonzero state). */
void llama_sampler_seed(llama_sampler *s, uint64_t seed);
/* The next token; logits [vocab_size] are overwritten (probabilities). */
int32_t llama_sample(llama_sampler *s, float *logits);

#endif
