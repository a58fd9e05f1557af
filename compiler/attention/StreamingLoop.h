//===- StreamingLoop.h - the loop over the blocks a mask keeps --*- C++ -*-===//
//
// Every attention kernel streams the blocks of one side (keys in the
// forward and dQ, queries in dK/dV) past the block of the other that its
// thread block owns. The streaming loop is that scf.for: over a range of
// blocks, in order or rotated, each block classified against the owned one
// by the mask's intervals, visited only if the mask may keep some of it,
// and marked full when it is kept whole and in bounds, so that its visit
// carries no mask code. The kernels give what a visit and a skip do to
// their loop state; the loop decides which blocks run and in which order.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_ATTENTION_STREAMINGLOOP_H
#define FLASHJIT_COMPILER_ATTENTION_STREAMINGLOOP_H

#include "compiler/kernel/SequenceInfo.h"
#include "compiler/lowering/KeptBlockRange.h"

#include <functional>

namespace flashjit {

/// One iteration's block.
struct StreamedBlock {
  mlir::Value index;   ///< the loop's induction variable
  mlir::Value start;   ///< the block's first row
  mlir::Value mayKeep; ///< the mask may keep some of it: it is visited
  mlir::Value full;    ///< kept whole and in bounds: no mask code
  /// With look-ahead: whether the next block is in the loop and may be
  /// kept, decided before this one is visited, and its first row.
  mlir::Value nextMayKeep, nextStart;
};

class StreamingLoop {
public:
  /// Which side the loop streams: its rows' length comes from `sequences`.
  enum class Side { keys, queries };
  /// (may keep, may mask) of the streamed rows [lo, hi] against the owned
  /// block.
  using Classify = std::function<std::pair<mlir::Value, mlir::Value>(
      mlir::Value lo, mlir::Value hi)>;

  /// Blocks of `blockRows` rows of `side`, [blocks.begin, blocks.end) in
  /// order.
  StreamingLoop(KernelBuilder &k, const SequenceInfo &sequences, Side side,
                int blockRows, BlockInterval blocks, Classify classify);

  /// Visits the range starting from its block `rotation` (mod its size)
  /// and wrapping around, so that thread blocks that stream the same
  /// blocks do not all start on the same one.
  void rotate(mlir::Value rotation);
  /// A full block also needs `condition` (the owned block in bounds).
  void requireForFull(mlir::Value condition) { alsoFull = condition; }
  /// Decide each iteration's nextMayKeep before the visit, so that it may
  /// prefetch the next block's tiles.
  void lookAhead() { decidesNext = true; }

  /// The loop's first and end iteration.
  mlir::Value loopBegin() const { return begin; }
  mlir::Value loopEnd() const { return end; }
  /// The first row of the block of iteration `i`.
  mlir::Value startOf(mlir::Value i) const;
  /// (may keep, may mask) of the block from `start`.
  std::pair<mlir::Value, mlir::Value> classifyFrom(mlir::Value start) const;
  /// Whether iteration `i` + 1 is in the loop and its block may be kept,
  /// and that block's first row.
  std::pair<mlir::Value, mlir::Value> next(mlir::Value i) const;

  using Step = llvm::function_ref<llvm::SmallVector<mlir::Value>(
      const StreamedBlock &, mlir::ValueRange state)>;
  /// The loop from state `init`: `visit` for the blocks the mask may keep,
  /// `skip` for the rest, each returning the next state. Returns the
  /// final state.
  llvm::SmallVector<mlir::Value> run(mlir::ValueRange init, Step visit,
                                     Step skip) const;

private:
  StreamedBlock blockAt(mlir::Value i) const;
  mlir::Value lastRowOf(mlir::Value start) const;

  KernelBuilder &k;
  SequenceInfo sequences;
  Side side;
  int blockRows;
  BlockInterval blocks;
  Classify classify;
  mlir::Value begin, end, rotation, count, alsoFull;
  bool decidesNext = false;
};

} // namespace flashjit

#endif // FLASHJIT_COMPILER_ATTENTION_STREAMINGLOOP_H
