/* The Llama-2 forward pass on tinykern: weights as tinykern layers, one KV cache per layer, prefill and decode. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- loading ---- */

static bool all_finite(const float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i])) return false;
  return true;
}

/* Makes one layer of the row blocks (their sizes are those of arrays in the
   mapped file: they cannot overflow). int8: tk_qlinear_create_rows quantizes
   and packs every block's rows into one layer, reading them where they are. */
static bool linear_init(llama_linear *l, const tk_qlinear_rows *blocks, size_t n_blocks,
                        size_t in, bool f32, const char *what, llama_err *err) {
  memset(l, 0, sizeof *l);
  l->in = in;
  l->n_blocks = n_blocks;
  for (size_t b = 0; b < n_blocks; b++) {
    l->rows[b] = blocks[b].rows;
    l->out += blocks[b].rows;
    if (f32) {
      l->w[b] = blocks[b].w;
      if (!all_finite(blocks[b].w, blocks[b].rows * in))
        return llama_fail(err, "%s: weights not finite", what);
    }
  }
  if (f32) return true;
  tk_status st = tk_qlinear_create_rows(blocks, n_blocks, in, &l->q);
  if (st != TK_OK) return llama_fail(err, "%s: tk_qlinear_create_rows: %s", what, tk_status_str(st));
  return true;
}

static void linear_free(llama_linear *l) {
  tk_qlinear_destroy(l->q);
  memset(l, 0, sizeof *l);
}

static size_t linear_bytes(const llama_linear *l) {
  return l->q ? tk_qlinear_bytes(l->q) : l->out * l->in * sizeof(float);
}

static bool layer_init(llama_layer *L, const llama_config *c, const llama_weights *w, size_t l,
                       bool f32, llama_err *err) {
  size_t D = c->dim, KV = c->kv_dim, H = c->hidden_dim;
  L->rms_att = w->rms_att + l * D;
  L->rms_ffn = w->rms_ffn + l * D;
  if (!all_finite(L->rms_att, D) || !all_finite(L->rms_ffn, D))
    return llama_fail(err, "layer %zu: rmsnorm weights not finite", l);
  const tk_qlinear_rows qkv[] = {{w->wq + l * D * D, D, NULL}, {w->wk + l * KV * D, KV, NULL},
                                 {w->wv + l * KV * D, KV, NULL}};
  const tk_qlinear_rows wo[] = {{w->wo + l * D * D, D, NULL}};
  const tk_qlinear_rows w13[] = {{w->w1 + l * H * D, H, NULL}, {w->w3 + l * H * D, H, NULL}};
  const tk_qlinear_rows w2[] = {{w->w2 + l * D * H, D, NULL}};
  char what[4][64];
  snprintf(what[0], sizeof what[0], "layer %zu wq|wk|wv", l);
  snprintf(what[1], sizeof what[1], "layer %zu wo", l);
  snprintf(what[2], sizeof what[2], "layer %zu w1|w3", l);
  snprintf(what[3], sizeof what[3], "layer %zu w2", l);
  return linear_init(&L->qkv, qkv, 3, D, f32, what[0], err) &&
         linear_init(&L->wo, wo, 1, D, f32, what[1], err) &&
         linear_init(&L->w13, w13, 2, D, f32, what[2], err) &&
         linear_init(&L->w2, w2, 1, H, f32, what[3], err);
}

bool llama_model_load(const llama_checkpoint *ck, bool f32_weights, llama_model *m, llama_err *err) {
  memset(m, 0, sizeof *m);
  const llama_config *c = &ck->cfg;
  m->cfg = *c;
  m->token_embedding = ck->w.token_embedding;
  m->rms_final = ck->w.rms_final;
  if (!all_finite(m->token_embedding, c->vocab_size * c->dim) || !all_finite(m->rms_final, c->dim))
    return llama_fail(err, "token embedding or final rmsnorm not finite");
  m->layers = calloc(c->n_layers, sizeof *m->layers);
  if (!m->layers) return llama_fail(err, "out of memory for %zu layers", c->n_layers);
  bool ok = true;
  for (size_t l = 0; ok && l < c->n_layers; l++)
    ok = layer_init(&m->layers[l], c, &ck->w, l, f32_weights, err);
  const tk_qlinear_rows cls[] = {{ck->w.classifier, c->vocab_size, NULL}};
  ok = ok && linear_init(&m->classifier, cls, 1, c->dim, f32_weights, "classifier", err);
  if (!ok) llama_model_free(m);
  return ok;
}

