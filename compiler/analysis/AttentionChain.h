//===- AttentionChain.h - find the fusible chain in a program ---*- C++ -*-===//
//
// Every kernel flashjit emits is one fused FlashAttention loop, so a program
// must be exactly the chain
//
//   s = dot(q, k^T) -> score modification -> mask* -> softmax -> dropout? ->
//   o = dot(p, v) -> store(o, lse)
//
// where the score modification is elementwise arithmetic over the scores
// and score-independent values, and masks read no scores. matchAttention
// Chain finds the pieces or says which op breaks the chain and why.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_ANALYSIS_ATTENTIONCHAIN_H
#define FLASHJIT_COMPILER_ANALYSIS_ATTENTIONCHAIN_H

#include "compiler/schedule/Schedule.h"
#include "dialects/tile/TileDialect.h"

#include "llvm/ADT/SmallVector.h"

namespace flashjit {

struct AttentionChain {
  tile::LoadQOp q;
  tile::LoadKOp k;
  tile::LoadVOp v;
  /// q · kᵀ, the raw scores.
  tile::DotOp scoreDot;
  /// The ops that compute the modified scores from the raw scores, in
  /// program order; empty when the scores are used as they are.
  llvm::SmallVector<mlir::Operation *> scoreMod;
  /// The modified scores: what the masks (or the softmax) receive.
  mlir::Value modifiedScores;
  /// The masks, outermost last; each keep condition reads no scores.
  llvm::SmallVector<tile::MaskOp> masks;
  tile::SoftmaxOp softmax;
  tile::DropoutOp dropout; ///< null without dropout
  /// p · v.
  tile::DotOp outputDot;
  tile::StoreOp store;
};

/// Matches `program` against the fused chain. On failure an error naming
/// the op that breaks the chain has been emitted on that op.
mlir::FailureOr<AttentionChain> matchAttentionChain(tile::ProgramOp program);

/// Whether `op` is elementwise arithmetic a score modification may use.
bool isScoreModOp(mlir::Operation *op);

/// The registers the chain's own per-element code costs the kernels. The
/// softmax scale alone is the plain case; anything past it keeps more per
/// score.
VariantCost variantCostOf(const AttentionChain &chain);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_ANALYSIS_ATTENTIONCHAIN_H
