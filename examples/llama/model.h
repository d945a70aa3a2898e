/* The Llama-2 forward pass on tinykern: weights as tinykern layers, one KV cache per layer, prefill and decode. */
#ifndef LLAMA_MODEL_H
#define LLAMA_MODEL_H

#include <tinykern.h>

#include "checkpoint.h"

/* A linear layer y [batch][out] = x [batch][in] W^T, either int8 (tk_qlinear,
   which holds its own packed copy) or fp32 (tk_linear_f32 straight from W). */
typedef struct llama_linear {
  size_t out, in;
  tk_qlinear *q;    /* int8 weights, or NULL for fp32 */
  const float *w;   /* fp32: [out][in], in the mapped file or in `owned` */
  float *owned;     /* fp32 rows we concatenated (fused layers), else NULL */
} llama_linear;

/* One transformer block. q, k and v are one layer (their rows stacked: one
   pass over the input, one activation quantization), so are w1 and w3. */
typedef struct llama_layer {
  const float *rms_att; /* [dim] */
  const float *rms_ffn; /* [dim] */
  llama_linear qkv;     /* [dim + 2 kv_dim][dim]: wq rows, then wk, then wv */
  llama_linear wo;      /* [dim][dim] */
  llama_linear w13;     /* [2 hidden][dim]: w1 rows, then w3 */
  llama_linear w2;      /* [dim][hidden] */
} llama_layer;

typedef struct llama_model {
  llama_config cfg;
  const float *token_embedding; /* [vocab][dim], fp32 rows from the file */
  const float *rms_final;       /* [dim] */
  llama_layer *layers;          /* [n_layers] */
  llama_linear classifier;      /* [vocab][dim] */
} llama_model;

/* Builds the layers from a parsed checkpoint, int8 unless f32_weights. fp32
   layers point into the checkpoint (keep it open while the model lives);
   int8 ones are copies. Checks that every weight is finite. */
bool llama_model_load(const llama_checkpoint *ck, bool f32_weights, llama_model *m, llama_err *err);
void llama_model_free(llama_model *m);
/* Bytes of weights one decode step reads: every matrix once (the embedding
   row and the norms are negligible). */
size_t llama_model_weight_bytes(const llama_model *m);

/* Activations and KV caches of one sequence. Buffers are [max_batch][...]:
   a forward call takes up to max_batch tokens at once (the prompt). */
typedef struct llama_session {
  size_t capacity;       /* positions the caches hold */
  size_t max_batch;
  size_t pos;            /* positions already run */
  size_t n_layers;
  tk_kv_cache **caches;  /* [n_layers] */
  float *x;              /* [B][dim] residual stream */
  float *xb;             /* [B][dim] normalized input / a block's output */
  float *qkv;            /* [B][dim + 2 kv_dim] fused projection */
  float *q;              /* [B][dim] queries, then the attention output in place */
  float *k, *v;          /* [B][kv_dim] this step's keys and values */
  float *h13;            /* [B][2 hidden] w1 x, then w3 x */
  float *h;              /* [B][hidden] SwiGLU output */
  float *rope;           /* [B][head_size / 2][2] cos, sin per position and pair */
} llama_session;

bool llama_session_create(const llama_model *m, size_t capacity, size_t max_batch,
                          tk_dtype cache_dtype, llama_session *s, llama_err *err);
void llama_session_free(llama_session *s);
/* Forgets every position (the caches are reset, not freed). */
void llama_session_reset(llama_session *s);
/* Bytes of the KV caches, and of the activation buffers. */
size_t llama_session_cache_bytes(const llama_session *s);
size_t llama_session_buffer_bytes(const llama_session *s, const llama_config *c);

/* Runs tokens [n] at positions s->pos .. s->pos + n - 1 as one step (n > 1:
   prefill, every matrix product with batch n and one tk_attend over n
   queries; n == 1: decode) and writes the logits [vocab] of the last one.
   A failure (full context, bad id, an overflow to non-finite activations)
   can leave some layers' caches a step ahead: reset the session. */
bool llama_forward(const llama_model *m, llama_session *s, const int32_t *tokens, size_t n,
                   float *logits, llama_err *err);

#endif
