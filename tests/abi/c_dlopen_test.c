/*===- c_dlopen_test.c - libflashjit.so as a C program loads it -----------===*
 *
 * dlopen()s the shared library by path (no link-time dependency, as
 * Python's ctypes or Rust's libloading do), resolves the C ABI by name and
 * compiles a built-in variant and one from program text ahead of time for
 * sm_90a: no GPU needed. Exits 0 when every check passes.
 *
 *   flashjit-c-dlopen-test path/to/libflashjit.so path/to/variant.mlir
 *
 *===----------------------------------------------------------------------===*/

#include "flashjit/flashjit_c.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);          \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* The C ABI, resolved by name. */
static struct {
  const char *(*last_error)(void);
  const char *(*version)(void);
  void (*options_init)(flashjit_runtime_options *);
  int (*runtime_create)(const flashjit_runtime_options *, flashjit_runtime **);
  void (*runtime_destroy)(flashjit_runtime *);
  int (*create_builtin)(flashjit_runtime *, const char *,
                        flashjit_attention **);
  int (*create_from_text)(flashjit_runtime *, const char *,
                          flashjit_attention **);
  void (*attention_destroy)(flashjit_attention *);
  int (*compile)(const flashjit_attention *, flashjit_pass, int32_t,
                 flashjit_dtype, flashjit_compiled **);
  const char *(*compiled_target)(const flashjit_compiled *);
  const char *(*compiled_ptx)(const flashjit_compiled *);
  const char *(*compiled_metadata)(const flashjit_compiled *);
  void (*compiled_destroy)(flashjit_compiled *);
} api;

static void *resolve(void *library, const char *name) {
  void *symbol = dlsym(library, name);
  CHECK(symbol != NULL, "%s is not exported: %s", name, dlerror());
  return symbol;
}

static int load(const char *path) {
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    fprintf(stderr, "FAIL: dlopen(%s): %s\n", path, dlerror());
    return 0;
  }
  *(void **)&api.last_error = resolve(library, "flashjit_last_error");
  *(void **)&api.version = resolve(library, "flashjit_version");
  *(void **)&api.options_init =
      resolve(library, "flashjit_runtime_options_init");
  *(void **)&api.runtime_create =
      resolve(library, "flashjit_runtime_create_with_options");
  *(void **)&api.runtime_destroy = resolve(library, "flashjit_runtime_destroy");
  *(void **)&api.create_builtin =
      resolve(library, "flashjit_attention_create_builtin");
  *(void **)&api.create_from_text =
      resolve(library, "flashjit_attention_create_from_text");
  *(void **)&api.attention_destroy =
      resolve(library, "flashjit_attention_destroy");
  *(void **)&api.compile = resolve(library, "flashjit_attention_compile");
  *(void **)&api.compiled_target = resolve(library, "flashjit_compiled_target");
  *(void **)&api.compiled_ptx = resolve(library, "flashjit_compiled_ptx");
  *(void **)&api.compiled_metadata =
      resolve(library, "flashjit_compiled_metadata");
  *(void **)&api.compiled_destroy =
      resolve(library, "flashjit_compiled_destroy");
  /* Nothing of LLVM or MLIR may be visible from outside. */
  CHECK(dlsym(library, "_ZN4mlir11MLIRContextC1ENS0_9ThreadingE") == NULL,
        "an MLIR symbol is exported");
  return failures == 0;
}

static char *readFile(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = malloc((size_t)size + 1);
  if (text && fread(text, 1, (size_t)size, f) != (size_t)size) {
    free(text);
    text = NULL;
  }
  if (text)
    text[size] = '\0';
  fclose(f);
  return text;
}

/* Both passes of `attention` compile for sm_90a with their entries. */
static void checkCompiles(const flashjit_attention *attention,
                          const char *entry) {
  flashjit_compiled *forward = NULL, *backward = NULL;
  CHECK(api.compile(attention, FLASHJIT_FORWARD, 64, FLASHJIT_BF16, &forward) ==
            FLASHJIT_OK,
        "%s", api.last_error());
  if (forward) {
    CHECK(strcmp(api.compiled_target(forward), "sm_90a") == 0, "%s",
          api.compiled_target(forward));
    CHECK(strstr(api.compiled_ptx(forward), entry) != NULL, "no %s", entry);
    CHECK(strstr(api.compiled_metadata(forward), "\"threads\"") != NULL, "%s",
          api.compiled_metadata(forward));
  }
  CHECK(api.compile(attention, FLASHJIT_BACKWARD, 128, FLASHJIT_F16,
                    &backward) == FLASHJIT_OK,
        "%s", api.last_error());
  if (backward)
    CHECK(strstr(api.compiled_metadata(backward), "backward_delta") != NULL,
          "%s", api.compiled_metadata(backward));
  api.compiled_destroy(forward);
  api.compiled_destroy(backward);

  flashjit_compiled *bad = NULL;
  CHECK(api.compile(attention, FLASHJIT_FORWARD, 80, FLASHJIT_BF16, &bad) ==
                FLASHJIT_ERROR &&
            bad == NULL && strstr(api.last_error(), "80") != NULL,
        "head dim 80: %s", api.last_error());
  CHECK(api.compile(attention, FLASHJIT_FORWARD, 64, FLASHJIT_F32, &bad) ==
            FLASHJIT_ERROR,
        "an f32 compile was accepted");
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s LIBFLASHJIT VARIANT.mlir\n", argv[0]);
    return 2;
  }
  if (!load(argv[1]))
    return 1;
  CHECK(strcmp(api.version(), FLASHJIT_VERSION_STRING) == 0,
        "library %s, headers %s", api.version(), FLASHJIT_VERSION_STRING);

  flashjit_runtime_options options;
  api.options_init(&options);
  options.offline_target = "sm_90a";
  options.memory_cache_only = 1;
  flashjit_runtime *runtime = NULL;
  CHECK(api.runtime_create(&options, &runtime) == FLASHJIT_OK, "%s",
        api.last_error());
  if (!runtime)
    return 1;

  flashjit_attention *causal = NULL, *fromText = NULL, *bad = NULL;
  CHECK(api.create_builtin(runtime, "causal", &causal) == FLASHJIT_OK, "%s",
        api.last_error());
  if (causal)
    checkCompiles(causal, ".entry flashjit_causal_forward");

  char *text = readFile(argv[2]);
  CHECK(text != NULL, "cannot read %s", argv[2]);
  if (text) {
    CHECK(api.create_from_text(runtime, text, &fromText) == FLASHJIT_OK, "%s",
          api.last_error());
    if (fromText)
      checkCompiles(fromText, ".entry flashjit_");
    free(text);
  }
  CHECK(api.create_from_text(runtime, "tile.program @broken {", &bad) ==
                FLASHJIT_ERROR &&
            bad == NULL,
        "a broken program was accepted");
  CHECK(strstr(api.last_error(), "<program>") != NULL, "%s", api.last_error());

  /* A struct from newer headers (larger) is refused with the reason. */
  options.size = sizeof options + 8;
  flashjit_runtime *refused = NULL;
  CHECK(api.runtime_create(&options, &refused) == FLASHJIT_ERROR &&
            strstr(api.last_error(), "size") != NULL,
        "%s", api.last_error());

  api.attention_destroy(causal);
  api.attention_destroy(fromText);
  api.runtime_destroy(runtime);
  if (failures)
    fprintf(stderr, "%d check(s) failed\n", failures);
  else
    printf("c-dlopen: pass\n");
  return failures ? 1 : 0;
}
