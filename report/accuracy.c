/* Accuracy on real data: the digits MLP through tk_linear_f32, tk_qlinear and pruned tk_csr, with and without fine-tuning. */
#include "accuracy.h"

#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "stats.h"
#include "timing.h"

enum { HIDDEN = 128, CLASSES = 10 };

/* Both layers as their tinykern objects, bias and ReLU applied here. */
typedef struct net {
  const rp_mlp *m;
  tk_qlinear *q1, *q2; /* int8 */
  tk_csr *c1, *c2;     /* pruned */
} net;

typedef enum kind { FP32, INT8, CSR } kind;

static void relu(float *v, size_t n) {
  for (size_t i = 0; i < n; i++) v[i] = v[i] > 0 ? v[i] : 0;
}

/* Logits z [n][out] through the dense layers: fp32 or int8 (h: [n][hidden]). */
static int logits_dense(const net *nt, kind k, const rp_dataset *d, float *h, float *z) {
  const rp_mlp *m = nt->m;
  if (k == FP32)
    RP_CHECK(tk_linear_f32(m->w1, m->hidden, m->in, m->b1, d->x, d->n, h));
  else
    RP_CHECK(tk_qlinear_forward(nt->q1, d->x, d->n, h));
  relu(h, d->n * m->hidden);
  if (k == FP32)
    RP_CHECK(tk_linear_f32(m->w2, m->out, m->hidden, m->b2, h, d->n, z));
  else
    RP_CHECK(tk_qlinear_forward(nt->q2, h, d->n, z));
  return 0;
}

/* The same through the pruned layers. tk_spmm takes the batch as columns:
   X^T [in][n] -> H^T [hidden][n] -> Z^T [out][n]; t holds X^T, then Z^T. */
static int logits_csr(const net *nt, const rp_dataset *d, float *h, float *t, float *z) {
  const rp_mlp *m = nt->m;
  size_t n = d->n;
  for (size_t i = 0; i < n; i++)
    for (size_t c = 0; c < m->in; c++) t[c * n + i] = d->x[i * m->in + c];
  RP_CHECK(tk_spmm(nt->c1, t, n, h));
  for (size_t j = 0; j < m->hidden; j++)
    for (size_t i = 0; i < n; i++) h[j * n + i] += m->b1[j];
  relu(h, n * m->hidden);
  RP_CHECK(tk_spmm(nt->c2, h, n, t));
  for (size_t o = 0; o < m->out; o++)
    for (size_t i = 0; i < n; i++) z[i * m->out + o] = t[o * n + i] + m->b2[o];
  return 0;
}

/* Test logits [n][CLASSES] of the network run as `k`. */
static int logits(const net *nt, kind k, const rp_dataset *d, float *z) {
  const rp_mlp *m = nt->m;
  size_t n = d->n, wide = m->hidden > m->in ? m->hidden : m->in;
  float *h = malloc(n * m->hidden * sizeof *h), *t = malloc(n * wide * sizeof *t);
  int rc = !h || !t ? -1 : k == CSR ? logits_csr(nt, d, h, t, z) : logits_dense(nt, k, d, h, z);
  free(h);
  free(t);
  return rc;
}

static int accuracy_of(const net *nt, kind k, const rp_dataset *test, float *z, double *acc) {
  if (logits(nt, k, test, z)) return -1;
  *acc = rp_accuracy(z, test->n, CLASSES, test->y);
  return 0;
}

/* Prunes both weight matrices of m to sparsity s (magnitude, per matrix);
   returns the CSR pair in nt. */
static int prune(const rp_mlp *m, float s, net *nt) {
  RP_CHECK(tk_csr_from_dense(m->w1, m->hidden, m->in, s, &nt->c1));
  RP_CHECK(tk_csr_from_dense(m->w2, m->out, m->hidden, s, &nt->c2));
  return 0;
}

static void net_free(net *nt) {
  tk_qlinear_destroy(nt->q1), tk_qlinear_destroy(nt->q2);
  tk_csr_destroy(nt->c1), tk_csr_destroy(nt->c2);
  nt->q1 = nt->q2 = NULL;
  nt->c1 = nt->c2 = NULL;
}

