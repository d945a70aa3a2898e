/* Charts of the report: gnuplot data and scripts of the three tables, and the PNGs when gnuplot is on PATH. */
#ifndef TK_REPORT_CHARTS_H
#define TK_REPORT_CHARTS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "kv.h"
#include "prune.h"
#include "quant.h"

typedef struct rp_charts {
  bool gnuplot;       /* found and ran */
  size_t n;
  char path[3][1024]; /* PNG files written (one per table) */
  char note[256];     /* why none were written, if so */
} rp_charts;

/* Writes the data and scripts of the int8, KV cache and pruning charts into
   dir (created if missing), then draws them with gnuplot. */
void rp_charts_write(const char *dir, const rp_config *cfg, const rp_quant *q, const rp_kv *kv,
                     const rp_prune *p, rp_charts *out);

#endif
