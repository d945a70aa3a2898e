/* tinykern-llama: runs a llama2.c checkpoint on tinykern (prefill, then decode) and reports its speed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "model.h"
#include "sampler.h"
#include "tokenizer.h"

typedef struct options {
  const char *checkpoint, *tokenizer, *prompt;
  size_t steps;         /* tokens to generate */
  size_t prompt_tokens; /* 0: the prompt as encoded; else its tokens repeated to this count */
  float temperature, top_p;
  uint64_t seed;
  bool f32_weights;
  tk_dtype cache;
  tk_kv_memory kv_memory; /* --kv-memory pages|huge, else TK_KV_MEMORY_DEFAULT */
  size_t repeat;
  size_t threads;       /* 0: one per CPU */
  unsigned pool_flags;  /* tk_pool_create_ex's: --pool spin|yield, else TK_POOL_DEFAULT */
  bool bandwidth, json;
} options;

static void usage(void) {
  fprintf(stderr,
          "usage: tinykern-llama CHECKPOINT.bin TOKENIZER.bin [options]\n"
          "       tinykern-llama --isas   (the variant names, one per line)\n"
          "  Runs a llama2.c checkpoint (legacy fp32 format) on tinykern.\n"
          "  -p, --prompt TEXT      prompt (default \"Once upon a time\")\n"
          "  -n, --steps N          tokens to generate (default 128); stops early at BOS\n"
          "  --prompt-tokens N      prefill exactly N tokens: the prompt's, repeated\n"
          "  -t, --temperature T    0 = greedy (default 0.8)\n"
          "  --top-p P              nucleus sampling mass, 0 or 1 = off (default 0.9)\n"
          "  -s, --seed N           sampling seed (default 42)\n"
          "  --f32                  fp32 weights (tk_linear_f32); default int8 (tk_qlinear)\n"
          "  --cache f32|f16|s8     KV cache storage (default f32)\n"
          "  --kv-memory pages|huge KV cache memory policy (tk_kv_config.memory; default: tinykern's)\n"
          "  --isa NAME             tinykern variant, as TINYKERN_ISA (default: the best)\n"
          "  --threads N            threads of the matrix products, 0 = one per CPU (default 1)\n"
          "  --pool spin|yield      what the pool's workers do between calls (default: tinykern's)\n"
          "  --repeat N             run N times, report the median and range (default 1)\n"
          "  --bandwidth            measure the DRAM read bandwidth (1 GiB read), 1 and N threads\n"
          "  --json                 one JSON object on stdout instead of text\n");
}

static bool parse_size(const char *s, size_t *out) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (*s == '-' || *end || end == s || v > SIZE_MAX) return false;
  *out = (size_t)v;
  return true;
}

static bool parse_float(const char *s, float *out) {
  char *end;
  *out = strtof(s, &end);
  return end != s && !*end;
}

static bool parse_u64(const char *s, uint64_t *out) {
  char *end;
  *out = strtoull(s, &end, 10);
  return *s != '-' && end != s && !*end;
}

static bool parse_cache(const char *s, tk_dtype *out) {
  static const struct { const char *name; tk_dtype d; } names[] = {
      {"f32", TK_DTYPE_F32}, {"f16", TK_DTYPE_F16}, {"s8", TK_DTYPE_S8}};
  for (size_t i = 0; i < 3; i++)
    if (strcmp(s, names[i].name) == 0) {
      *out = names[i].d;
      return true;
    }
  return false;
}

static const char *cache_name(tk_dtype d) { return d == TK_DTYPE_F16 ? "f16" : d == TK_DTYPE_S8 ? "s8" : "f32"; }

