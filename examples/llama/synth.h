/* Random-weight llama2.c checkpoints and a synthetic tokenizer, for tests and benchmarks. */
#ifndef LLAMA_SYNTH_H
#define LLAMA_SYNTH_H

#include "util.h"

/* A model shape: the seven header fields as the file stores them
   (vocab_size negative: the classifier is a separate array). */
typedef struct llama_shape {
  const char *name;
  const char *about;
  int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
} llama_shape;

/* "110m" (stories110M / Llama-2 style, 12 layers of 768), "gqa" (4 layers of
   a 1.1B-class grouped-query model: 32 query heads on 8 kv heads), "tiny"
   (for tests: grouped-query, separate classifier, a hidden width that is not
   a multiple of 16). NULL for other names. */
const llama_shape *llama_shape_named(const char *name);
/* "110m|gqa|tiny" */
const char *llama_shape_names(void);

/* Writes a legacy-format checkpoint of this shape: weights uniform with unit
   output variance, rmsnorm weights near 1, the RoPE tables llama2.c writes.
   The same seed gives the same file on every host. */
bool llama_write_checkpoint(const llama_shape *shape, uint64_t seed, const char *path, llama_err *err);

/* Writes a tokenizer.bin of vocab_size (>= 380) tokens in sentencepiece's
   layout: <unk>, <s>, </s>, the 256 byte tokens, printable ASCII, then " x",
   "xy", " xy", "xyz", " xyz" for lowercase x, y, z while ids remain; the
   score falls with the id, so shorter merges go first. */
bool llama_write_tokenizer(size_t vocab_size, const char *path, llama_err *err);

#endif
