/* tinykern-llama-gen: writes a random-weight llama2.c checkpoint and a matching tokenizer.bin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth.h"

static int usage(void) {
  fprintf(stderr,
          "usage: tinykern-llama-gen --shape %s [--seed N] CHECKPOINT.bin TOKENIZER.bin\n"
          "  Random weights in llama2.c's legacy fp32 format, for tests and benchmarks.\n",
          llama_shape_names());
  return 2;
}

int main(int argc, char **argv) {
  const char *shape_name = NULL, *paths[2] = {NULL, NULL};
  uint64_t seed = 1;
  int n_paths = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--shape") == 0 && i + 1 < argc) {
      shape_name = argv[++i];
    } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      char *end;
      seed = strtoull(argv[++i], &end, 10);
      if (*end || end == argv[i]) return usage();
    } else if (argv[i][0] != '-' && n_paths < 2) {
      paths[n_paths++] = argv[i];
    } else {
      return usage();
    }
  }
  const llama_shape *shape = shape_name ? llama_shape_named(shape_name) : NULL;
  if (!shape || n_paths != 2) return usage();
  llama_err err;
  size_t vocab = (size_t)(shape->vocab_size > 0 ? shape->vocab_size : -shape->vocab_size);
  if (!llama_write_checkpoint(shape, seed, paths[0], &err) ||
      !llama_write_tokenizer(vocab, paths[1], &err)) {
    fprintf(stderr, "tinykern-llama-gen: %s\n", err.msg);
    return 1;
  }
  printf("%s: %s, seed %llu\n%s: %zu tokens\n", paths[0], shape->about, (unsigned long long)seed,
         paths[1], vocab);
  return 0;
}