/* One option with its value; false on a bad value. */
static bool parse_valued(const char *opt, const char *val, options *o) {
  tk_isa isa;
  if (!strcmp(opt, "-p") || !strcmp(opt, "--prompt")) o->prompt = val;
  else if (!strcmp(opt, "-n") || !strcmp(opt, "--steps")) return parse_size(val, &o->steps) && o->steps > 0;
  else if (!strcmp(opt, "--prompt-tokens")) return parse_size(val, &o->prompt_tokens);
  else if (!strcmp(opt, "-t") || !strcmp(opt, "--temperature")) return parse_float(val, &o->temperature);
  else if (!strcmp(opt, "--top-p")) return parse_float(val, &o->top_p);
  else if (!strcmp(opt, "-s") || !strcmp(opt, "--seed")) return parse_u64(val, &o->seed);
  else if (!strcmp(opt, "--cache")) return parse_cache(val, &o->cache);
  else if (!strcmp(opt, "--repeat")) return parse_size(val, &o->repeat) && o->repeat > 0;
  else if (!strcmp(opt, "--threads")) return parse_size(val, &o->threads);
  else if (!strcmp(opt, "--kv-memory")) {
    if (strcmp(val, "pages") && strcmp(val, "huge")) return false;
    o->kv_memory = val[0] == 'p' ? TK_KV_MEMORY_PAGES : TK_KV_MEMORY_HUGE;
  }
  else if (!strcmp(opt, "--pool")) {
    if (strcmp(val, "spin") && strcmp(val, "yield")) return false;
    o->pool_flags = val[0] == 's' ? TK_POOL_SPIN : TK_POOL_YIELD;
  }
  else if (!strcmp(opt, "--isa")) {
    if (tk_isa_from_name(val, &isa) != TK_OK || tk_isa_select(isa) != TK_OK) {
      fprintf(stderr, "tinykern-llama: ISA %s is not available here\n", val);
      return false;
    }
  } else return false;
  return true;
}

static bool parse_options(int argc, char **argv, options *o) {
  *o = (options){.prompt = "Once upon a time", .steps = 128, .temperature = 0.8f, .top_p = 0.9f,
                 .seed = 42, .cache = TK_DTYPE_F32, .repeat = 1, .threads = 1};
  int n_paths = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--f32")) o->f32_weights = true;
    else if (!strcmp(a, "--bandwidth")) o->bandwidth = true;
    else if (!strcmp(a, "--json")) o->json = true;
    else if (a[0] == '-' && i + 1 < argc) {
      if (!parse_valued(a, argv[++i], o)) return false;
    } else if (a[0] != '-' && n_paths < 2) {
      *(n_paths++ == 0 ? &o->checkpoint : &o->tokenizer) = a;
    } else return false;
  }
  return n_paths == 2;
}

/* Everything one run needs, loaded once. */
typedef struct runtime {
  tk_pool *pool;     /* the threads of --threads, or NULL for the calling thread alone */
  tk_exec threads;   /* how the pool runs parts (tk_pool_exec) */
  llama_checkpoint ck;
  llama_tokenizer tok;
  llama_model model;
  llama_session session;
  llama_sampler sampler;
  float *logits;     /* [vocab] */
  int32_t *prompt;   /* [n_prompt] */
  size_t n_prompt;
  int32_t *output;   /* [steps] generated ids of the last run */
  size_t n_output;
} runtime;

/* The prompt's ids: BOS and the encoded text, the text's tokens repeated to
   --prompt-tokens (one BOS: a BOS inside would start a new sequence). */
static bool build_prompt(runtime *rt, const options *o, llama_err *err) {
  int32_t *ids;
  size_t n;
  if (!llama_encode(&rt->tok, o->prompt, true, &ids, &n, err)) return false;
  size_t want = o->prompt_tokens ? o->prompt_tokens : n;
  free(rt->prompt);
  rt->prompt = malloc(want * sizeof *rt->prompt);
  if (!rt->prompt || (want > n && n < 2)) {
    free(ids);
    return llama_fail(err, "cannot make %zu prompt tokens", want);
  }
  for (size_t i = 0; i < want; i++) rt->prompt[i] = i < n ? ids[i] : ids[1 + (i - 1) % (n - 1)];
  rt->n_prompt = want;
  free(ids);
  return true;
}

