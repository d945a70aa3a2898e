/* tinykern-report: its arithmetic on fixed inputs, its formatting, JSON writer, cold-set rule and digits model, and whole runs checked as JSON. */
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tk_test.h"

#include "cold_set.h"
#include "config.h"
#include "format.h"
#include "json.h"
#include "model.h"
#include "report.h"
#include "stats.h"
#include "timing.h"

/* ---- a strict JSON reader: the checker of the report's --json output ---- */

typedef enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;
typedef struct jv {
  jtype t;
  double num;
  bool b;
  char *s;          /* J_STR */
  size_t n;         /* J_ARR, J_OBJ: members */
  struct jv *items; /* members */
  char **keys;      /* J_OBJ: member names */
} jv;

typedef struct jparser {
  const char *p;
  int depth;
} jparser;

static void ws(jparser *q) {
  while (*q->p == ' ' || *q->p == '\n' || *q->p == '\t' || *q->p == '\r') q->p++;
}

static bool parse_value(jparser *q, jv *v);

static bool parse_string(jparser *q, char **out) {
  if (*q->p != '"') return false;
  q->p++;
  size_t cap = 16, n = 0;
  char *s = malloc(cap);
  while (*q->p != '"') {
    unsigned char c = (unsigned char)*q->p++;
    if (c < 0x20) goto bad; /* control characters must be escaped (and NUL ends the text) */
    if (c == '\\') {
      c = (unsigned char)*q->p++;
      if (c == 'u') {
        char hex[5] = {0};
        for (int i = 0; i < 4; i++)
          if (!(hex[i] = *q->p++) || !strchr("0123456789abcdefABCDEF", hex[i])) goto bad;
        long code = strtol(hex, NULL, 16);
        c = code < 0x80 ? (unsigned char)code : '?'; /* beyond ASCII: well formed is enough here */
      } else if (!c || !strchr("\"\\/bfnrt", c)) {
        goto bad;
      } else if (strchr("bfnrt", c)) {
        c = (unsigned char)"\b\f\n\r\t"[strchr("bfnrt", c) - "bfnrt"];
      }
    }
    if (n + 2 > cap) s = realloc(s, cap *= 2);
    s[n++] = (char)c;
  }
  q->p++;
  s[n] = 0;
  *out = s;
  return true;
bad:
  free(s);
  return false;
}

/* The JSON number grammar exactly: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool parse_number(jparser *q, double *out) {
  const char *s = q->p, *p = s;
  if (*p == '-') p++;
  if (*p == '0')
    p++;
  else if (*p >= '1' && *p <= '9')
    while (*p >= '0' && *p <= '9') p++;
  else
    return false;
  if (*p == '.') {
    if (!(*++p >= '0' && *p <= '9')) return false;
    while (*p >= '0' && *p <= '9') p++;
  }
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!(*p >= '0' && *p <= '9')) return false;
    while (*p >= '0' && *p <= '9') p++;
  }
  *out = strtod(s, NULL);
  q->p = p;
  return true;
}

static bool parse_members(jparser *q, jv *v, char close) {
  bool obj = close == '}';
  q->p++;
  ws(q);
  if (*q->p == close) {
    q->p++;
    return true;
  }
  for (;;) {
    v->items = realloc(v->items, (v->n + 1) * sizeof *v->items);
    if (obj) v->keys = realloc(v->keys, (v->n + 1) * sizeof *v->keys);
    memset(&v->items[v->n], 0, sizeof *v->items);
    if (obj) {
      ws(q);
      if (!parse_string(q, &v->keys[v->n])) return false;
      ws(q);
      if (*q->p++ != ':') {
        v->n++;
        return false;
      }
    }
    bool ok = parse_value(q, &v->items[v->n]);
    v->n++;
    if (!ok) return false;
    ws(q);
    if (*q->p == ',') {
      q->p++;
      continue;
    }
    if (*q->p == close) {
      q->p++;
      return true;
    }
    return false;
  }
}

static bool parse_value(jparser *q, jv *v) {
  ws(q);
  if (++q->depth > 64) return false;
  bool ok;
  if (*q->p == '{' || *q->p == '[') {
    v->t = *q->p == '{' ? J_OBJ : J_ARR;
    ok = parse_members(q, v, *q->p == '{' ? '}' : ']');
  } else if (*q->p == '"') {
    v->t = J_STR;
    ok = parse_string(q, &v->s);
  } else if (!strncmp(q->p, "true", 4) || !strncmp(q->p, "false", 5)) {
    v->t = J_BOOL;
    v->b = *q->p == 't';
    q->p += v->b ? 4 : 5;
    ok = true;
  } else if (!strncmp(q->p, "null", 4)) {
    v->t = J_NULL;
    q->p += 4;
    ok = true;
  } else {
    v->t = J_NUM;
    ok = parse_number(q, &v->num);
  }
  q->depth--;
  return ok;
}

static void jv_free(jv *v) {
  for (size_t i = 0; i < v->n; i++) {
    jv_free(&v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->s);
}

/* Parses the whole text (nothing but white space after the value). */
static bool json_parse(const char *text, jv *v) {
  jparser q = {text, 0};
  memset(v, 0, sizeof *v);
  bool ok = parse_value(&q, v);
  ws(&q);
  if (ok && *q.p == 0) return true;
  jv_free(v);
  return false;
}

