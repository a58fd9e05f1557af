//===- ScoreDerivative.h - d(score mod)/d(score), derived -------*- C++ -*-===//
//
// The backward needs the derivative of the score modification with respect
// to the raw score q·kᵀ. The modification is scalar arithmetic, so it is
// differentiated here in forward mode, one rule per op (each op's
// TileTangentOpInterface, compiler/rules/), and the user never writes a
// derivative.
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

/// Emits the tangents of one program's tile values at the element `primal`
/// is emitting, each value once. The rules build with the helpers below,
/// which keep zero and one symbolic.
class ScoreTangentEmitter {
public:
  ScoreTangentEmitter(ElementEmitter &primal, mlir::OpBuilder &builder,
                      mlir::Location loc, mlir::Value rawScore)
      : builder(builder), loc(loc), primal(primal), rawScore(rawScore) {}

  /// The tangent of `tileValue`: one for the raw score, zero for integer
  /// and boolean values, else its op's rule applied to its operands'
  /// tangents. Fails (after emitting an error) on an op with no rule.
  mlir::FailureOr<ScoreTangent> emit(mlir::Value tileValue);

  /// The value of `tileValue` at this element. Every op on the way has a
  /// per-element form: the caller emits (or has emitted) the modification
  /// with the same ElementEmitter.
  mlir::Value value(mlir::Value tileValue);
  mlir::Value constant(float v);
  /// The f32 of a tangent, for the rules that need one.
  mlir::Value materialize(const ScoreTangent &t);
  static ScoreTangent zero() { return {ScoreTangent::Kind::zero, {}, true}; }
  static ScoreTangent general(mlir::Value v, bool uniform) {
    return {ScoreTangent::Kind::value, v, uniform};
  }
  /// A tangent that varies per element.
  static ScoreTangent perElement(mlir::Value v) { return general(v, false); }
  ScoreTangent add(const ScoreTangent &x, const ScoreTangent &y);
  ScoreTangent neg(const ScoreTangent &x);
  /// x * factor, where the factor is the value of tile value `of`.
  ScoreTangent scaled(const ScoreTangent &x, mlir::Value factor,
                      mlir::Value of);
  /// Whether `tileValue` is the same at every element (a scalar tile).
  static bool isScalar(mlir::Value tileValue);

  mlir::OpBuilder &builder;
  mlir::Location loc;

private:
  ElementEmitter &primal;
  mlir::Value rawScore;
  llvm::DenseMap<mlir::Value, ScoreTangent> tangents;
};

/// The derivative of `modified` with respect to `rawScore` (both tile
/// values of one program) at the element `primal` is emitting. Fails (after
/// emitting an error) if an op on the way has no derivative rule.
mlir::FailureOr<ScoreTangent> emitScoreTangent(ElementEmitter &primal,
                                               mlir::OpBuilder &builder,
                                               mlir::Value modified,
                                               mlir::Value rawScore);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_LOWERING_SCOREDERIVATIVE_H
