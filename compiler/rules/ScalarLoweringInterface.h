//===- ScalarLoweringInterface.h - tile ops as scalars ----------*- C++ -*-===//
//
// TileScalarLoweringOpInterface (ScalarLoweringInterface.td): what an
// elementwise tile op computes at one element. ElementEmitter asks it.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_RULES_SCALARLOWERINGINTERFACE_H
#define FLASHJIT_COMPILER_RULES_SCALARLOWERINGINTERFACE_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"

#include "compiler/rules/ScalarLoweringInterface.h.inc"

#endif // FLASHJIT_COMPILER_RULES_SCALARLOWERINGINTERFACE_H
