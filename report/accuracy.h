/* Accuracy on real data: the digits MLP through tk_linear_f32, tk_qlinear and pruned tk_csr (results, run, text, JSON). */
#ifndef TK_REPORT_ACCURACY_H
#define TK_REPORT_ACCURACY_H

#include <stddef.h>

#include "config.h"
#include "format.h"
#include "json.h"

typedef struct rp_digits {
  size_t n_train, n_test, hidden;
  unsigned epochs, ft_epochs;
  double train_seconds;
  double fp32;     /* test accuracy, 0..1 */
  double int8;
  size_t bytes_fp32, bytes_int8; /* weights + biases of both layers */
  size_t n_sparsity;
  double sparsity[RP_MAX_SPARSITY];
  double pruned[RP_MAX_SPARSITY];    /* no retraining */
  double finetuned[RP_MAX_SPARSITY]; /* kept weights retrained, mask fixed */
  size_t bytes_csr[RP_MAX_SPARSITY];
} rp_digits;

/* Trains the MLP, then measures it in fp32, int8 and pruned to each of the
   n sparsities (n <= RP_MAX_SPARSITY), without and with fine-tuning. */
int rp_digits_run(const rp_config *cfg, const double *sparsity, size_t n, rp_digits *out);
void rp_digits_print(rp_text *out, const rp_digits *a);
void rp_digits_json(rp_json *j, const rp_digits *a);

#endif
