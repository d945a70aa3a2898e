/* Runtime dispatch: ISA names, the one-time choice (TINYKERN_ISA or the best), tk_isa_select. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch/dispatch.h"
#include "dispatch/isa_list.h"
#include "dispatch/kernels.h"
#include "tk_build_config.h"

/* The tables of the ISAs built natively into this library (meson lists them
   in tk_build_config.h); NULL where an ISA is not built. */
#define TK_BUILT_TABLE(ID, name) [TK_ISA_##ID] = &tk_kernels_##name,
static const tk_kernels *const built_tables[TK_ISA_COUNT] = {TK_BUILT_ISAS(TK_BUILT_TABLE)};

/* The public enum (append-only) and the list agree row by row and in count. */
#define TK_ISA_INDEX(ID, name, arch, prio, detect) TK_ISA_INDEX_##ID,
enum { TK_ISA_LIST(TK_ISA_INDEX) TK_ISA_LIST_COUNT };
_Static_assert((int)TK_ISA_LIST_COUNT == (int)TK_ISA_COUNT, "dispatch/isa_list.h and tk_isa differ in count");
#define TK_ISA_SAME(ID, name, arch, prio, detect) \
  _Static_assert((int)TK_ISA_##ID == (int)TK_ISA_INDEX_##ID, "tk_isa and dispatch/isa_list.h order " #name " differently");
TK_ISA_LIST(TK_ISA_SAME)

#define TK_ISA_NAME(ID, name, arch, prio, detect) [TK_ISA_##ID] = #name,
static const char *const isa_names[TK_ISA_COUNT] = {TK_ISA_LIST(TK_ISA_NAME)};

#define TK_ISA_PRIORITY(ID, name, arch, prio, detect) [TK_ISA_##ID] = prio,
static const int isa_priority[TK_ISA_COUNT] = {TK_ISA_LIST(TK_ISA_PRIORITY)};

_Atomic(const tk_kernels *) tk_dispatch_active;

/* Written once under pthread_once, read-only afterwards. */
static bool available[TK_ISA_COUNT];
static tk_isa best = TK_ISA_SCALAR;
static unsigned init_count;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

const char *tk_version(void) { return TK_VERSION_STRING; }

const char *tk_isa_name(tk_isa isa) {
  return (unsigned)isa < TK_ISA_COUNT ? isa_names[isa] : "unknown";
}

tk_status tk_isa_from_name(const char *name, tk_isa *out) {
  if (!name || !out) return TK_ERR_ARG;
  for (int i = 0; i < TK_ISA_COUNT; i++) {
    if (strcmp(name, isa_names[i]) == 0) {
      *out = (tk_isa)i;
      return TK_OK;
    }
  }
  return TK_ERR_ARG;
}

tk_isa tk_dispatch_choose(const bool avail[TK_ISA_COUNT], const char *env, char *warning,
                          size_t warning_size) {
  /* The highest priority wins (isa_list.h), whatever the enum order. */
  tk_isa pick = TK_ISA_SCALAR;
  for (int i = 0; i < TK_ISA_COUNT; i++)
    if (avail[i] && isa_priority[i] > isa_priority[pick]) pick = (tk_isa)i;
  if (warning_size) warning[0] = '\0';
  if (!env) return pick;
  tk_isa want;
  if (tk_isa_from_name(env, &want) != TK_OK) {
    snprintf(warning, warning_size,
             "tinykern: TINYKERN_ISA=\"%.40s%s\" is not an ISA name (one of:%s); using %s\n",
             env, strlen(env) > 40 ? "..." : "", TK_ISA_LIST(TK_ISA_LIST_NAME_STR), isa_names[pick]);
  } else if (!avail[want]) {
    snprintf(warning, warning_size,
             "tinykern: TINYKERN_ISA=%s is not available (not built in or not supported by "
             "this CPU); using %s\n",
             env, isa_names[pick]);
  } else {
    pick = want;
  }
  return pick;
}

static void first_use(void) {
  bool runs[TK_ISA_COUNT];
  tk_cpu_detect(runs); /* on failure only scalar runs: the documented fallback */
  for (int i = 0; i < TK_ISA_COUNT; i++) available[i] = built_tables[i] && runs[i];
  char warning[320];
  best = tk_dispatch_choose(available, NULL, warning, sizeof warning);
  tk_isa pick = tk_dispatch_choose(available, getenv("TINYKERN_ISA"), warning, sizeof warning);
  if (warning[0]) fputs(warning, stderr); /* the only output the library ever makes */
  init_count++;
  atomic_store_explicit(&tk_dispatch_active, built_tables[pick], memory_order_release);
}

const tk_kernels *tk_dispatch_first_use(void) {
  pthread_once(&init_once, first_use);
  return atomic_load_explicit(&tk_dispatch_active, memory_order_acquire);
}

unsigned tk_dispatch_init_count(void) {
  pthread_once(&init_once, first_use);
  return init_count;
}

bool tk_isa_built(tk_isa isa) { return (unsigned)isa < TK_ISA_COUNT && built_tables[isa]; }

bool tk_isa_available(tk_isa isa) {
  pthread_once(&init_once, first_use);
  return (unsigned)isa < TK_ISA_COUNT && available[isa];
}

tk_isa tk_isa_best(void) {
  pthread_once(&init_once, first_use);
  return best;
}

tk_isa tk_isa_active(void) { return tk_active()->isa; }

tk_status tk_isa_select(tk_isa isa) {
  if (!tk_isa_available(isa)) return TK_ERR_UNSUPPORTED;
  atomic_store_explicit(&tk_dispatch_active, built_tables[isa], memory_order_release);
  return TK_OK;
}

const char *tk_status_str(tk_status s) {
  switch (s) {
    case TK_OK: return "ok";
    case TK_ERR_ARG: return "invalid argument";
    case TK_ERR_NOMEM: return "out of memory";
    case TK_ERR_OVERFLOW: return "size or accumulator overflow, or KV cache full";
    case TK_ERR_FORMAT: return "malformed CSR arrays";
    case TK_ERR_UNSUPPORTED: return "ISA not built in or not supported by this CPU";
  }
  return "unknown status";
}