static bool load(runtime *rt, const options *o, llama_err *err) {
  if (o->threads != 1) {
    tk_status st = tk_pool_create_ex(o->threads, o->pool_flags, &rt->pool);
    if (st == TK_ERR_UNSUPPORTED)
      return llama_fail(err, "--threads %zu: tinykern was built without its pool (pthreadpool)",
                        o->threads);
    if (st != TK_OK) return llama_fail(err, "thread pool: %s", tk_status_str(st));
  }
  rt->threads = tk_pool_exec(rt->pool);
  if (!llama_checkpoint_open(o->checkpoint, &rt->ck, err)) return false;
  const llama_config *c = &rt->ck.cfg;
  if (!llama_tokenizer_load(o->tokenizer, c->vocab_size, &rt->tok, err) ||
      !build_prompt(rt, o, err) ||
      !llama_model_load(&rt->ck, o->f32_weights, &rt->model, err) ||
      !llama_sampler_init(&rt->sampler, c->vocab_size, o->temperature, o->top_p, o->seed, err))
    return false;
  if (rt->n_prompt + o->steps > c->seq_len)
    return llama_fail(err, "%zu prompt tokens + %zu steps exceed the model's seq_len %zu",
                      rt->n_prompt, o->steps, c->seq_len);
  /* the caches hold exactly this run; the prompt is one step */
  if (!llama_session_create(&rt->model, rt->n_prompt + o->steps, rt->n_prompt, o->cache,
                            o->kv_memory, &rt->threads, &rt->session, err))
    return false;
  rt->logits = malloc(c->vocab_size * sizeof *rt->logits);
  rt->output = malloc(o->steps * sizeof *rt->output);
  if (!rt->logits || !rt->output) return llama_fail(err, "out of memory");
  return true;
}

static void unload(runtime *rt) {
  llama_session_free(&rt->session);
  llama_model_free(&rt->model);
  llama_sampler_free(&rt->sampler);
  llama_tokenizer_free(&rt->tok);
  llama_checkpoint_close(&rt->ck);
  tk_pool_destroy(rt->pool);
  free(rt->logits);
  free(rt->prompt);
  free(rt->output);
}

/* Writes a piece unless it is a lone unprintable byte (llama2.c's rule: byte
   tokens of a random model would spray control characters). */
static void print_piece(const runtime *rt, int32_t prev, int32_t id) {
  size_t n;
  const char *s = llama_decode_piece(&rt->tok, prev, id, &n);
  unsigned char b = n == 1 ? (unsigned char)s[0] : 0;
  if (n == 1 && !(b == '\n' || b == '\t' || (b >= 0x20 && b < 0x7F))) return;
  fwrite(s, 1, n, stdout);
  fflush(stdout);
}

/* A moment on two clocks: the wall clock (what the user waits) and the
   process's CPU time, all threads (what the code costs: on a shared machine
   the threads are often descheduled, and only the CPU time is comparable
   between runs of one thread count; pool threads spin between the parts of
   a step, so with N threads it is about N x the wall time they ran). */
typedef struct stamp {
  double wall, cpu;
} stamp;

static stamp stamp_now(void) { return (stamp){llama_now(), llama_process_cpu_now()}; }

static stamp stamp_since(stamp t0) {
  stamp t = stamp_now();
  return (stamp){t.wall - t0.wall, t.cpu - t0.cpu};
}

typedef struct run_stats {
  stamp ttft;     /* prompt in -> first token out: encode, prefill, sample */
  stamp prefill;  /* the prefill forward */
  stamp decode;   /* every decode step: forward + sample */
  size_t decoded; /* decode steps */
} run_stats;

