/* tinykern public API: int8, sparse and attention kernels with runtime CPU dispatch. */
#ifndef TINYKERN_H
#define TINYKERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(TK_BUILDING_LIBRARY) && defined(__GNUC__)
#define TK_API __attribute__((visibility("default")))
#else
#define TK_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define TK_VERSION_MAJOR 0
#define TK_VERSION_MINOR 1
#define TK_VERSION_PATCH 0
#define TK_VERSION_STRING "0.1.0"
/* The version of the library actually linked (may differ from the header's). */
TK_API const char *tk_version(void);

/* ---- status ---- */
typedef enum tk_status {
  TK_OK = 0,
  TK_ERR_ARG,         /* NULL where data is needed, inconsistent sizes, out-of-range
                         parameter, NaN/Inf where finite values are required */
  TK_ERR_NOMEM,
  TK_ERR_OVERFLOW,    /* a size computation would overflow, an int32 accumulator could
                         overflow, or a non-sliding KV cache is full */
  TK_ERR_FORMAT,      /* malformed CSR arrays */
  TK_ERR_UNSUPPORTED, /* ISA not built into this library or not supported by this CPU */
} tk_status;
/* Never NULL, also for unknown values. */
TK_API const char *tk_status_str(tk_status s);

/* Threads, for every function below unless it says otherwise: objects
   (tk_qlinear, tk_csr, tk_kv_cache, tk_pool) are read-only after creation
   except where a function says it changes one (tk_kv_cache_append and
   reset, the _destroy functions), so any number of threads may call the
   functions that only read an object on the same object at once (several
   threads may call tk_qlinear_forward on one layer at once); a function that
   changes an object must not run with any other call on that object; calls
   on different objects never interfere. Outputs and caller workspaces
   belong to one call at a time. Stateless functions (tk_dot_s8, the
   quantizers, tk_linear_f32, tk_attention_f32) may run on any threads at
   once. */

/* ---- dispatch ----
   The first kernel call (or tk_isa_* query) picks the ISA once, thread-safely:
   TINYKERN_ISA (a name below) if set and available, else the best available
   (by priority, not by enum value: on a CPU with all of them avx512vnni >
   avx512 > avxvnni > avx2 > sse41 > scalar, and neondot > neon > scalar).
   An unknown or unavailable TINYKERN_ISA is reported once on stderr and ignored.
   The enum is append-only: every value keeps its number forever (ABI), new
   ISAs are added before TK_ISA_COUNT, whose value grows. */
typedef enum tk_isa {
  TK_ISA_SCALAR = 0,
  TK_ISA_SSE41 = 1,
  TK_ISA_AVX2 = 2,      /* AVX2 + FMA + F16C */
  TK_ISA_NEON = 3,      /* aarch64, or armv7 with NEON */
  TK_ISA_NEONDOT = 4,   /* aarch64 with the armv8.2 dot product */
  TK_ISA_AVX512 = 5,    /* AVX-512 F, BW, DQ, VL (+ FMA, F16C): Skylake-SP and later, Zen 4 */
  TK_ISA_AVX512VNNI = 6,/* those plus AVX512-VNNI: Cascade Lake, Ice Lake, Zen 4, Zen 5 */
  TK_ISA_AVXVNNI = 7,   /* AVX2 + FMA + F16C + AVX-VNNI (VEX), without AVX-512: Alder Lake and later clients */
  TK_ISA_COUNT
} tk_isa;
/* "scalar" "sse41" "avx2" "neon" "neondot" "avx512" "avx512vnni" "avxvnni"; "unknown" otherwise */
TK_API const char *tk_isa_name(tk_isa isa);
TK_API tk_status tk_isa_from_name(const char *name, tk_isa *out);
TK_API bool tk_isa_built(tk_isa isa);     /* compiled into this library for native use */
TK_API bool tk_isa_available(tk_isa isa); /* built in AND runs natively on this CPU */
TK_API tk_isa tk_isa_best(void);          /* best available */
TK_API tk_isa tk_isa_active(void);        /* what calls run now */
/* Process-wide; TK_ERR_UNSUPPORTED if unavailable (isa out of range
   included). Safe to call while other threads run kernels (an atomic
   switch; calls already running may finish on the previous ISA). */
