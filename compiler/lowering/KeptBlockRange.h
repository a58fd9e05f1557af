//===- KeptBlockRange.h - the blocks a masked loop visits -------*- C++ -*-===//
//
// A kernel's loop runs over the blocks of one side (keys in the forward and
// dQ, queries in dK/dV) against a fixed block of the other. Under a causal
// or sliding-window mask most of those blocks are empty; testing each one
// costs an iteration per block (256 at N 16384 with 64-key blocks, for a
// window of a few blocks). keptBlockRange bounds the loop instead, with two
// binary searches over BlockClassifier's verdict on whole ranges of blocks.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_LOWERING_KEPTBLOCKRANGE_H
#define FLASHJIT_COMPILER_LOWERING_KEPTBLOCKRANGE_H

#include "compiler/lowering/VariantLowering.h"

namespace flashjit {

/// Blocks [begin, end) of 0 .. numBlocks - 1.
struct BlockInterval {
  mlir::Value begin, end;
};

/// A range of the `numBlocks` blocks of `blockSize` rows (`extent` of them
/// valid) that holds every block the masks may keep. `mayKeep(lo, hi)` is
/// the classification of rows [lo, hi] (inclusive) against the fixed block.
/// It is sound (a range holding a kept element is never called empty), so
/// nothing kept falls outside, whatever the mask; the loop still tests each
/// block inside. O(log numBlocks) classifications. Masks that read buffers
/// classify a range by scanning it, so they, and variants without masks,
/// get [0, numBlocks).
BlockInterval keptBlockRange(
    KernelBuilder &k, const VariantLowering &variant, mlir::Value numBlocks,
    int blockSize, mlir::Value extent,
    llvm::function_ref<mlir::Value(mlir::Value lo, mlir::Value hi)> mayKeep);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_LOWERING_KEPTBLOCKRANGE_H
