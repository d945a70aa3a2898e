/* Table 2, KV caching: a cached decode step vs recomputing attention over the prefix (results, run, text, JSON). */
#ifndef TK_REPORT_KV_H
#define TK_REPORT_KV_H

#include <stddef.h>

#include "config.h"
#include "format.h"
#include "json.h"
#include "timing.h"

enum { RP_MAX_LENGTHS = 12 };
typedef struct rp_kv_point {
  rp_timing cached, recompute;
  double speedup;
  double max_diff; /* |cached step output - last row of the recompute| */
} rp_kv_point;
typedef struct rp_kv {
  size_t n_heads, n_kv_heads, head_dim;
  size_t n_len;
  size_t len[RP_MAX_LENGTHS];
  size_t cache_bytes[RP_MAX_LENGTHS];
  rp_kv_point pt[TK_ISA_COUNT][RP_MAX_LENGTHS];
  double break_even[TK_ISA_COUNT]; /* length, NAN: not reached */
} rp_kv;

int rp_kv_run(const rp_config *cfg, rp_kv *kv);
void rp_kv_print(rp_text *out, const rp_config *cfg, const rp_kv *kv);
void rp_kv_json(rp_json *j, const rp_config *cfg, const rp_kv *kv);

#endif
