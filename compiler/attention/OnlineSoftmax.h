//===- OnlineSoftmax.h - the streaming softmax of a score row ---*- C++ -*-===//
//
// The softmax over key blocks that arrive one at a time (FlashAttention's
// online softmax), in log2 units, for the two rows of a 16-row tile one
// thread holds (rows lane / 4 and lane / 4 + 8 of the m16n8 accumulators):
// each block raises the running max, rescales what was summed before and
// exponentiates the block's scores against the new max.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_ATTENTION_ONLINESOFTMAX_H
#define FLASHJIT_COMPILER_ATTENTION_ONLINESOFTMAX_H

#include "compiler/kernel/KernelBuilder.h"

namespace flashjit {

/// A thread's share of its two rows' statistics: the running max (log2
/// units, the same in the row's four threads) and the sum over its columns.
struct RowStatistics {
  std::array<mlir::Value, 2> max, sum;
};

/// One key block's step. `scores` (blockN / 8 accumulator tiles, in log2
/// units) become exp2(score - new max) in place; returns the rows'
/// statistics after the block and each row's factor alpha = exp2(old max -
/// new max), by which what was accumulated before must be scaled.
std::pair<RowStatistics, std::array<mlir::Value, 2>>
softmaxStep(KernelBuilder &k, llvm::MutableArrayRef<mlir::Value> scores,
            int blockN, const RowStatistics &before);

/// acc (accumulator order: value i of each tile in row i / 2) times each
/// row's alpha.
llvm::SmallVector<mlir::Value> rescaleRows(KernelBuilder &k,
                                           llvm::ArrayRef<mlir::Value> acc,
                                           std::array<mlir::Value, 2> alpha);

/// What a finished row writes: 1 / its sum (0 for a row the mask removes
/// entirely, so that O = 0) and its log-sum-exp in natural units (-inf for
/// such a row).
struct FinishedRow {
  mlir::Value inverseSum, lse;
};
FinishedRow finishRow(KernelBuilder &k, mlir::Value partialSum,
                      mlir::Value max);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_ATTENTION_ONLINESOFTMAX_H
