//===- ScoreTile.h - a block of scores and their gradient -------*- C++ -*-===//
//
// What the kernels compute per score of a block, in accumulator order: the
// variant's modification and (in partial blocks) its masks, the
// probability recomputed from the row statistics, dropout's keep bits
// (VariantLowering), the score gradient, and the packing of per-score
// values into the A operand of the next product.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_ATTENTION_SCORETILE_H
#define FLASHJIT_COMPILER_ATTENTION_SCORETILE_H

#include "compiler/lowering/ScoreDerivative.h"
#include "compiler/lowering/VariantLowering.h"

namespace flashjit {

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

/// P = exp(score - lse) from the score and the log-sum-exp in log2 units.
/// The row statistics hold +inf for a row the mask empties, so that its P
/// is exp2(-inf) = 0 with no test per element.
mlir::Value probability(KernelBuilder &k, mlir::Value log2Score,
                        mlir::Value log2Lse);

/// dS = P * (dP - delta) * d(mod)/d(score). A derivative that varies per
/// element may not be finite where the mask removed the score, so there dS
/// is forced to 0 where P is; a uniform one is finite and needs no test.
mlir::Value scoreGradient(KernelBuilder &k, mlir::Value p, mlir::Value dp,
                          mlir::Value delta, const ScoreTangent &dmod);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_ATTENTION_SCORETILE_H
