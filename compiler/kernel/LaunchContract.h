//===- LaunchContract.h - what launching a compiled pass takes --*- C++ -*-===//
//
// The one description of a pass's launches: each kernel's entry, threads,
// dynamic shared memory, grid rule and parameters in order, and the
// workspace the kernels share. The lowering fills it; the runtime (and
// anyone launching kernels compiled ahead of time) only reads it, through
// the JSON of KernelMetadata.h, and derives nothing from kernel kinds.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_KERNEL_LAUNCHCONTRACT_H
#define FLASHJIT_COMPILER_KERNEL_LAUNCHCONTRACT_H

#include "compiler/schedule/Schedule.h"

#include <cstdint>
#include <string>
#include <vector>

namespace flashjit {

/// Kernels take flat scalar parameters, named in order so that the runtime
/// (and flashjit-ptx's listing) can fill them.
struct KernelArg {
  enum class Kind { pointer, i32, i64, f32 };
  std::string name;
  Kind kind;
};

const char *stringifyKernelArgKind(KernelArg::Kind kind);

/// How many thread blocks a kernel is launched on: x covers `rows` in
/// blocks of `rowsPerBlock`, times `multiplier`; y covers batch × heads.
struct GridRule {
  enum class Rows { seqlenQ, seqlenKv, queryElementsBy8 };
  Rows rows = Rows::seqlenQ;
  int rowsPerBlock = 1;
  int multiplier = 1;
  /// y: batch × query heads, or batch × key/value heads.
  bool keyValueHeads = false;

  bool operator==(const GridRule &) const = default;
};

/// One kernel of a compiled pass.
struct KernelInfo {
  std::string name; ///< the PTX entry
  KernelKind kind;
  Schedule schedule; ///< threads and dynamic shared memory among it
  GridRule grid;
  std::vector<KernelArg> args;
};

/// An f32 buffer the runtime allocates on the launch's stream for the
/// whole pass, whose address goes to every parameter of its name.
struct WorkspaceBuffer {
  /// Batch × query heads × query rows, or that × the head dim.
  enum class Extent { queryRows, queryElements };
  std::string name;
  Extent extent = Extent::queryRows;
  /// Cleared before the first kernel (sums added by atomics).
  bool zeroed = false;

  bool operator==(const WorkspaceBuffer &) const = default;
};

/// Each workspace buffer starts at a multiple of this many bytes.
constexpr int64_t kWorkspaceAlignment = 256;

/// Where each buffer of `workspace` starts, in bytes from the first, its
/// bytes, and the bytes of all, for `queryRows` = batch × query heads ×
/// query rows.
struct WorkspaceLayout {
  std::vector<int64_t> offsets, sizes;
  int64_t bytes = 0;
};
WorkspaceLayout layoutOf(const std::vector<WorkspaceBuffer> &workspace,
                         int64_t queryRows, int64_t headDim);

/// A compiled pass's launches, in order, and their shared workspace.
struct LaunchContract {
  std::vector<KernelInfo> kernels;
  std::vector<WorkspaceBuffer> workspace;
};

/// The workspace of the pass whose kernels have `schedules`: the backward's
/// row statistics (delta and log2 lse, written by backward_delta) and, when
/// dQ is summed by atomics inside dK/dV, those sums (zeroed); the forward
/// needs none.
std::vector<WorkspaceBuffer>
workspaceOf(const std::vector<Schedule> &schedules);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_KERNEL_LAUNCHCONTRACT_H
