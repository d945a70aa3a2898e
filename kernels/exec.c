/* The built-in thread pool behind tk_pool_*: a thin wrapper of pthreadpool, or TK_ERR_UNSUPPORTED without it. */
#include <stdlib.h>

#include "tinykern.h"

/* Flags tk_pool_create_ex accepts: TK_POOL_SPIN or TK_POOL_YIELD or neither (the default). */
static bool pool_flags_valid(unsigned flags) {
  return !(flags & ~(unsigned)(TK_POOL_SPIN | TK_POOL_YIELD)) &&
         !((flags & TK_POOL_SPIN) && (flags & TK_POOL_YIELD));
}

#if TK_HAVE_PTHREADPOOL
#include <pthreadpool.h>

struct tk_pool {
  pthreadpool_t pool;
  bool owned;      /* created here (destroyed with the tk_pool), or the host's */
  uint32_t flags;  /* pthreadpool's flags for every call: PTHREADPOOL_FLAG_YIELD_WORKERS or 0 */
};

/* tk_parallel_for_fn over pthreadpool (host: the tk_pool): tk_task_fn is
   pthreadpool's 1d task type. The pool's flags choose what its workers do
   when a call ends (tinykern.h, TK_POOL_SPIN / TK_POOL_YIELD). */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TK_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define TK_TSAN 1
#endif

#if TK_TSAN
/* ThreadSanitizer cannot see pthreadpool's synchronisation (the library is
   not instrumented): tell it that the caller's writes happen before every
   task, and every task before the caller goes on. */
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
typedef struct tsan_call {
  tk_task_fn task;
  void *ctx;
  char sync;
} tsan_call;
static void tsan_task(void *arg, size_t i) {
  tsan_call *c = arg;
  __tsan_acquire(&c->sync);
  c->task(c->ctx, i);
  __tsan_release(&c->sync);
}
static void pool_parallel_for(void *host, size_t n, tk_task_fn task, void *ctx) {
  const tk_pool *p = host;
  tsan_call c = {task, ctx, 0};
  __tsan_release(&c.sync);
  pthreadpool_parallelize_1d(p->pool, tsan_task, &c, n, p->flags);
  __tsan_acquire(&c.sync);
}
#else
static void pool_parallel_for(void *host, size_t n, tk_task_fn task, void *ctx) {
  const tk_pool *p = host;
  pthreadpool_parallelize_1d(p->pool, task, ctx, n, p->flags);
}
#endif

/* The pthreadpool flags of valid tk_pool_create_ex flags. */
static uint32_t pool_flags(unsigned flags) {
  return flags & TK_POOL_SPIN ? 0 : PTHREADPOOL_FLAG_YIELD_WORKERS;
}

tk_status tk_pool_create(size_t n_threads, tk_pool **out) {
  return tk_pool_create_ex(n_threads, TK_POOL_DEFAULT, out);
}

tk_status tk_pool_create_ex(size_t n_threads, unsigned flags, tk_pool **out) {
  if (!out || !pool_flags_valid(flags)) return TK_ERR_ARG;
  tk_pool *p = malloc(sizeof *p);
  if (!p) return TK_ERR_NOMEM;
  p->pool = pthreadpool_create(n_threads);
  if (!p->pool) {
    free(p);
    return TK_ERR_NOMEM;
  }
  p->owned = true;
  p->flags = pool_flags(flags);
  *out = p;
  return TK_OK;
}

tk_status tk_pool_wrap(void *pthreadpool, tk_pool **out) {
  if (!out || !pthreadpool) return TK_ERR_ARG;
  tk_pool *p = malloc(sizeof *p);
  if (!p) return TK_ERR_NOMEM;
  p->pool = pthreadpool;
  p->owned = false;
  p->flags = pool_flags(TK_POOL_DEFAULT);
  *out = p;
  return TK_OK;
}

size_t tk_pool_threads(const tk_pool *p) {
  return p ? pthreadpool_get_threads_count(p->pool) : 0;
}

void tk_pool_destroy(tk_pool *p) {
  if (!p) return;
  if (p->owned) pthreadpool_destroy(p->pool);
  free(p);
}

tk_exec tk_pool_exec(tk_pool *p) {
  tk_exec e = {0};
  if (p) {
    e.parallel_for = pool_parallel_for;
    e.host = p;
    e.n_threads = pthreadpool_get_threads_count(p->pool);
  }
  return e;
}

#else /* built without pthreadpool */

tk_status tk_pool_create(size_t n_threads, tk_pool **out) {
  return tk_pool_create_ex(n_threads, TK_POOL_DEFAULT, out);
}
tk_status tk_pool_create_ex(size_t n_threads, unsigned flags, tk_pool **out) {
  (void)n_threads;
  return out && pool_flags_valid(flags) ? TK_ERR_UNSUPPORTED : TK_ERR_ARG;
}
tk_status tk_pool_wrap(void *pthreadpool, tk_pool **out) {
  return out && pthreadpool ? TK_ERR_UNSUPPORTED : TK_ERR_ARG;
}
size_t tk_pool_threads(const tk_pool *p) {
  (void)p;
  return 0;
}
void tk_pool_destroy(tk_pool *p) { (void)p; }
tk_exec tk_pool_exec(tk_pool *p) {
  (void)p;
  return (tk_exec){0};
}

#endif
