//===- ElementFunction.cpp - a tile program's element as a func -----------===//

#include "tests/lib/ElementFunction.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace flashjit;
using namespace flashjit::test;

ElementFunction::ElementFunction(tile::ProgramOp program, StringRef suffix,
                                 TypeRange results)
    : builder(program) {
  MLIRContext *ctx = program.getContext();
  Type f32 = Float32Type::get(ctx), i32 = IntegerType::get(ctx, 32);
  // Fixed arguments, then parameters and buffers in program order.
  SmallVector<Type> inputs = {f32, i32, i32, i32, i32, i32, i32, i32, i32, f32};
  for (Operation &op : program.getBody().front()) {
    if (auto param = dyn_cast<tile::ParamOp>(op)) {
      argOf[param] = inputs.size();
      inputs.push_back(param.getType().getElementType());
    } else if (auto buffer = dyn_cast<tile::BufferOp>(op)) {
      argOf[buffer] = inputs.size();
      SmallVector<int64_t> shape(buffer.getType().getRank(),
                                 ShapedType::kDynamic);
      inputs.push_back(
          MemRefType::get(shape, buffer.getType().getElementType()));
    }
  }
  func = func::FuncOp::create(builder, program.getLoc(),
                              (program.getSymName() + suffix).str(),
                              builder.getFunctionType(inputs, results));
  builder.setInsertionPointToStart(func.addEntryBlock());
}

FailureOr<Value> ElementFunction::leaf(OpBuilder &b, Operation *op,
                                       ArrayRef<Value> operands) {
  if (isa<tile::DotOp>(op))
    return arg(0);
  if (auto index = dyn_cast<tile::IndexOp>(op))
    return arg(1 + static_cast<unsigned>(index.getDim()));
  if (auto extent = dyn_cast<tile::ExtentOp>(op))
    return arg(5 + static_cast<unsigned>(extent.getDim()));
  if (isa<tile::SoftmaxScaleOp>(op))
    return arg(9);
  if (isa<tile::ParamOp>(op))
    return arg(argOf.lookup(op));
  return gather(b, cast<tile::LoadOp>(op), operands);
}

Value ElementFunction::gather(OpBuilder &b, tile::LoadOp load,
                              ArrayRef<Value> indices) {
  Location loc = load.getLoc();
  Value buffer = arg(argOf.lookup(load.getBuffer().getDefiningOp()));
  SmallVector<Value> clamped;
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  for (auto [dim, index] : llvm::enumerate(indices)) {
    Value i = arith::IndexCastOp::create(b, loc, b.getIndexType(), index);
    Value last = arith::SubIOp::create(
        b, loc, memref::DimOp::create(b, loc, buffer, dim), one);
    i = arith::MaxSIOp::create(b, loc, i, zero);
    clamped.push_back(arith::MinSIOp::create(b, loc, i, last));
  }
  return memref::LoadOp::create(b, loc, buffer, clamped);
}