void llama_model_free(llama_model *m) {
  for (size_t l = 0; m->layers && l < m->cfg.n_layers; l++) {
    llama_layer *L = &m->layers[l];
    linear_free(&L->qkv);
    linear_free(&L->wo);
    linear_free(&L->w13);
    linear_free(&L->w2);
  }
  free(m->layers);
  linear_free(&m->classifier);
  memset(m, 0, sizeof *m);
}

size_t llama_model_weight_bytes(const llama_model *m) {
  size_t bytes = linear_bytes(&m->classifier);
  for (size_t l = 0; l < m->cfg.n_layers; l++) {
    const llama_layer *L = &m->layers[l];
    bytes += linear_bytes(&L->qkv) + linear_bytes(&L->wo) + linear_bytes(&L->w13) +
             linear_bytes(&L->w2);
  }
  return bytes;
}

/* ---- session ---- */

/* *p = rows x width floats, overflow-checked. */
static bool alloc_rows(float **p, size_t rows, size_t width) {
  size_t n;
  *p = llama_mul(rows, width, &n) && n <= SIZE_MAX / sizeof(float) ? malloc(n * sizeof(float)) : NULL;
  return *p != NULL;
}

/* The largest scratch any call of a step needs with the session's threads:
   the int8 products (tk_qlinear_workspace_bytes covers every batch up to the
   one asked for: the prompt's, and the decode steps' 1) and attention
   (tk_attend_workspace_bytes covers every length the cache reaches). */
static size_t workspace_bytes(const llama_model *m, const tk_kv_cache *cache, size_t max_batch,
                              const tk_exec *e) {
  size_t bytes = tk_attend_workspace_bytes(cache, max_batch, m->cfg.n_heads, e);
  size_t need = tk_qlinear_workspace_bytes(m->classifier.q, 1, e); /* 0 for fp32 */
  if (need > bytes) bytes = need;
  for (size_t l = 0; l < m->cfg.n_layers; l++) {
    const llama_layer *L = &m->layers[l];
    const tk_qlinear *layers[] = {L->qkv.q, L->wo.q, L->w13.q, L->w2.q};
    for (size_t i = 0; i < 4; i++) {
      need = tk_qlinear_workspace_bytes(layers[i], max_batch, e);
      if (need > bytes) bytes = need;
    }
  }
  return bytes;
}

bool llama_session_create(const llama_model *m, size_t capacity, size_t max_batch,
                          tk_dtype cache_dtype, tk_kv_memory cache_memory,
                          const tk_exec *threads, llama_session *s, llama_err *err) {
  memset(s, 0, sizeof *s);
  const llama_config *c = &m->cfg;
  if (capacity == 0 || max_batch == 0 || max_batch > capacity)
    return llama_fail(err, "session: capacity %zu, batch %zu", capacity, max_batch);
  s->capacity = capacity;
  s->n_layers = c->n_layers;
  s->max_batch = max_batch;
  size_t B = max_batch, fused = c->dim + 2 * c->kv_dim;
  if (fused < 2 * c->hidden_dim) fused = 2 * c->hidden_dim;
  bool ok = (s->caches = calloc(c->n_layers, sizeof *s->caches)) != NULL &&
            alloc_rows(&s->x, B, c->dim) && alloc_rows(&s->xb, B, c->dim) &&
            alloc_rows(&s->fused, B, fused) && alloc_rows(&s->q, B, c->dim) &&
            alloc_rows(&s->k, B, c->kv_dim) && alloc_rows(&s->v, B, c->kv_dim) &&
            alloc_rows(&s->h1, B, c->hidden_dim) && alloc_rows(&s->h3, B, c->hidden_dim) &&
            alloc_rows(&s->rope, B, c->head_size);
  if (!ok) {
    llama_session_free(s);
    return llama_fail(err, "out of memory for a batch of %zu tokens", max_batch);
  }
  /* one cache per layer, positions kept per kv head, as tk_attend reads them */
  tk_kv_config kc = {.n_kv_heads = c->n_kv_heads, .head_dim = c->head_size,
                     .capacity = capacity, .dtype = cache_dtype, .sliding = false,
                     .memory = cache_memory};
  for (size_t l = 0; l < c->n_layers; l++) {
    tk_status st = tk_kv_cache_create(&kc, &s->caches[l]);
    if (st != TK_OK) {
      llama_session_free(s);
      return llama_fail(err, "KV cache of %zu positions: %s", capacity, tk_status_str(st));
    }
  }
  if (threads) {
    s->exec = *threads;
    s->exec.workspace = NULL;
    s->exec.workspace_bytes = 0;
  }
  size_t ws = workspace_bytes(m, s->caches[0], max_batch, &s->exec);
  if (ws) {
    if (!(s->workspace = malloc(ws))) {
      llama_session_free(s);
      return llama_fail(err, "out of memory for a batch of %zu tokens", max_batch);
    }
    s->exec.workspace = s->workspace;
    s->exec.workspace_bytes = ws;
  }
  s->pos = 0;
  return true;
}