TK_API tk_status tk_isa_select(tk_isa isa);

/* ---- embedding: host threads, the built-in pool, workspaces ----
   Every heavy call has an _ex form that takes a tk_exec: how to run its parts
   in parallel and where its scratch lives. Nothing here is process-wide: two
   runtimes in one process each pass their own tk_exec. A zero tk_exec
   (`tk_exec e = {0};`) runs on the calling thread and allocates its scratch,
   exactly like the plain call. */

/* One part of a call; i in [0, n). */
typedef void (*tk_task_fn)(void *ctx, size_t i);
/* The host's parallel-for: run task(ctx, i) once for every i in [0, n), on
   any of its threads in any order (the calling thread included), and return
   when all have finished. The signature of pthreadpool_parallelize_1d's
   task, so a pthreadpool_t host passes its pool straight through. Parts
   never wait for each other (any schedule works, one thread included), and
   n may exceed the host's threads or be below them. */
typedef void (*tk_parallel_for_fn)(void *host, size_t n, tk_task_fn task, void *ctx);

typedef struct tk_exec {
  tk_parallel_for_fn parallel_for; /* NULL: every part on the calling thread */
  void *host;                      /* handed to parallel_for */
  size_t n_threads;                /* parts to aim for (0 or 1: one); about the threads behind parallel_for */
  void *workspace;                 /* NULL: the call allocates (and frees) its scratch; else at least */
  size_t workspace_bytes;          /* the call's *_workspace_bytes (TK_ERR_ARG if smaller); any alignment */
} tk_exec;

/* The built-in pool: pthreadpool (the pool XNNPACK uses), when tinykern was
   built with it (meson -Dpthreadpool=enabled/auto); else these return
   TK_ERR_UNSUPPORTED. */
typedef struct tk_pool tk_pool;
/* What a pool's workers do when a call ends (tk_pool_create_ex's flags). */
enum {
  TK_POOL_DEFAULT = 0, /* the library's choice: TK_POOL_YIELD */
  TK_POOL_SPIN = 1,    /* spin a while for the next call (pthreadpool's default): the
                          quickest hand-off when every worker has a core of its own */
  TK_POOL_YIELD = 2,   /* sleep at once (PTHREADPOOL_FLAG_YIELD_WORKERS): fair to other
                          threads on a shared or oversubscribed machine */
};
/* n_threads 0: one per online CPU (the calling thread is one of them: it
   runs parts too). flags: one of the above (else TK_ERR_ARG). */
TK_API tk_status tk_pool_create_ex(size_t n_threads, unsigned flags, tk_pool **out);
/* tk_pool_create_ex(n_threads, TK_POOL_DEFAULT, out). */
TK_API tk_status tk_pool_create(size_t n_threads, tk_pool **out);
/* Uses the host's pthreadpool_t (not owned: the host destroys it after
   this), with TK_POOL_DEFAULT's flags. */
TK_API tk_status tk_pool_wrap(void *pthreadpool, tk_pool **out);
TK_API size_t tk_pool_threads(const tk_pool *p); /* 0 for NULL */
/* NULL-safe; no call may be running on the pool. */
TK_API void tk_pool_destroy(tk_pool *p);
/* A tk_exec that runs on the pool (NULL: the calling thread), no workspace.
   A pool runs one call at a time: calls from several threads through one
   pool take turns (pthreadpool serialises them); give each runtime thread
   that calls in parallel its own pool. */
TK_API tk_exec tk_pool_exec(tk_pool *p);