static const jv *jget(const jv *o, const char *key) {
  if (!o || o->t != J_OBJ) return NULL;
  for (size_t i = 0; i < o->n; i++)
    if (!strcmp(o->keys[i], key)) return &o->items[i];
  return NULL;
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0, got;
  char *s = malloc(cap);
  while ((got = fread(s + n, 1, cap - n - 1, f)) > 0)
    if ((n += got) + 1 == cap) s = realloc(s, cap *= 2);
  fclose(f);
  s[n] = 0;
  return s;
}

/* ---- the arithmetic on fixed inputs ---- */

static void test_median_and_spread(void **state) {
  (void)state;
  double odd[] = {5, 1, 3}, even[] = {4, 1, 3, 2}, one[] = {7};
  assert_true(rp_median(odd, 3) == 3);
  assert_true(odd[0] == 5 && odd[1] == 1 && odd[2] == 3); /* not reordered */
  assert_true(rp_median(even, 4) == 2.5);
  assert_true(rp_median(one, 1) == 7);
  assert_true(isnan(rp_median(odd, 0)));
  double lo, hi;
  rp_minmax(even, 4, &lo, &hi);
  assert_true(lo == 1 && hi == 4);
  rp_minmax(even, 0, &lo, &hi);
  assert_true(isnan(lo) && isnan(hi));
}

static void test_speedup_and_compression(void **state) {
  (void)state;
  assert_true(rp_speedup(6e-3, 1.5e-3) == 4);
  assert_true(rp_speedup(1, 4) == 0.25);
  assert_true(isnan(rp_speedup(1, 0)));
  assert_true(isnan(rp_speedup(0, 1)));
  assert_true(isnan(rp_speedup(NAN, 1)));
  assert_true(isnan(rp_speedup(1, INFINITY)));
  assert_true(rp_compression(4096, 1024) == 4);
  assert_true(rp_compression(100, 400) == 0.25);
  assert_true(isnan(rp_compression(100, 0)));
}

static void test_mse(void **state) {
  (void)state;
  float a[] = {1, 2, 3, 4}, b[] = {1, 0, 3, 8}, z[] = {0, 0, 0, 0};
  assert_true(rp_mse(a, b, 4) == (0 + 4 + 0 + 16) / 4.0);
  assert_true(rp_mse(a, a, 4) == 0);
  assert_true(rp_mse(a, b, 0) == 0);
  /* relative to the reference's power: mean(b^2) = (1 + 0 + 9 + 64) / 4 */
  assert_true(fabs(rp_nmse(a, b, 4) - 5.0 / (74.0 / 4)) < 1e-15);
  assert_true(rp_nmse(z, z, 4) == 0);
  assert_true(isnan(rp_nmse(a, z, 4)));
}

static void test_accuracy(void **state) {
  (void)state;
  float v[] = {0.1f, 0.7f, 0.7f, -1};
  assert_int_equal(rp_argmax(v, 4), 1); /* first of the ties */
  assert_int_equal(rp_argmax(v, 0), 0);
  float logits[4][3] = {{1, 0, 0}, {0, 2, 1}, {0, 0, 3}, {5, 4, 3}};
  unsigned char labels[4] = {0, 1, 1, 2};
  assert_true(rp_accuracy(&logits[0][0], 4, 3, labels) == 0.5);
  unsigned char right[4] = {0, 1, 2, 0};
  assert_true(rp_accuracy(&logits[0][0], 4, 3, right) == 1);
  assert_true(rp_accuracy(&logits[0][0], 0, 3, labels) == 0);
}

static void test_break_even(void **state) {
  (void)state;
  double len[] = {8, 16, 32, 64};
  double wins[] = {1.0, 1.5, 3, 9}, never[] = {0.2, 0.4, 0.8, 0.99};
  double cross[] = {0.5, 1.5, 3, 9}, dip[] = {1.2, 0.9, 1.1, 2}, late[] = {0.5, 0.6, 0.8, 1.6};
  assert_int_equal(rp_break_even_index(wins, 4), 0);
  assert_true(rp_break_even_length(len, wins, 4) == 8);
  assert_int_equal(rp_break_even_index(never, 4), 4);
  assert_true(isnan(rp_break_even_length(len, never, 4)));
  /* crosses halfway between 8 and 16 on the log axis: 8 * sqrt(2) */
  assert_int_equal(rp_break_even_index(cross, 4), 1);
  assert_true(fabs(rp_break_even_length(len, cross, 4) - 8 * sqrt(2.0)) < 1e-9);
  /* a win at the first point does not count when it is lost again */
  assert_int_equal(rp_break_even_index(dip, 4), 2);
  assert_true(fabs(rp_break_even_length(len, dip, 4) - 16 * pow(2, 0.5)) < 1e-9);
  /* (1 - 0.8) / (1.6 - 0.8) = 1/4 of the way from 32 to 64 */
  assert_true(fabs(rp_break_even_length(len, late, 4) - 32 * pow(2, 0.25)) < 1e-9);
  double nan_pt[] = {1.5, NAN, 2, 3};
  assert_int_equal(rp_break_even_index(nan_pt, 4), 2);
  assert_int_equal(rp_break_even_index(wins, 0), 0);
}

