//===- Validation.cpp - check a launch before it happens ------------------===//

#include "runtime/Validation.h"

#include "compiler/schedule/Schedule.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

using namespace flashjit;

const char *flashjit::stringifyDType(DType type) {
  switch (type) {
  case DType::f16:
    return "f16";
  case DType::bf16:
    return "bf16";
  case DType::f32:
    return "f32";
  case DType::i32:
    return "i32";
  }
  return "?";
}

TensorView TensorView::contiguous(void *data, DType dtype, int64_t b, int64_t h,
                                  int64_t n, int64_t d) {
  TensorView t;
  t.data = data;
  t.dtype = dtype;
  int64_t shape[4] = {b, h, n, d};
  std::copy(shape, shape + 4, t.shape);
  t.strides[3] = 1;
  t.strides[2] = d;
  t.strides[1] = n * d;
  t.strides[0] = h * n * d;
  return t;
}

namespace {

// The kernels index rows and blocks with 32-bit integers and launch one
// thread-block row per (batch, head): keep sizes where that math is exact.
constexpr int64_t kMaxSeqlen = (int64_t(1) << 31) - 1024;
constexpr int64_t kMaxGridRows = 65535;

std::string shapeOf(std::initializer_list<int64_t> dims) {
  std::string s = "[";
  for (int64_t d : dims) {
    if (s.size() > 1)
      s += ", ";
    s += std::to_string(d);
  }
  return s + "]";
}

std::string shapeOf(const TensorView &t) {
  return shapeOf({t.shape[0], t.shape[1], t.shape[2], t.shape[3]});
}

std::optional<Error> checkPointer(const char *name, const void *data,
                                  bool empty) {
  if (empty)
    return std::nullopt;
  if (!data)
    return Error(std::string(name) + " is a null pointer");
  if (reinterpret_cast<uintptr_t>(data) % 16 != 0)
    return Error(std::string(name) + " is not 16-byte aligned");
  return std::nullopt;
}

/// Checks an input/output tensor of the attention's dtype and `expected`
/// shape.
std::optional<Error> checkTensor(const char *name, const TensorView &t,
                                 DType dtype,
                                 std::initializer_list<int64_t> expected) {
  if (t.dtype != dtype)
    return Error(std::string(name) + " is " + stringifyDType(t.dtype) +
                 " but q is " + stringifyDType(dtype));
  if (!std::equal(expected.begin(), expected.end(), t.shape))
    return Error(std::string(name) + " has shape " + shapeOf(t) +
                 ", expected " + shapeOf(expected));
  bool empty =
      std::any_of(t.shape, t.shape + 4, [](int64_t s) { return s == 0; });
  if (empty) // nothing is read or written: any strides (torch's) will do
    return std::nullopt;
  if (auto e = checkPointer(name, t.data, empty))
    return e;
  if (t.strides[3] != 1)
    return Error(std::string(name) + "'s head dim is not contiguous (stride " +
                 std::to_string(t.strides[3]) + ")");
  for (int i = 0; i < 3; ++i) {
    if (t.shape[i] == 1) // only index 0: its stride is never multiplied
      continue;          // (torch leaves such strides as they come)
    if (t.strides[i] < 0)
      return Error(std::string(name) + " has a negative stride");
    if (t.strides[i] % 8 != 0)
      return Error(std::string(name) + "'s stride " +
                   std::to_string(t.strides[i]) + " (dimension " +
                   std::to_string(i) +
                   ") is not a multiple of 8 elements: rows must be 16-byte "
                   "aligned");
  }
  return std::nullopt;
}

std::optional<Error> checkLse(const TensorView &lse, const LaunchShape &s) {
  if (lse.dtype != DType::f32)
    return Error(std::string("lse is ") + stringifyDType(lse.dtype) +
                 ", expected f32");
  std::initializer_list<int64_t> expected = {s.batch, s.headsQ, s.seqlenQ, 1};
  if (!std::equal(expected.begin(), expected.end(), lse.shape))
    return Error("lse has shape " + shapeOf(lse) + ", expected " +
                 shapeOf(expected));
  if (s.empty()) // torch gives empty tensors strides of its own
    return std::nullopt;
  if (lse.strides[2] != 1 || lse.strides[1] != s.seqlenQ ||
      lse.strides[0] != s.headsQ * s.seqlenQ)
    return Error("lse must be contiguous [B, Hq, Nq]");
  return checkPointer("lse", lse.data, s.empty());
}

std::optional<Error> checkParams(const VariantInterface &variant,
                                 const LaunchShape &s,
                                 const AttentionParams &params) {
  if (params.softmaxScale && !std::isfinite(*params.softmaxScale))
    return Error("the softmax scale is not finite");
  const std::vector<ParamInfo> &declared = variant.params;
  for (const ParamInfo &p : declared) {
    auto it = params.scalars.find(p.name);
    if (it == params.scalars.end())
      return Error("variant '" + variant.name + "' needs the parameter '" +
                   p.name + "' (" +
                   (p.type == ScalarType::f32 ? "f32" : "i32") + ")");
    bool isFloat = std::holds_alternative<float>(it->second);
    if (isFloat != (p.type == ScalarType::f32))
      return Error("parameter '" + p.name + "' of variant '" + variant.name +
                   "' is " + (p.type == ScalarType::f32 ? "f32" : "i32") +
                   ", got " + (isFloat ? "f32" : "i32"));
  }
  for (const auto &[name, value] : params.scalars)
    if (std::none_of(declared.begin(), declared.end(),
                     [&](const ParamInfo &p) { return p.name == name; }))
      return Error("'" + name + "' is not a parameter of variant '" +
                   variant.name + "'");

  const std::vector<BufferInfo> &buffers = variant.buffers;
  for (const BufferInfo &b : buffers) {
    auto it = params.buffers.find(b.name);
    if (it == params.buffers.end())
      return Error("variant '" + variant.name + "' needs the buffer '" +
                   b.name + "'");
    const BufferView &view = it->second;
    DType want = b.type == ScalarType::f32 ? DType::f32 : DType::i32;
    if (view.dtype != want)
      return Error("buffer '" + b.name + "' is " + stringifyDType(view.dtype) +
                   ", expected " + stringifyDType(want));
    if (view.shape.size() != b.dims.size())
      return Error("buffer '" + b.name + "' has rank " +
                   std::to_string(view.shape.size()) + ", expected " +
                   std::to_string(b.dims.size()));
    if (!view.data)
      return Error("buffer '" + b.name + "' is a null pointer");
    if (reinterpret_cast<uintptr_t>(view.data) % 4 != 0)
      return Error("buffer '" + b.name + "' is not 4-byte aligned");
    for (size_t i = 0; i < b.dims.size(); ++i) {
      const std::string &dim = b.dims[i];
      int64_t have = view.shape[i];
      int64_t need = -1;
      bool atLeast = false;
      if (dim == "batch")
        need = s.batch;
      else if (dim == "head")
        need = s.headsQ;
      else if (dim == "q")
        need = s.seqlenQ;
      else if (dim == "kv")
        need = s.seqlenKv;
      else if (dim == "token") {
        need = std::max(s.seqlenQ, s.seqlenKv);
        atLeast = true;
      } else if (dim == "?") {
        need = 1;
        atLeast = true;
      } else {
        need = std::stoll(dim);
      }
      if (atLeast ? have < need : have != need)
        return Error("buffer '" + b.name + "' dimension " + std::to_string(i) +
                     " ('" + dim + "') has " + std::to_string(have) +
                     " entries, " + (atLeast ? "at least " : "expected ") +
                     std::to_string(need));
      if (have > kMaxSeqlen)
        return Error("buffer '" + b.name + "' is too large for 32-bit indices");
    }
    if (view.shape.size() == 2 && view.rowStride < view.shape[1])
      return Error("buffer '" + b.name + "' has row stride " +
                   std::to_string(view.rowStride) + " < its " +
                   std::to_string(view.shape[1]) + " columns");
  }
  for (const auto &[name, view] : params.buffers)
    if (std::none_of(buffers.begin(), buffers.end(),
                     [&](const BufferInfo &b) { return b.name == name; }))
      return Error("'" + name + "' is not a buffer of variant '" +
                   variant.name + "'");
  return std::nullopt;
}

Expected<LaunchShape> shapeFrom(const TensorView &q, const TensorView &k) {
  LaunchShape s;
  s.batch = q.shape[0];
  s.headsQ = q.shape[1];
  s.seqlenQ = q.shape[2];
  s.headDim = q.shape[3];
  s.headsKv = k.shape[1];
  s.seqlenKv = k.shape[2];
  s.dtype = q.dtype;
  for (int i = 0; i < 4; ++i)
    if (q.shape[i] < 0 || k.shape[i] < 0)
      return Error("a tensor has a negative dimension");
  if (q.dtype != DType::f16 && q.dtype != DType::bf16)
    return Error(std::string("q is ") + stringifyDType(q.dtype) +
                 "; the inputs must be f16 or bf16");
  const std::vector<int> &dims = supportedHeadDims();
  if (std::find(dims.begin(), dims.end(), s.headDim) == dims.end()) {
    std::string known;
    for (int d : dims)
      known += (known.empty() ? "" : ", ") + std::to_string(d);
    return Error("head dim " + std::to_string(s.headDim) +
                 " is not supported; supported: " + known);
  }
  if (k.shape[0] != s.batch)
    return Error("k has batch " + std::to_string(k.shape[0]) + " but q has " +
                 std::to_string(s.batch));
  if (k.shape[3] != s.headDim)
    return Error("k has head dim " + std::to_string(k.shape[3]) +
                 " but q has " + std::to_string(s.headDim));
  if (s.headsKv == 0 || s.headsQ % s.headsKv != 0)
    return Error("q has " + std::to_string(s.headsQ) +
                 " heads, not a multiple of k's " + std::to_string(s.headsKv));
  if (s.seqlenQ > kMaxSeqlen || s.seqlenKv > kMaxSeqlen)
    return Error("sequence length " +
                 std::to_string(std::max(s.seqlenQ, s.seqlenKv)) +
                 " is too long for the kernels' 32-bit index math");
  if (s.batch * s.headsQ > kMaxGridRows)
    return Error("batch * heads = " + std::to_string(s.batch * s.headsQ) +
                 " exceeds the " + std::to_string(kMaxGridRows) +
                 " thread-block rows of one launch");
  return s;
}

} // namespace

