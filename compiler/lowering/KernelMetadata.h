//===- KernelMetadata.h - a compiled pass's kernels as JSON -----*- C++ -*-===//
//
// One format for what a launch needs of each kernel: its entry name and
// kind, the whole schedule, the grid rule, and the parameters in order. The
// kernel cache stores it beside the PTX, flashjit-ptx --signature writes it
// and Attention::compile returns it, so a kernel compiled ahead of time can
// be launched by anyone who reads it:
//
//   {"format": 1, "target": "sm_90a", "kernels": [{
//      "name": "flashjit_causal_forward", "kind": "forward",
//      "threads": 256, "shared_memory_bytes": 98304,
//      "grid": {"x": {"rows": "seqlen_q", "rows_per_block": 128,
//                     "multiplier": 1}, "y": "batch*heads_q"},
//      "schedule": {"head_dim": 128, "block_m": 128, ...},
//      "args": [{"name": "q", "kind": "ptr"}, ...]}]}
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_LOWERING_KERNELMETADATA_H
#define FLASHJIT_COMPILER_LOWERING_KERNELMETADATA_H

#include "compiler/lowering/KernelSignature.h"
#include "flashjit/status.h"

#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace flashjit {

/// How many thread blocks a kernel is launched on: x covers `rows` in
/// blocks of `rowsPerBlock`, times `multiplier`; y covers batch × heads.
struct GridRule {
  enum class Rows { seqlenQ, seqlenKv, queryElementsBy8 };
  Rows rows = Rows::seqlenQ;
  int rowsPerBlock = 1;
  int multiplier = 1;
  /// y: batch × query heads, or batch × key/value heads.
  bool keyValueHeads = false;
};

/// The grid rule of a kernel of `kind` with `schedule`.
GridRule gridRuleOf(const Schedule &schedule);

/// The JSON document of a pass's kernels for `target`.
std::string kernelMetadataJson(const std::vector<KernelInfo> &kernels,
                               llvm::StringRef target);

/// Reads what kernelMetadataJson wrote; an Error says what is malformed.
Expected<std::vector<KernelInfo>> parseKernelMetadata(llvm::StringRef json);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_LOWERING_KERNELMETADATA_H
