//===- ElementEmitter.h - a tile expression as scalar code ------*- C++ -*-===//
//
// Kernels apply a variant's score modification and mask to every element of
// the score fragment a thread holds. ElementEmitter turns the tile ops of
// that expression into scalar arith/math ops for one element, asking each
// op's TileScalarLoweringOpInterface (compiler/rules/); the kernel builder
// says what the leaves are at that element (the score, q_idx, kv_idx,
// parameters, buffer gathers).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_LOWERING_ELEMENTEMITTER_H
#define FLASHJIT_COMPILER_LOWERING_ELEMENTEMITTER_H

#include "dialects/tile/TileDialect.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace flashjit {

class ElementEmitter {
public:
  /// Gives the scalar of a leaf op: tile.dot (the score), tile.index,
  /// tile.extent, tile.param, tile.softmax_scale, or tile.load with the
  /// scalars of its indices. Fails (after emitting an error) if the leaf
  /// cannot be lowered here.
  using LeafFn = llvm::function_ref<mlir::FailureOr<mlir::Value>(
      mlir::OpBuilder &, mlir::Operation *leaf,
      mlir::ArrayRef<mlir::Value> operandScalars)>;

  ElementEmitter(mlir::OpBuilder &builder, LeafFn leaf)
      : builder(builder), leaf(leaf) {}

  /// The scalar of `tileValue` at the current element. Each tile value is
  /// emitted once per emitter, so a fresh emitter is one element.
  mlir::FailureOr<mlir::Value> emit(mlir::Value tileValue);

  /// The scalar type a tile's element becomes: f32, i32 or i1.
  static mlir::Type scalarType(tile::TileType type);

private:
  /// The op's scalar from its operands' by its rule, or an error.
  mlir::FailureOr<mlir::Value> lower(mlir::Operation *op,
                                     mlir::ArrayRef<mlir::Value> operands);

  mlir::OpBuilder &builder;
  LeafFn leaf;
  llvm::DenseMap<mlir::Value, mlir::Value> scalars;
};

} // namespace flashjit

#endif // FLASHJIT_COMPILER_LOWERING_ELEMENTEMITTER_H
