/* tinykern-report, the top: options, machine header, the run of every section, text tables, JSON and charts. */
#include "report.h"

#include <cpuinfo.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accuracy.h"
#include "charts.h"
#include "config.h"
#include "format.h"
#include "json.h"
#include "kv.h"
#include "prune.h"
#include "quant.h"
#include "timing.h"

static const char usage[] =
    "usage: tinykern-report [--quick | --tiny] [--json FILE|-] [--charts DIR | --no-charts] [--isa LIST]\n"
    "\n"
    "Measures on this machine what int8 quantization, KV caching and pruning buy, with every\n"
    "ISA variant this CPU runs natively, and prints three tables plus the accuracy of a small\n"
    "MLP on real data (handwritten digits) in fp32, int8 and pruned form.\n"
    "\n"
    "  --quick        smaller shapes and fewer runs (about 15 s instead of under 2 minutes)\n"
    "  --tiny         toy shapes, every table and variant, a few seconds (for tests, qemu)\n"
    "  --json FILE    also write every figure as JSON to FILE; '-' = stdout (the tables then\n"
    "                 go to stderr)\n"
    "  --charts DIR   PNG charts (with gnuplot on PATH) and their data into DIR\n"
    "                 (default: ./tinykern-report-charts)\n"
    "  --no-charts    no chart files\n"
    "  --isa LIST     measure only these variants, comma-separated (e.g. scalar,avx2);\n"
    "                 default: every variant built in and supported by this CPU\n"
    "  --warm         keep the caches warm between timed calls (default: each timed call\n"
    "                 starts with its data in DRAM, as in a model larger than the caches;\n"
    "                 --tiny is always warm)\n"
    "\n"
    "Times are medians of repeated runs (CLOCK_MONOTONIC, one thread); the JSON keeps the\n"
    "fastest and slowest sample too. Progress goes to stderr.\n";

typedef struct options {
  rp_mode mode;
  const char *json;   /* NULL: none */
  const char *charts; /* NULL: none */
  const char *isa;    /* NULL: all available */
  bool warm;
} options;

static int parse(int argc, char **argv, options *o) {
  *o = (options){RP_DEFAULT, NULL, "tinykern-report-charts", NULL, false};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has_value = i + 1 < argc;
    if (!strcmp(a, "--quick")) {
      o->mode = RP_QUICK;
    } else if (!strcmp(a, "--tiny")) {
      o->mode = RP_TINY;
    } else if (!strcmp(a, "--json") && has_value) {
      o->json = argv[++i];
    } else if (!strcmp(a, "--charts") && has_value) {
      o->charts = argv[++i];
    } else if (!strcmp(a, "--no-charts")) {
      o->charts = NULL;
    } else if (!strcmp(a, "--warm")) {
      o->warm = true;
    } else if (!strcmp(a, "--isa") && has_value) {
      o->isa = argv[++i];
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage, stdout);
      return 1;
    } else {
      fprintf(stderr, "tinykern-report: unknown or incomplete option '%s' (see --help)\n", a);
      return 2;
    }
  }
  return 0;
}

/* The variants to measure, in enum order (the order of tk_isa_available's
   list in the JSON; it ranks nothing: rp_best_variant finds the best). */
static int pick_variants(const char *list, rp_config *cfg) {
  cfg->n_isa = 0;
  for (int i = 0; i < TK_ISA_COUNT; i++) {
    tk_isa isa = (tk_isa)i;
    if (!tk_isa_available(isa)) continue;
    if (list) {
      /* Whole comma-separated names only: "sse41" must not match "sse4". */
      const char *name = tk_isa_name(isa), *p = list;
      size_t n = strlen(name);
      bool wanted = false;
      while (p && *p && !wanted) {
        wanted = !strncmp(p, name, n) && (p[n] == ',' || p[n] == 0);
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
      }
      if (!wanted) continue;
    }
    cfg->isa[cfg->n_isa++] = isa;
  }
  if (list) { /* every name asked for must be known and available (a copy: any length) */
    char *buf = malloc(strlen(list) + 1);
    if (!buf) return -1;
    strcpy(buf, list);
    int rc = 0;
    for (char *tok = strtok(buf, ","); tok && rc == 0; tok = strtok(NULL, ",")) {
      tk_isa isa;
      if (tk_isa_from_name(tok, &isa) != TK_OK || !tk_isa_available(isa)) {
        fprintf(stderr, "tinykern-report: --isa %s: not a variant this build and CPU run natively\n", tok);
        rc = -1;
      }
    }
    free(buf);
    if (rc) return rc;
  }
  if (cfg->n_isa == 0) {
    fprintf(stderr, "tinykern-report: --isa: no variant to measure\n");
    return -1;
  }
  return 0;
}

static const char *arch_name(void) {
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__aarch64__)
  return "aarch64";
#elif defined(__arm__)
  return "armv7";
#else
  return "other";
#endif
}

/* What cpuinfo knows of this machine; under qemu-user it sees the ISA flags
   but no model name or caches, and the report says so. */
typedef struct machine {
  char cpu[64];
  size_t cores;
  size_t l2, l3;        /* bytes of the first cache of that level; 0: unknown */
} machine;