static void test_kv_status(void **state) {
  (void)state;
  assert_string_equal(rp_kv_status(0.87), "overhead dominates");
  assert_string_equal(rp_kv_status(1.19), "overhead dominates");
  assert_string_equal(rp_kv_status(1.2), "marginal");
  assert_string_equal(rp_kv_status(2.99), "marginal");
  assert_string_equal(rp_kv_status(3), "good");
  assert_string_equal(rp_kv_status(50), "good");
  assert_string_equal(rp_kv_status(NAN), "overhead dominates");
}

/* ---- formatting: units, and the noisy count that travels in rp_text ---- */

static void test_format(void **state) {
  (void)state;
  char b[32];
  assert_string_equal(rp_fmt_time(b, sizeof b, 250e-9), "250 ns");
  assert_string_equal(rp_fmt_time(b, sizeof b, 12.34e-6), "12.3 us");
  assert_string_equal(rp_fmt_time(b, sizeof b, 5.678e-3), "5.68 ms");
  assert_string_equal(rp_fmt_time(b, sizeof b, 2.5), "2.50 s");
  assert_string_equal(rp_fmt_time(b, sizeof b, NAN), "-");
  assert_string_equal(rp_fmt_bytes(b, sizeof b, 1000), "1000 B");
  assert_string_equal(rp_fmt_bytes(b, sizeof b, 1536), "1.5 KiB");
  assert_string_equal(rp_fmt_bytes(b, sizeof b, (size_t)16 << 20), "16.0 MiB");
  /* two texts count apart: nothing is shared behind the caller's back */
  rp_text a = {NULL, 0}, other = {NULL, 0};
  rp_timing calm = {1e-3, 0.9e-3, 1.2e-3, 5, 1}, busy = {2e-3, 1e-3, 3e-3, 5, 1};
  assert_string_equal(rp_fmt_timing(&a, b, sizeof b, &calm), "1.00 ms");
  assert_int_equal(a.noisy, 0);
  assert_string_equal(rp_fmt_timing(&a, b, sizeof b, &busy), "2.00 ms*"); /* median > 1.5x fastest */
  assert_string_equal(rp_fmt_timing(&a, b, sizeof b, &busy), "2.00 ms*");
  assert_int_equal(a.noisy, 2);
  assert_int_equal(other.noisy, 0);
}

/* The chart's "best" is tk_isa_best() when measured, whatever the enum order. */
static void test_best_variant(void **state) {
  (void)state;
  tk_isa best = tk_isa_best();
  rp_config cfg = {.n_isa = 0};
  for (int i = TK_ISA_COUNT - 1; i >= 0; i--) /* reversed: the best is not last */
    if (tk_isa_available((tk_isa)i)) cfg.isa[cfg.n_isa++] = (tk_isa)i;
  assert_int_equal(cfg.isa[rp_best_variant(&cfg)], best);
  cfg.n_isa = 0;
  for (int i = 0; i < TK_ISA_COUNT; i++)
    if (tk_isa_available((tk_isa)i) && (tk_isa)i != best) cfg.isa[cfg.n_isa++] = (tk_isa)i;
  if (cfg.n_isa) assert_int_equal(rp_best_variant(&cfg), cfg.n_isa - 1); /* not measured: the last */
}

/* ---- the cold-set rule the report and the bench share (report/cold_set.h) ---- */

static void test_cold_set_rule(void **state) {
  (void)state;
  assert_int_equal(tk_cache_size_parse("32768K\n"), (size_t)32 << 20);
  assert_int_equal(tk_cache_size_parse("1024K"), (size_t)1 << 20);
  assert_int_equal(tk_cache_size_parse("2M"), (size_t)2 << 20);
  assert_int_equal(tk_cache_size_parse("512"), 512);
  assert_int_equal(tk_cache_size_parse(""), 0);
  assert_int_equal(tk_cache_size_parse("K"), 0);
  assert_int_equal(tk_cache_size_parse("12Q"), 0);
  assert_int_equal(tk_cache_size_parse("99999999999999999999999K"), 0); /* overflow */
  const size_t mib = (size_t)1 << 20;
  assert_int_equal(tk_cold_set_rule(0), 256 * mib);      /* no source knows: the floor */
  assert_int_equal(tk_cold_set_rule(8 * mib), 256 * mib); /* 64 MiB would be too little */
  assert_int_equal(tk_cold_set_rule(32 * mib), 256 * mib);
  assert_int_equal(tk_cold_set_rule(96 * mib), 768 * mib);
  assert_int_equal(tk_cold_set_rule(SIZE_MAX / 2), SIZE_MAX);
  /* on this machine: at least 8x what either source reports */
  size_t cold = tk_cold_set_bytes();
  assert_true(cold >= 256 * mib);
  assert_true(cold / 8 >= tk_cache_largest_cpuinfo());
  assert_true(cold / 8 >= tk_cache_largest_sysfs());
  assert_int_equal(rp_cold_flush_bytes(), cold); /* the report's flush follows the rule */
}

/* ---- the JSON writer, read back by the checker ---- */

