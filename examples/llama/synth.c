/* Random-weight llama2.c checkpoints and a synthetic tokenizer, for tests and benchmarks. */
#include "synth.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const llama_shape SHAPES[] = {
    {"110m", "stories110M shape: dim 768, 12 layers, 12 heads, vocab 32000",
     768, 2048, 12, 12, 12, 32000, 1024},
    {"gqa", "grouped-query: dim 2048, 4 layers, 32 heads on 8 kv heads, vocab 32000",
     2048, 5632, 4, 32, 8, 32000, 2048},
    {"tiny", "tests: dim 64, 2 layers, 4 heads on 2 kv heads, vocab 512 (separate classifier)",
     64, 172, 2, 4, 2, -512, 64},
};

const llama_shape *llama_shape_named(const char *name) {
  for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++)
    if (strcmp(SHAPES[i].name, name) == 0) return &SHAPES[i];
  return NULL;
}

const char *llama_shape_names(void) { return "110m|gqa|tiny"; }

/* splitmix64: a fast generator whose every seed (0 too) is good. */
static uint64_t next_u64(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* A file being written, with the first write error remembered. */
typedef struct writer {
  FILE *f;
  bool ok;
  uint64_t rng;
  float buf[1 << 14];
} writer;

static void put_bytes(writer *w, const void *p, size_t n) {
  if (w->ok && fwrite(p, 1, n, w->f) != n) w->ok = false;
}

/* n floats uniform in [center - a, center + a). */
static void put_uniform(writer *w, size_t n, float center, float a) {
  const size_t chunk = sizeof w->buf / sizeof w->buf[0];
  while (n > 0) {
    size_t k = n < chunk ? n : chunk;
    for (size_t i = 0; i < k; i++) {
      float u = (float)(next_u64(&w->rng) >> 40) * 0x1.0p-24f; /* [0, 1) */
      w->buf[i] = center + a * (2.0f * u - 1.0f);
    }
    put_bytes(w, w->buf, k * sizeof(float));
    n -= k;
  }
}

/* rows x cols weights whose products with unit-variance inputs have unit variance. */
static void put_matrix(writer *w, size_t count, size_t rows, size_t cols) {
  put_uniform(w, count * rows * cols, 0.0f, sqrtf(3.0f / (float)cols));
}

/* freq_cis_real then freq_cis_imag [seq_len][head_size / 2], as llama2.c's export. */
static void put_rope_tables(writer *w, size_t seq_len, size_t head_size) {
  for (int part = 0; part < 2; part++)
    for (size_t p = 0; p < seq_len; p++)
      for (size_t i = 0; i < head_size / 2; i++) {
        double angle = (double)p * pow(10000.0, -(double)(2 * i) / (double)head_size);
        float v = (float)(part == 0 ? cos(angle) : sin(angle));
        put_bytes(w, &v, sizeof v);
      }
}

static void put_weights(writer *w, const llama_shape *s) {
  size_t D = (size_t)s->dim, H = (size_t)s->hidden_dim, L = (size_t)s->n_layers;
  size_t V = (size_t)(s->vocab_size > 0 ? s->vocab_size : -s->vocab_size);
  size_t head = D / (size_t)s->n_heads, KV = head * (size_t)s->n_kv_heads;
  put_uniform(w, V * D, 0.0f, 1.0f); /* token embedding */
  put_uniform(w, L * D, 1.0f, 0.1f); /* attention rmsnorm */
  put_matrix(w, L, D, D);            /* wq */
  put_matrix(w, L, KV, D);           /* wk */
  put_matrix(w, L, KV, D);           /* wv */
  put_matrix(w, L, D, D);            /* wo */
  put_uniform(w, L * D, 1.0f, 0.1f); /* ffn rmsnorm */
  put_matrix(w, L, H, D);            /* w1 */
  put_matrix(w, L, D, H);            /* w2 */
  put_matrix(w, L, H, D);            /* w3 */
  put_uniform(w, D, 1.0f, 0.1f);     /* final rmsnorm */
  put_rope_tables(w, (size_t)s->seq_len, head);
  if (s->vocab_size < 0) put_matrix(w, 1, V, D); /* classifier */
}

/* One writer for both files: its 64 KiB buffer stays off the stack. */
static writer the_writer;

bool llama_write_checkpoint(const llama_shape *shape, uint64_t seed, const char *path, llama_err *err) {
  writer *w = &the_writer;
  w->f = fopen(path, "wb");
  if (!w->f) return llama_fail(err, "%s: cannot create", path);
  w->ok = true;
  w->rng = seed;
  const int32_t header[7] = {shape->dim, shape->hidden_dim, shape->n_layers, shape->n_heads,
                             shape->n_kv_heads, shape->vocab_size, shape->seq_len};
  put_bytes(w, header, sizeof header);
  put_weights(w, shape);
  bool closed = fclose(w->f) == 0;
  if (!w->ok || !closed) return llama_fail(err, "%s: write error", path);
  return true;
}

/* ---- tokenizer ---- */

enum { SYNTH_MAX_TOKEN_LENGTH = 6 }; /* "<0xXX>" and "\n</s>\n" */

static void put_piece(writer *w, const char *piece, float score) {
  int32_t len = (int32_t)strlen(piece);
  put_bytes(w, &score, sizeof score);
  put_bytes(w, &len, sizeof len);
  put_bytes(w, piece, (size_t)len);
}

/* The next of the lowercase strings of `letters` letters (with a space in
   front when `space`), from index i of the 26^letters; false past the last. */
static bool lowercase_piece(size_t i, int letters, bool space, char *out) {
  size_t count = 1;
  for (int k = 0; k < letters; k++) count *= 26;
  if (i >= count) return false;
  char *p = out;
  if (space) *p++ = ' ';
  for (int k = letters - 1; k >= 0; k--, i /= 26) p[k] = (char)('a' + i % 26);
  p[letters] = '\0';
  return true;
}

bool llama_write_tokenizer(size_t vocab_size, const char *path, llama_err *err) {
  /* the fixed part: 3 specials, 256 bytes, 95 printable, 26 " x" */
  if (vocab_size < 380 || vocab_size > INT32_MAX)
    return llama_fail(err, "synthetic tokenizer of %zu tokens: 380 or more", vocab_size);
  writer *w = &the_writer;
  w->f = fopen(path, "wb");
  if (!w->f) return llama_fail(err, "%s: cannot create", path);
  w->ok = true;
  int32_t max_len = SYNTH_MAX_TOKEN_LENGTH;
  put_bytes(w, &max_len, sizeof max_len);
  put_piece(w, "<unk>", 0.0f);
  put_piece(w, "\n<s>\n", 0.0f);
  put_piece(w, "\n</s>\n", 0.0f);
  char piece[8];
  for (int b = 0; b < 256; b++) {
    snprintf(piece, sizeof piece, "<0x%02X>", b);
    put_piece(w, piece, 0.0f);
  }
  size_t id = 3 + 256;
  for (char c = ' '; c <= '~'; c++, id++) put_piece(w, (char[]){c, '\0'}, -(float)id);
  /* then " x", "xy", " xy", "xyz", " xyz": each is some shorter piece plus one more */
  static const struct { int letters; bool space; } groups[] = {{1, true}, {2, false}, {2, true},
                                                               {3, false}, {3, true}};
  for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
    for (size_t i = 0; id < vocab_size && lowercase_piece(i, groups[g].letters, groups[g].space, piece);
         i++, id++)
      put_piece(w, piece, -(float)id);
  bool closed = fclose(w->f) == 0;
  if (id < vocab_size) return llama_fail(err, "synthetic tokenizer: at most %zu tokens", id);
  if (!w->ok || !closed) return llama_fail(err, "%s: write error", path);
  return true;
}
