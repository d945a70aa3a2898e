/* The digits MLP the report trains in plain C: data split, training, masked fine-tuning. */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"

/* xorshift64*: the same sequence on every host, so the split, the initial
   weights and therefore the accuracies are reproducible. */
static uint64_t rng_next(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1DULL;
}
static double rng_unit(uint64_t *s) { return (double)(rng_next(s) >> 11) * 0x1.0p-53; }
static size_t rng_below(uint64_t *s, size_t n) { return (size_t)(rng_unit(s) * (double)n); }
static double rng_normal(uint64_t *s) { /* Box-Muller */
  double u = rng_unit(s), v = rng_unit(s);
  return sqrt(-2 * log(1 - u)) * cos(6.283185307179586 * v);
}

void rp_fill_normal(float *v, size_t n, double sd, uint64_t *s) {
  if (*s == 0) *s = 1;
  for (size_t i = 0; i < n; i++) v[i] = (float)(sd * rng_normal(s));
}

static void shuffle(size_t *idx, size_t n, uint64_t *s) {
  for (size_t i = n; i > 1; i--) {
    size_t j = rng_below(s, i), t = idx[i - 1];
    idx[i - 1] = idx[j];
    idx[j] = t;
  }
}

static int dataset_alloc(rp_dataset *d, size_t n, size_t dim) {
  d->n = n;
  d->dim = dim;
  d->x = malloc((n ? n : 1) * dim * sizeof *d->x);
  d->y = malloc(n ? n : 1);
  return d->x && d->y ? 0 : -1;
}

void rp_dataset_free(rp_dataset *d) {
  free(d->x);
  free(d->y);
  d->x = NULL;
  d->y = NULL;
  d->n = 0;
}

int rp_digits_split(uint64_t seed, size_t n_test, size_t limit, rp_dataset *train, rp_dataset *test) {
  size_t idx[TK_DIGITS_COUNT];
  for (size_t i = 0; i < TK_DIGITS_COUNT; i++) idx[i] = i;
  uint64_t s = seed ? seed : 1;
  shuffle(idx, TK_DIGITS_COUNT, &s);
  if (n_test > TK_DIGITS_COUNT) n_test = TK_DIGITS_COUNT;
  size_t n_train = TK_DIGITS_COUNT - n_test;
  if (limit && limit < n_train) n_train = limit;
  memset(train, 0, sizeof *train);
  memset(test, 0, sizeof *test);
  if (dataset_alloc(test, n_test, TK_DIGITS_PIXELS) || dataset_alloc(train, n_train, TK_DIGITS_PIXELS)) {
    rp_dataset_free(train);
    rp_dataset_free(test);
    return -1;
  }
  for (size_t i = 0; i < n_test + n_train; i++) {
    rp_dataset *d = i < n_test ? test : train;
    size_t row = i < n_test ? i : i - n_test, src = idx[i];
    for (size_t p = 0; p < TK_DIGITS_PIXELS; p++)
      d->x[row * TK_DIGITS_PIXELS + p] = (float)tk_digits_pixels[src][p] / 16.0f;
    d->y[row] = tk_digits_labels[src];
  }
  return 0;
}

void rp_mlp_free(rp_mlp *m) {
  free(m->w1);
  free(m->b1);
  free(m->w2);
  free(m->b2);
  m->w1 = m->b1 = m->w2 = m->b2 = NULL;
}

static int mlp_alloc(rp_mlp *m, size_t in, size_t hidden, size_t out) {
  m->in = in;
  m->hidden = hidden;
  m->out = out;
  m->w1 = calloc(hidden * in, sizeof *m->w1);
  m->b1 = calloc(hidden, sizeof *m->b1);
  m->w2 = calloc(out * hidden, sizeof *m->w2);
  m->b2 = calloc(out, sizeof *m->b2);
  if (m->w1 && m->b1 && m->w2 && m->b2) return 0;
  rp_mlp_free(m);
  return -1;
}

int rp_mlp_init(rp_mlp *m, size_t in, size_t hidden, size_t out, uint64_t seed) {
  if (mlp_alloc(m, in, hidden, out)) return -1;
  uint64_t s = seed ? seed : 1;
  /* He initialisation: variance 2 / fan_in keeps ReLU activations in scale. */
  for (size_t i = 0; i < hidden * in; i++) m->w1[i] = (float)(rng_normal(&s) * sqrt(2.0 / (double)in));
  for (size_t i = 0; i < out * hidden; i++) m->w2[i] = (float)(rng_normal(&s) * sqrt(2.0 / (double)hidden));
  return 0;
}

int rp_mlp_copy(rp_mlp *dst, const rp_mlp *src) {
  if (mlp_alloc(dst, src->in, src->hidden, src->out)) return -1;
  memcpy(dst->w1, src->w1, src->hidden * src->in * sizeof *dst->w1);
  memcpy(dst->b1, src->b1, src->hidden * sizeof *dst->b1);
  memcpy(dst->w2, src->w2, src->out * src->hidden * sizeof *dst->w2);
  memcpy(dst->b2, src->b2, src->out * sizeof *dst->b2);
  return 0;
}