VariantInterface VariantInterface::of(const Program &program) {
  return {program.name(), program.params(), program.buffers()};
}

Expected<LaunchShape>
flashjit::validateForward(const VariantInterface &variant, const TensorView &q,
                          const TensorView &k, const TensorView &v,
                          const TensorView &o, const TensorView &lse,
                          const AttentionParams &params) {
  Expected<LaunchShape> shape = shapeFrom(q, k);
  if (!shape)
    return shape;
  const LaunchShape &s = *shape;
  if (auto e = checkTensor("q", q, s.dtype,
                           {s.batch, s.headsQ, s.seqlenQ, s.headDim}))
    return *e;
  if (auto e = checkTensor("k", k, s.dtype,
                           {s.batch, s.headsKv, s.seqlenKv, s.headDim}))
    return *e;
  if (auto e = checkTensor("v", v, s.dtype,
                           {s.batch, s.headsKv, s.seqlenKv, s.headDim}))
    return *e;
  if (auto e = checkTensor("o", o, s.dtype,
                           {s.batch, s.headsQ, s.seqlenQ, s.headDim}))
    return *e;
  if (auto e = checkLse(lse, s))
    return *e;
  if (auto e = checkParams(variant, s, params))
    return *e;
  return shape;
}

Expected<LaunchShape> flashjit::validateBackward(
    const VariantInterface &variant, const TensorView &q, const TensorView &k,
    const TensorView &v, const TensorView &o, const TensorView &lse,
    const TensorView &dO, const TensorView &dq, const TensorView &dk,
    const TensorView &dv, const AttentionParams &params) {
  Expected<LaunchShape> shape =
      validateForward(variant, q, k, v, o, lse, params);
  if (!shape)
    return shape;
  const LaunchShape &s = *shape;
  if (auto e = checkTensor("dO", dO, s.dtype,
                           {s.batch, s.headsQ, s.seqlenQ, s.headDim}))
    return *e;
  if (auto e = checkTensor("dq", dq, s.dtype,
                           {s.batch, s.headsQ, s.seqlenQ, s.headDim}))
    return *e;
  if (auto e = checkTensor("dk", dk, s.dtype,
                           {s.batch, s.headsKv, s.seqlenKv, s.headDim}))
    return *e;
  if (auto e = checkTensor("dv", dv, s.dtype,
                           {s.batch, s.headsKv, s.seqlenKv, s.headDim}))
    return *e;
  return shape;
}
