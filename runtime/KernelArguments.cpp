//===- KernelArguments.cpp - a launch's values for a kernel's parameters --===//

#include "runtime/KernelArguments.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/StringSwitch.h"

#include <cmath>
#include <cstring>

using namespace flashjit;
using From = ArgumentSource::From;

namespace {

constexpr const char *kTensorNames[kTensorSlots] = {
    "q", "k", "v", "o", "lse", "do", "dq", "dk", "dv"};

std::optional<uint8_t> tensorSlot(llvm::StringRef name) {
  for (int i = 0; i < kTensorSlots; ++i)
    if (name == kTensorNames[i])
      return uint8_t(i);
  return std::nullopt;
}

/// The source of one parameter, from its name and the pass's workspace.
ArgumentSource sourceOf(const KernelArg &arg,
                        const std::vector<WorkspaceBuffer> &workspace) {
  llvm::StringRef name = arg.name;
  for (size_t i = 0; i < workspace.size(); ++i)
    if (name == workspace[i].name)
      return {From::workspace, uint8_t(i), arg.kind, "", arg.name};
  auto [base, field] = name.split('.');
  if (std::optional<uint8_t> slot = tensorSlot(base)) {
    std::optional<uint8_t> dimension =
        llvm::StringSwitch<std::optional<uint8_t>>(field)
            .Case("batch_stride", 0)
            .Case("head_stride", 1)
            .Case("row_stride", 2)
            .Default(std::nullopt);
    if (field.empty())
      return {From::tensor, *slot, arg.kind, "", arg.name};
    if (dimension)
      return {From::stride, uint8_t(*slot * 3 + *dimension), arg.kind, "",
              arg.name};
  }
  std::optional<std::pair<From, uint8_t>> fixed =
      llvm::StringSwitch<std::optional<std::pair<From, uint8_t>>>(name)
          .Case("batch", std::pair(From::extent, 0))
          .Case("heads_q", std::pair(From::extent, 1))
          .Case("heads_kv", std::pair(From::extent, 2))
          .Case("seqlen_q", std::pair(From::extent, 3))
          .Case("seqlen_kv", std::pair(From::extent, 4))
          .Case("softmax_scale", std::pair(From::softmaxScale, 0))
          .Case("dropout.seed", std::pair(From::dropoutSeed, 0))
          .Case("dropout.offset", std::pair(From::dropoutOffset, 0))
          .Default(std::nullopt);
  if (fixed)
    return {fixed->first, fixed->second, arg.kind, "", arg.name};
  unsigned dimension = 0;
  if (field == "row_stride")
    return {From::bufferRowStride, 0, arg.kind, base.str(), arg.name};
  if (field.consume_front("extent") && !field.getAsInteger(10, dimension))
    return {From::bufferExtent, uint8_t(dimension), arg.kind, base.str(),
            arg.name};
  return {From::named, 0, arg.kind, arg.name, arg.name};
}

int64_t extentOf(const LaunchShape &s, uint8_t index) {
  const int64_t extents[] = {s.batch, s.headsQ, s.headsKv, s.seqlenQ,
                             s.seqlenKv};
  return extents[index];
}

/// The word of a `kind` parameter holding `value`.
template <typename T> uint64_t word(KernelArg::Kind kind, T value) {
  uint64_t bits = 0;
  switch (kind) {
  case KernelArg::Kind::pointer:
  case KernelArg::Kind::i64:
    bits = uint64_t(int64_t(value));
    break;
  case KernelArg::Kind::i32: {
    int32_t narrow = int32_t(value);
    std::memcpy(&bits, &narrow, sizeof narrow);
    break;
  }
  case KernelArg::Kind::f32: {
    float narrow = float(value);
    std::memcpy(&bits, &narrow, sizeof narrow);
    break;
  }
  }
  return bits;
}

uint64_t address(const void *p) {
  return uint64_t(reinterpret_cast<uintptr_t>(p));
}

/// A variant's scalar or buffer pointer by name.
std::optional<uint64_t> namedWord(const ArgumentSource &s,
                                  const AttentionParams &params) {
  if (auto it = params.scalars.find(s.key); it != params.scalars.end())
    return std::holds_alternative<float>(it->second)
               ? word(s.kind, std::get<float>(it->second))
               : word(s.kind, std::get<int32_t>(it->second));
  if (auto it = params.buffers.find(s.key); it != params.buffers.end())
    return address(it->second.data);
  return std::nullopt;
}

std::optional<uint64_t> bufferWord(const ArgumentSource &s,
                                   const AttentionParams &params) {
  auto it = params.buffers.find(s.key);
  if (it == params.buffers.end())
    return std::nullopt;
  const BufferView &buffer = it->second;
  if (s.from == From::bufferRowStride)
    return word(s.kind, buffer.rowStride);
  if (s.index >= buffer.shape.size())
    return std::nullopt;
  return word(s.kind, buffer.shape[s.index]);
}

std::optional<uint64_t> valueOf(const ArgumentSource &s,
                                const LaunchValues &v) {
  switch (s.from) {
  case From::tensor:
    if (const TensorView *t = v.tensors[s.index])
      return address(t->data);
    return std::nullopt;
  case From::stride:
    // A dimension of one entry is only indexed at 0: its stride, which
    // validation lets be anything, is passed as 0.
    if (const TensorView *t = v.tensors[s.index / 3])
      return word(s.kind,
                  t->shape[s.index % 3] == 1 ? 0 : t->strides[s.index % 3]);
    return std::nullopt;
  case From::extent:
    return word(s.kind, extentOf(v.shape, s.index));
  case From::softmaxScale:
    return word(s.kind, v.params.softmaxScale.value_or(
                            1.0f / std::sqrt(float(v.shape.headDim))));
  case From::dropoutSeed:
    return word(s.kind, int64_t(v.params.dropoutSeed));
  case From::dropoutOffset:
    return word(s.kind, int64_t(v.params.dropoutOffset));
  case From::workspace:
    if (s.index < v.workspace.size())
      return v.workspace[s.index];
    return std::nullopt;
  case From::named:
    return namedWord(s, v.params);
  case From::bufferExtent:
  case From::bufferRowStride:
    return bufferWord(s, v.params);
  }
  return std::nullopt;
}

} // namespace

std::vector<ArgumentSource>
flashjit::resolveArguments(const std::vector<KernelArg> &args,
                           const std::vector<WorkspaceBuffer> &workspace) {
  std::vector<ArgumentSource> sources;
  sources.reserve(args.size());
  for (const KernelArg &arg : args)
    sources.push_back(sourceOf(arg, workspace));
  return sources;
}

std::optional<Error>
flashjit::packArguments(const std::vector<ArgumentSource> &sources,
                        const LaunchValues &values, PackedArguments &packed) {
  packed.words.resize(sources.size());
  packed.pointers.resize(sources.size());
  for (size_t i = 0; i < sources.size(); ++i) {
    std::optional<uint64_t> value = valueOf(sources[i], values);
    if (!value)
      return Error("internal: no value for kernel argument '" +
                   sources[i].parameter + "'");
    packed.words[i] = *value;
    packed.pointers[i] = &packed.words[i];
  }
  return std::nullopt;
}