static void detect(machine *m) {
  memset(m, 0, sizeof *m);
  if (!cpuinfo_initialize()) return;
  const struct cpuinfo_package *p = cpuinfo_get_package(0);
  /* cpuinfo names an unrecognised model "Unknown" (so it does under qemu-user). */
  if (p && strcmp(p->name, "Unknown") != 0) snprintf(m->cpu, sizeof m->cpu, "%s", p->name);
  m->cores = cpuinfo_get_cores_count();
  if (cpuinfo_get_l2_caches_count() > 0) m->l2 = cpuinfo_get_l2_cache(0)->size;
  if (cpuinfo_get_l3_caches_count() > 0) m->l3 = cpuinfo_get_l3_cache(0)->size;
}

static const char *mode_name(rp_mode m) { return m == RP_DEFAULT ? "default" : m == RP_QUICK ? "quick" : "tiny"; }

static void print_header(FILE *f, const machine *m, const rp_config *cfg, tk_isa active) {
  char a[32], b[32];
  fprintf(f, "# tinykern-report %s: what int8, KV caching and pruning buy on this machine\n\n", tk_version());
  fprintf(f, "- CPU: %s; %s, %zu cores", m->cpu[0] ? m->cpu : "model unknown to cpuinfo (as under qemu)",
          arch_name(), m->cores);
  if (m->l2) fprintf(f, ", L2 %s", rp_fmt_bytes(a, sizeof a, m->l2));
  if (m->l3) fprintf(f, ", L3 %s", rp_fmt_bytes(b, sizeof b, m->l3));
  fprintf(f, "\n- ISA: active %s, best %s; measured:", tk_isa_name(active), tk_isa_name(tk_isa_best()));
  for (size_t v = 0; v < cfg->n_isa; v++) fprintf(f, " %s", tk_isa_name(cfg->isa[v]));
  for (int i = 0; i < TK_ISA_COUNT; i++)
    if (tk_isa_built((tk_isa)i) && !tk_isa_available((tk_isa)i))
      fprintf(f, " (%s: built, not supported by this CPU)", tk_isa_name((tk_isa)i));
  fprintf(f, "\n- Run: %s mode, one thread; times are medians of repeated runs after a warm-up\n",
          mode_name(cfg->mode));
  if (cfg->budget.flush_bytes)
    fprintf(f, "- Caches: flushed (%s read) before every timed call, so weights and KV cache come from\n"
               "  DRAM as in a model larger than the caches (--warm: keep them warm)\n",
            rp_fmt_bytes(a, sizeof a, cfg->budget.flush_bytes));
  else
    fprintf(f, "- Caches: warm (calls back to back; data that fits in the caches stays there)\n");
}

static void machine_json(rp_json *j, const machine *m, const rp_config *cfg, tk_isa active) {
  rp_json_object(j, "machine");
  rp_json_str(j, "cpu", m->cpu[0] ? m->cpu : NULL);
  rp_json_str(j, "arch", arch_name());
  rp_json_uint(j, "cores", m->cores);
  rp_json_uint(j, "l2_bytes", m->l2);
  rp_json_uint(j, "l3_bytes", m->l3);
  rp_json_str(j, "isa_active", tk_isa_name(active));
  rp_json_str(j, "isa_best", tk_isa_name(tk_isa_best()));
  rp_json_array(j, "isa_available");
  for (int i = 0; i < TK_ISA_COUNT; i++)
    if (tk_isa_available((tk_isa)i)) rp_json_str(j, NULL, tk_isa_name((tk_isa)i));
  rp_json_end(j);
  rp_json_array(j, "variants_measured");
  for (size_t v = 0; v < cfg->n_isa; v++) rp_json_str(j, NULL, tk_isa_name(cfg->isa[v]));
  rp_json_end(j);
  rp_json_end(j);
  rp_json_object(j, "timing");
  rp_json_str(j, "clock", "CLOCK_MONOTONIC");
  rp_json_str(j, "statistic", "median of samples; min/max = fastest/slowest sample");
  rp_json_num(j, "budget_s", cfg->budget.budget);
  rp_json_num(j, "sample_s", cfg->budget.sample);
  rp_json_uint(j, "min_samples", cfg->budget.min_samples);
  rp_json_uint(j, "max_samples", cfg->budget.max_samples);
  rp_json_str(j, "caches", cfg->budget.flush_bytes ? "flushed before every timed call" : "warm");
  rp_json_uint(j, "flush_bytes", cfg->budget.flush_bytes);
  rp_json_end(j);
}

static void charts_json(rp_json *j, const char *dir, const rp_charts *c) {
  rp_json_object(j, "charts");
  rp_json_str(j, "dir", dir);
  rp_json_bool(j, "gnuplot", c->gnuplot);
  rp_json_array(j, "png");
  for (size_t i = 0; i < c->n; i++) rp_json_str(j, NULL, c->path[i]);
  rp_json_end(j);
  rp_json_str(j, "note", c->note[0] ? c->note : NULL);
  rp_json_end(j);
}