static void test_json_writer(void **state) {
  (void)state;
  FILE *f = tmpfile();
  assert_non_null(f);
  rp_json j;
  rp_json_init(&j, f);
  rp_json_object(&j, NULL);
  rp_json_str(&j, "name", "quote \" backslash \\ newline \n tab \t");
  rp_json_num(&j, "pi", 3.25);
  rp_json_num(&j, "inf", INFINITY);
  rp_json_num(&j, "nan", NAN);
  rp_json_uint(&j, "big", (size_t)3000000000u); /* beyond int32, within a 32-bit size_t */
  rp_json_bool(&j, "yes", true);
  rp_json_str(&j, "none", NULL);
  rp_json_array(&j, "empty");
  rp_json_end(&j);
  rp_json_object(&j, "empty_obj");
  rp_json_end(&j);
  rp_json_array(&j, "list");
  for (int i = 0; i < 3; i++) {
    rp_json_object(&j, NULL);
    rp_json_num(&j, "i", i);
    rp_json_end(&j);
  }
  rp_json_end(&j);
  rp_json_end(&j);
  long n = ftell(f);
  rewind(f);
  char *text = calloc(1, (size_t)n + 1);
  assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  jv v;
  if (!json_parse(text, &v)) fail_msg("writer output is not JSON:\n%s", text);
  assert_string_equal(jget(&v, "name")->s, "quote \" backslash \\ newline \n tab \t");
  assert_true(jget(&v, "pi")->num == 3.25);
  assert_int_equal(jget(&v, "inf")->t, J_NULL);
  assert_int_equal(jget(&v, "nan")->t, J_NULL);
  assert_true(jget(&v, "big")->num == 3e9);
  assert_true(jget(&v, "yes")->b);
  assert_int_equal(jget(&v, "none")->t, J_NULL);
  assert_int_equal(jget(&v, "empty")->n, 0);
  assert_int_equal(jget(&v, "empty_obj")->t, J_OBJ);
  const jv *list = jget(&v, "list");
  assert_int_equal(list->n, 3);
  assert_true(jget(&list->items[2], "i")->num == 2);
  jv_free(&v);
  free(text);
}

/* The checker itself must reject what is not JSON (or it could pass anything). */
static void test_json_checker_rejects(void **state) {
  (void)state;
  const char *bad[] = {"", "{", "{\"a\":}", "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "01", "1.", ".5", "-",
                       "nan", "\"tab\there\"", "{\"a\":1}x", "[1,]", "tru", "{a:1}", "\"\\x\""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    jv v;
    if (json_parse(bad[i], &v)) fail_msg("the checker accepted '%s'", bad[i]);
  }
  const char *good[] = {"0", "-0.5e-3", "[]", "{}", "\"\\u00e9\\n\"", "[true,false,null]", " {\"a\":[1,{\"b\":2}]} "};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    jv v;
    if (!json_parse(good[i], &v)) fail_msg("the checker rejected '%s'", good[i]);
    jv_free(&v);
  }
}

/* ---- timing harness: structure only, never a time threshold ---- */

static int count_calls(void *ctx) {
  (*(unsigned *)ctx)++;
  return 0;
}
static int fail_third(void *ctx) {
  return ++*(unsigned *)ctx == 3 ? TK_ERR_ARG : 0;
}

static int measure_one(rp_call fn, unsigned *calls, const rp_budget *b, rp_timing *t) {
  *calls = 0;
  rp_job job = {fn, calls, t};
  return rp_measure_jobs(&job, 1, b);
}

static void test_measure(void **state) {
  (void)state;
  unsigned calls;
  /* The budget only caps how many samples fit (at most 5 here, each ~0.2
     ms); a warm-up call longer than it would be the only sample, so it is
     far above any preemption of that call (valgrind on a loaded machine
     once stalled a 2 ms budget's warm-up). */
  rp_budget b = {10.0, 0.0002, 3, 5, 0};
  rp_timing t;
  assert_int_equal(measure_one(count_calls, &calls, &b, &t), 0);
  assert_true(t.samples >= 3 && t.samples <= 5 && t.iters >= 1);
  assert_int_equal(calls, 1 + t.samples * t.iters); /* one warm-up call */
  assert_true(t.min <= t.median && t.median <= t.max && t.min >= 0);
  /* a call longer than the whole budget runs once, and that run is the sample */
  rp_budget none = {1e-12, 1e-12, 3, 5, 0};
  assert_int_equal(measure_one(count_calls, &calls, &none, &t), 0);
  assert_int_equal(calls, 1);
  assert_true(t.samples == 1 && t.iters == 1 && t.min == t.median && t.max == t.median);
  /* cold: every sample is one call after a flush */
  rp_budget cold = {10.0, 0.0002, 3, 5, 1 << 20};
  assert_int_equal(measure_one(count_calls, &calls, &cold, &t), 0);
  assert_true(t.iters == 1 && t.samples >= 3 && t.samples <= 5);
  assert_int_equal(calls, 1 + t.samples);
  assert_true(rp_flush(1 << 20) >= 0);
  assert_int_equal(measure_one(fail_third, &calls, &b, &t), TK_ERR_ARG);
  assert_int_equal(calls, 3); /* stops at the failing call */
  /* several jobs take turns: each gets the same number of samples */
  unsigned c1 = 0, c2 = 0;
  rp_timing t1, t2;
  rp_job jobs[2] = {{count_calls, &c1, &t1}, {count_calls, &c2, &t2}};
  assert_int_equal(rp_measure_jobs(jobs, 2, &b), 0);
  assert_int_equal(t1.samples, t2.samples);
  assert_int_equal(c1, 1 + t1.samples * t1.iters);
  assert_int_equal(c2, 1 + t2.samples * t2.iters);
}