/* One generation from an empty context: prefill, then decode. */
static bool generate(runtime *rt, const options *o, bool print, run_stats *st, llama_err *err) {
  llama_session_reset(&rt->session);
  llama_sampler_seed(&rt->sampler, o->seed);
  stamp t0 = stamp_now();
  if (!build_prompt(rt, o, err)) return false;
  stamp t1 = stamp_now();
  if (!llama_forward(&rt->model, &rt->session, rt->prompt, rt->n_prompt, rt->logits, err)) return false;
  st->prefill = stamp_since(t1);
  int32_t next = llama_sample(&rt->sampler, rt->logits);
  st->ttft = stamp_since(t0);
  stamp t3 = stamp_now();
  if (print)
    for (size_t i = 1; i < rt->n_prompt; i++) print_piece(rt, rt->prompt[i - 1], rt->prompt[i]);
  rt->n_output = 0;
  int32_t prev = rt->prompt[rt->n_prompt - 1];
  while (next != LLAMA_TOKEN_BOS) { /* llama2.c: BOS separates sequences */
    rt->output[rt->n_output++] = next;
    if (print) print_piece(rt, prev, next);
    if (rt->n_output == o->steps) break;
    if (!llama_forward(&rt->model, &rt->session, &next, 1, rt->logits, err)) return false;
    prev = next;
    next = llama_sample(&rt->sampler, rt->logits);
    st->decoded++;
  }
  st->decode = stamp_since(t3);
  if (print) printf("\n");
  return true;
}

/* ---- measuring and reporting ---- */

/* Median, min and max of n values (sorted in place). */
typedef struct spread {
  double median, min, max;
} spread;

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static spread spread_of(double *v, size_t n) {
  qsort(v, n, sizeof *v, by_value);
  double median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return (spread){median, v[0], v[n - 1]};
}

/* DRAM read bandwidth in GB/s: the best of three passes of a streaming sum
   over 1 GiB, far beyond any cache, 4 independent sums per part so the adds
   never limit the loads. One part (e NULL or one thread): per CPU second of
   this thread, as bench/'s roofline; several, one per thread of e: on the
   wall clock (a rate of several threads has no single CPU clock). 0 when the
   memory is not there. */
enum { MAX_PARTS = 64 };

typedef struct sum_job {
  const uint64_t *a;
  size_t n, parts;
  uint64_t sums[MAX_PARTS];
} sum_job;

static void sum_part(void *ctx, size_t i) {
  sum_job *j = ctx;
  size_t begin = j->n / 4 * i / j->parts * 4, end = j->n / 4 * (i + 1) / j->parts * 4;
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (size_t k = begin; k < end; k += 4) {
    s0 += j->a[k];
    s1 += j->a[k + 1];
    s2 += j->a[k + 2];
    s3 += j->a[k + 3];
  }
  j->sums[i] = s0 + s1 + s2 + s3;
}

static volatile uint64_t bandwidth_sink; /* keeps the sums alive */

static double read_bandwidth(const tk_exec *e) {
  size_t n = ((size_t)1 << 30) / sizeof(uint64_t);
  size_t parts = e && e->parallel_for && e->n_threads > 1 ? e->n_threads : 1;
  sum_job *j = malloc(sizeof *j);
  uint64_t *a = malloc(n * sizeof *a);
  if (!j || !a) {
    free(j);
    free(a);
    return 0.0;
  }
  for (size_t i = 0; i < n; i++) a[i] = i; /* touch every page before timing */
  *j = (sum_job){.a = a, .n = n, .parts = parts < MAX_PARTS ? parts : MAX_PARTS};
  double best = 0.0;
  for (int pass = 0; pass < 3; pass++) {
    double t0 = j->parts > 1 ? llama_now() : llama_cpu_now();
    if (j->parts > 1) e->parallel_for(e->host, j->parts, sum_part, j);
    else sum_part(j, 0);
    double t = (j->parts > 1 ? llama_now() : llama_cpu_now()) - t0;
    for (size_t i = 0; i < j->parts; i++) bandwidth_sink += j->sums[i];
    best = fmax(best, (double)(n * sizeof *a) / t * 1e-9);
  }
  free(a);
  free(j);
  return best;
}

