//===- ForwardKernel.h - the fused FlashAttention forward -------*- C++ -*-===//

#ifndef FLASHJIT_COMPILER_ATTENTION_FORWARDKERNEL_H
#define FLASHJIT_COMPILER_ATTENTION_FORWARDKERNEL_H

#include "compiler/analysis/AttentionChain.h"
#include "compiler/kernel/KernelBuilder.h"
#include "compiler/kernel/LaunchContract.h"

#include "mlir/IR/BuiltinOps.h"

namespace flashjit {

/// Adds the forward kernel of `chain` to `module` as an llvm.func named
/// `name`: one thread block per (BLOCK_M query rows, batch * head), the
/// key/value blocks streamed through shared memory, the online softmax in
/// registers, O and the log-sum-exp written once. Returns its signature.
mlir::FailureOr<KernelInfo> buildForwardKernel(mlir::ModuleOp module,
                                               const AttentionChain &chain,
                                               const Schedule &schedule,
                                               InputType inputType,
                                               llvm::StringRef name);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_ATTENTION_FORWARDKERNEL_H
