/* llama2.c's tokenizer.bin: loading, byte-pair encoding by merge score, and decoding pieces. */
#include "tokenizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest piece we accept: bounds the merge buffer (real vocabularies: < 100). */
enum { MAX_TOKEN_LENGTH = 1 << 16 };

static int compare_bytes(const char *a, size_t na, const char *b, size_t nb) {
  int c = memcmp(a, b, na < nb ? na : nb);
  if (c != 0) return c;
  return na < nb ? -1 : na > nb;
}

static int compare_refs(const void *a, const void *b) {
  const llama_piece_ref *x = a, *y = b;
  return compare_bytes(x->bytes, x->length, y->bytes, y->length);
}

static int32_t read_i32(const unsigned char *p) {
  int32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

static bool alloc_tables(llama_tokenizer *t, size_t vocab_size, size_t text_bytes) {
  t->vocab_size = vocab_size;
  t->text = malloc(text_bytes);
  t->offset = malloc(vocab_size * sizeof *t->offset);
  t->length = malloc(vocab_size * sizeof *t->length);
  t->score = malloc(vocab_size * sizeof *t->score);
  t->sorted = malloc(vocab_size * sizeof *t->sorted);
  return t->text && t->offset && t->length && t->score && t->sorted;
}

/* Reads the pieces into t (tables already allocated); pos: first token's byte. */
static bool read_pieces(const unsigned char *p, size_t bytes, llama_tokenizer *t, llama_err *err) {
  size_t pos = 4, text_pos = 0;
  for (size_t i = 0; i < t->vocab_size; i++) {
    if (bytes - pos < 8) return llama_fail(err, "truncated at token %zu of %zu", i, t->vocab_size);
    float score;
    memcpy(&score, p + pos, sizeof score);
    int32_t len = read_i32(p + pos + 4);
    pos += 8;
    if (!isfinite(score)) return llama_fail(err, "token %zu: score is not finite", i);
    if (len < 0 || (size_t)len > t->max_token_length)
      return llama_fail(err, "token %zu: length %d outside 0..max_token_length %zu", i, (int)len,
                        t->max_token_length);
    if (bytes - pos < (size_t)len)
      return llama_fail(err, "truncated inside token %zu of %zu", i, t->vocab_size);
    memcpy(t->text + text_pos, p + pos, (size_t)len);
    t->text[text_pos + (size_t)len] = '\0';
    t->offset[i] = text_pos;
    t->length[i] = (uint32_t)len;
    t->score[i] = score;
    t->sorted[i] = (llama_piece_ref){t->text + text_pos, (uint32_t)len, (int32_t)i};
    pos += (size_t)len;
    text_pos += (size_t)len + 1;
  }
  if (pos != bytes)
    return llama_fail(err, "%zu bytes after the last of %zu tokens (a different vocabulary size?)",
                      bytes - pos, t->vocab_size);
  return true;
}

bool llama_tokenizer_parse(const void *data, size_t bytes, size_t vocab_size, llama_tokenizer *t,
                           llama_err *err) {
  memset(t, 0, sizeof *t);
  const unsigned char *p = data;
  if (vocab_size < LLAMA_TOKEN_BYTE0 + 256 || vocab_size > INT32_MAX)
    return llama_fail(err, "vocabulary of %zu tokens: byte fallback needs ids 3..258", vocab_size);
  if (bytes < 4) return llama_fail(err, "%zu bytes: too short for a tokenizer", bytes);
  int32_t max_len = read_i32(p);
  if (max_len <= 0 || max_len > MAX_TOKEN_LENGTH)
    return llama_fail(err, "max_token_length %d outside 1..%d", (int)max_len, MAX_TOKEN_LENGTH);
  t->max_token_length = (size_t)max_len;
  /* every piece's bytes are in the file: they and one NUL each fit in bytes + vocab */
  size_t text_bytes;
  if (!llama_add(bytes, vocab_size, &text_bytes) || !alloc_tables(t, vocab_size, text_bytes)) {
    llama_tokenizer_free(t);
    return llama_fail(err, "out of memory for %zu tokens", vocab_size);
  }
  if (!read_pieces(p, bytes, t, err)) {
    llama_tokenizer_free(t);
    return false;
  }
  qsort(t->sorted, vocab_size, sizeof *t->sorted, compare_refs);
  for (int b = 0; b < 256; b++) t->byte_values[b] = (char)b;
  return true;
}

bool llama_tokenizer_load(const char *path, size_t vocab_size, llama_tokenizer *t, llama_err *err) {
  memset(t, 0, sizeof *t);
  FILE *f = fopen(path, "rb");
  if (!f) return llama_fail(err, "%s: cannot open", path);
  /* tokenizer files are small (~430 KB for 32000 tokens): read it whole */
  long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  unsigned char *data = size >= 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc((size_t)size + 1) : NULL;
  bool read_all = data && fread(data, 1, (size_t)size, f) == (size_t)size;
  fclose(f);
  llama_err why;
  bool ok = read_all && llama_tokenizer_parse(data, (size_t)size, vocab_size, t, &why);
  free(data);
  if (!read_all) return llama_fail(err, "%s: cannot read", path);
  if (!ok) return llama_fail(err, "%s: %s", path, why.msg);
  return true;
}

void llama_tokenizer_free(llama_tokenizer *t) {
  free(t->text);
  free(t->offset);
  free(t->length);
  free(t->score);
  free(t->sorted);
  memset(t, 0, sizeof *t);
}

int32_t llama_lookup(const llama_tokenizer *t, const char *bytes, size_t length) {
  size_t lo = 0, hi = t->vocab_size;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const llama_piece_ref *r = &t->sorted[mid];
    int c = compare_bytes(r->bytes, r->length, bytes, length);
    if (c == 0) return r->id;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

/* Bytes of a UTF-8 character starting with byte c (1 for stray continuation bytes). */
static size_t utf8_length(unsigned char c) {
  if (c >= 0xF0) return 4;
  if (c >= 0xE0) return 3;
  if (c >= 0xC0) return 2;
  return 1;
}

/* One token per character, its bytes' tokens when the character is unknown. */
static size_t split_characters(const llama_tokenizer *t, const char *text, int32_t *out) {
  size_t n = 0;
  for (size_t i = 0; text[i];) {
    size_t len = utf8_length((unsigned char)text[i]);
    size_t k = 1;
    while (k < len && ((unsigned char)text[i + k] & 0xC0) == 0x80) k++; /* stops at the NUL */
    int32_t id = llama_lookup(t, text + i, k);
    if (id >= 0) {
      out[n++] = id;
    } else {
      for (size_t b = 0; b < k; b++) out[n++] = LLAMA_TOKEN_BYTE0 + (unsigned char)text[i + b];
    }
    i += k;
  }
  return n;
}

/* Merges the best-scoring adjacent pair until none is in the vocabulary.
   buf holds one concatenation: 2 * max_token_length bytes. */
static size_t merge_pairs(const llama_tokenizer *t, int32_t *ids, size_t n, char *buf) {
  for (;;) {
    float best_score = -INFINITY;
    int32_t best_id = -1;
    size_t best_at = 0;
    for (size_t i = 0; i + 1 < n; i++) {
      size_t la = t->length[ids[i]], lb = t->length[ids[i + 1]];
      memcpy(buf, t->text + t->offset[ids[i]], la);
      memcpy(buf + la, t->text + t->offset[ids[i + 1]], lb);
      int32_t id = llama_lookup(t, buf, la + lb);
      if (id >= 0 && (best_id < 0 || t->score[id] > best_score)) {
        best_score = t->score[id];
        best_id = id;
        best_at = i;
      }
    }
    if (best_id < 0) return n;
    ids[best_at] = best_id;
    memmove(ids + best_at + 1, ids + best_at + 2, (n - best_at - 2) * sizeof *ids);
    n--;
  }
}

bool llama_encode(const llama_tokenizer *t, const char *text, bool bos, int32_t **tokens,
                  size_t *n_tokens, llama_err *err) {
  size_t len = strlen(text), cap;
  int32_t *ids = NULL;
  char *buf = malloc(2 * t->max_token_length);
  if (llama_add(len, 2, &cap) && cap <= SIZE_MAX / sizeof *ids) ids = malloc(cap * sizeof *ids);
  if (!ids || !buf) {
    free(ids);
    free(buf);
    return llama_fail(err, "out of memory encoding %zu bytes", len);
  }
  size_t n = 0;
  if (bos) ids[n++] = LLAMA_TOKEN_BOS;
  int32_t space = llama_lookup(t, " ", 1);
  size_t first = n; /* BOS never merges */
  if (len > 0 && space >= 0) ids[n++] = space;
  n += split_characters(t, text, ids + n);
  n = first + merge_pairs(t, ids + first, n - first, buf);
  free(buf);
  *tokens = ids;
  *n_tokens = n;
  return true;
}

/* 0..255 when the piece is "<0xXX>", else -1. */
static int byte_piece(const char *s, size_t n) {
  if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return -1;
  int v = 0;
  for (int i = 3; i < 5; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

const char *llama_decode_piece(const llama_tokenizer *t, int32_t prev, int32_t id, size_t *length) {
  if (id < 0 || (size_t)id >= t->vocab_size) {
    *length = 0;
    return "";
  }
  const char *s = t->text + t->offset[id];
  size_t n = t->length[id];
  int b = byte_piece(s, n);
  if (b >= 0) {
    *length = 1;
    return &t->byte_values[b];
  }
  if (prev == LLAMA_TOKEN_BOS && n > 0 && s[0] == ' ') {
    s++;
    n--;
  }
  *length = n;
  return s;
}