/* ---- int8: dot product and quantization ---- */
#define TK_DOT_S8_MAX_N 131071 /* largest n whose exact result always fits int32 */
/* Exact over the full int8 range including -128; n > TK_DOT_S8_MAX_N: TK_ERR_OVERFLOW. */
TK_API tk_status tk_dot_s8(const int8_t *a, const int8_t *b, size_t n, int32_t *out);
/* Symmetric: scale = max|x| / 127 (1.0f when all zero);
   q = clamp(round-half-to-even(x / scale), -127, 127); non-finite x: TK_ERR_ARG.
   n == 0: TK_OK and nothing written, scale included. q may be (int8_t *)x
   (in place); no other overlap. */
TK_API tk_status tk_quantize_s8(const float *x, size_t n, int8_t *q, float *scale);
/* x = q * scale. */
TK_API tk_status tk_dequantize_s8(const int8_t *q, size_t n, float scale, float *x);

/* ---- int8: quantized linear layer, y = W x + b with W kept in int8 ---- */
#define TK_QLINEAR_MAX_IN 133143 /* largest in_features with 127 * 127 * in < 2^31 */
typedef struct tk_qlinear tk_qlinear;
/* W [out][in], quantized per output row (symmetric, the tk_quantize_s8 rule:
   one fp32 scale per row), packed once; bias [out] or NULL for none. w and bias
   must be finite (TK_ERR_ARG); in_features > TK_QLINEAR_MAX_IN: TK_ERR_OVERFLOW. */
TK_API tk_status tk_qlinear_create(const float *w, size_t out_features, size_t in_features,
                                   const float *bias, tk_qlinear **out);
/* x [batch][in] -> y [batch][out]. Each x row is quantized at run time (the
   tk_quantize_s8 rule; non-finite x: TK_ERR_ARG); the product is int8 x int8 ->
   int32; one fp32 multiply (and bias add) per output. Correct whichever ISA is
   active when it runs. y may overlap x (every row is quantized before y is
   written). Allocates its scratch: tk_qlinear_forward_ex takes a workspace. */
TK_API tk_status tk_qlinear_forward(const tk_qlinear *l, const float *x, size_t batch, float *y);
/* Memory the layer holds (about a quarter of the fp32 weights). */
TK_API size_t tk_qlinear_bytes(const tk_qlinear *l);
/* NULL-safe. */
TK_API void tk_qlinear_destroy(tk_qlinear *l);
/* The fp32 baseline, same shapes and dispatch: y [batch][out] = x W^T + bias
   (bias may be NULL). Inputs are not scanned: non-finite values propagate.
   y must not overlap x, w or bias (TK_ERR_ARG). Stack: 52 KiB on avx512 and
   avx512vnni (a packed activation panel and weight tile, so the call
   allocates nothing), under 4 KiB on the others (gcc 12 -fstack-usage); every
   other call in this header stays under 4 KiB too. */
TK_API tk_status tk_linear_f32(const float *w, size_t out_features, size_t in_features,
                               const float *bias, const float *x, size_t batch, float *y);
/* From int8 weights a runtime already holds: wq [out][in] in [-127, 127]
   (-128: TK_ERR_ARG), one finite scale > 0 per row (row o is wq[o] * scale[o]),
   bias [out] or NULL. The layer keeps wq and scale as given; when they follow
   the tk_quantize_s8 rule (each row's max |wq| is 127 and scale its max / 127)
   it is bit-identical to tk_qlinear_create of the dequantized weights. */
TK_API tk_status tk_qlinear_create_s8(const int8_t *wq, const float *scale, size_t out_features,
                                      size_t in_features, const float *bias, tk_qlinear **out);
/* Row blocks of one layer without concatenating them first (fused q/k/v, or
   w1/w3): block i contributes `rows` rows W [rows][in] and their bias (NULL:
   zeros). Bit-identical to tk_qlinear_create of the concatenated rows. */
