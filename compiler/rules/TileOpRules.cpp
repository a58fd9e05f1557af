//===- TileOpRules.cpp - the tile ops' rules for the lowering -------------===//

#include "compiler/rules/TileOpRules.h"

using namespace flashjit;

void flashjit::registerTileOpRuleModels(mlir::DialectRegistry &registry) {
  registerScalarLoweringModels(registry);
  registerTangentModels(registry);
  registerIntervalBoundsModels(registry);
}
