//===- ScoreDerivative.cpp - d(score mod)/d(score), derived ---------------===//

#include "compiler/lowering/ScoreDerivative.h"

#include "compiler/rules/TangentInterface.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace flashjit;
using namespace flashjit::tile;

using Kind = ScoreTangent::Kind;

FailureOr<ScoreTangent> ScoreTangentEmitter::emit(Value v) {
  if (v == rawScore)
    return ScoreTangent{Kind::one, Value(), true};
  // Integer and boolean values have none.
  if (!cast<TileType>(v.getType()).getElementType().isF32())
    return zero();
  auto known = tangents.find(v);
  if (known != tangents.end())
    return known->second;
  Operation *op = v.getDefiningOp();
  if (!op)
    return failure();
  auto rule = dyn_cast<TileTangentOpInterface>(op);
  if (!rule)
    return op->emitOpError() << "has no derivative; a score modification "
                                "may not use it";
  SmallVector<ScoreTangent> operands;
  for (Value operand : op->getOperands()) {
    if (isa<BufferType>(operand.getType()))
      continue; // a gather's buffer
    FailureOr<ScoreTangent> t = emit(operand);
    if (failed(t))
      return failure();
    operands.push_back(*t);
  }
  ScoreTangent t = rule.emitTangent(*this, operands);
  tangents[v] = t;
  return t;
}

Value ScoreTangentEmitter::value(Value tileValue) {
  FailureOr<Value> scalar = primal.emit(tileValue);
  assert(succeeded(scalar) && "the modification has a per-element form");
  return *scalar;
}

Value ScoreTangentEmitter::constant(float v) {
  return arith::ConstantFloatOp::create(builder, loc, builder.getF32Type(),
                                        APFloat(v))
      .getResult();
}

Value ScoreTangentEmitter::materialize(const ScoreTangent &t) {
  return t.kind == Kind::zero  ? constant(0.0f)
         : t.kind == Kind::one ? constant(1.0f)
                               : t.value;
}

ScoreTangent ScoreTangentEmitter::add(const ScoreTangent &x,
                                      const ScoreTangent &y) {
  if (x.kind == Kind::zero)
    return y;
  if (y.kind == Kind::zero)
    return x;
  return general(
      arith::AddFOp::create(builder, loc, materialize(x), materialize(y)),
      x.uniform && y.uniform);
}

ScoreTangent ScoreTangentEmitter::neg(const ScoreTangent &x) {
  if (x.kind == Kind::zero)
    return x;
  return general(arith::NegFOp::create(builder, loc, materialize(x)),
                 x.uniform);
}

ScoreTangent ScoreTangentEmitter::scaled(const ScoreTangent &x, Value factor,
                                         Value of) {
  if (x.kind == Kind::zero)
    return x;
  bool uniform = x.uniform && isScalar(of);
  if (x.kind == Kind::one)
    return general(factor, uniform);
  return general(arith::MulFOp::create(builder, loc, x.value, factor), uniform);
}

bool ScoreTangentEmitter::isScalar(Value tileValue) {
  return cast<TileType>(tileValue.getType()).isScalar();
}

FailureOr<ScoreTangent> flashjit::emitScoreTangent(ElementEmitter &primal,
                                                   OpBuilder &builder,
                                                   Value modified,
                                                   Value rawScore) {
  ScoreTangentEmitter tangents(primal, builder, modified.getLoc(), rawScore);
  return tangents.emit(modified);
}
