/* Table 2, KV caching: one decode step with the cache (append + tk_attend) vs recomputing attention over the prefix. */
#include "kv.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "stats.h"

/* One attention layer shaped like Llama-3.2-1B's: 32 query heads sharing 8 KV
   heads (grouped-query attention), head_dim 64. */
static size_t lengths(rp_mode mode, rp_kv *kv) {
  static const size_t def[] = {8, 16, 32, 64, 128, 256, 512, 1024, 2048};
  static const size_t quick[] = {8, 32, 128, 512};
  static const size_t tiny[] = {4, 8, 16, 32};
  const size_t *t = mode == RP_DEFAULT ? def : mode == RP_QUICK ? quick : tiny;
  size_t n = mode == RP_DEFAULT ? sizeof def / sizeof *def
             : mode == RP_QUICK ? sizeof quick / sizeof *quick
                                : sizeof tiny / sizeof *tiny;
  memcpy(kv->len, t, n * sizeof *t);
  kv->n_heads = mode == RP_TINY ? 4 : 32;
  kv->n_kv_heads = mode == RP_TINY ? 2 : 8;
  kv->head_dim = mode == RP_TINY ? 16 : 64;
  return n;
}

typedef struct step {
  const rp_kv *kv;
  size_t len;
  const float *q, *k, *v; /* [max_len][heads][head_dim] */
  float *out;             /* [max_len][n_heads][head_dim] */
  tk_kv_cache *cache;
  size_t next;            /* which token the next cached step appends */
} step;

/* Without a cache, producing the newest token's attention means running
   attention over the whole prefix again (causal); its last row is the answer. */
static int call_recompute(void *p) {
  step *s = p;
  const rp_kv *kv = s->kv;
  return tk_attention_f32(s->q, s->k, s->v, s->len, kv->n_heads, kv->n_kv_heads, kv->head_dim, true,
                          s->out);
}

/* With a cache: append the new token's K and V, attend with its query. The
   cache is a full sliding window of `len` positions, so every step attends
   exactly `len` positions (the oldest drops out): a steady-state decode step. */
static int call_cached(void *p) {
  step *s = p;
  const rp_kv *kv = s->kv;
  size_t row = kv->n_kv_heads * kv->head_dim, t = s->next++ % s->len;
  tk_status st = tk_kv_cache_append(s->cache, s->k + t * row, s->v + t * row, 1);
  if (st != TK_OK) return st;
  return tk_attend(s->cache, s->q + (s->len - 1) * kv->n_heads * kv->head_dim, 1, kv->n_heads, s->out);
}

/* Variant v at length index li; `last` receives the recompute's last row. */
static int measure_variant(const rp_config *cfg, rp_kv *kv, size_t v, size_t li, step *s, float *last) {
  size_t qrow = kv->n_heads * kv->head_dim;
  rp_kv_point *pt = &kv->pt[v][li];
  const char *isa = tk_isa_name(cfg->isa[v]);
  if (rp_use_isa(cfg->isa[v])) return -1;
  rp_progress(false, "[2/3 KV cache] %s L=%zu: cached step, recompute", isa, s->len);
  RP_CHECK(call_recompute(s));
  memcpy(last, s->out + (s->len - 1) * qrow, qrow * sizeof *last);

  /* The same sequence through the cache: its step must give that last row. */
  tk_kv_cache_reset(s->cache);
  RP_CHECK(tk_kv_cache_append(s->cache, s->k, s->v, s->len));
  RP_CHECK(tk_attend(s->cache, s->q + (s->len - 1) * qrow, 1, kv->n_heads, s->out));
  double worst = 0;
  for (size_t i = 0; i < qrow; i++) {
    double d = fabs((double)s->out[i] - last[i]);
    worst = d > worst ? d : worst;
  }
  pt->max_diff = worst;

  s->next = 0;
  rp_job jobs[2] = {{call_cached, s, &pt->cached}, {call_recompute, s, &pt->recompute}};
  RP_CHECK(rp_measure_jobs(jobs, 2, &cfg->budget));
  pt->speedup = rp_speedup(pt->recompute.median, pt->cached.median);
  return 0;
}