/* Fine-tuning: the pruned weights become a fixed mask; the kept weights (and
   the biases) train for a few more epochs, then are pruned again at the same
   sparsity, which keeps exactly the same positions (all others are 0). */
static int finetuned_accuracy(const rp_mlp *m, const net *pruned, float s, const rp_dataset *train,
                              const rp_dataset *test, const rp_train_opts *o, float *z, double *acc) {
  rp_mlp ft;
  if (rp_mlp_copy(&ft, m)) return -1;
  size_t n1 = m->hidden * m->in, n2 = m->out * m->hidden;
  float *mask1 = malloc(n1 * sizeof *mask1), *mask2 = malloc(n2 * sizeof *mask2);
  net nt = {.m = &ft};
  int rc = -1;
  if (mask1 && mask2 && tk_csr_to_dense(pruned->c1, ft.w1) == TK_OK &&
      tk_csr_to_dense(pruned->c2, ft.w2) == TK_OK) {
    for (size_t i = 0; i < n1; i++) mask1[i] = ft.w1[i] != 0;
    for (size_t i = 0; i < n2; i++) mask2[i] = ft.w2[i] != 0;
    if (rp_mlp_train(&ft, train, o, mask1, mask2) == 0 && prune(&ft, s, &nt) == 0)
      rc = accuracy_of(&nt, CSR, test, z, acc);
  }
  net_free(&nt);
  free(mask1), free(mask2);
  rp_mlp_free(&ft);
  return rc;
}

static size_t weight_bytes(const rp_mlp *m) {
  return (m->hidden * m->in + m->hidden + m->out * m->hidden + m->out) * sizeof(float);
}

int rp_digits_run(const rp_config *cfg, const double *sparsity, size_t n, rp_digits *a) {
  rp_dataset train, test;
  rp_mlp m = {0};
  /* A fixed 1347 / 450 split (the tiny run trains on 300 images only). */
  if (rp_digits_split(42, 450, cfg->mode == RP_TINY ? 300 : 0, &train, &test)) return -1;
  float *z = malloc(test.n * CLASSES * sizeof *z);
  net nt = {.m = &m};
  int rc = -1;
  if (!z || rp_mlp_init(&m, train.dim, HIDDEN, CLASSES, 7)) goto done;

  a->n_train = train.n, a->n_test = test.n, a->hidden = HIDDEN;
  a->epochs = cfg->mode == RP_DEFAULT ? 40 : cfg->mode == RP_QUICK ? 25 : 3;
  a->ft_epochs = cfg->mode == RP_DEFAULT ? 8 : cfg->mode == RP_QUICK ? 4 : 1;
  rp_train_opts o = {a->epochs, 32, 2e-3f, 11};
  rp_progress(true, "[0/3 digits MLP] training %zu-%zu-%d on %zu images, %u epochs", train.dim, m.hidden,
              CLASSES, train.n, a->epochs);
  double t0 = rp_now();
  if (rp_mlp_train(&m, &train, &o, NULL, NULL)) goto done;
  a->train_seconds = rp_now() - t0;

  if (accuracy_of(&nt, FP32, &test, z, &a->fp32)) goto done;
  if (tk_qlinear_create(m.w1, m.hidden, m.in, m.b1, &nt.q1) != TK_OK ||
      tk_qlinear_create(m.w2, m.out, m.hidden, m.b2, &nt.q2) != TK_OK)
    goto done;
  if (accuracy_of(&nt, INT8, &test, z, &a->int8)) goto done;
  a->bytes_fp32 = weight_bytes(&m);
  a->bytes_int8 = tk_qlinear_bytes(nt.q1) + tk_qlinear_bytes(nt.q2);

  rp_train_opts fo = {a->ft_epochs, 32, 1e-3f, 13};
  a->n_sparsity = n;
  for (size_t i = 0; i < n; i++) {
    rp_progress(false, "[0/3 digits MLP] pruned to %.0f%%, fine-tuning %u epochs", 100 * sparsity[i],
                a->ft_epochs);
    a->sparsity[i] = sparsity[i];
    net_free(&nt);
    if (prune(&m, (float)sparsity[i], &nt) || accuracy_of(&nt, CSR, &test, z, &a->pruned[i])) goto done;
    a->bytes_csr[i] = tk_csr_bytes(nt.c1) + tk_csr_bytes(nt.c2) + (m.hidden + m.out) * sizeof(float);
    if (finetuned_accuracy(&m, &nt, (float)sparsity[i], &train, &test, &fo, z, &a->finetuned[i])) goto done;
  }
  rc = 0;
done:
  net_free(&nt);
  rp_mlp_free(&m);
  rp_dataset_free(&train);
  rp_dataset_free(&test);
  free(z);
  if (rc) fprintf(stderr, "tinykern-report: the digits accuracy run failed\n");
  return rc;
}