typedef struct tk_qlinear_rows {
  const float *w;
  size_t rows;
  const float *bias;
} tk_qlinear_rows;
TK_API tk_status tk_qlinear_create_rows(const tk_qlinear_rows *blocks, size_t n_blocks,
                                        size_t in_features, tk_qlinear **out);
TK_API size_t tk_qlinear_out_features(const tk_qlinear *l); /* 0 for NULL */
TK_API size_t tk_qlinear_in_features(const tk_qlinear *l);
/* Reads the layer back: wq [out][in], scale [out], bias [out] (bias may be
   NULL: not read back), e.g. to save it; tk_qlinear_create_s8 of these gives
   the same layer. */
TK_API tk_status tk_qlinear_export(const tk_qlinear *l, int8_t *wq, float *scale, float *bias);
/* Scratch tk_qlinear_forward_ex needs for any batch of up to `batch` rows run
   with e (NULL: one part): pass at least this in e->workspace, or let the
   call allocate. 0 for NULL, batch 0 or sizes that overflow. */
TK_API size_t tk_qlinear_workspace_bytes(const tk_qlinear *l, size_t batch, const tk_exec *e);
/* tk_qlinear_forward in parts: batch rows split across e's threads (a GEMM),
   or tiles of output rows (batch 1, a GEMV). Bit-identical to the plain call
   for any e. */
TK_API tk_status tk_qlinear_forward_ex(const tk_exec *e, const tk_qlinear *l, const float *x,
                                       size_t batch, float *y);
/* tk_linear_f32 in parts (batch rows, or output rows for batch 1); no
   scratch. Within fp32 rounding of the plain call (a part of one batch row
   sums in another order than a part of several). */
TK_API tk_status tk_linear_f32_ex(const tk_exec *e, const float *w, size_t out_features,
                                  size_t in_features, const float *bias, const float *x,
                                  size_t batch, float *y);

/* ---- sparse: magnitude pruning and CSR products ---- */
/* Every array argument (row_ptr, col_idx, values, w, x, y, b, c) and the out
   pointer may be at any byte address. */
typedef struct tk_csr tk_csr;
/* Validated copy (scipy's indptr/indices/data as they are); nnz is row_ptr[rows].
   row_ptr[0] == 0, non-decreasing, 0 <= col_idx < cols; else TK_ERR_FORMAT.
   Unsorted or repeated columns in a row are accepted (repeats add up).
   rows, cols >= 1; col_idx and values may be NULL when nnz == 0; values finite. */
TK_API tk_status tk_csr_create(size_t rows, size_t cols, const int32_t *row_ptr,
                               const int32_t *col_idx, const float *values, tk_csr **out);
/* Magnitude pruning: of the k = round-half-up((1 - sparsity) * rows * cols)
   entries of largest |w| (ties: lower flat index first) it stores the nonzero
   ones; sparsity in [0, 1], else TK_ERR_ARG; w finite. cols > 2^31: TK_ERR_OVERFLOW. */
TK_API tk_status tk_csr_from_dense(const float *w, size_t rows, size_t cols, float sparsity,
                                   tk_csr **out);
TK_API size_t tk_csr_rows(const tk_csr *a); /* 0 for NULL, as the other accessors */
TK_API size_t tk_csr_cols(const tk_csr *a);
TK_API size_t tk_csr_nnz(const tk_csr *a);
TK_API size_t tk_csr_bytes(const tk_csr *a); /* memory it holds */
/* w [rows][cols]: the stored matrix (repeated entries summed). */
TK_API tk_status tk_csr_to_dense(const tk_csr *a, float *w);
/* y[rows] = A x[cols]; y must not overlap x (TK_ERR_ARG). x is not scanned:
   Inf/NaN in x[j] reach exactly the rows that have an entry in column j (an
   explicit 0 there gives NaN, as in scipy), whatever storage the matrix chose
   for its rows. */