int rp_kv_run(const rp_config *cfg, rp_kv *kv) {
  kv->n_len = lengths(cfg->mode, kv);
  size_t max_len = kv->len[kv->n_len - 1];
  size_t qn = max_len * kv->n_heads * kv->head_dim, kn = max_len * kv->n_kv_heads * kv->head_dim;
  float *q = malloc(qn * sizeof *q), *k = malloc(kn * sizeof *k), *v = malloc(kn * sizeof *v);
  float *out = malloc(qn * sizeof *out), *last = malloc(kv->n_heads * kv->head_dim * sizeof *last);
  int rc = -1;
  if (q && k && v && out && last) {
    uint64_t seed = 0x5eed0002;
    rp_fill_normal(q, qn, 1, &seed);
    rp_fill_normal(k, kn, 1, &seed);
    rp_fill_normal(v, kn, 1, &seed);
    rc = 0;
    for (size_t li = 0; li < kv->n_len && rc == 0; li++) {
      rp_progress(true, "[2/3 KV cache] sequence length %zu", kv->len[li]);
      tk_kv_config c = {kv->n_kv_heads, kv->head_dim, kv->len[li], TK_DTYPE_F32, true, TK_KV_MEMORY_DEFAULT};
      step s = {.kv = kv, .len = kv->len[li], .q = q, .k = k, .v = v, .out = out};
      if (tk_kv_cache_create(&c, &s.cache) != TK_OK) {
        fprintf(stderr, "tinykern-report: tk_kv_cache_create failed\n");
        rc = -1;
        break;
      }
      kv->cache_bytes[li] = tk_kv_cache_bytes(s.cache);
      for (size_t vi = 0; vi < cfg->n_isa && rc == 0; vi++) rc = measure_variant(cfg, kv, vi, li, &s, last);
      tk_kv_cache_destroy(s.cache);
    }
  }
  for (size_t vi = 0; vi < cfg->n_isa && rc == 0; vi++) {
    double len[RP_MAX_LENGTHS], sp[RP_MAX_LENGTHS];
    for (size_t li = 0; li < kv->n_len; li++) len[li] = (double)kv->len[li], sp[li] = kv->pt[vi][li].speedup;
    kv->break_even[vi] = rp_break_even_length(len, sp, kv->n_len);
  }
  free(q), free(k), free(v), free(out), free(last);
  return rc;
}

/* The break-even in words: where the cached step starts to win. */
static void break_even_text(char *buf, size_t n, const rp_kv *kv, size_t v) {
  double sp[RP_MAX_LENGTHS];
  for (size_t li = 0; li < kv->n_len; li++) sp[li] = kv->pt[v][li].speedup;
  size_t i = rp_break_even_index(sp, kv->n_len);
  if (i == 0)
    snprintf(buf, n, "<= %zu tokens (the cache wins at every length measured)", kv->len[0]);
  else if (i == kv->n_len)
    snprintf(buf, n, "not reached up to %zu tokens", kv->len[kv->n_len - 1]);
  else
    snprintf(buf, n, "~%.0f tokens (between %zu and %zu)", kv->break_even[v], kv->len[i - 1], kv->len[i]);
}

void rp_kv_print(rp_text *out, const rp_config *cfg, const rp_kv *kv) {
  FILE *f = out->f;
  char a[32], b[32], m[32], be[128];
  fprintf(f, "\n## 2. KV caching: one decode step, cached vs recompute\n\n"
             "One attention layer, %zu query heads, %zu KV heads (grouped-query), head_dim %zu%s, fp32.\n"
             "cached = tk_kv_cache_append of the new token + tk_attend (1 query) over a full window of\n"
             "L positions; recompute = tk_attention_f32 over all L positions (causal), keeping the last row.\n",
          kv->n_heads, kv->n_kv_heads, kv->head_dim,
          cfg->mode == RP_TINY ? "" : " (the shape of Llama-3.2-1B)");
  for (size_t v = 0; v < cfg->n_isa; v++) {
    fprintf(f, "\n### variant %s\n\n", tk_isa_name(cfg->isa[v]));
    fprintf(f, "| sequence length | cached step | recompute | speedup | status | cache memory |\n"
               "|---:|---:|---:|---:|---|---:|\n");
    for (size_t li = 0; li < kv->n_len; li++) {
      const rp_kv_point *p = &kv->pt[v][li];
      fprintf(f, "| %zu | %s | %s | **%.1fx** | %s | %s |\n", kv->len[li],
              rp_fmt_timing(out, a, sizeof a, &p->cached), rp_fmt_timing(out, b, sizeof b, &p->recompute),
              p->speedup, rp_kv_status(p->speedup), rp_fmt_bytes(m, sizeof m, kv->cache_bytes[li]));
    }
    break_even_text(be, sizeof be, kv, v);
    fprintf(f, "\nBreak-even: %s.\n", be);
  }
  fprintf(f, "\nStatus: overhead dominates < 1.2x <= marginal < 3x <= good.\n");
}

void rp_kv_json(rp_json *j, const rp_config *cfg, const rp_kv *kv) {
  rp_json_object(j, "kv_cache");
  rp_json_uint(j, "n_heads", kv->n_heads);
  rp_json_uint(j, "n_kv_heads", kv->n_kv_heads);
  rp_json_uint(j, "head_dim", kv->head_dim);
  rp_json_str(j, "dtype", "f32");
  rp_json_object(j, "variants");
  for (size_t v = 0; v < cfg->n_isa; v++) {
    rp_json_object(j, tk_isa_name(cfg->isa[v]));
    rp_json_num(j, "break_even_length", kv->break_even[v]);
    rp_json_array(j, "points");
    for (size_t li = 0; li < kv->n_len; li++) {
      const rp_kv_point *p = &kv->pt[v][li];
      rp_json_object(j, NULL);
      rp_json_uint(j, "length", kv->len[li]);
      rp_json_uint(j, "cache_bytes", kv->cache_bytes[li]);
      rp_timing_json(j, "cached", &p->cached);
      rp_timing_json(j, "recompute", &p->recompute);
      rp_json_num(j, "speedup", p->speedup);
      rp_json_str(j, "status", rp_kv_status(p->speedup));
      rp_json_num(j, "max_abs_diff", p->max_diff);
      rp_json_end(j);
    }
    rp_json_end(j);
    rp_json_end(j);
  }
  rp_json_end(j);
  rp_json_end(j);
}
