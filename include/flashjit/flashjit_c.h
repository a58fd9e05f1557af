/*===- flashjit/flashjit_c.h - the C ABI of flashjit ----------------*- C -*-===
 *
 * Plain C over the C++ API (flashjit/flashjit.h), for other languages
 * (Python through ctypes, Rust, ...). Every function returns FLASHJIT_OK or
 * FLASHJIT_ERROR; after an error, flashjit_last_error() returns the message
 * of this thread's last failure (valid until its next failing call). Tensors
 * are [B, H, N, D] views of device memory with strides in elements; see
 * flashjit.h for what each must satisfy. Handles are freed by their destroy
 * function; destroying NULL does nothing. No call aborts or throws.
 *
 *===----------------------------------------------------------------------===*/

#ifndef FLASHJIT_FLASHJIT_C_H
#define FLASHJIT_FLASHJIT_C_H

#include "flashjit/version.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define FLASHJIT_C_API __attribute__((visibility("default")))
#else
#define FLASHJIT_C_API
#endif

#define FLASHJIT_OK 0
#define FLASHJIT_ERROR 1

typedef enum flashjit_dtype {
  FLASHJIT_F16 = 0,
  FLASHJIT_BF16 = 1,
  FLASHJIT_F32 = 2,
  FLASHJIT_I32 = 3
} flashjit_dtype;

typedef struct flashjit_tensor {
  void *data;
  flashjit_dtype dtype;
  int64_t shape[4];   /* B, H, N, D (the lse: B, H, N, 1) */
  int64_t strides[4]; /* in elements */
} flashjit_tensor;

/* A scalar parameter of the variant, by name. */
typedef struct flashjit_scalar {
  const char *name;
  flashjit_dtype dtype; /* FLASHJIT_F32 or FLASHJIT_I32 */
  float f32;
  int32_t i32;
} flashjit_scalar;

/* An auxiliary buffer of the variant (rank 1 or 2), by name. */
typedef struct flashjit_buffer {
  const char *name;
  const void *data;
  flashjit_dtype dtype; /* FLASHJIT_F32 or FLASHJIT_I32 */
  int32_t rank;
  int64_t shape[2];
  int64_t row_stride; /* elements, rank 2 */
} flashjit_buffer;

typedef struct flashjit_params {
  int32_t has_softmax_scale; /* 0: 1 / sqrt(head dim) */
  float softmax_scale;
  uint64_t dropout_seed;
  uint64_t dropout_offset;
  const flashjit_scalar *scalars;
  int32_t num_scalars;
  const flashjit_buffer *buffers;
  int32_t num_buffers;
} flashjit_params;

typedef struct flashjit_runtime flashjit_runtime;
typedef struct flashjit_attention flashjit_attention;

/* This thread's last error message ("" if none). */
FLASHJIT_C_API const char *flashjit_last_error(void);

/* The library's version, "0.4.0"; compare with FLASHJIT_VERSION_STRING to
 * tell whether the headers match the library loaded. */
FLASHJIT_C_API const char *flashjit_version(void);

/* How a runtime is made. Fill it with flashjit_runtime_options_init first:
 * `size` lets later versions add fields without breaking callers. */
typedef struct flashjit_runtime_options {
  size_t size;                /* sizeof(flashjit_runtime_options) */
  int32_t device;             /* CUDA ordinal; 0 */
  const char *cache_dir;      /* NULL: $FLASHJIT_CACHE_DIR, else
                                 $XDG_CACHE_HOME/flashjit, else
                                 ~/.cache/flashjit */
  int32_t memory_cache_only;  /* nonzero: never touch the disk */
  const char *offline_target; /* non-NULL ("sm_90a", ...): compile for it
                                 without a device; launches then fail */
  int32_t deterministic;      /* nonzero: the backward without atomics, the
                                 same bits on every run (slower) */
  const char *target;         /* non-NULL ("sm_80", ...): compile for this
                                 older target than the device's own (NULL:
                                 $FLASHJIT_TARGET, else the device's) */
} flashjit_runtime_options;

FLASHJIT_C_API void
flashjit_runtime_options_init(flashjit_runtime_options *options);
FLASHJIT_C_API int
flashjit_runtime_create_with_options(const flashjit_runtime_options *options,
                                     flashjit_runtime **out);

/* Opens CUDA device `device` (flashjit_runtime_create_with_options with
 * these three fields set). cache_dir NULL: $FLASHJIT_CACHE_DIR or
 * ~/.cache/flashjit. offline_target non-NULL (e.g. "sm_90a"): compile for it
 * without a device; launches then fail. */
FLASHJIT_C_API int flashjit_runtime_create(int device, const char *cache_dir,
                                           const char *offline_target,
                                           flashjit_runtime **out);
FLASHJIT_C_API void flashjit_runtime_destroy(flashjit_runtime *runtime);

/* A built-in variant by name ("causal", ...), or a tile program's text. */
FLASHJIT_C_API int flashjit_attention_create_builtin(flashjit_runtime *runtime,
                                                     const char *name,
                                                     flashjit_attention **out);
FLASHJIT_C_API int
flashjit_attention_create_from_text(flashjit_runtime *runtime,
                                    const char *program_text,
                                    flashjit_attention **out);
FLASHJIT_C_API void flashjit_attention_destroy(flashjit_attention *attention);

typedef enum flashjit_pass {
  FLASHJIT_FORWARD = 0,
  FLASHJIT_BACKWARD = 1
} flashjit_pass;

/* One pass of a variant compiled ahead of time, for the runtime's target:
 * its PTX and, as JSON, each kernel's launch signature, grid rule and
 * schedule (the format of flashjit-ptx --signature). Works offline; the
 * strings live as long as the handle. */
typedef struct flashjit_compiled flashjit_compiled;
FLASHJIT_C_API int
flashjit_attention_compile(const flashjit_attention *attention,
                           flashjit_pass pass, int32_t head_dim,
                           flashjit_dtype dtype, flashjit_compiled **out);
FLASHJIT_C_API const char *
flashjit_compiled_target(const flashjit_compiled *compiled);
FLASHJIT_C_API const char *
flashjit_compiled_ptx(const flashjit_compiled *compiled);
FLASHJIT_C_API const char *
flashjit_compiled_metadata(const flashjit_compiled *compiled);
FLASHJIT_C_API void flashjit_compiled_destroy(flashjit_compiled *compiled);

/* O and the log-sum-exp on `stream` (a CUstream; NULL: the default). */
FLASHJIT_C_API int
flashjit_forward(const flashjit_attention *attention, const flashjit_tensor *q,
                 const flashjit_tensor *k, const flashjit_tensor *v,
                 const flashjit_tensor *o, const flashjit_tensor *lse,
                 const flashjit_params *params, void *stream);

/* dQ, dK, dV on `stream`. */
FLASHJIT_C_API int
flashjit_backward(const flashjit_attention *attention, const flashjit_tensor *q,
                  const flashjit_tensor *k, const flashjit_tensor *v,
                  const flashjit_tensor *o, const flashjit_tensor *lse,
                  const flashjit_tensor *dout, const flashjit_tensor *dq,
                  const flashjit_tensor *dk, const flashjit_tensor *dv,
                  const flashjit_params *params, void *stream);

#ifdef __cplusplus
}
#endif

#endif /* FLASHJIT_FLASHJIT_C_H */
