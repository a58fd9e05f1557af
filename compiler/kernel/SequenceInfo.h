//===- SequenceInfo.h - the sequences a thread block works on ---*- C++ -*-===//
//
// The one place that knows the query and key sequences of a (batch, head)
// pair: their lengths, how blocks of rows cover them, and where their rows'
// statistics live. The kernels ask it and compute none of these
// themselves, so that variable-length batches (lengths and offsets per
// batch) change only it.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_KERNEL_SEQUENCEINFO_H
#define FLASHJIT_COMPILER_KERNEL_SEQUENCEINFO_H

#include "compiler/kernel/KernelBuilder.h"

namespace flashjit {

class SequenceInfo {
public:
  /// Lengths seqlen_q and seqlen_kv (i32; the latter may be null for the
  /// kernels that read only query rows).
  SequenceInfo(mlir::Value queryLength, mlir::Value keyLength = {})
      : seqQ(queryLength), seqKv(keyLength) {}

  mlir::Value queryLength() const { return seqQ; }
  mlir::Value keyLength() const { return seqKv; }

  /// How many blocks of `rows` cover the queries, or the keys.
  mlir::Value queryBlocks(KernelBuilder &k, int rows) const;
  mlir::Value keyBlocks(KernelBuilder &k, int rows) const;
  /// The last valid row of the block of `rows` from `start`.
  mlir::Value lastQueryRow(KernelBuilder &k, mlir::Value start, int rows) const;
  mlir::Value lastKeyRow(KernelBuilder &k, mlir::Value start, int rows) const;
  /// Whether every row of the block of `rows` from `start` is valid.
  mlir::Value queryBlockInBounds(KernelBuilder &k, mlir::Value start,
                                 int rows) const;
  mlir::Value keyBlockInBounds(KernelBuilder &k, mlir::Value start,
                               int rows) const;
  /// Where query row `row` of (batch, query head) `bh` keeps its
  /// statistics (log-sum-exp, delta) in the [B * Hq, Nq] buffers, i64;
  /// times the head dim, where its row starts in a [B * Hq, Nq, d]
  /// workspace.
  mlir::Value statisticIndex(KernelBuilder &k, mlir::Value bh,
                             mlir::Value row) const;

private:
  mlir::Value seqQ, seqKv;
};

} // namespace flashjit

#endif // FLASHJIT_COMPILER_KERNEL_SEQUENCEINFO_H
