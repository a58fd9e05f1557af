//===- CApi.cpp - the C ABI over the C++ API ------------------------------===//

#include "flashjit/flashjit_c.h"

#include "flashjit/flashjit.h"

#include <cstddef>
#include <cstring>
#include <new>
#include <string>

using namespace flashjit;

struct flashjit_runtime {
  std::shared_ptr<Runtime> runtime;
};
struct flashjit_attention {
  Attention attention;
};
struct flashjit_compiled {
  CompiledKernels kernels;
};

namespace {

thread_local std::string lastError;

int fail(const std::string &message) {
  lastError = message;
  return FLASHJIT_ERROR;
}

int fail(const Error &error) { return fail(error.message()); }

std::optional<TensorView> tensorOf(const flashjit_tensor *t, const char *name,
                                   std::string &why) {
  // The first problem is the one reported.
  if (!t) {
    if (why.empty())
      why = std::string(name) + " is a null flashjit_tensor";
    return std::nullopt;
  }
  if (t->dtype < FLASHJIT_F16 || t->dtype > FLASHJIT_I32) {
    if (why.empty())
      why = std::string(name) + " has an unknown dtype";
    return std::nullopt;
  }
  TensorView v;
  v.data = t->data;
  v.dtype = DType(t->dtype);
  for (int i = 0; i < 4; ++i) {
    v.shape[i] = t->shape[i];
    v.strides[i] = t->strides[i];
  }
  return v;
}

std::optional<AttentionParams> paramsOf(const flashjit_params *p,
                                        std::string &why) {
  AttentionParams params;
  if (!p)
    return params;
  if (p->has_softmax_scale)
    params.softmaxScale = p->softmax_scale;
  params.dropoutSeed = p->dropout_seed;
  params.dropoutOffset = p->dropout_offset;
  if (p->num_scalars < 0 || p->num_buffers < 0 ||
      (p->num_scalars && !p->scalars) || (p->num_buffers && !p->buffers)) {
    why = "flashjit_params has a negative count or a null array";
    return std::nullopt;
  }
  for (int32_t i = 0; i < p->num_scalars; ++i) {
    const flashjit_scalar &s = p->scalars[i];
    if (!s.name) {
      why = "scalar " + std::to_string(i) + " has no name";
      return std::nullopt;
    }
    if (s.dtype == FLASHJIT_F32)
      params.scalars[s.name] = s.f32;
    else if (s.dtype == FLASHJIT_I32)
      params.scalars[s.name] = s.i32;
    else {
      why = std::string("scalar '") + s.name + "' must be f32 or i32";
      return std::nullopt;
    }
  }
  for (int32_t i = 0; i < p->num_buffers; ++i) {
    const flashjit_buffer &b = p->buffers[i];
    if (!b.name) {
      why = "buffer " + std::to_string(i) + " has no name";
      return std::nullopt;
    }
    if (b.rank < 1 || b.rank > 2) {
      why = std::string("buffer '") + b.name + "' must have rank 1 or 2";
      return std::nullopt;
    }
    if (b.dtype != FLASHJIT_F32 && b.dtype != FLASHJIT_I32) {
      why = std::string("buffer '") + b.name + "' must be f32 or i32";
      return std::nullopt;
    }
    BufferView view;
    view.data = b.data;
    view.dtype = DType(b.dtype);
    view.shape.assign(b.shape, b.shape + b.rank);
    view.rowStride = b.row_stride;
    params.buffers[b.name] = view;
  }
  return params;
}

} // namespace

