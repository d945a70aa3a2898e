/* Running a public call's parts through a tk_exec, and its scratch: what the front files share. */
#ifndef TK_EXEC_H
#define TK_EXEC_H

#include <stdlib.h>

#include "tinykern.h"

/* The parts to cut a call into: e->n_threads (at least 1; 1 for NULL). */
static inline size_t tk_exec_parts(const tk_exec *e) {
  return e && e->n_threads > 1 ? e->n_threads : 1;
}

/* task(ctx, i) for every i in [0, n): through the host's parallel-for when
   there is more than one part, else in order on this thread. */
static inline void tk_exec_run(const tk_exec *e, size_t n, tk_task_fn task, void *ctx) {
  if (n > 1 && e && e->parallel_for)
    e->parallel_for(e->host, n, task, ctx);
  else
    for (size_t i = 0; i < n; i++) task(ctx, i);
}

/* Scratch of `bytes`: the caller's workspace (TK_ERR_ARG when it is smaller),
   else one allocation that tk_exec_scratch_end frees. */
static inline tk_status tk_exec_scratch(const tk_exec *e, size_t bytes, void **p) {
  if (e && e->workspace) {
    if (e->workspace_bytes < bytes) return TK_ERR_ARG;
    *p = e->workspace;
    return TK_OK;
  }
  *p = malloc(bytes ? bytes : 1);
  return *p ? TK_OK : TK_ERR_NOMEM;
}
static inline void tk_exec_scratch_end(const tk_exec *e, void *p) {
  if (!(e && e->workspace)) free(p);
}

/* Part i of n equal ranges of [0, total), in units of `unit` (the last range
   takes the rest): *begin, *end. */
static inline void tk_exec_range(size_t total, size_t unit, size_t n, size_t i, size_t *begin,
                                 size_t *end) {
  const size_t units = (total + unit - 1) / unit;
  const size_t b = units * i / n * unit, e = units * (i + 1) / n * unit;
  *begin = b < total ? b : total;
  *end = e < total ? e : total;
}

#endif