TK_API tk_status tk_spmv(const tk_csr *a, const float *x, float *y);
/* C[rows][n] = A B, B [cols][n] row-major (batch contiguous); n == 0: nothing
   written; C must not overlap B (TK_ERR_ARG). Inf/NaN in B's row j reach
   exactly the rows of C that have an entry in column j. */
TK_API tk_status tk_spmm(const tk_csr *a, const float *b, size_t n, float *c);
/* tk_spmv / tk_spmm in parts: ranges of rows of about equal nonzeros across
   e's threads. Bit-identical to the plain calls for any e; no scratch. */
TK_API tk_status tk_spmv_ex(const tk_exec *e, const tk_csr *a, const float *x, float *y);
TK_API tk_status tk_spmm_ex(const tk_exec *e, const tk_csr *a, const float *b, size_t n,
                            float *c);
TK_API void tk_csr_destroy(tk_csr *a); /* NULL-safe */
/* ---- attention: KV cache and incremental (decode) attention ---- */
typedef enum tk_dtype { TK_DTYPE_F32, TK_DTYPE_F16, TK_DTYPE_S8 } tk_dtype;
/* How the K and V arrays are allocated (tk_kv_config.memory). The default
   never inflates a cache and its first append commits only the rows it
   writes (4 us for a 16 MiB cache, against 2 ms for HUGE, which faults in
   and zeroes every kv head's 2 MiB page); HUGE read 1.2-1.6x faster in a
   decode bench whose caches stream from DRAM (bench_attention kvmem/decode,
   8 layers of 16 MiB), but in whole decoders (examples/llama, contexts of
   830-1050) it gave no consistent gain and took 64% more cache memory
   (Zen 4, measured under load). */
typedef enum tk_kv_memory {
  TK_KV_MEMORY_DEFAULT = 0, /* TK_KV_MEMORY_PAGES */
  TK_KV_MEMORY_PAGES = 1,   /* the system's pages, exactly the bytes needed; pages are
                               committed as appends first reach them */
  TK_KV_MEMORY_HUGE = 2     /* arrays of 2 MiB or more: 2 MiB aligned, rounded up to whole
                               2 MiB and marked for transparent huge pages (Linux
                               madvise; a hint); smaller arrays as PAGES */
} tk_kv_memory;
typedef struct tk_kv_config {
  size_t n_kv_heads; /* >= 1 */
  size_t head_dim;   /* >= 1, any value (not only multiples of 8) */
  size_t capacity;   /* positions kept, >= 1 */
  tk_dtype dtype;    /* storage of K and V: f32; f16 (saturates at +-65504, round to
                        nearest even); s8 (one symmetric scale per position and kv
                        head, max|row| / 127, quantized on append) */
  bool sliding;      /* when full: false -> append fails with TK_ERR_OVERFLOW and
                        changes nothing; true -> the oldest positions are dropped */
  tk_kv_memory memory; /* 0 (a zero-initialised config): TK_KV_MEMORY_DEFAULT; another
                          value outside the enum: TK_ERR_ARG */
} tk_kv_config;
/* A KV cache: one writer or many readers at a time (tk_attend only reads it). */
/* The attention functions (cache create/append/attend, tk_attention_f32) use
   at most this many bytes of the caller's stack, whatever the sizes (2.7 KiB
   measured with gcc 12 -O3: tk_attend and its deepest kernel); their work
   memory is on the heap. */
#define TK_ATTENTION_STACK_BYTES 8192
typedef struct tk_kv_cache tk_kv_cache;
TK_API tk_status tk_kv_cache_create(const tk_kv_config *cfg, tk_kv_cache **out);
/* k, v: [n_tokens][n_kv_heads][head_dim], finite (else TK_ERR_ARG). A sliding
   cache given more tokens than its capacity keeps the last `capacity` ones. On
   any error the cache is unchanged. */
TK_API tk_status tk_kv_cache_append(tk_kv_cache *c, const float *k, const float *v,
                                    size_t n_tokens);
