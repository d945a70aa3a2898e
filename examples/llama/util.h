/* Shared helpers of the Llama example: error messages and overflow-checked size arithmetic. */
#ifndef LLAMA_UTIL_H
#define LLAMA_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a call failed, in words for the user; every fallible function of the
   example takes one and fills it before returning false. */
typedef struct llama_err {
  char msg[512];
} llama_err;

#if defined(__GNUC__)
#define LLAMA_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define LLAMA_PRINTF(fmt, args)
#endif

/* Writes the message into err (which may be NULL) and returns false, so that
   `return llama_fail(err, ...)` reads as the failure it is. */
bool llama_fail(llama_err *err, const char *fmt, ...) LLAMA_PRINTF(2, 3);

/* *out = a * b; false when it does not fit size_t. */
static inline bool llama_mul(size_t a, size_t b, size_t *out) {
  if (a != 0 && b > SIZE_MAX / a) return false;
  *out = a * b;
  return true;
}

/* *out = a + b; false when it does not fit size_t. */
static inline bool llama_add(size_t a, size_t b, size_t *out) {
  if (b > SIZE_MAX - a) return false;
  *out = a + b;
  return true;
}

/* Seconds on a monotonic clock. */
double llama_now(void);
/* Seconds of CPU time this thread has used. */
double llama_cpu_now(void);
/* Seconds of CPU time all threads of the process have used. */
double llama_process_cpu_now(void);

#endif
