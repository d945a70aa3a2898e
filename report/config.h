/* The run's settings every section reads (mode, time budget, variants), and the two helpers every section runs with. */
#ifndef TK_REPORT_CONFIG_H
#define TK_REPORT_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "timing.h"
#include "tinykern.h"

/* default: < 2 min on 2 cores; quick: ~15 s; tiny: seconds, also under qemu
   (the test suite's run: every table and variant, small shapes). */
typedef enum rp_mode { RP_DEFAULT, RP_QUICK, RP_TINY } rp_mode;

/* The longest sparsity sweep: the pruning table and the accuracy run share it. */
enum { RP_MAX_SPARSITY = 8 };

typedef struct rp_config {
  rp_mode mode;
  rp_budget budget;          /* per measured figure */
  tk_isa isa[TK_ISA_COUNT];  /* the variants measured: available natively, in enum order */
  size_t n_isa;
} rp_config;

/* Runs a tinykern call; on failure names it on stderr and returns -1 from the
   enclosing function (the report stops: a figure from a failed call is no figure). */
#define RP_CHECK(call)                                                                  \
  do {                                                                                  \
    tk_status rp_st_ = (call);                                                          \
    if (rp_st_ != TK_OK) {                                                              \
      fprintf(stderr, "tinykern-report: %s failed: %s\n", #call, tk_status_str(rp_st_)); \
      return -1;                                                                        \
    }                                                                                   \
  } while (0)

/* Selects a variant for the measurements that follow (it is available: checked
   when the list was made). Returns 0, or -1 after naming the failure on stderr. */
int rp_use_isa(tk_isa isa);

/* The index in cfg->isa of the variant a chart singles out: tk_isa_best() when
   it is measured, else the last one measured. The enum order is no ranking
   (avxvnni comes after avx512vnni but ranks below it), so "the last" is only
   the fallback of a --isa list without the best. */
size_t rp_best_variant(const rp_config *cfg); /* cfg->n_isa >= 1 */

#endif