/* "model name, family F model M" from /proc/cpuinfo (Linux), else "unknown". */
static void cpu_name(char *out, size_t size) {
  snprintf(out, size, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[256], name[128] = "unknown", family[16] = "?", model[16] = "?";
  while (fgets(line, sizeof line, f) && line[0] != '\n') { /* the first processor's block */
    char *colon = strchr(line, ':');
    if (!colon) continue;
    char *value = colon + 1 + (colon[1] == ' ');
    value[strcspn(value, "\n")] = '\0';
    if (!strncmp(line, "model name", 10)) snprintf(name, sizeof name, "%s", value);
    else if (!strncmp(line, "cpu family", 10)) snprintf(family, sizeof family, "%s", value);
    else if (!strncmp(line, "model\t", 6)) snprintf(model, sizeof model, "%s", value);
  }
  fclose(f);
  snprintf(out, size, "%s, family %s model %s", name, family, model);
}

enum { WALL, CPU, CLOCKS };
static const char *const CLOCK_NAMES[CLOCKS] = {"wall", "cpu"};

typedef struct results {
  spread ttft_ms[CLOCKS], prefill_tps[CLOCKS], decode_tps[CLOCKS];
  double decode_cpu_share; /* CPU time / (wall time x threads) while decoding (median run) */
  stamp load;              /* checkpoint in -> ready to run (weights quantized) */
  size_t threads;
  size_t weight_bytes;  /* weights one decode step reads */
  size_t cache_bytes, buffer_bytes, peak_rss;
  double bandwidth_gbs;         /* one thread, per CPU second; 0: not measured */
  double bandwidth_threads_gbs; /* all threads, wall clock; 0: not measured or one thread */
  char cpu[192];
} results;

static size_t peak_rss_bytes(void) {
  struct rusage ru;
  return getrusage(RUSAGE_SELF, &ru) == 0 ? (size_t)ru.ru_maxrss * 1024 : 0; /* Linux: KiB */
}

static double seconds(stamp s, int clock) { return clock == WALL ? s.wall : s.cpu; }

/* Runs o->repeat generations (the first one printed in text mode). */
static bool measure(runtime *rt, const options *o, results *r, llama_err *err) {
  size_t n = o->repeat;
  run_stats *runs = calloc(n, sizeof *runs);
  double *v = malloc(n * sizeof *v);
  if (!runs || !v) {
    free(runs);
    free(v);
    return llama_fail(err, "out of memory");
  }
  bool ok = true;
  for (size_t i = 0; ok && i < n; i++) ok = generate(rt, o, !o->json && i == 0, &runs[i], err);
  for (int c = 0; ok && c < CLOCKS; c++) {
    for (size_t i = 0; i < n; i++) v[i] = 1e3 * seconds(runs[i].ttft, c);
    r->ttft_ms[c] = spread_of(v, n);
    for (size_t i = 0; i < n; i++) v[i] = (double)rt->n_prompt / seconds(runs[i].prefill, c);
    r->prefill_tps[c] = spread_of(v, n);
    for (size_t i = 0; i < n; i++)
      v[i] = runs[i].decoded ? (double)runs[i].decoded / seconds(runs[i].decode, c) : 0.0;
    r->decode_tps[c] = spread_of(v, n);
  }
  for (size_t i = 0; ok && i < n; i++)
    v[i] = runs[i].decode.cpu / (runs[i].decode.wall * (double)r->threads);
  if (ok) r->decode_cpu_share = spread_of(v, n).median;
  free(runs);
  free(v);
  return ok;
}

static const char *weights_name(const options *o) { return o->f32_weights ? "f32" : "int8"; }

/* One figure on both clocks: "per CPU second" for rates, "of CPU time" for times. */
static void print_figure(FILE *f, const char *what, const char *unit, const char *cpu_label,
                         const spread *s) {
  fprintf(f, "%-20s %7.1f %s [%.1f .. %.1f] wall, %7.1f [%.1f .. %.1f] %s\n", what, s[WALL].median,
          unit, s[WALL].min, s[WALL].max, s[CPU].median, s[CPU].min, s[CPU].max, cpu_label);
}

static void print_text(const runtime *rt, const options *o, const results *r) {
  const llama_config *c = &rt->model.cfg;
  FILE *f = stderr; /* stdout has the text alone */
  fprintf(f, "\nmodel: dim %zu, hidden %zu, %zu layers, %zu heads on %zu kv heads, vocab %zu, "
             "seq_len %zu%s\n", c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads,
          c->vocab_size, c->seq_len, c->shared_classifier ? ", shared classifier" : "");
  fprintf(f, "cpu: %s; isa %s (best here %s); %zu thread%s\n", r->cpu,
          tk_isa_name(tk_isa_active()), tk_isa_name(tk_isa_best()), r->threads,
          r->threads > 1 ? "s" : "");
  fprintf(f, "weights %s (%s), %.1f MB read per token; KV cache %s; loaded in %.2f s "
             "(%.2f s of CPU)\n", weights_name(o), o->f32_weights ? "tk_linear_f32" : "tk_qlinear",
          1e-6 * (double)r->weight_bytes, cache_name(o->cache), r->load.wall, r->load.cpu);
  fprintf(f, "prompt %zu tokens, generated %zu; median of %zu run%s [min .. max]\n", rt->n_prompt,
          rt->n_output, o->repeat, o->repeat > 1 ? "s" : "");
  print_figure(f, "prefill:", "tok/s", "per CPU second", r->prefill_tps);
  print_figure(f, "time to first token:", "ms", "of CPU time", r->ttft_ms);
  print_figure(f, "decode:", "tok/s", "per CPU second", r->decode_tps);
  if (r->decode_cpu_share < 0.9)
    fprintf(f, "(the decoding threads ran %.0f%% of the wall time: the machine is shared)\n",
            100.0 * r->decode_cpu_share);
  fprintf(f, "memory: weights %.1f MB, KV caches %.1f MB, activations %.1f MB, peak RSS %.1f MB "
             "(with the mapped file's pages)\n", 1e-6 * (double)r->weight_bytes,
          1e-6 * (double)r->cache_bytes, 1e-6 * (double)r->buffer_bytes, 1e-6 * (double)r->peak_rss);
  if (r->bandwidth_gbs > 0.0 && r->threads == 1) {
    double used = r->decode_tps[CPU].median * (double)r->weight_bytes * 1e-9;
    fprintf(f, "DRAM read bandwidth %.1f GB/s; decode reads weights at %.1f GB/s = %.0f%% of it "
               "(per CPU second)\n", r->bandwidth_gbs, used, 100.0 * used / r->bandwidth_gbs);
  }
  if (r->bandwidth_threads_gbs > 0.0) {
    double used = r->decode_tps[WALL].max * (double)r->weight_bytes * 1e-9;
    fprintf(f, "DRAM read bandwidth %.1f GB/s on one thread (per CPU second), %.1f GB/s on %zu "
               "(wall clock); the fastest decode run read weights at %.1f GB/s = %.0f%% of it "
               "(wall clock)\n", r->bandwidth_gbs, r->bandwidth_threads_gbs, r->threads, used,
            100.0 * used / r->bandwidth_threads_gbs);
  }
}

static void json_spread(const char *key, const spread *s) {
  printf("  \"%s\": {", key);
  for (int c = 0; c < CLOCKS; c++)
    printf("%s\"%s\": {\"median\": %.4g, \"min\": %.4g, \"max\": %.4g}", c ? ", " : "",
           CLOCK_NAMES[c], s[c].median, s[c].min, s[c].max);
  printf("},\n");
}

/* Every figure for machines; strings are fixed names or the CPU's (escaped). */
static void print_json(const runtime *rt, const options *o, const results *r) {
  const llama_config *c = &rt->model.cfg;
  printf("{\n  \"config\": {\"dim\": %zu, \"hidden_dim\": %zu, \"n_layers\": %zu, \"n_heads\": %zu, "
         "\"n_kv_heads\": %zu, \"vocab_size\": %zu, \"seq_len\": %zu, \"shared_classifier\": %s},\n",
         c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads, c->vocab_size, c->seq_len,
         c->shared_classifier ? "true" : "false");
  printf("  \"cpu\": \"");
  for (const char *p = r->cpu; *p; p++)
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7F) putchar(*p);
  printf("\",\n  \"isa\": \"%s\", \"threads\": %zu, \"weights\": \"%s\", \"cache\": \"%s\",\n",
         tk_isa_name(tk_isa_active()), r->threads, weights_name(o), cache_name(o->cache));
  printf("  \"prompt_tokens\": %zu, \"generated_tokens\": %zu, \"repeat\": %zu, \"load_s\": "
         "{\"wall\": %.4g, \"cpu\": %.4g},\n", rt->n_prompt, rt->n_output, o->repeat, r->load.wall,
         r->load.cpu);
  json_spread("prefill_tok_s", r->prefill_tps);
  json_spread("decode_tok_s", r->decode_tps);
  json_spread("ttft_ms", r->ttft_ms);
  printf("  \"decode_cpu_share\": %.3f,\n", r->decode_cpu_share);
  printf("  \"weight_bytes_per_token\": %zu, \"kv_cache_bytes\": %zu, \"activation_bytes\": %zu, "
         "\"peak_rss_bytes\": %zu,\n", r->weight_bytes, r->cache_bytes, r->buffer_bytes, r->peak_rss);
  printf("  \"read_bandwidth_gbs\": %.4g, \"read_bandwidth_threads_gbs\": %.4g,\n  \"tokens\": [",
         r->bandwidth_gbs, r->bandwidth_threads_gbs);
  for (size_t i = 0; i < rt->n_output; i++) printf("%s%d", i ? ", " : "", (int)rt->output[i]);
  printf("]\n}\n");
}

