//===- ElementEmitter.cpp - a tile expression as scalar code --------------===//

#include "compiler/lowering/ElementEmitter.h"

#include "compiler/rules/ScalarLoweringInterface.h"

using namespace mlir;
using namespace flashjit;
using namespace flashjit::tile;

Type ElementEmitter::scalarType(TileType type) {
  Type element = type.getElementType();
  assert(!isa<InputType>(element) && "input tiles have no scalar form here");
  return element;
}

FailureOr<Value> ElementEmitter::emit(Value tileValue) {
  if (Value known = scalars.lookup(tileValue))
    return known;
  Operation *op = tileValue.getDefiningOp();
  if (!op)
    return failure();
  // Leaves that need no operands, and the score itself, come from outside.
  if (isa<DotOp, IndexOp, ExtentOp, ParamOp, SoftmaxScaleOp>(op)) {
    FailureOr<Value> scalar = leaf(builder, op, {});
    if (succeeded(scalar))
      scalars[tileValue] = *scalar;
    return scalar;
  }
  SmallVector<Value> operands;
  for (Value operand : op->getOperands()) {
    if (isa<BufferType>(operand.getType()))
      continue; // a gather's buffer: the leaf function knows it
    FailureOr<Value> scalar = emit(operand);
    if (failed(scalar))
      return failure();
    operands.push_back(*scalar);
  }
  FailureOr<Value> result =
      isa<LoadOp>(op) ? leaf(builder, op, operands) : lower(op, operands);
  if (succeeded(result))
    scalars[tileValue] = *result;
  return result;
}

FailureOr<Value> ElementEmitter::lower(Operation *op,
                                       ArrayRef<Value> operands) {
  auto rule = dyn_cast<TileScalarLoweringOpInterface>(op);
  if (!rule)
    return op->emitOpError()
           << "has no per-element form; a score modification or mask may "
              "not use it";
  return rule.emitScalar(builder, operands);
}
