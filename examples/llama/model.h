/* The Llama-2 forward pass on tinykern: weights as tinykern layers, one KV cache per layer, prefill and decode. */
#ifndef LLAMA_MODEL_H
#define LLAMA_MODEL_H

#include <tinykern.h>

#include "checkpoint.h"

/* A linear layer y = x W^T made of one or more row blocks (fused layers: q|k|v,
   w1|w3), each block's outputs written to an array of its own. int8: one
   tk_qlinear of every block's rows (tk_qlinear_create_rows: no concatenated
   copy; one pass over the input and one activation quantization for all
   blocks), its fused output then split per block. fp32: one tk_linear_f32_ex
   per block, straight from the mapped file (fusing buys fp32 nothing: there
   is no activation quantization to share). */
enum { LLAMA_MAX_BLOCKS = 3 };
typedef struct llama_linear {
  size_t in, out;                   /* out: the rows of all blocks */
  size_t n_blocks;
  size_t rows[LLAMA_MAX_BLOCKS];    /* rows of each block */
  const float *w[LLAMA_MAX_BLOCKS]; /* fp32: block b [rows[b]][in], in the mapped file */
  tk_qlinear *q;                    /* int8 weights of all blocks, or NULL for fp32 */
} llama_linear;

/* One transformer block. */
typedef struct llama_layer {
  const float *rms_att; /* [dim] */
  const float *rms_ffn; /* [dim] */
  llama_linear qkv;     /* blocks wq [dim][dim], wk, wv [kv_dim][dim] */
  llama_linear wo;      /* [dim][dim] */
  llama_linear w13;     /* blocks w1, w3 [hidden][dim] */
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

/* Activations, KV caches and the threads of one sequence. Buffers are
   [max_batch][...]: a forward call takes up to max_batch tokens at once (the
   prompt). Nothing is allocated after llama_session_create: a decode step
   runs on these buffers, the caches and the workspace (tinykern's scratch). */
typedef struct llama_session {
  size_t capacity;       /* positions the caches hold */
  size_t max_batch;
  size_t pos;            /* positions already run */
  size_t n_layers;
  tk_exec exec;          /* every product and attention: the host's threads and `workspace` */
  void *workspace;       /* scratch of the largest int8 product or attention call */
  tk_kv_cache **caches;  /* [n_layers] */
  float *x;              /* [B][dim] residual stream */
  float *xb;             /* [B][dim] normalized input / a block's output */
  float *fused;          /* [B][max(dim + 2 kv_dim, 2 hidden)] an int8 fused layer's output */
  float *q;              /* [B][dim] queries, then the attention output in place */
  float *k, *v;          /* [B][kv_dim] this step's keys and values */
  float *h1, *h3;        /* [B][hidden] w1 x (then the SwiGLU output), w3 x */
  float *rope;           /* [B][head_size / 2][2] cos, sin per position and pair */
} llama_session;

/* cache_dtype, cache_memory: the KV caches' storage and memory policy
   (tk_kv_config's dtype and memory).
   threads: how tinykern's products and attention run in parallel
   (tk_pool_exec of a pool, or the host's own parallel_for; its workspace
   fields are ignored: the session sizes and owns its workspace); NULL: on
   the calling thread. */
bool llama_session_create(const llama_model *m, size_t capacity, size_t max_batch,
                          tk_dtype cache_dtype, tk_kv_memory cache_memory,
                          const tk_exec *threads, llama_session *s, llama_err *err);
void llama_session_free(llama_session *s);
/* Forgets every position (the caches are reset, not freed). */
void llama_session_reset(llama_session *s);
/* Bytes of the KV caches, and of the activation buffers and workspace. */
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