int main(int argc, char **argv) {
  /* --isas: every variant name tinykern knows, one per line (for scripts). */
  if (argc == 2 && !strcmp(argv[1], "--isas")) {
    for (int i = 0; i < TK_ISA_COUNT; i++) printf("%s\n", tk_isa_name((tk_isa)i));
    return 0;
  }
  options o;
  if (!parse_options(argc, argv, &o)) {
    usage();
    return 2;
  }
  runtime rt = {0};
  results r = {0};
  llama_err err;
  stamp t0 = stamp_now();
  bool ok = load(&rt, &o, &err);
  r.load = stamp_since(t0);
  r.threads = rt.pool ? tk_pool_threads(rt.pool) : 1;
  ok = ok && measure(&rt, &o, &r, &err);
  if (ok) {
    r.weight_bytes = llama_model_weight_bytes(&rt.model);
    r.cache_bytes = llama_session_cache_bytes(&rt.session);
    r.buffer_bytes = llama_session_buffer_bytes(&rt.session, &rt.model.cfg);
    r.peak_rss = peak_rss_bytes();
    r.bandwidth_gbs = o.bandwidth ? read_bandwidth(NULL) : 0.0;
    r.bandwidth_threads_gbs = o.bandwidth && r.threads > 1 ? read_bandwidth(&rt.threads) : 0.0;
    cpu_name(r.cpu, sizeof r.cpu);
    if (o.json) print_json(&rt, &o, &r);
    else print_text(&rt, &o, &r);
  } else {
    fprintf(stderr, "tinykern-llama: %s\n", err.msg);
  }
  unload(&rt);
  return ok ? 0 : 1;
}