void rp_digits_print(rp_text *out, const rp_digits *a) {
  FILE *f = out->f;
  char b[32];
  fprintf(f, "\n## Accuracy on real data: digits MLP\n\n"
             "UCI optical handwritten digits (8x8, 1,797 images, CC BY 4.0, via scikit-learn): fixed split\n"
             "%zu train / %zu test. MLP 64-%zu-10 (ReLU), softmax cross-entropy, Adam, %u epochs, seed 7\n"
             "(trained in %.1f s). Pruned: both weight matrices by magnitude; fine-tune: the kept weights\n"
             "retrained for %u epoch(s) with the mask fixed. Inference: tk_linear_f32, tk_qlinear, tk_spmm.\n\n",
          a->n_train, a->n_test, a->hidden, a->epochs, a->train_seconds, a->ft_epochs);
  fprintf(f, "| model | weights | test accuracy | loss vs fp32 |\n|---|---:|---:|---:|\n");
  fprintf(f, "| fp32 | %s | %.1f%% | - |\n", rp_fmt_bytes(b, sizeof b, a->bytes_fp32), 100 * a->fp32);
  fprintf(f, "| int8 (tk_qlinear) | %s | %.1f%% | %.1f pt |\n", rp_fmt_bytes(b, sizeof b, a->bytes_int8),
          100 * a->int8, 100 * (a->fp32 - a->int8));
  for (size_t i = 0; i < a->n_sparsity; i++) {
    rp_fmt_bytes(b, sizeof b, a->bytes_csr[i]);
    fprintf(f, "| pruned %.0f%% | %s | %.1f%% | %.1f pt |\n", 100 * a->sparsity[i], b, 100 * a->pruned[i],
            100 * (a->fp32 - a->pruned[i]));
    fprintf(f, "| pruned %.0f%% + fine-tune | %s | %.1f%% | %.1f pt |\n", 100 * a->sparsity[i], b,
            100 * a->finetuned[i], 100 * (a->fp32 - a->finetuned[i]));
  }
}

void rp_digits_json(rp_json *j, const rp_digits *a) {
  rp_json_object(j, "digits_mlp");
  rp_json_uint(j, "train_images", a->n_train);
  rp_json_uint(j, "test_images", a->n_test);
  rp_json_uint(j, "hidden", a->hidden);
  rp_json_uint(j, "epochs", a->epochs);
  rp_json_uint(j, "finetune_epochs", a->ft_epochs);
  rp_json_num(j, "train_seconds", a->train_seconds);
  rp_json_num(j, "accuracy_fp32", a->fp32);
  rp_json_num(j, "accuracy_int8", a->int8);
  rp_json_uint(j, "bytes_fp32", a->bytes_fp32);
  rp_json_uint(j, "bytes_int8", a->bytes_int8);
  rp_json_array(j, "pruned");
  for (size_t i = 0; i < a->n_sparsity; i++) {
    rp_json_object(j, NULL);
    rp_json_num(j, "sparsity", a->sparsity[i]);
    rp_json_uint(j, "bytes", a->bytes_csr[i]);
    rp_json_num(j, "accuracy", a->pruned[i]);
    rp_json_num(j, "accuracy_finetuned", a->finetuned[i]);
    rp_json_num(j, "loss_points", 100 * (a->fp32 - a->pruned[i]));
    rp_json_num(j, "loss_points_finetuned", 100 * (a->fp32 - a->finetuned[i]));
    rp_json_end(j);
  }
  rp_json_end(j);
  rp_json_end(j);
}