/* ---- the digits data and the model ---- */

static void test_digits_split(void **state) {
  (void)state;
  rp_dataset tr, te, tr2, te2;
  assert_int_equal(rp_digits_split(42, 450, 0, &tr, &te), 0);
  assert_int_equal(te.n, 450);
  assert_int_equal(tr.n, 1797 - 450);
  assert_int_equal(tr.dim, 64);
  unsigned count[10] = {0};
  for (size_t i = 0; i < tr.n; i++) {
    assert_true(tr.y[i] <= 9);
    count[tr.y[i]]++;
  }
  for (int c = 0; c < 10; c++) assert_true(count[c] > 100); /* every class is in the training set */
  for (size_t i = 0; i < te.n * te.dim; i++) assert_true(te.x[i] >= 0 && te.x[i] <= 1);
  /* the same seed gives the same split */
  assert_int_equal(rp_digits_split(42, 450, 300, &tr2, &te2), 0);
  assert_int_equal(tr2.n, 300);
  assert_memory_equal(te.x, te2.x, te.n * te.dim * sizeof *te.x);
  assert_memory_equal(tr.x, tr2.x, tr2.n * tr.dim * sizeof *tr.x);
  rp_dataset_free(&tr), rp_dataset_free(&te), rp_dataset_free(&tr2), rp_dataset_free(&te2);
}

static void test_mlp_learns_and_mask_holds(void **state) {
  (void)state;
  rp_dataset tr, te;
  assert_int_equal(rp_digits_split(42, 300, 400, &tr, &te), 0);
  rp_mlp m;
  assert_int_equal(rp_mlp_init(&m, 64, 32, 10, 7), 0);
  float *z = malloc(te.n * 10 * sizeof *z);
  assert_int_equal(rp_mlp_logits(&m, &te, z), 0);
  double before = rp_accuracy(z, te.n, 10, te.y);
  rp_train_opts o = {10, 32, 2e-3f, 11};
  assert_int_equal(rp_mlp_train(&m, &tr, &o, NULL, NULL), 0);
  assert_int_equal(rp_mlp_logits(&m, &te, z), 0);
  double after = rp_accuracy(z, te.n, 10, te.y);
  /* deterministic seeds: a fixed result, far above chance and the untrained net */
  if (!(after > 0.75 && after > before + 0.3)) fail_msg("accuracy %.3f -> %.3f", before, after);

  /* masked fine-tuning keeps pruned weights at exactly 0 and moves the others */
  float *mask1 = malloc(32 * 64 * sizeof *mask1), *mask2 = malloc(10 * 32 * sizeof *mask2);
  for (size_t i = 0; i < 32 * 64; i++) mask1[i] = (float)(i % 3 == 0), m.w1[i] *= mask1[i];
  for (size_t i = 0; i < 10 * 32; i++) mask2[i] = (float)(i % 2 == 0), m.w2[i] *= mask2[i];
  rp_mlp before_ft;
  assert_int_equal(rp_mlp_copy(&before_ft, &m), 0);
  rp_train_opts f = {1, 32, 1e-3f, 13};
  assert_int_equal(rp_mlp_train(&m, &tr, &f, mask1, mask2), 0);
  size_t moved = 0;
  for (size_t i = 0; i < 32 * 64; i++) {
    if (mask1[i] == 0) assert_true(m.w1[i] == 0);
    moved += m.w1[i] != before_ft.w1[i];
  }
  for (size_t i = 0; i < 10 * 32; i++)
    if (mask2[i] == 0) assert_true(m.w2[i] == 0);
  if (!(moved > 32 * 64 / 12)) fail_msg("%zu kept weights moved", moved);
  rp_mlp_free(&m), rp_mlp_free(&before_ft);
  free(z), free(mask1), free(mask2);
  rp_dataset_free(&tr), rp_dataset_free(&te);
}

/* ---- whole runs: the JSON must hold every figure of every table and variant ---- */

static const jv *need(const jv *o, const char *key, jtype t, const char *where) {
  const jv *v = jget(o, key);
  if (!v || v->t != t) fail_msg("%s: member \"%s\" missing or of the wrong type", where, key);
  return v;
}

static double need_num(const jv *o, const char *key, double lo, double hi, const char *where) {
  double x = need(o, key, J_NUM, where)->num;
  if (!(x >= lo && x <= hi)) fail_msg("%s.%s = %g, outside [%g, %g]", where, key, x, lo, hi);
  return x;
}

static void need_timing(const jv *o, const char *key, const char *where) {
  char w[256];
  snprintf(w, sizeof w, "%s.%s", where, key);
  const jv *t = need(o, key, J_OBJ, where);
  double med = need_num(t, "median_s", 0, 1e6, w), lo = need_num(t, "min_s", 0, 1e6, w);
  double hi = need_num(t, "max_s", 0, 1e6, w);
  need_num(t, "samples", 1, 1e9, w);
  need_num(t, "calls_per_sample", 1, 1e12, w);
  if (!(med > 0 && lo <= med && med <= hi)) fail_msg("%s: median %g not within [%g, %g]", w, med, lo, hi);
}

