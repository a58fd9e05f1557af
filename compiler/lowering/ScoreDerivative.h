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

/// The derivative of `modified` with respect to `rawScore` (both tile
/// values of one program) at the element `primal` is emitting, as f32.
mlir::Value emitScoreTangent(ElementEmitter &primal, mlir::OpBuilder &builder,
                             mlir::Value modified, mlir::Value rawScore);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_LOWERING_SCOREDERIVATIVE_H
