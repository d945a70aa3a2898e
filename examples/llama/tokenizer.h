/* llama2.c's tokenizer.bin: loading, byte-pair encoding by merge score, and decoding pieces. */
#ifndef LLAMA_TOKENIZER_H
#define LLAMA_TOKENIZER_H

#include "util.h"

/* Token ids every Llama-2 vocabulary shares (sentencepiece's layout). */
enum {
  LLAMA_TOKEN_UNK = 0,
  LLAMA_TOKEN_BOS = 1,
  LLAMA_TOKEN_EOS = 2,
  LLAMA_TOKEN_BYTE0 = 3, /* ids 3..258 are the bytes 0x00..0xFF, pieces "<0x00>".."<0xFF>" */
};

/* A piece and its id, sorted by bytes for lookup. */
typedef struct llama_piece_ref {
  const char *bytes;
  uint32_t length;
  int32_t id;
} llama_piece_ref;

/* The file: int32 max_token_length, then per token (vocab_size of them, the
   checkpoint's count: the file does not store it) fp32 score, int32 length,
   that many bytes. */
typedef struct llama_tokenizer {
  size_t vocab_size;
  size_t max_token_length;
  char *text;               /* every piece, each followed by a NUL */
  size_t *offset;           /* piece i starts at text + offset[i] */
  uint32_t *length;         /* bytes of piece i */
  float *score;             /* the merge whose result scores highest goes first */
  llama_piece_ref *sorted;  /* [vocab_size], ordered by bytes */
  char byte_values[256];    /* byte_values[b] == b: what a "<0xXX>" piece decodes to */
} llama_tokenizer;

/* Checks and copies a tokenizer image of `bytes` bytes (any alignment):
   every length within max_token_length and the file, finite scores, the
   byte-fallback ids present (vocab_size >= 259), nothing after the last token. */
bool llama_tokenizer_parse(const void *data, size_t bytes, size_t vocab_size, llama_tokenizer *t,
                           llama_err *err);
bool llama_tokenizer_load(const char *path, size_t vocab_size, llama_tokenizer *t, llama_err *err);
void llama_tokenizer_free(llama_tokenizer *t);

/* The id of the piece with exactly these bytes, or -1. */
int32_t llama_lookup(const llama_tokenizer *t, const char *bytes, size_t length);

/* Text (UTF-8) to ids as llama2.c does: BOS first when `bos`, a space before
   non-empty text (sentencepiece's dummy prefix), one token per UTF-8
   character (its bytes' tokens when the character is not in the vocabulary),
   then repeatedly the adjacent pair whose concatenation scores highest is
   merged. *tokens is malloc'ed (free it); *n_tokens <= strlen(text) + 2. */
bool llama_encode(const llama_tokenizer *t, const char *text, bool bos, int32_t **tokens,
                  size_t *n_tokens, llama_err *err);

/* The bytes token `id` stands for when it follows `prev`: a byte token gives
   its byte, the space a piece starts with is dropped right after BOS (the
   dummy prefix). Out-of-range ids give "". */
const char *llama_decode_piece(const llama_tokenizer *t, int32_t prev, int32_t id, size_t *length);

#endif