/* Every measured variant has an entry in `variants` (and nothing else does). */
static const jv *need_variant(const jv *variants, const char *isa, const char *where) {
  return need(variants, isa, J_OBJ, where);
}

static void check_quantization(const jv *q, const jv *measured) {
  if (q->n == 0) fail_msg("quantization: no layer");
  for (size_t s = 0; s < q->n; s++) {
    const jv *row = &q->items[s];
    char w[128];
    snprintf(w, sizeof w, "quantization[%zu]", s);
    double out = need_num(row, "out_features", 1, 1e9, w), in = need_num(row, "in_features", 1, 1e9, w);
    need_num(row, "batch", 1, 1e9, w);
    need_num(row, "bytes_fp32", out * in * 4, 1e12, w);
    need_num(row, "bytes_int8", out * in, 1e12, w);
    need_num(row, "bytes_naive", out * in * 5, 1e12, w);
    const jv *vars = need(row, "variants", J_OBJ, w);
    if (vars->n != measured->n) fail_msg("%s: %zu variants, %zu measured", w, vars->n, measured->n);
    for (size_t v = 0; v < measured->n; v++) {
      char wv[160];
      snprintf(wv, sizeof wv, "%s.%s", w, measured->items[v].s);
      const jv *x = need_variant(vars, measured->items[v].s, w);
      need_timing(x, "fp32", wv);
      need_timing(x, "int8", wv);
      need_timing(x, "naive", wv);
      need_num(x, "speedup_int8", 1e-6, 1e6, wv);
      need_num(x, "speedup_naive", 1e-6, 1e6, wv);
      /* quantization error of normal(0, 1/in) weights: small but not zero */
      need_num(x, "mse_int8", 0, 1e-2, wv);
      need_num(x, "nmse_int8", 0, 1e-2, wv);
      need_num(x, "mse_naive", 0, 1e-2, wv);
    }
  }
}

static void check_kv(const jv *kv, const jv *measured) {
  need_num(kv, "n_heads", 1, 1e6, "kv_cache");
  need_num(kv, "n_kv_heads", 1, 1e6, "kv_cache");
  need_num(kv, "head_dim", 1, 1e6, "kv_cache");
  need(kv, "dtype", J_STR, "kv_cache");
  const jv *vars = need(kv, "variants", J_OBJ, "kv_cache");
  if (vars->n != measured->n) fail_msg("kv_cache: %zu variants, %zu measured", vars->n, measured->n);
  for (size_t v = 0; v < measured->n; v++) {
    char w[128];
    snprintf(w, sizeof w, "kv_cache.%s", measured->items[v].s);
    const jv *x = need_variant(vars, measured->items[v].s, "kv_cache");
    const jv *be = jget(x, "break_even_length");
    if (!be || (be->t != J_NUM && be->t != J_NULL)) fail_msg("%s: break_even_length missing", w);
    const jv *pts = need(x, "points", J_ARR, w);
    if (pts->n < 2) fail_msg("%s: %zu lengths", w, pts->n);
    double prev = 0;
    for (size_t i = 0; i < pts->n; i++) {
      const jv *p = &pts->items[i];
      double len = need_num(p, "length", prev + 1, 1e9, w);
      prev = len;
      need_num(p, "cache_bytes", len, 1e12, w);
      need_timing(p, "cached", w);
      need_timing(p, "recompute", w);
      need_num(p, "speedup", 1e-6, 1e9, w);
      const char *st = need(p, "status", J_STR, w)->s;
      if (strcmp(st, "overhead dominates") && strcmp(st, "marginal") && strcmp(st, "good"))
        fail_msg("%s: status '%s'", w, st);
      /* the cached step computes the recompute's last row: a correctness check */
      need_num(p, "max_abs_diff", 0, 1e-3, w);
    }
  }
}

static size_t check_pruning(const jv *pr, const jv *measured) {
  need_num(need(pr, "spmv_shape", J_OBJ, "pruning"), "rows", 1, 1e9, "pruning.spmv_shape");
  need_num(need(pr, "spmm_shape", J_OBJ, "pruning"), "n", 1, 1e9, "pruning.spmm_shape");
  const jv *levels = need(pr, "levels", J_ARR, "pruning");
  if (levels->n < 2) fail_msg("pruning: %zu sparsity levels", levels->n);
  for (size_t i = 0; i < levels->n; i++) {
    const jv *l = &levels->items[i];
    double s = need_num(l, "sparsity", 0.01, 0.999, "pruning.levels");
    /* CSR stores at least a value and an index per kept weight: compression below 1 / (1 - s) */
    need_num(l, "spmv_compression", 0.2, 1 / (1 - s), "pruning.levels");
    need_num(l, "spmm_compression", 0.2, 1 / (1 - s), "pruning.levels");
    need_num(l, "spmv_nnz", 0, 1e12, "pruning.levels");
  }
  const jv *vars = need(pr, "variants", J_OBJ, "pruning");
  if (vars->n != measured->n) fail_msg("pruning: %zu variants, %zu measured", vars->n, measured->n);
  for (size_t v = 0; v < measured->n; v++) {
    char w[128];
    snprintf(w, sizeof w, "pruning.%s", measured->items[v].s);
    const jv *x = need_variant(vars, measured->items[v].s, "pruning");
    const jv *pts = need(x, "points", J_ARR, w);
    if (pts->n != levels->n) fail_msg("%s: %zu points for %zu levels", w, pts->n, levels->n);
    for (size_t i = 0; i < pts->n; i++) {
      need_timing(&pts->items[i], "spmv", w);
      need_timing(&pts->items[i], "spmm", w);
      need_timing(&pts->items[i], "dense_spmv_shape", w);
      need_timing(&pts->items[i], "dense_spmm_shape", w);
      need_num(&pts->items[i], "spmv_speedup", 1e-6, 1e9, w);
      need_num(&pts->items[i], "spmm_speedup", 1e-6, 1e9, w);
    }
  }
  return levels->n;
}

