/* The built-in thread pool behind tk_pool_*: a thin wrapper of pthreadpool, or TK_ERR_UNSUPPORTED without it. */
#include <stdlib.h>

#include "tinykern.h"

#if TK_HAVE_PTHREADPOOL
#include <pthreadpool.h>

struct tk_pool {
  pthreadpool_t pool;
  bool owned; /* created here (destroyed with the tk_pool), or the host's */
};

/* tk_parallel_for_fn over pthreadpool: tk_task_fn is pthreadpool's 1d task
   type. Workers yield to the scheduler when a call ends instead of spinning
   for the next: on a shared or oversubscribed machine a spinning worker holds
   a core the calling thread needs (measured in examples/llama on this 2-core
   VM under load: 87% of CPU time spinning, yielding workers 2-7x faster). */
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
  tsan_call c = {task, ctx, 0};
  __tsan_release(&c.sync);
  pthreadpool_parallelize_1d((pthreadpool_t)host, tsan_task, &c, n, PTHREADPOOL_FLAG_YIELD_WORKERS);
  __tsan_acquire(&c.sync);
}
#else
static void pool_parallel_for(void *host, size_t n, tk_task_fn task, void *ctx) {
  pthreadpool_parallelize_1d((pthreadpool_t)host, task, ctx, n, PTHREADPOOL_FLAG_YIELD_WORKERS);
}
#endif

tk_status tk_pool_create(size_t n_threads, tk_pool **out) {
  if (!out) return TK_ERR_ARG;
  tk_pool *p = malloc(sizeof *p);
  if (!p) return TK_ERR_NOMEM;
  p->pool = pthreadpool_create(n_threads);
  if (!p->pool) {
    free(p);
    return TK_ERR_NOMEM;
  }
  p->owned = true;
  *out = p;
  return TK_OK;
}

tk_status tk_pool_wrap(void *pthreadpool, tk_pool **out) {
  if (!out || !pthreadpool) return TK_ERR_ARG;
  tk_pool *p = malloc(sizeof *p);
  if (!p) return TK_ERR_NOMEM;
  p->pool = pthreadpool;
  p->owned = false;
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
    e.host = p->pool;
    e.n_threads = pthreadpool_get_threads_count(p->pool);
  }
  return e;
}

#else /* built without pthreadpool */

tk_status tk_pool_create(size_t n_threads, tk_pool **out) {
  (void)n_threads;
  return out ? TK_ERR_UNSUPPORTED : TK_ERR_ARG;
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