extern "C" {

const char *flashjit_last_error(void) { return lastError.c_str(); }

const char *flashjit_version(void) { return flashjit::version(); }

void flashjit_runtime_options_init(flashjit_runtime_options *options) {
  if (options)
    *options = flashjit_runtime_options{
        sizeof(flashjit_runtime_options), 0, nullptr, 0, nullptr, 0};
}

int flashjit_runtime_create_with_options(
    const flashjit_runtime_options *options, flashjit_runtime **out) {
  if (!out)
    return fail("flashjit_runtime_create_with_options: out is NULL");
  *out = nullptr;
  if (!options)
    return fail("flashjit_runtime_create_with_options: options is NULL");
  // A caller built against older headers passes a smaller struct (the
  // fields it lacks keep their defaults); one from newer headers, fields
  // this library cannot honour.
  if (options->size < offsetof(flashjit_runtime_options, device) ||
      options->size > sizeof(flashjit_runtime_options))
    return fail("flashjit_runtime_options.size is " +
                std::to_string(options->size) + "; this library takes up to " +
                std::to_string(sizeof(flashjit_runtime_options)) +
                " (call flashjit_runtime_options_init)");
  flashjit_runtime_options given;
  flashjit_runtime_options_init(&given);
  std::memcpy(&given, options, options->size);
  options = &given;
  RuntimeOptions cpp;
  cpp.device = options->device;
  if (options->cache_dir)
    cpp.cacheDirectory = options->cache_dir;
  cpp.memoryCacheOnly = options->memory_cache_only != 0;
  if (options->offline_target)
    cpp.offlineTarget = options->offline_target;
  cpp.deterministic = options->deterministic != 0;
  if (options->target)
    cpp.target = options->target;
  Expected<std::shared_ptr<Runtime>> runtime = Runtime::create(cpp);
  if (!runtime)
    return fail(runtime.error());
  *out = new (std::nothrow) flashjit_runtime{*runtime};
  return *out ? FLASHJIT_OK : fail("out of host memory");
}

int flashjit_runtime_create(int device, const char *cacheDir,
                            const char *offlineTarget, flashjit_runtime **out) {
  flashjit_runtime_options options;
  flashjit_runtime_options_init(&options);
  options.device = device;
  options.cache_dir = cacheDir;
  options.offline_target = offlineTarget;
  return flashjit_runtime_create_with_options(&options, out);
}

void flashjit_runtime_destroy(flashjit_runtime *runtime) { delete runtime; }

static int createAttention(flashjit_runtime *runtime, Expected<Program> program,
                           flashjit_attention **out) {
  if (!out)
    return fail("out is NULL");
  *out = nullptr;
  if (!runtime)
    return fail("runtime is NULL");
  if (!program)
    return fail(program.error());
  Expected<Attention> attention = Attention::create(runtime->runtime, *program);
  if (!attention)
    return fail(attention.error());
  *out = new (std::nothrow) flashjit_attention{*attention};
  return *out ? FLASHJIT_OK : fail("out of host memory");
}

int flashjit_attention_create_builtin(flashjit_runtime *runtime,
                                      const char *name,
                                      flashjit_attention **out) {
  if (!name)
    return fail("the variant name is NULL");
  return createAttention(runtime, builtinVariant(name), out);
}

int flashjit_attention_create_from_text(flashjit_runtime *runtime,
                                        const char *text,
                                        flashjit_attention **out) {
  if (!text)
    return fail("the program text is NULL");
  return createAttention(runtime, Program::parse(text, "<program>"), out);
}

void flashjit_attention_destroy(flashjit_attention *attention) {
  delete attention;
}

int flashjit_attention_compile(const flashjit_attention *attention,
                               flashjit_pass pass, int32_t headDim,
                               flashjit_dtype dtype, flashjit_compiled **out) {
  if (!out)
    return fail("flashjit_attention_compile: out is NULL");
  *out = nullptr;
  if (!attention)
    return fail("attention is NULL");
  if (pass != FLASHJIT_FORWARD && pass != FLASHJIT_BACKWARD)
    return fail("unknown pass " + std::to_string(int(pass)) +
                "; FLASHJIT_FORWARD or FLASHJIT_BACKWARD");
  if (dtype != FLASHJIT_F16 && dtype != FLASHJIT_BF16)
    return fail("kernels take FLASHJIT_F16 or FLASHJIT_BF16 inputs");
  Expected<CompiledKernels> compiled = attention->attention.compile(
      pass == FLASHJIT_FORWARD ? Pass::forward : Pass::backward, headDim,
      DType(dtype));
  if (!compiled)
    return fail(compiled.error());
  *out = new (std::nothrow) flashjit_compiled{std::move(*compiled)};
  return *out ? FLASHJIT_OK : fail("out of host memory");
}

const char *flashjit_compiled_target(const flashjit_compiled *compiled) {
  return compiled ? compiled->kernels.target.c_str() : "";
}
const char *flashjit_compiled_ptx(const flashjit_compiled *compiled) {
  return compiled ? compiled->kernels.ptx.c_str() : "";
}
const char *flashjit_compiled_metadata(const flashjit_compiled *compiled) {
  return compiled ? compiled->kernels.metadata.c_str() : "";
}
void flashjit_compiled_destroy(flashjit_compiled *compiled) { delete compiled; }

int flashjit_forward(const flashjit_attention *attention,
                     const flashjit_tensor *q, const flashjit_tensor *k,
                     const flashjit_tensor *v, const flashjit_tensor *o,
                     const flashjit_tensor *lse, const flashjit_params *params,
                     void *stream) {
  if (!attention)
    return fail("attention is NULL");
  std::string why;
  auto tq = tensorOf(q, "q", why), tk = tensorOf(k, "k", why),
       tv = tensorOf(v, "v", why), to = tensorOf(o, "o", why),
       tl = tensorOf(lse, "lse", why);
  auto p = paramsOf(params, why);
  if (!why.empty())
    return fail(why);
  Status status =
      attention->attention.forward(*tq, *tk, *tv, *to, *tl, *p, stream);
  return status.ok() ? FLASHJIT_OK : fail(status.error());
}

int flashjit_backward(const flashjit_attention *attention,
                      const flashjit_tensor *q, const flashjit_tensor *k,
                      const flashjit_tensor *v, const flashjit_tensor *o,
                      const flashjit_tensor *lse, const flashjit_tensor *dout,
                      const flashjit_tensor *dq, const flashjit_tensor *dk,
                      const flashjit_tensor *dv, const flashjit_params *params,
                      void *stream) {
  if (!attention)
    return fail("attention is NULL");
  std::string why;
  auto tq = tensorOf(q, "q", why), tk = tensorOf(k, "k", why),
       tv = tensorOf(v, "v", why), to = tensorOf(o, "o", why),
       tl = tensorOf(lse, "lse", why), td = tensorOf(dout, "dO", why),
       tdq = tensorOf(dq, "dq", why), tdk = tensorOf(dk, "dk", why),
       tdv = tensorOf(dv, "dv", why);
  auto p = paramsOf(params, why);
  if (!why.empty())
    return fail(why);
  Status status = attention->attention.backward(*tq, *tk, *tv, *to, *tl, *td,
                                                *tdq, *tdk, *tdv, *p, stream);
  return status.ok() ? FLASHJIT_OK : fail(status.error());
}

} // extern "C"