static void check_digits(const jv *d, size_t n_levels) {
  need_num(d, "train_images", 1, 1797, "digits_mlp");
  need_num(d, "test_images", 1, 1797, "digits_mlp");
  /* even the tiny run's 3 epochs learn: far above chance (10%) */
  need_num(d, "accuracy_fp32", 0.5, 1, "digits_mlp");
  need_num(d, "accuracy_int8", 0.5, 1, "digits_mlp");
  need_num(d, "bytes_int8", 1, need_num(d, "bytes_fp32", 1, 1e9, "digits_mlp") / 2, "digits_mlp");
  const jv *p = need(d, "pruned", J_ARR, "digits_mlp");
  if (p->n != n_levels) fail_msg("digits_mlp: %zu pruned models for %zu levels", p->n, n_levels);
  for (size_t i = 0; i < p->n; i++) {
    need_num(&p->items[i], "accuracy", 0, 1, "digits_mlp.pruned");
    need_num(&p->items[i], "accuracy_finetuned", 0, 1, "digits_mlp.pruned");
    need_num(&p->items[i], "loss_points", -100, 100, "digits_mlp.pruned");
    need_num(&p->items[i], "bytes", 1, 1e9, "digits_mlp.pruned");
  }
}

/* The whole document of a --tiny run: complete and well formed. */
static void check_report(const char *text, bool charts, bool in_process) {
  jv doc;
  if (!json_parse(text, &doc)) fail_msg("the report's --json output is not well-formed JSON:\n%.2000s", text);
  need_num(&doc, "report_format", 1, 1, "top");
  need(&doc, "tinykern_version", J_STR, "top");
  if (strcmp(need(&doc, "mode", J_STR, "top")->s, "tiny")) fail_msg("mode is not tiny");
  need_num(&doc, "elapsed_s", 0, 1e6, "top");
  const jv *m = need(&doc, "machine", J_OBJ, "top");
  need(m, "arch", J_STR, "machine");
  const jv *cpu = jget(m, "cpu");
  if (!cpu || (cpu->t != J_STR && cpu->t != J_NULL)) fail_msg("machine.cpu missing");
  const char *active = need(m, "isa_active", J_STR, "machine")->s;
  tk_isa isa;
  assert_int_equal(tk_isa_from_name(active, &isa), TK_OK);
  const jv *avail = need(m, "isa_available", J_ARR, "machine");
  const jv *measured = need(m, "variants_measured", J_ARR, "machine");
  /* with no --isa, every variant this CPU runs natively is measured, no other
     (the executable's CPU may differ from this process's under qemu: its own list) */
  assert_int_equal(measured->n, avail->n);
  for (size_t i = 0; i < measured->n; i++) {
    assert_int_equal(tk_isa_from_name(measured->items[i].s, &isa), TK_OK);
    assert_string_equal(measured->items[i].s, avail->items[i].s);
    if (in_process) assert_true(tk_isa_available(isa));
  }
  need(&doc, "timing", J_OBJ, "top");
  check_quantization(need(&doc, "quantization", J_ARR, "top"), measured);
  check_kv(need(&doc, "kv_cache", J_OBJ, "top"), measured);
  size_t n_levels = check_pruning(need(&doc, "pruning", J_OBJ, "top"), measured);
  check_digits(need(&doc, "digits_mlp", J_OBJ, "top"), n_levels);
  const jv *ch = jget(&doc, "charts");
  if (charts) {
    if (!ch || ch->t != J_OBJ) fail_msg("charts missing");
    const jv *png = need(ch, "png", J_ARR, "charts");
    /* with gnuplot present all three are drawn, and each file exists */
    if (need(ch, "gnuplot", J_BOOL, "charts")->b && png->n != 3) fail_msg("%zu of 3 charts", png->n);
    for (size_t i = 0; i < png->n; i++) {
      FILE *f = fopen(png->items[i].s, "rb");
      if (!f) fail_msg("chart %s listed but not written", png->items[i].s);
      unsigned char sig[4] = {0};
      assert_int_equal(fread(sig, 1, 4, f), 4);
      fclose(f);
      assert_memory_equal(sig, "\x89PNG", 4);
      remove(png->items[i].s);
    }
  } else if (ch) {
    fail_msg("charts written with --no-charts");
  }
  jv_free(&doc);
}