void llama_session_free(llama_session *s) {
  for (size_t l = 0; s->caches && l < s->n_layers; l++) tk_kv_cache_destroy(s->caches[l]);
  free(s->caches);
  free(s->workspace);
  free(s->x);
  free(s->xb);
  free(s->fused);
  free(s->q);
  free(s->k);
  free(s->v);
  free(s->h1);
  free(s->h3);
  free(s->rope);
  memset(s, 0, sizeof *s);
}

void llama_session_reset(llama_session *s) {
  for (size_t l = 0; l < s->n_layers; l++) tk_kv_cache_reset(s->caches[l]);
  s->pos = 0;
}

size_t llama_session_cache_bytes(const llama_session *s) {
  size_t bytes = 0;
  for (size_t l = 0; l < s->n_layers; l++) bytes += tk_kv_cache_bytes(s->caches[l]);
  return bytes;
}

size_t llama_session_buffer_bytes(const llama_session *s, const llama_config *c) {
  size_t fused = c->dim + 2 * c->kv_dim;
  if (fused < 2 * c->hidden_dim) fused = 2 * c->hidden_dim;
  size_t per_token = 3 * c->dim + 2 * c->kv_dim + fused + 2 * c->hidden_dim + c->head_size;
  return s->max_batch * per_token * sizeof(float) + s->exec.workspace_bytes;
}

/* ---- forward ---- */

/* y[b] [n][rows of block b] = x [n][in] W_b^T for every block b of l, on the
   session's threads. */
static tk_status linear_forward(llama_session *s, const llama_linear *l, const float *x, size_t n,
                                float *const *y) {
  if (!l->q) {
    for (size_t b = 0; b < l->n_blocks; b++) {
      tk_status st = tk_linear_f32_ex(&s->exec, l->w[b], l->rows[b], l->in, NULL, x, n, y[b]);
      if (st != TK_OK) return st;
    }
    return TK_OK;
  }
  if (l->n_blocks == 1) return tk_qlinear_forward_ex(&s->exec, l->q, x, n, y[0]);
  tk_status st = tk_qlinear_forward_ex(&s->exec, l->q, x, n, s->fused);
  if (st != TK_OK) return st;
  /* the fused rows [n][block 0 | block 1 | ...] into each block's [n][rows] */
  const float *f = s->fused;
  for (size_t r = 0; r < n; r++)
    for (size_t b = 0; b < l->n_blocks; f += l->rows[b], b++)
      memcpy(y[b] + r * l->rows[b], f, l->rows[b] * sizeof *f);
  return TK_OK;
}

static bool tk_ok(tk_status st, size_t layer, const char *what, llama_err *err) {
  if (st == TK_OK) return true;
  return llama_fail(err, "layer %zu: %s: %s", layer, what, tk_status_str(st));
}

/* o = x / rms(x) * w for each of n rows, as llama2.c (eps 1e-5 inside the root). */
static void rmsnorm_rows(float *o, const float *x, const float *w, size_t n, size_t dim) {
  for (size_t r = 0; r < n; r++, o += dim, x += dim) {
    float ss = 0.0f;
    for (size_t i = 0; i < dim; i++) ss += x[i] * x[i];
    float inv = 1.0f / sqrtf(ss / (float)dim + 1e-5f);
    for (size_t i = 0; i < dim; i++) o[i] = w[i] * (inv * x[i]);
  }
}

/* cos and sin of every (position, pair) of this step, [n][head_size / 2][2]:
   pair i of every head turns by pos * 10000^(-2i / head_size). Computed in
   double: float angles lose ~1e-4 rad at positions near 1000. */
static void rope_table(float *t, size_t pos0, size_t n, size_t head_size) {
  for (size_t r = 0; r < n; r++)
    for (size_t i = 0; i < head_size / 2; i++, t += 2) {
      double angle = (double)(pos0 + r) * pow(10000.0, -(double)(2 * i) / (double)head_size);
      t[0] = (float)cos(angle);
      t[1] = (float)sin(angle);
    }
}

/* Rotates the pairs (v[2i], v[2i+1]) of every head of each of n rows
   [n][n_heads][head_size] by that row's angles (llama2.c's RoPE layout). */
