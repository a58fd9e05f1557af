//===- IntervalBoundsInterface.h - tile ops over a block --------*- C++ -*-===//
//
// TileIntervalBoundsOpInterface (IntervalBoundsInterface.td): the bounds of
// a tile op's result over a block of scores. BlockClassifier asks it.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_RULES_INTERVALBOUNDSINTERFACE_H
#define FLASHJIT_COMPILER_RULES_INTERVALBOUNDSINTERFACE_H

#include "compiler/lowering/BlockClassifier.h"

#include "mlir/IR/OpDefinition.h"

#include "compiler/rules/IntervalBoundsInterface.h.inc"

#endif // FLASHJIT_COMPILER_RULES_INTERVALBOUNDSINTERFACE_H