/* Runs the report in this process with stdout (the text tables) silenced. */
static int run_quietly(int argc, char **argv) {
  fflush(stdout);
  int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);
  assert_true(saved >= 0 && null >= 0);
  dup2(null, STDOUT_FILENO);
  int rc = tk_report_main(argc, argv);
  fflush(stdout);
  dup2(saved, STDOUT_FILENO);
  close(saved), close(null);
  return rc;
}

static void test_report_options(void **state) {
  (void)state;
  char *help[] = {"tinykern-report", "--help", NULL};
  assert_int_equal(run_quietly(2, help), 0);
  char *unknown[] = {"tinykern-report", "--fast", NULL};
  assert_int_equal(run_quietly(2, unknown), 2);
  char *no_value[] = {"tinykern-report", "--json", NULL};
  assert_int_equal(run_quietly(2, no_value), 2);
  char *bad_json[] = {"tinykern-report", "--tiny", "--json", "/nonexistent-dir/report.json", NULL};
  assert_int_equal(run_quietly(4, bad_json), 2);
  char *bad_isa[] = {"tinykern-report", "--tiny", "--isa", "bogus", NULL};
  assert_int_equal(run_quietly(4, bad_isa), 2);
  char *unavailable[] = {"tinykern-report", "--tiny", "--isa", tk_isa_available(TK_ISA_NEON) ? "sse41" : "neon", NULL};
  assert_int_equal(run_quietly(4, unavailable), 2);
  /* a list of any length (once cut at 128 characters): every available name, repeated */
  char list[1024] = "";
  while (strlen(list) <= 128)
    for (int i = 0; i < TK_ISA_COUNT; i++)
      if (tk_isa_available((tk_isa)i)) {
        if (list[0]) strcat(list, ",");
        strcat(list, tk_isa_name((tk_isa)i));
      }
  char *long_list[] = {"tinykern-report", "--tiny", "--no-charts", "--isa", list, NULL};
  assert_int_equal(run_quietly(5, long_list), 0);
}

/* In-process --tiny run: under the test setups' qemu CPU models too. */
static void test_report_tiny_run(void **state) {
  (void)state;
  char dir[] = "/tmp/tk-report-test-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char json[64], charts[64], name[128];
  snprintf(json, sizeof json, "%s/report.json", dir);
  snprintf(charts, sizeof charts, "%s/charts", dir);
  tk_isa before = tk_isa_active();
  char *argv[] = {"tinykern-report", "--tiny", "--json", json, "--charts", charts, NULL};
  assert_int_equal(run_quietly(6, argv), 0);
  assert_int_equal(tk_isa_active(), before); /* the process's choice is restored */
  char *text = read_file(json);
  assert_non_null(text);
  check_report(text, true, true);
  free(text);
  remove(json);
  static const char *data[] = {"int8", "kv-cache", "pruning"};
  for (size_t i = 0; i < 3; i++) {
    snprintf(name, sizeof name, "%s/tinykern-%s.dat", charts, data[i]);
    assert_int_equal(remove(name), 0); /* data and script are written with or without gnuplot */
    snprintf(name, sizeof name, "%s/tinykern-%s.gp", charts, data[i]);
    assert_int_equal(remove(name), 0);
  }
  assert_int_equal(rmdir(charts), 0);
  assert_int_equal(rmdir(dir), 0);
}

/* The built executable itself, JSON on stdout. A cross build's binary cannot be
   started from here (qemu-user runs this test, not its children): skipped then. */
static void test_report_executable(void **state) {
  (void)state;
  const char *exe = getenv("TK_REPORT_EXE");
  if (!exe || strchr(exe, '\'')) skip();
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "'%s' --tiny --no-charts --json - 2>/dev/null", exe);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t cap = 1 << 16, n = 0, got;
  char *text = malloc(cap);
  while ((got = fread(text + n, 1, cap - n - 1, p)) > 0)
    if ((n += got) + 1 == cap) text = realloc(text, cap *= 2);
  text[n] = 0;
  int status = pclose(p);
  if (WIFEXITED(status) && (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127)) {
    free(text);
    print_message("  [skip] %s cannot be started on this host\n", exe);
    skip();
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail_msg("%s exited with status %d", exe, status);
  check_report(text, false, false);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_median_and_spread),
      cmocka_unit_test(test_speedup_and_compression),
      cmocka_unit_test(test_mse),
      cmocka_unit_test(test_accuracy),
      cmocka_unit_test(test_break_even),
      cmocka_unit_test(test_kv_status),
      cmocka_unit_test(test_format),
      cmocka_unit_test(test_best_variant),
      cmocka_unit_test(test_cold_set_rule),
      cmocka_unit_test(test_json_writer),
      cmocka_unit_test(test_json_checker_rejects),
      cmocka_unit_test(test_measure),
      cmocka_unit_test(test_digits_split),
      cmocka_unit_test(test_mlp_learns_and_mask_holds),
      cmocka_unit_test(test_report_options),
      cmocka_unit_test(test_report_tiny_run),
      cmocka_unit_test(test_report_executable),
  };
  return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