static void rope_rotate(float *v, size_t n, size_t n_heads, size_t head_size, const float *table) {
  for (size_t r = 0; r < n; r++, table += head_size)
    for (size_t h = 0; h < n_heads; h++, v += head_size)
      for (size_t i = 0; i < head_size / 2; i++) {
        float c = table[2 * i], s = table[2 * i + 1], a = v[2 * i], b = v[2 * i + 1];
        v[2 * i] = a * c - b * s;
        v[2 * i + 1] = a * s + b * c;
      }
}

/* h1 = silu(h1) * h3, elementwise over n values (w1 x and w3 x). */
static void swiglu(float *h1, const float *h3, size_t n) {
  for (size_t i = 0; i < n; i++) h1[i] = h1[i] / (1.0f + expf(-h1[i])) * h3[i];
}

static void add(float *x, const float *d, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] += d[i];
}

/* x += wo(attention(rmsnorm(x))) for the n tokens of this step. */
static bool attention_block(const llama_model *m, llama_session *s, size_t l, size_t n,
                            llama_err *err) {
  const llama_config *c = &m->cfg;
  const llama_layer *L = &m->layers[l];
  rmsnorm_rows(s->xb, s->x, L->rms_att, n, c->dim);
  float *const qkv[] = {s->q, s->k, s->v};
  if (!tk_ok(linear_forward(s, &L->qkv, s->xb, n, qkv), l, "wq|wk|wv", err)) return false;
  rope_rotate(s->q, n, c->n_heads, c->head_size, s->rope);
  rope_rotate(s->k, n, c->n_kv_heads, c->head_size, s->rope);
  /* the cache takes this step's positions; the n queries are theirs (causal) */
  if (!tk_ok(tk_kv_cache_append(s->caches[l], s->k, s->v, n), l, "KV cache append", err) ||
      !tk_ok(tk_attend_ex(&s->exec, s->caches[l], s->q, n, c->n_heads, s->q), l, "attend", err) ||
      !tk_ok(linear_forward(s, &L->wo, s->q, n, &s->xb), l, "wo", err))
    return false;
  add(s->x, s->xb, n * c->dim);
  return true;
}

/* x += w2(swiglu(w1|w3(rmsnorm(x)))) for the n tokens of this step. */
static bool ffn_block(const llama_model *m, llama_session *s, size_t l, size_t n, llama_err *err) {
  const llama_config *c = &m->cfg;
  const llama_layer *L = &m->layers[l];
  rmsnorm_rows(s->xb, s->x, L->rms_ffn, n, c->dim);
  float *const h13[] = {s->h1, s->h3};
  if (!tk_ok(linear_forward(s, &L->w13, s->xb, n, h13), l, "w1|w3", err)) return false;
  swiglu(s->h1, s->h3, n * c->hidden_dim);
  if (!tk_ok(linear_forward(s, &L->w2, s->h1, n, &s->xb), l, "w2", err)) return false;
  add(s->x, s->xb, n * c->dim);
  return true;
}

bool llama_forward(const llama_model *m, llama_session *s, const int32_t *tokens, size_t n,
                   float *logits, llama_err *err) {
  const llama_config *c = &m->cfg;
  if (n == 0 || n > s->max_batch)
    return llama_fail(err, "%zu tokens in one step: 1..%zu", n, s->max_batch);
  if (n > s->capacity - s->pos)
    return llama_fail(err, "context full: %zu + %zu positions, capacity %zu", s->pos, n, s->capacity);
  for (size_t t = 0; t < n; t++) {
    if (tokens[t] < 0 || (size_t)tokens[t] >= c->vocab_size)
      return llama_fail(err, "token id %d outside the vocabulary", (int)tokens[t]);
    memcpy(s->x + t * c->dim, m->token_embedding + (size_t)tokens[t] * c->dim, c->dim * sizeof(float));
  }
  rope_table(s->rope, s->pos, n, c->head_size);
  for (size_t l = 0; l < c->n_layers; l++)
    if (!attention_block(m, s, l, n, err) || !ffn_block(m, s, l, n, err)) return false;
  /* only the last token's logits: they pick the next token */
  rmsnorm_rows(s->xb, s->x + (n - 1) * c->dim, m->rms_final, 1, c->dim);
  tk_status st = linear_forward(s, &m->classifier, s->xb, 1, &logits);
  if (st != TK_OK) return llama_fail(err, "classifier: %s", tk_status_str(st));
  s->pos += n;
  return true;
}
