/* Reads llama2.c checkpoints (the legacy fp32 format), memory-mapped, every size checked against the file. */
#ifndef LLAMA_CHECKPOINT_H
#define LLAMA_CHECKPOINT_H

#include "util.h"

/* Supported: llama2.c's legacy format only (what `export.py --version 0`,
   the older `export_meta_llama_bin.py` and the published stories*.bin files
   write). Its newer exports (magic "ak42", version 1 fp32 and version 2 Q8_0)
   are recognised and refused with a message. Little-endian hosts only, as
   llama2.c itself. */

/* The header: seven int32, in this order, in the file. */
typedef struct llama_config {
  size_t dim;        /* width of the residual stream */
  size_t hidden_dim; /* width of the SwiGLU feed-forward layer */
  size_t n_layers;
  size_t n_heads;    /* query heads */
  size_t n_kv_heads; /* key/value heads: n_heads / n_kv_heads queries share one (GQA) */
  size_t vocab_size; /* stored negative when the classifier is not the embedding */
  size_t seq_len;    /* longest context the model was trained for */
  /* derived */
  size_t head_size;        /* dim / n_heads */
  size_t kv_dim;           /* n_kv_heads * head_size */
  bool shared_classifier;  /* the classifier is the token embedding */
} llama_config;

/* Views into the mapped file, fp32, row-major, in file order. Per-layer
   arrays are stacked: layer l of wq starts at wq + l * dim * dim. */
typedef struct llama_weights {
  const float *token_embedding; /* [vocab][dim] */
  const float *rms_att;         /* [layers][dim] */
  const float *wq;              /* [layers][dim][dim] */
  const float *wk;              /* [layers][kv_dim][dim] */
  const float *wv;              /* [layers][kv_dim][dim] */
  const float *wo;              /* [layers][dim][dim] */
  const float *rms_ffn;         /* [layers][dim] */
  const float *w1;              /* [layers][hidden][dim] */
  const float *w2;              /* [layers][dim][hidden] */
  const float *w3;              /* [layers][hidden][dim] */
  const float *rms_final;       /* [dim] */
  /* then two RoPE tables [seq_len][head_size / 2], unused: RoPE is computed */
  const float *classifier;      /* [vocab][dim]; the embedding when shared */
} llama_weights;

typedef struct llama_checkpoint {
  llama_config cfg;
  llama_weights w;
  void *map; /* the mapping (NULL when closed) */
  size_t map_bytes;
} llama_checkpoint;

/* Checks a checkpoint image of `bytes` bytes at `data` (4-byte aligned) and
   fills cfg and w (pointers into data). False with a message for anything a
   legacy checkpoint of exactly this length cannot be: short, long, header
   fields out of range, inconsistent head counts, sizes that overflow. */
bool llama_checkpoint_parse(const void *data, size_t bytes, llama_config *cfg, llama_weights *w,
                            llama_err *err);

/* Maps the file read-only and parses it; on failure nothing stays mapped. */
bool llama_checkpoint_open(const char *path, llama_checkpoint *ck, llama_err *err);
void llama_checkpoint_close(llama_checkpoint *ck);

#endif
