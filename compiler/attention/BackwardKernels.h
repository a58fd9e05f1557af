//===- BackwardKernels.h - the FlashAttention backward ----------*- C++ -*-===//
//
// Kernels that recompute S and P from Q, K, V and the saved log-sum-exp
// instead of storing them:
//   delta = rowsum(dO * O)                            (backward_delta)
//   dV += P_dᵀ dO,  dK += dSᵀ Q, per key block         (backward_dkdv)
//   dQ += dS K, per query block                       (backward_dq)
// with dS = P * (dP_d - delta) * d(score mod)/d(score), dP_d the dropped
// dO Vᵀ and P_d the dropped P, both regenerated from the forward's Philox
// stream. Grouped-query key heads sum over their query heads inside the
// dK/dV kernel.
//
// The default backward computes P and dS once: backward_dkdvdq is dK/dV
// that also adds each key block's dS K to an f32 dQ workspace with
// atomics, and backward_dq_convert casts that to dQ. The deterministic
// backward is delta, dkdv, dq: every output element is written by one
// thread block, so the bits are the same on every run.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_ATTENTION_BACKWARDKERNELS_H
#define FLASHJIT_COMPILER_ATTENTION_BACKWARDKERNELS_H

#include "compiler/analysis/AttentionChain.h"
#include "compiler/kernel/KernelBuilder.h"
#include "compiler/kernel/LaunchContract.h"

#include "mlir/IR/BuiltinOps.h"

namespace flashjit {

mlir::FailureOr<KernelInfo>
buildBackwardDeltaKernel(mlir::ModuleOp module, const AttentionChain &chain,
                         const Schedule &schedule, InputType inputType,
                         llvm::StringRef name);

/// backward_dkdv, or backward_dkdvdq when the schedule's kind is
/// backwardKeyValueQuery.
mlir::FailureOr<KernelInfo>
buildBackwardKeyValueKernel(mlir::ModuleOp module, const AttentionChain &chain,
                            const Schedule &schedule, InputType inputType,
                            llvm::StringRef name);

mlir::FailureOr<KernelInfo>
buildBackwardQueryKernel(mlir::ModuleOp module, const AttentionChain &chain,
                         const Schedule &schedule, InputType inputType,
                         llvm::StringRef name);

mlir::FailureOr<KernelInfo> buildBackwardQueryConvertKernel(
    mlir::ModuleOp module, const AttentionChain &chain,
    const Schedule &schedule, InputType inputType, llvm::StringRef name);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_ATTENTION_BACKWARDKERNELS_H
