//===- TangentInterface.h - tile ops' derivatives ---------------*- C++ -*-===//
//
// TileTangentOpInterface (TangentInterface.td): the derivative of an f32
// tile op with respect to the raw score. ScoreTangentEmitter asks it.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_RULES_TANGENTINTERFACE_H
#define FLASHJIT_COMPILER_RULES_TANGENTINTERFACE_H

#include "compiler/lowering/ScoreDerivative.h"

#include "mlir/IR/OpDefinition.h"

#include "compiler/rules/TangentInterface.h.inc"

#endif // FLASHJIT_COMPILER_RULES_TANGENTINTERFACE_H