/* h [n][hidden] = relu(W1 x + b1); z [n][out] = W2 h + b2. */
static void forward(const rp_mlp *m, const float *x, size_t n, float *h, float *z) {
  for (size_t r = 0; r < n; r++) {
    const float *xr = x + r * m->in;
    float *hr = h + r * m->hidden;
    for (size_t j = 0; j < m->hidden; j++) {
      const float *w = m->w1 + j * m->in;
      float a = m->b1[j];
      for (size_t k = 0; k < m->in; k++) a += w[k] * xr[k];
      hr[j] = a > 0 ? a : 0;
    }
    for (size_t o = 0; o < m->out; o++) {
      const float *w = m->w2 + o * m->hidden;
      float a = m->b2[o];
      for (size_t j = 0; j < m->hidden; j++) a += w[j] * hr[j];
      z[r * m->out + o] = a;
    }
  }
}

int rp_mlp_logits(const rp_mlp *m, const rp_dataset *d, float *logits) {
  float *h = malloc((d->n ? d->n : 1) * m->hidden * sizeof *h);
  if (!h) return -1;
  forward(m, d->x, d->n, h, logits);
  free(h);
  return 0;
}

/* One parameter tensor under Adam: value, gradient, both moments, optional mask. */
typedef struct param {
  float *w, *g, *m1, *m2;
  const float *mask;
  size_t n;
} param;

static void adam_step(param *p, float lr, unsigned t) {
  const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  float c1 = 1 - powf(b1, (float)t), c2 = 1 - powf(b2, (float)t);
  for (size_t i = 0; i < p->n; i++) {
    float g = p->mask ? p->g[i] * p->mask[i] : p->g[i];
    p->m1[i] = b1 * p->m1[i] + (1 - b1) * g;
    p->m2[i] = b2 * p->m2[i] + (1 - b2) * g * g;
    float step = lr * (p->m1[i] / c1) / (sqrtf(p->m2[i] / c2) + eps);
    p->w[i] = p->mask && p->mask[i] == 0 ? 0 : p->w[i] - step;
  }
}

int rp_mlp_train(rp_mlp *m, const rp_dataset *d, const rp_train_opts *o, const float *mask1,
                 const float *mask2) {
  const size_t I = m->in, H = m->hidden, O = m->out, B = o->batch ? o->batch : 1;
  size_t sizes[4] = {H * I, H, O * H, O};
  float *wts[4] = {m->w1, m->b1, m->w2, m->b2};
  const float *masks[4] = {mask1, NULL, mask2, NULL};
  size_t total = 0;
  for (int i = 0; i < 4; i++) total += sizes[i];
  float *state = calloc(3 * total, sizeof *state);
  float *h = malloc(B * H * sizeof *h), *z = malloc(B * O * sizeof *z);
  float *dh = malloc(B * H * sizeof *dh), *xb = malloc(B * I * sizeof *xb);
  size_t *order = malloc((d->n ? d->n : 1) * sizeof *order);
  int rc = -1;
  if (!state || !h || !z || !dh || !xb || !order) goto done;

  param p[4];
  for (int i = 0, off = 0; i < 4; off += (int)sizes[i], i++)
    p[i] = (param){wts[i], state + off, state + total + off, state + 2 * total + off, masks[i], sizes[i]};
  for (size_t i = 0; i < d->n; i++) order[i] = i;
  uint64_t s = o->seed ? o->seed : 1;
  unsigned t = 0;

  for (unsigned e = 0; e < o->epochs; e++) {
    shuffle(order, d->n, &s);
    for (size_t start = 0; start < d->n; start += B) {
      size_t nb = d->n - start < B ? d->n - start : B;
      for (size_t r = 0; r < nb; r++) memcpy(xb + r * I, d->x + order[start + r] * I, I * sizeof *xb);
      forward(m, xb, nb, h, z);
      for (int i = 0; i < 4; i++) memset(p[i].g, 0, sizes[i] * sizeof *p[i].g);
      for (size_t r = 0; r < nb; r++) {
        /* dz = (softmax(z) - onehot(label)) / batch, in place in z. */
        float *zr = z + r * O, mx = zr[0], sum = 0;
        for (size_t k = 1; k < O; k++) mx = zr[k] > mx ? zr[k] : mx;
        for (size_t k = 0; k < O; k++) sum += zr[k] = expf(zr[k] - mx);
        for (size_t k = 0; k < O; k++) zr[k] = (zr[k] / sum - (k == d->y[order[start + r]])) / (float)nb;
        const float *hr = h + r * H;
        float *dhr = dh + r * H;
        for (size_t j = 0; j < H; j++) dhr[j] = 0;
        for (size_t k = 0; k < O; k++) {
          p[3].g[k] += zr[k];
          for (size_t j = 0; j < H; j++) {
            p[2].g[k * H + j] += zr[k] * hr[j];
            dhr[j] += zr[k] * m->w2[k * H + j];
          }
        }
        const float *xr = xb + r * I;
        for (size_t j = 0; j < H; j++) {
          if (hr[j] <= 0) continue; /* ReLU passes no gradient where it was off */
          p[1].g[j] += dhr[j];
          for (size_t k = 0; k < I; k++) p[0].g[j * I + k] += dhr[j] * xr[k];
        }
      }
      t++;
      for (int i = 0; i < 4; i++) adam_step(&p[i], o->lr, t);
    }
  }
  rc = 0;
done:
  free(state);
  free(h);
  free(z);
  free(dh);
  free(xb);
  free(order);
  return rc;
}
