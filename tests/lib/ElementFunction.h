//===- ElementFunction.h - a tile program's element as a func ---*- C++ -*-===//
//
// The element test passes replace a tile.program @v by
//
//   func.func @v<suffix>(%score: f32, %batch: i32, %head: i32, %q: i32,
//                        %kv: i32, %len_batch: i32, %len_head: i32,
//                        %len_q: i32, %len_kv: i32, %scale: f32,
//                        <params...>, <buffers as memrefs...>) -> results
//
// whose arguments are the leaves of one element (ElementEmitter::LeafFn).
// Buffer gathers clamp their index into the buffer, as kernels do.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_TESTS_LIB_ELEMENTFUNCTION_H
#define FLASHJIT_TESTS_LIB_ELEMENTFUNCTION_H

#include "dialects/tile/TileDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace flashjit::test {

class ElementFunction {
public:
  /// Creates the function before `program`; the builder is at its entry.
  ElementFunction(tile::ProgramOp program, llvm::StringRef suffix,
                  mlir::TypeRange results);

  /// The scalar of a leaf at this element: an argument, or a gather.
  mlir::FailureOr<mlir::Value> leaf(mlir::OpBuilder &builder,
                                    mlir::Operation *op,
                                    mlir::ArrayRef<mlir::Value> operands);

  mlir::OpBuilder builder;
  mlir::func::FuncOp func;

private:
  mlir::Value arg(unsigned i) { return func.getArgument(i); }
  mlir::Value gather(mlir::OpBuilder &builder, tile::LoadOp load,
                     mlir::ArrayRef<mlir::Value> indices);

  llvm::DenseMap<mlir::Operation *, unsigned> argOf;
};

} // namespace flashjit::test

#endif // FLASHJIT_TESTS_LIB_ELEMENTFUNCTION_H
