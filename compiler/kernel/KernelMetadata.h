//===- KernelMetadata.h - a pass's launch contract as JSON ------*- C++ -*-===//
//
// One format for the LaunchContract: each kernel's entry name and kind,
// threads, shared memory, grid rule, whole schedule and parameters in
// order, and the pass's workspace. The kernel cache stores it beside the
// PTX, flashjit-ptx --signature writes it and Attention::compile returns
// it, so a kernel compiled ahead of time can be launched by anyone who
// reads it:
//
//   {"format": 2, "target": "sm_90a", "kernels": [{
//      "name": "flashjit_causal_forward", "kind": "forward",
//      "threads": 256, "shared_memory_bytes": 98304,
//      "grid": {"x": {"rows": "seqlen_q", "rows_per_block": 128,
//                     "multiplier": 1}, "y": "batch*heads_q"},
//      "schedule": {"head_dim": 128, "block_m": 128, ...},
//      "args": [{"name": "q", "kind": "ptr"}, ...]}],
//    "workspace": [{"name": "delta", "elements": "batch*heads_q*seqlen_q",
//                   "zeroed": false}, ...]}
//
// Workspace buffers are f32, in order, each at a multiple of
// kWorkspaceAlignment bytes from the first.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_KERNEL_KERNELMETADATA_H
#define FLASHJIT_COMPILER_KERNEL_KERNELMETADATA_H

#include "compiler/kernel/LaunchContract.h"
#include "flashjit/status.h"

#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace flashjit {

/// Bumped when a field changes meaning; readers refuse other formats (and
/// the kernel cache keys on it, so that it never meets an old entry).
constexpr int kKernelMetadataFormat = 2;

/// The JSON document of a pass's launch contract for `target`.
std::string kernelMetadataJson(const LaunchContract &launch,
                               llvm::StringRef target);

/// Reads what kernelMetadataJson wrote; an Error says what is malformed.
Expected<LaunchContract> parseKernelMetadata(llvm::StringRef json);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_KERNEL_KERNELMETADATA_H
