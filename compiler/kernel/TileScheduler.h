//===- TileScheduler.h - which work a thread block does ---------*- C++ -*-===//
//
// How a kernel's grid maps to work: grid y runs over (batch, head) pairs
// and grid x over the blocks of rows of their sequences (for dK/dV, times
// the head-dim slices). The scheduler gives the launch its grid rule and
// each thread block its work, in the order the blocks are dispatched; no
// kernel reads the block index itself.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_KERNEL_TILESCHEDULER_H
#define FLASHJIT_COMPILER_KERNEL_TILESCHEDULER_H

#include "compiler/kernel/LaunchContract.h"

#include "mlir/IR/Value.h"

namespace flashjit {

class KernelBuilder;
class SequenceInfo;

/// The (batch, query head) of a thread block whose grid's y runs over
/// B * Hq, and the key head that query head reads (Hq / Hkv query heads
/// share one under grouped-query attention).
struct QueryHead {
  mlir::Value bh, batch, head, headKv;
};

/// dK/dV's work: a key block of one (batch, key head), and the slice of the
/// head dim whose gradients it accumulates.
struct KeyBlockWork {
  mlir::Value batch, headKv, keyBlock, slice;
};

/// The (batch, head) of a thread block of a row-parallel kernel.
struct HeadWork {
  mlir::Value bh, batch, head;
};

class TileScheduler {
public:
  explicit TileScheduler(const Schedule &schedule) : s(schedule) {}

  /// How many thread blocks the kernel is launched on: x over blocks of
  /// the rows the kind's thread blocks own, y over (batch, head) pairs.
  GridRule grid() const;

  /// Forward and dQ: this thread block's (batch, query head).
  QueryHead queryHead(KernelBuilder &k, mlir::Value headsQ,
                      mlir::Value headsKv) const;
  /// Forward and dQ: the first row of this thread block's query block.
  /// Query blocks go in reverse: under a causal mask the last blocks visit
  /// the most keys, and blocks are dispatched in order of blockIdx.x, so
  /// the longest start first and the shortest fill the tail of the grid.
  mlir::Value queryBlockStart(KernelBuilder &k,
                              const SequenceInfo &sequences) const;
  /// dK/dV: this thread block's key block and head-dim slice.
  KeyBlockWork keyBlock(KernelBuilder &k, mlir::Value headsKv) const;
  /// Row-parallel kernels (backward_delta, backward_dq_convert): this
  /// thread block's (batch, head), and the work item of thread `tid`.
  HeadWork head(KernelBuilder &k, mlir::Value heads) const;
  mlir::Value workItem(KernelBuilder &k, mlir::Value tid) const;

private:
  const Schedule &s;
};

/// The launch of a kernel the lowering built, its grid the scheduler's.
KernelInfo describeKernel(std::string name, const Schedule &schedule,
                          std::vector<KernelArg> args);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_KERNEL_TILESCHEDULER_H
