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

/// A score block's elements in accumulator order, with their indices.
struct ScoreElements {
  llvm::SmallVector<mlir::Value> raw, scores, q, kv;
};

/// Applies the score modification to `acc`, in log2 units (times log2(e),
/// for exp2), and, unless `full`, the masks,
/// the bound `col < colLimit` and, if given, `row < rowLimit`. Element i of
/// tile n sits at row `rowBase + 8 * (i / 2)` and column `colBase + 8 * n +
/// 2 * (lane % 4) + i % 2`; `rowsAreKeys` says whether rows are keys
/// (dK/dV) or queries.
ScoreElements modifyAndMask(KernelBuilder &k, VariantLowering &variant,
                            llvm::ArrayRef<Accumulator> acc,
                            mlir::Value rowBase, mlir::Value colBase,
                            mlir::Value lane, mlir::Value full,
                            mlir::Value colLimit, bool rowsAreKeys,
                            mlir::Value rowLimit = {});

/// A-operand fragments of the 16 columns [16c, 16c + 16) of per-element
/// values in accumulator order (tiles 2c and 2c + 1), packed to the input
/// type.
std::array<mlir::Value, 4> packA(KernelBuilder &k,
                                 llvm::ArrayRef<mlir::Value> values, int c);

} // namespace flashjit

namespace flashjit {

/// Writes accumulator rows `rowBase` and `rowBase + 8` (those below
/// `limit`) of `acc`, tile t covering columns colBase + 8t .. + 8, to the
/// view in the input type; `scale[r]` multiplies row r if given.
void storeAccumulatorRows(KernelBuilder &k, const TensorView &view,
                          llvm::ArrayRef<Accumulator> acc, mlir::Value rowBase,
                          mlir::Value limit, int colBase, mlir::Value lane,
                          llvm::ArrayRef<mlir::Value> scale = {});

} // namespace flashjit

#endif // FLASHJIT_COMPILER_LOWERING_KERNELCOMMON_H
