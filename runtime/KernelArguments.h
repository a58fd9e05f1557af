//===- KernelArguments.h - a launch's values for kernel parameters -*- C++
//-*-===//
//
// A kernel names its parameters (LaunchContract.h): "q", "q.row_stride",
// "seqlen_kv", "softmax_scale", a workspace buffer's name, a variant's
// "window", "slopes.extent0", ...
// Each name is resolved once, when the kernel is loaded, to where its value
// comes from; a launch then only copies values (no string keys per call).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_RUNTIME_KERNELARGUMENTS_H
#define FLASHJIT_RUNTIME_KERNELARGUMENTS_H

#include "compiler/kernel/LaunchContract.h"
#include "flashjit/flashjit.h"
#include "runtime/Validation.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace flashjit {

/// The tensors a launch may pass, in a fixed order.
enum class TensorSlot : uint8_t { q, k, v, o, lse, dO, dq, dk, dv };
constexpr int kTensorSlots = 9;

/// Where one parameter's value comes from.
struct ArgumentSource {
  enum class From : uint8_t {
    tensor, ///< a tensor's data pointer (index: TensorSlot)
    stride, ///< a tensor's stride (index: slot * 3 + dimension)
    extent, ///< batch, heads_q, heads_kv, seqlen_q, seqlen_kv
    softmaxScale,
    dropoutSeed,
    dropoutOffset,
    workspace,    ///< index: the pass's workspace buffer
    named,        ///< a variant's scalar, or its buffer's data pointer
    bufferExtent, ///< index: the dimension
    bufferRowStride,
  };
  From from;
  uint8_t index = 0;
  KernelArg::Kind kind;
  std::string key;       ///< named: the name; buffer*: the buffer's name
  std::string parameter; ///< the parameter's own name, for errors
};

/// The source of each of `args`, from their names; a name of one of the
/// pass's `workspace` buffers takes that buffer's address.
std::vector<ArgumentSource>
resolveArguments(const std::vector<KernelArg> &args,
                 const std::vector<WorkspaceBuffer> &workspace = {});

/// What one launch passes.
struct LaunchValues {
  const LaunchShape &shape;
  const AttentionParams &params;
  const TensorView *tensors[kTensorSlots] = {};
  /// The address of each of the pass's workspace buffers, in order.
  llvm::ArrayRef<uint64_t> workspace = {};
};

/// One 8-byte word per parameter and the pointers cuLaunchKernel takes,
/// which point into `words`: it is neither copied nor moved, so that they
/// stay valid.
struct PackedArguments {
  PackedArguments() = default;
  PackedArguments(const PackedArguments &) = delete;
  PackedArguments &operator=(const PackedArguments &) = delete;

  llvm::SmallVector<uint64_t, 48> words;
  llvm::SmallVector<void *, 48> pointers;
};

/// Packs `values` for parameters `sources` into `packed`. An Error for a
/// value the launch lacks (validation lets none through).
std::optional<Error> packArguments(const std::vector<ArgumentSource> &sources,
                                   const LaunchValues &values,
                                   PackedArguments &packed);

} // namespace flashjit

#endif // FLASHJIT_RUNTIME_KERNELARGUMENTS_H