/* Positions: the tokens appended since create or reset are numbered 0, 1, 2,
   ... (absolute positions: a token evicted from a sliding cache keeps its
   number and so do the ones after it). The cache holds the positions
   [tk_kv_cache_position - tk_kv_cache_len, tk_kv_cache_position): every
   position appended until it is full; a sliding cache, the last `capacity`
   appended. The next token appended gets position tk_kv_cache_position:
   the position a caller rotates its q and k by (RoPE) before append and
   tk_attend, also once a sliding cache evicts (the held keys keep the
   rotations of their own positions). */
TK_API size_t tk_kv_cache_len(const tk_kv_cache *c);      /* positions held now; 0 for NULL */
TK_API size_t tk_kv_cache_position(const tk_kv_cache *c); /* tokens appended since create or
                                                             reset, minus those truncated; 0 for NULL */
/* Forgets every position >= n, so that the next token appended gets position
   n (rewinding a conversation, rejecting speculative tokens); n ==
   tk_kv_cache_position: nothing to do; n > tk_kv_cache_position (or c NULL):
   TK_ERR_ARG and the cache is unchanged. After it the cache holds the
   positions it held below n: with first = position - len (the oldest held),
   [first, n) if n > first, else none. While nothing was evicted (first == 0)
   that is all of [0, n); a sliding cache that evicted positions cannot give
   them back, so it holds fewer than min(n, capacity) until appends refill
   it (it evicts again once it holds `capacity`). tk_attend depends only on
   the positions held, as always: a truncated cache answers exactly (bit for
   bit) like any cache holding the same positions with the same values. */
TK_API tk_status tk_kv_cache_truncate(tk_kv_cache *c, size_t n);
/* Memory the cache holds (tk_attend's work block is the calling thread's). */
TK_API size_t tk_kv_cache_bytes(const tk_kv_cache *c);
/* Forgets every position: tk_kv_cache_truncate(c, 0). NULL-safe. */
TK_API void tk_kv_cache_reset(tk_kv_cache *c);
TK_API void tk_kv_cache_destroy(tk_kv_cache *c);
/* q, out: [n_q_tokens][n_heads][head_dim] (out may be q: in place). The queries are
   those of the last n_q_tokens cached positions, causal (query t sees the
   positions up to its own that are still in the cache); n_q_tokens == 1 is one
   decode step; n_q_tokens <= tk_kv_cache_len (else TK_ERR_ARG). n_heads is a
   multiple of n_kv_heads (grouped-query attention: head h reads kv head
   h / (n_heads / n_kv_heads)). out = softmax(q K^T / sqrt(head_dim)) V, with
   fp32 accumulation; q must be finite (TK_ERR_ARG).
   Accuracy: the result depends only on the positions the cache holds now.
   f32 storage gives the fp32 result (each logit within a few ulps of
   sum_e |q_e k_e| / sqrt(head_dim) times head_dim of its value) whenever
   sum_e |q_e| max_p |k_pe| / sqrt(head_dim) <= 2^200 for every query, the
   held position p of largest |k| chosen per dim e: in particular whenever
   those sums are representable, huge q meeting zeros of K included. Past it
   the logits are compressed (fp32 could not resolve them there). The result
   is finite for every finite input. f16 storage adds its rounding; s8 adds
   its K and V quantization and the query's: q is kept as 15-bit integers
   (one scale per row, max|q| / 16383), which moves a logit by at most
   max|q| / 32766 * sum_e |k_e| / sqrt(head_dim), no more than the K
   quantization's own bound (||q||_1 max|k| / 254 / sqrt(head_dim)) up to
   head_dim 128. Work memory: each calling thread keeps one heap block for
   its next call (55 KiB for 32 heads x 128 dims, up to 256 KiB; freed when
   the thread ends); a call that needs more allocates its own (TK_ERR_NOMEM
   if that fails). */
TK_API tk_status tk_attend(const tk_kv_cache *c, const float *q, size_t n_q_tokens,
                           size_t n_heads, float *out);
