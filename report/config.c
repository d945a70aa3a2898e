/* The run's settings every section reads: selecting a variant, finding the best one measured. */
#include "config.h"

int rp_use_isa(tk_isa isa) {
  tk_status st = tk_isa_select(isa);
  if (st != TK_OK) fprintf(stderr, "tinykern-report: tk_isa_select(%s): %s\n", tk_isa_name(isa), tk_status_str(st));
  return st == TK_OK ? 0 : -1;
}

size_t rp_best_variant(const rp_config *cfg) {
  tk_isa best = tk_isa_best();
  for (size_t v = 0; v < cfg->n_isa; v++)
    if (cfg->isa[v] == best) return v;
  return cfg->n_isa - 1;
}