/* Everything measured, kept together (large: allocated once). */
typedef struct results {
  rp_digits acc;
  rp_quant quant;
  rp_kv kv;
  rp_prune prune;
  rp_charts charts;
} results;

/* The figures of the accuracy run that the quantization and pruning tables
   quote (the sections do not read each other's results). */
static void accuracy_quotes(const rp_digits *a, rp_quant_accuracy *q, rp_prune_accuracy *p) {
  *q = (rp_quant_accuracy){a->fp32, a->int8, a->bytes_fp32, a->bytes_int8};
  for (size_t i = 0; i < a->n_sparsity; i++) {
    p->loss[i] = 100 * (a->fp32 - a->pruned[i]);
    p->loss_finetuned[i] = 100 * (a->fp32 - a->finetuned[i]);
  }
}

static int measure(const rp_config *cfg, results *r) {
  double levels[RP_MAX_SPARSITY];
  size_t n = rp_prune_levels(cfg->mode, levels);
  if (rp_digits_run(cfg, levels, n, &r->acc)) return -1;
  if (rp_quant_run(cfg, &r->quant)) return -1;
  if (rp_kv_run(cfg, &r->kv)) return -1;
  return rp_prune_run(cfg, &r->prune);
}

int tk_report_main(int argc, char **argv) {
  options o;
  int rc = parse(argc, argv, &o);
  if (rc) return rc == 1 ? 0 : 2;

  static const rp_budget budgets[] = {
      [RP_DEFAULT] = {0.25, 0.0005, 5, 201, 0},
      [RP_QUICK] = {0.06, 0.0003, 5, 101, 0},
      [RP_TINY] = {0.003, 0.0002, 2, 3, 0},
  };
  rp_config cfg = {.mode = o.mode, .budget = budgets[o.mode]};
  if (pick_variants(o.isa, &cfg)) return 2;
  machine m;
  detect(&m);
  /* Cold calls: the flush reads a cold set (timing.h; the tiny run stays warm). */
  if (!o.warm && o.mode != RP_TINY) cfg.budget.flush_bytes = rp_cold_flush_bytes();

  bool json_stdout = o.json && !strcmp(o.json, "-");
  FILE *text = json_stdout ? stderr : stdout;
  FILE *jf = NULL;
  if (o.json && !(jf = json_stdout ? stdout : fopen(o.json, "w"))) {
    fprintf(stderr, "tinykern-report: cannot write %s\n", o.json);
    return 2;
  }

  tk_isa active = tk_isa_active();
  results *r = calloc(1, sizeof *r);
  double t0 = rp_now();
  rc = !r || measure(&cfg, r) ? 1 : 0;
  rp_progress_done();
  if (tk_isa_select(active) != TK_OK) rc = 1; /* the process's choice, as it was */
  double elapsed = rp_now() - t0;

  if (rc == 0) {
    if (o.charts) rp_charts_write(o.charts, &cfg, &r->quant, &r->kv, &r->prune, &r->charts);
    rp_text out = {text, 0}; /* counts the noisy timings while the tables print */
    rp_quant_accuracy qa;
    rp_prune_accuracy pa;
    accuracy_quotes(&r->acc, &qa, &pa);
    print_header(text, &m, &cfg, active);
    rp_quant_print(&out, &cfg, &r->quant, &qa);
    rp_kv_print(&out, &cfg, &r->kv);
    rp_prune_print(&out, &cfg, &r->prune, &pa);
    rp_digits_print(&out, &r->acc);
    if (out.noisy)
      fprintf(text, "\n* %u times marked * are noisy: their median is more than 1.5x the fastest run (the\n"
                    "  machine was busy with something else). The JSON keeps the fastest and slowest runs.\n",
              out.noisy);
    fprintf(text, "\nMeasured in %.1f s.", elapsed);
    if (o.charts && r->charts.n) {
      fprintf(text, " Charts:");
      for (size_t i = 0; i < r->charts.n; i++) fprintf(text, " %s", r->charts.path[i]);
    }
    if (o.charts && r->charts.note[0]) fprintf(text, " Charts: %s.", r->charts.note);
    if (o.json && !json_stdout) fprintf(text, " JSON: %s.", o.json);
    fputc('\n', text);

    rp_json j;
    rp_json_init(&j, jf);
    rp_json_object(&j, NULL);
    rp_json_uint(&j, "report_format", 1);
    rp_json_str(&j, "tinykern_version", tk_version());
    rp_json_str(&j, "mode", mode_name(cfg.mode));
    machine_json(&j, &m, &cfg, active);
    rp_digits_json(&j, &r->acc);
    rp_quant_json(&j, &cfg, &r->quant);
    rp_kv_json(&j, &cfg, &r->kv);
    rp_prune_json(&j, &cfg, &r->prune);
    if (o.charts) charts_json(&j, o.charts, &r->charts);
    rp_json_num(&j, "elapsed_s", elapsed);
    rp_json_end(&j);
  }
  if (jf && !json_stdout && fclose(jf) != 0) rc = 1;
  if (json_stdout) fflush(stdout);
  free(r);
  return rc;
}