/* tk_attend in parts across e's threads. Whole kv heads while there are as
   many as parts: bit-identical to tk_attend. Fewer kv heads than parts:
   - a decode step (n_q_tokens == 1) over more than 64 held positions splits
     them (split-K, as flash-decoding does): each part attends every query
     row of its kv head over one range of 64-position units alone, keeping
     the row's running max m_i and sum of weights l_i, and the parts combine
     as out = sum_i o_i w_i / sum_i w_i, w_i = l_i 2^((m_i - max_j m_j) c)
     (c: the row's softmax exponent multiplier), a convex combination of
     finite rows: always finite. Every part reads only its range of K and V.
     f32, f16: within fp32 rounding of tk_attend (a few ulps of max|v|); s8:
     its 14-bit weights are rounded per block of positions, and the ranges
     move the blocks: within 2^-15 of each block's largest weight (tested
     within 5e-4 max|v|, measured 4.3e-5).
   - more query tokens split each kv head's rows into ranges of whole
     tokens, in whole kernel passes of 32 rows when the query heads per kv
     head divide 32: bit-identical; else within fp32 rounding (smaller row
     tiles sum in another order).
   Scratch: the caller's e->workspace of at least tk_attend_workspace_bytes
   (enough for any n_q_tokens up to the one given and any length the cache
   reaches, any address), else the calling thread's kept block (no
   allocation after the first call of a size). Reads the cache only: any
   number of tk_attend / tk_attend_ex calls may read one cache at once,
   none while it is appended to or reset. */
TK_API tk_status tk_attend_ex(const tk_exec *e, const tk_kv_cache *c, const float *q,
                              size_t n_q_tokens, size_t n_heads, float *out);
/* 0 for NULL, n_q_tokens or n_heads 0, n_heads not a multiple of the kv heads. */
TK_API size_t tk_attend_workspace_bytes(const tk_kv_cache *c, size_t n_q_tokens, size_t n_heads,
                                        const tk_exec *e);
/* Stateless full attention over a whole sequence (the recompute baseline):
   q, out [seq][n_heads][head_dim]; k, v [seq][n_kv_heads][head_dim]; causal:
   position t sees positions 0..t, else all. n_heads a multiple of
   n_kv_heads >= 1, head_dim >= 1 (else TK_ERR_ARG); seq 0: TK_OK, nothing
   read or written. out may be q (in place); no other overlap. Inputs are
   not scanned: non-finite values propagate. Allocates its scratch
   (tk_attention_f32_ex takes a workspace). */
TK_API tk_status tk_attention_f32(const float *q, const float *k, const float *v, size_t seq,
                                  size_t n_heads, size_t n_kv_heads, size_t head_dim,
                                  bool causal, float *out);
/* tk_attention_f32 in parts across e's threads: ranges of kv heads while
   there are as many as parts, else ranges of each kv head's rows (tokens
   times its query heads; whole kernel passes of 32 rows when the query
   heads per kv head divide 32). Bit-identical to tk_attention_f32 when the
   parts take whole kv heads, or passes; else within fp32 rounding (smaller
   row tiles sum in another order). Scratch: e->workspace of at least
   tk_attention_f32_workspace_bytes (any address), else one allocation. */
TK_API tk_status tk_attention_f32_ex(const tk_exec *e, const float *q, const float *k,
                                     const float *v, size_t seq, size_t n_heads,
                                     size_t n_kv_heads, size_t head_dim, bool causal, float *out);
/* 0 for seq, n_heads, n_kv_heads or head_dim 0, n_heads not a multiple of
   n_kv_heads, or sizes that overflow. */
TK_API size_t tk_attention_f32_workspace_bytes(size_t seq, size_t n_heads, size_t n_kv_heads,
                                               size_t head_dim, const tk_exec *e);

#ifdef __cplusplus
}
#endif

#endif /* TINYKERN_H */
