//===- BackwardCommon.h - what the backward kernels share -------*- C++ -*-===//
//
// The pieces the delta, dK/dV and dQ kernels share: their arguments, the
// recomputed probability and score gradient, dSᵀ through shared memory, and
// the row statistics of a streamed query block.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_ATTENTION_BACKWARDCOMMON_H
#define FLASHJIT_COMPILER_ATTENTION_BACKWARDCOMMON_H

#include "compiler/kernel/LaunchContract.h"
#include "compiler/lowering/KernelCommon.h"
#include "compiler/lowering/ScoreDerivative.h"

#include <limits>

namespace flashjit {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

/// The arguments the dK/dV and dQ kernels share. `lse_log2` and `delta`
/// are backward_delta's [B * Hq, Nq] row statistics: the log-sum-exp in
/// log2 units (+inf for an empty row) and rowsum(dO * O).
struct BackwardArgs {
  TensorArgs q, k, v, dout;
  unsigned lseLog2, delta, batch, headsQ, headsKv, seqQ, seqKv, scale;
};

/// The KernelInfo of a built backward kernel of `kind`.
KernelInfo describeBackwardKernel(llvm::StringRef name, KernelKind kind,
                                  const Schedule &s, const KernelArgs &args);

/// Declares BackwardArgs's parameters, in order.
BackwardArgs declareBackward(KernelArgs &args);

/// `tiles` m16n8 accumulators of zeros.
llvm::SmallVector<Accumulator> zeroAccumulators(KernelBuilder &k, int tiles);

/// Accumulators as a flat list of values (a loop's state), and back: the
/// `tiles` accumulators from `offset` of `values`.
llvm::SmallVector<mlir::Value>
flattenAccumulators(llvm::ArrayRef<Accumulator> acc);
llvm::SmallVector<Accumulator> accumulatorsAt(mlir::ValueRange values,
                                              int tiles, int offset);

/// Writes one warp's dSᵀ scores (16 keys from `warpRow`, `queries`
/// columns, in accumulator order) to the shared [keys, queries] tile in the
/// input type.
void storeScoreGradient(KernelBuilder &k, mlir::Value dsTile, int queries,
                        llvm::ArrayRef<mlir::Value> ds, mlir::Value warpRow,
                        mlir::Value lane);

/// Starts copying the row statistics of query rows [qStart, qStart + BM)
/// into the shared [2, BM] tile (log2 lse, then delta; zeros past
/// seqlen_q) with 4-byte cp.async: part of the group the caller commits
/// next.
void copyRowStats(KernelBuilder &k, mlir::Value statsTile, int BM,
                  mlir::Value tid, int threads, mlir::Value lseLog2,
                  mlir::Value delta, mlir::Value bh, mlir::Value seqQ,
                  mlir::Value qStart);

/// One statistic (`plane` 0: log2 lse, 1: delta) of each score element of a
/// thread in dK/dV's layout, where columns are the block's queries: one
/// 8-byte shared load per 8-column tile gives the thread's two columns.
/// Loaded where used, so that they are not live across the products.
llvm::SmallVector<mlir::Value> columnStats(KernelBuilder &k,
                                           mlir::Value statsTile, int BM,
                                           int plane, mlir::Value lane);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_ATTENTION_BACKWARDCOMMON_H
