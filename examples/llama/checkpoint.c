/* Reads llama2.c checkpoints (the legacy fp32 format), memory-mapped, every size checked against the file. */
#include "checkpoint.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { HEADER_FIELDS = 7, HEADER_BYTES = HEADER_FIELDS * 4 };

/* llama2.c's export.py (version >= 1) starts its files with this uint32 ("ak42"). */
static const uint32_t AK42_MAGIC = 0x616b3432u;

static const char *const FIELD_NAMES[HEADER_FIELDS] = {
    "dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};

/* The header's int32 fields into cfg; false when one is out of range or the
   head counts do not divide. Sizes are not checked here (see parts_layout). */
static bool read_header(const unsigned char *data, llama_config *cfg, llama_err *err) {
  int32_t h[HEADER_FIELDS];
  memcpy(h, data, sizeof h);
  uint32_t magic;
  memcpy(&magic, data, sizeof magic);
  if (magic == AK42_MAGIC)
    return llama_fail(err, "this is a llama2.c export of version %d (magic \"ak42\"); only the "
                           "legacy fp32 format is supported (export.py --version 0)", (int)h[1]);
  for (int i = 0; i < HEADER_FIELDS; i++) {
    /* vocab_size alone may be negative (its sign says the classifier is separate) */
    bool bad = i == 5 ? (h[i] == 0 || h[i] == INT32_MIN) : h[i] <= 0;
    if (bad) return llama_fail(err, "header field %s = %d is out of range", FIELD_NAMES[i], (int)h[i]);
  }
  cfg->dim = (size_t)h[0];
  cfg->hidden_dim = (size_t)h[1];
  cfg->n_layers = (size_t)h[2];
  cfg->n_heads = (size_t)h[3];
  cfg->n_kv_heads = (size_t)h[4];
  cfg->shared_classifier = h[5] > 0;
  cfg->vocab_size = (size_t)(h[5] > 0 ? h[5] : -h[5]);
  cfg->seq_len = (size_t)h[6];
  if (cfg->n_kv_heads > cfg->n_heads || cfg->n_heads % cfg->n_kv_heads != 0)
    return llama_fail(err, "n_heads = %zu is not a multiple of n_kv_heads = %zu", cfg->n_heads,
                      cfg->n_kv_heads);
  if (cfg->dim % cfg->n_heads != 0)
    return llama_fail(err, "dim = %zu is not a multiple of n_heads = %zu", cfg->dim, cfg->n_heads);
  cfg->head_size = cfg->dim / cfg->n_heads;
  if (cfg->head_size % 2 != 0)
    return llama_fail(err, "head size %zu is odd: RoPE rotates pairs", cfg->head_size);
  cfg->kv_dim = cfg->n_kv_heads * cfg->head_size;
  return true;
}

/* One array of the file: a * b * c floats, viewed through *view (NULL: skipped). */
typedef struct part {
  const char *name;
  size_t a, b, c;
  const float **view;
} part;

/* Points every view at its array and checks that the arrays end exactly at
   the end of the file. All arithmetic is overflow-checked: a hostile header
   can ask for any size. */
static bool parts_layout(const unsigned char *data, size_t bytes, const llama_config *c,
                         llama_weights *w, llama_err *err) {
  size_t L = c->n_layers, D = c->dim, H = c->hidden_dim, KV = c->kv_dim, V = c->vocab_size;
  const part parts[] = {
      {"token embedding", V, D, 1, &w->token_embedding},
      {"attention rmsnorm", L, D, 1, &w->rms_att},
      {"wq", L, D, D, &w->wq},
      {"wk", L, KV, D, &w->wk},
      {"wv", L, KV, D, &w->wv},
      {"wo", L, D, D, &w->wo},
      {"ffn rmsnorm", L, D, 1, &w->rms_ffn},
      {"w1", L, H, D, &w->w1},
      {"w2", L, D, H, &w->w2},
      {"w3", L, H, D, &w->w3},
      {"final rmsnorm", 1, D, 1, &w->rms_final},
      {"RoPE tables", 2, c->seq_len, c->head_size / 2, NULL},
      {"classifier", c->shared_classifier ? 0 : V, D, 1, &w->classifier},
  };
  size_t offset = HEADER_BYTES; /* bytes */
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    const part *p = &parts[i];
    size_t n;
    if (!llama_mul(p->a, p->b, &n) || !llama_mul(n, p->c, &n) || !llama_mul(n, 4, &n) ||
        !llama_add(offset, n, &n))
      return llama_fail(err, "the header's shape overflows the address space at %s", p->name);
    if (n > bytes)
      return llama_fail(err, "truncated: %s ends at byte %zu, the file has %zu bytes", p->name, n,
                        bytes);
    if (p->view) *p->view = (const float *)(const void *)(data + offset);
    offset = n;
  }
  if (c->shared_classifier) w->classifier = w->token_embedding;
  if (offset != bytes)
    return llama_fail(err, "the file has %zu bytes, %zu more than its header describes (not a "
                           "legacy llama2.c checkpoint, or a different shape)", bytes, bytes - offset);
  return true;
}

bool llama_checkpoint_parse(const void *data, size_t bytes, llama_config *cfg, llama_weights *w,
                            llama_err *err) {
  if (bytes < HEADER_BYTES)
    return llama_fail(err, "the file has %zu bytes, a header needs %d", bytes, HEADER_BYTES);
  llama_config c;
  llama_weights v;
  if (!read_header(data, &c, err) || !parts_layout(data, bytes, &c, &v, err)) return false;
  *cfg = c;
  *w = v;
  return true;
}

bool llama_checkpoint_open(const char *path, llama_checkpoint *ck, llama_err *err) {
  memset(ck, 0, sizeof *ck);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return llama_fail(err, "%s: cannot open", path);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return llama_fail(err, "%s: not a regular file", path);
  }
  if (st.st_size < 0 || (uintmax_t)st.st_size > SIZE_MAX) { /* 32-bit hosts */
    close(fd);
    return llama_fail(err, "%s: too large to map", path);
  }
  size_t bytes = (size_t)st.st_size;
  if (bytes < HEADER_BYTES) { /* mmap of an empty file fails: say why instead */
    close(fd);
    return llama_fail(err, "%s: %zu bytes, a header needs %d", path, bytes, HEADER_BYTES);
  }
  void *map = mmap(NULL, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd); /* the mapping keeps the file */
  if (map == MAP_FAILED) return llama_fail(err, "%s: cannot map %zu bytes", path, bytes);
  llama_err why;
  if (!llama_checkpoint_parse(map, bytes, &ck->cfg, &ck->w, &why)) {
    munmap(map, bytes);
    return llama_fail(err, "%s: %s", path, why.msg);
  }
  ck->map = map;
  ck->map_bytes = bytes;
  return true;
}

void llama_checkpoint_close(llama_checkpoint *ck) {
  if (ck->map) munmap(ck->map, ck->map_bytes);
  memset(ck, 0, sizeof *ck);
}
