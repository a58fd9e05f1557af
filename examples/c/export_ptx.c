/*===- export_ptx.c - ahead-of-time export over the C ABI ----------------===*
 *
 * Compiles a tile program (a .mlir file) or a built-in variant for a
 * target and writes each pass's PTX and launch signatures (JSON) next to
 * OUT_PREFIX: what an application that ships precompiled kernels does at
 * build time. No GPU is needed.
 *
 *   export_ptx VARIANT_OR_FILE TARGET HEAD_DIM OUT_PREFIX
 *     -> OUT_PREFIX.fwd.ptx, .fwd.json, .bwd.ptx, .bwd.json
 *
 *===----------------------------------------------------------------------===*/

#include <flashjit/flashjit_c.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *readFile(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = malloc((size_t)size + 1);
  if (text && fread(text, 1, (size_t)size, f) == (size_t)size)
    text[size] = '\0';
  fclose(f);
  return text;
}

static int writeFile(const char *prefix, const char *suffix, const char *text) {
  char path[4096];
  snprintf(path, sizeof path, "%s%s", prefix, suffix);
  FILE *f = fopen(path, "w");
  if (!f || fputs(text, f) < 0) {
    fprintf(stderr, "export_ptx: cannot write %s\n", path);
    if (f)
      fclose(f);
    return 0;
  }
  fclose(f);
  printf("wrote %s\n", path);
  return 1;
}

static int failed(const char *what) {
  fprintf(stderr, "export_ptx: %s: %s\n", what, flashjit_last_error());
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s VARIANT_OR_FILE TARGET HEAD_DIM OUT_PREFIX\n",
            argv[0]);
    return 2;
  }
  flashjit_runtime_options options;
  flashjit_runtime_options_init(&options);
  options.offline_target = argv[2];
  options.memory_cache_only = 1;
  flashjit_runtime *runtime = NULL;
  if (flashjit_runtime_create_with_options(&options, &runtime) != FLASHJIT_OK)
    return failed("runtime");

  flashjit_attention *attention = NULL;
  int ok;
  if (strstr(argv[1], ".mlir")) {
    char *text = readFile(argv[1]);
    if (!text) {
      fprintf(stderr, "export_ptx: cannot read %s\n", argv[1]);
      return 1;
    }
    ok = flashjit_attention_create_from_text(runtime, text, &attention);
    free(text);
  } else {
    ok = flashjit_attention_create_builtin(runtime, argv[1], &attention);
  }
  if (ok != FLASHJIT_OK)
    return failed(argv[1]);

  const flashjit_pass passes[2] = {FLASHJIT_FORWARD, FLASHJIT_BACKWARD};
  const char *names[2] = {".fwd", ".bwd"};
  for (int i = 0; i < 2; ++i) {
    flashjit_compiled *compiled = NULL;
    if (flashjit_attention_compile(attention, passes[i], atoi(argv[3]),
                                   FLASHJIT_BF16, &compiled) != FLASHJIT_OK)
      return failed("compile");
    char ptx[16], json[16];
    snprintf(ptx, sizeof ptx, "%s.ptx", names[i]);
    snprintf(json, sizeof json, "%s.json", names[i]);
    int written =
        writeFile(argv[4], ptx, flashjit_compiled_ptx(compiled)) &&
        writeFile(argv[4], json, flashjit_compiled_metadata(compiled));
    flashjit_compiled_destroy(compiled);
    if (!written)
      return 1;
  }
  flashjit_attention_destroy(attention);
  flashjit_runtime_destroy(runtime);
  printf("flashjit %s\n", flashjit_version());
  return 0;
}
