/* The digits MLP the report trains in plain C: data split, training, masked fine-tuning. */
#ifndef TK_REPORT_MODEL_H
#define TK_REPORT_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* v[0..n) drawn from normal(0, sd^2), reproducibly from the xorshift state *s. */
void rp_fill_normal(float *v, size_t n, double sd, uint64_t *s);

/* Images as features in [0, 1] (pixel / 16): x [n][dim], labels y [n]. */
typedef struct rp_dataset {
  size_t n, dim;
  float *x;
  unsigned char *y;
} rp_dataset;

/* A fixed shuffle (seeded) of the 1,797 digits: the first n_test go to test,
   the rest to train; with `limit` > 0 only that many training images are
   kept (the --tiny run). Returns 0, or -1 when out of memory. */
int rp_digits_split(uint64_t seed, size_t n_test, size_t limit, rp_dataset *train, rp_dataset *test);
void rp_dataset_free(rp_dataset *d);

/* in -> hidden (ReLU) -> out logits. Weights in tk_linear_f32's layout:
   w1 [hidden][in], w2 [out][hidden]. */
typedef struct rp_mlp {
  size_t in, hidden, out;
  float *w1, *b1, *w2, *b2;
} rp_mlp;

int rp_mlp_init(rp_mlp *m, size_t in, size_t hidden, size_t out, uint64_t seed); /* He init */
int rp_mlp_copy(rp_mlp *dst, const rp_mlp *src);
void rp_mlp_free(rp_mlp *m);

typedef struct rp_train_opts {
  unsigned epochs;
  size_t batch;
  float lr;      /* Adam step size */
  uint64_t seed; /* order of the mini-batches */
} rp_train_opts;

/* Softmax cross-entropy with Adam. When mask1 / mask2 (same shapes as w1 / w2,
   entries 0 or 1) are given, the masked-out weights stay exactly 0: their
   gradient is dropped, so pruning's mask stays fixed while the kept weights
   are fine-tuned. Returns 0, or -1 when out of memory. */
int rp_mlp_train(rp_mlp *m, const rp_dataset *d, const rp_train_opts *o, const float *mask1,
                 const float *mask2);

/* Logits [n][out] of the plain C forward pass used in training. */
int rp_mlp_logits(const rp_mlp *m, const rp_dataset *d, float *logits);

#endif
