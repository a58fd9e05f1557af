//===- TileOpRules.h - the tile ops' rules for the lowering -----*- C++ -*-===//
//
// What each tile op means to the lowering is written once, as the external
// models of three op interfaces: its scalar code at one element
// (ScalarLoweringModels.cpp), its derivative with respect to the raw score
// (TangentModels.cpp) and its bounds over a block (IntervalBoundsModels.cpp).
// The models need the lowering's helpers, which the tile dialect does not
// see, hence external models: a context that lowers tile programs is made
// from a registry this function has filled.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_RULES_TILEOPRULES_H
#define FLASHJIT_COMPILER_RULES_TILEOPRULES_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace flashjit {

/// Attaches every rule model to the tile ops when the tile dialect loads.
void registerTileOpRuleModels(mlir::DialectRegistry &registry);

/// The three families, each in its own file. The bounds of monotone ops
/// apply their per-element rule to the ends: register all three together.
void registerScalarLoweringModels(mlir::DialectRegistry &registry);
void registerTangentModels(mlir::DialectRegistry &registry);
void registerIntervalBoundsModels(mlir::DialectRegistry &registry);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_RULES_TILEOPRULES_H
