//===- ScoreDerivative.h - d(score mod)/d(score), derived -------*- C++ -*-===//
//
// The backward needs the derivative of the score modification with respect
// to the raw score q·kᵀ. The modification is scalar arithmetic, so it is
// differentiated here in forward mode, one rule per op, and the user never
// writes a derivative.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_LOWERING_SCOREDERIVATIVE_H
#define FLASHJIT_COMPILER_LOWERING_SCOREDERIVATIVE_H

#include "compiler/lowering/ElementEmitter.h"

namespace flashjit {

/// A derivative at one element. Zero and one are kept symbolic so that the
/// common modifications (a scale, an added bias) emit no per-element code.
struct ScoreTangent {
  enum class Kind { zero, one, value };
  Kind kind = Kind::zero;
  /// The f32 derivative when kind is `value`.
  mlir::Value value;
  /// Whether it is the same at every element of the program instance (a
  /// product of scalars): then it is finite wherever the launch's scalars
  /// are, and a kernel may treat it as one factor.
  bool uniform = true;
};

/// The derivative of `modified` with respect to `rawScore` (both tile
/// values of one program) at the element `primal` is emitting.
ScoreTangent emitScoreTangent(ElementEmitter &primal, mlir::OpBuilder &builder,
                              mlir::Value modified, mlir::Value rawScore);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_LOWERING_SCOREDERIVATIVE_H
