//===- KernelCommon.h - pieces the forward and backward share ---*- C++ -*-===//

#ifndef FLASHJIT_COMPILER_LOWERING_KERNELCOMMON_H
#define FLASHJIT_COMPILER_LOWERING_KERNELCOMMON_H

#include "compiler/lowering/VariantLowering.h"

namespace flashjit {

/// Where a thread sits in its thread block: its index, lane and warp.
struct ThreadPosition {
  mlir::Value tid, lane, warp;
};
ThreadPosition threadPosition(KernelBuilder &k, int numThreads);

/// The parameters of a strided [B, H, N, D] tensor.
struct TensorArgs {
  unsigned ptr, batchStride, headStride, rowStride;
};
TensorArgs declareTensor(KernelArgs &args, const std::string &name);

/// One (batch, head) slice of a tensor.
struct TensorView {
  mlir::Value base;
  mlir::Value rowStride;
  /// Row `rowIndex` (i32), clamped to [0, rows - 1] so that even the
  /// zero-filled rows of a ragged block address valid memory.
  mlir::Value row(KernelBuilder &k, mlir::Value rowIndex,
                  mlir::Value rows) const;
};
TensorView viewOf(KernelBuilder &k, const KernelArgs &args, const TensorArgs &t,
                  mlir::Value batch, mlir::Value head);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_LOWERING_KERNELCOMMON_H
