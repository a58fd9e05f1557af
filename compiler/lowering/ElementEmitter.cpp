//===- ElementEmitter.cpp - a tile expression as scalar code --------------===//

#include "compiler/lowering/ElementEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/TypeSwitch.h"

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

static arith::CmpFPredicate floatPredicate(CmpPredicate p) {
  switch (p) {
  case CmpPredicate::eq:
    return arith::CmpFPredicate::OEQ;
  case CmpPredicate::ne:
    return arith::CmpFPredicate::UNE;
  case CmpPredicate::lt:
    return arith::CmpFPredicate::OLT;
  case CmpPredicate::le:
    return arith::CmpFPredicate::OLE;
  case CmpPredicate::gt:
    return arith::CmpFPredicate::OGT;
  case CmpPredicate::ge:
    return arith::CmpFPredicate::OGE;
  }
  llvm_unreachable("unknown predicate");
}

static arith::CmpIPredicate intPredicate(CmpPredicate p) {
  switch (p) {
  case CmpPredicate::eq:
    return arith::CmpIPredicate::eq;
  case CmpPredicate::ne:
    return arith::CmpIPredicate::ne;
  case CmpPredicate::lt:
    return arith::CmpIPredicate::slt;
  case CmpPredicate::le:
    return arith::CmpIPredicate::sle;
  case CmpPredicate::gt:
    return arith::CmpIPredicate::sgt;
  case CmpPredicate::ge:
    return arith::CmpIPredicate::sge;
  }
  llvm_unreachable("unknown predicate");
}

FailureOr<Value> ElementEmitter::lower(Operation *op, ArrayRef<Value> v) {
  OpBuilder &b = builder;
  Location loc = op->getLoc();
  auto isFloat = [&](Value x) { return isa<FloatType>(x.getType()); };
  // f32 and i32 forms of one binary op.
  auto binary = [&]<typename FOp, typename IOp>() -> Value {
    if (isFloat(v[0]))
      return FOp::create(b, loc, v[0], v[1]);
    return IOp::create(b, loc, v[0], v[1]);
  };
  return TypeSwitch<Operation *, FailureOr<Value>>(op)
      .Case([&](ConstantOp c) -> FailureOr<Value> {
        return arith::ConstantOp::create(b, loc, c.getValue()).getResult();
      })
      .Case([&](AddOp) {
        return binary.operator()<arith::AddFOp, arith::AddIOp>();
      })
      .Case([&](SubOp) {
        return binary.operator()<arith::SubFOp, arith::SubIOp>();
      })
      .Case([&](MulOp) {
        return binary.operator()<arith::MulFOp, arith::MulIOp>();
      })
      .Case([&](DivOp) {
        return binary.operator()<arith::DivFOp, arith::DivSIOp>();
      })
      .Case([&](RemOp) -> FailureOr<Value> {
        return arith::RemSIOp::create(b, loc, v[0], v[1]).getResult();
      })
      .Case([&](MaxOp) {
        return binary.operator()<arith::MaximumFOp, arith::MaxSIOp>();
      })
      .Case([&](MinOp) {
        return binary.operator()<arith::MinimumFOp, arith::MinSIOp>();
      })
      .Case([&](AndOp) -> FailureOr<Value> {
        return arith::AndIOp::create(b, loc, v[0], v[1]).getResult();
      })
      .Case([&](OrOp) -> FailureOr<Value> {
        return arith::OrIOp::create(b, loc, v[0], v[1]).getResult();
      })
      .Case([&](XorOp) -> FailureOr<Value> {
        return arith::XOrIOp::create(b, loc, v[0], v[1]).getResult();
      })
      .Case([&](CmpOp cmp) -> FailureOr<Value> {
        if (isFloat(v[0]))
          return arith::CmpFOp::create(
                     b, loc, floatPredicate(cmp.getPredicate()), v[0], v[1])
              .getResult();
        return arith::CmpIOp::create(b, loc, intPredicate(cmp.getPredicate()),
                                     v[0], v[1])
            .getResult();
      })
      .Case([&](NegOp) -> FailureOr<Value> {
        if (isFloat(v[0]))
          return arith::NegFOp::create(b, loc, v[0]).getResult();
        Value zero = arith::ConstantIntOp::create(b, loc, v[0].getType(), 0);
        return arith::SubIOp::create(b, loc, zero, v[0]).getResult();
      })
      .Case([&](AbsOp) -> FailureOr<Value> {
        if (isFloat(v[0]))
          return math::AbsFOp::create(b, loc, v[0]).getResult();
        return math::AbsIOp::create(b, loc, v[0]).getResult();
      })
      .Case([&](ExpOp) -> FailureOr<Value> {
        return math::ExpOp::create(b, loc, v[0]).getResult();
      })
      .Case([&](LogOp) -> FailureOr<Value> {
        return math::LogOp::create(b, loc, v[0]).getResult();
      })
      .Case([&](TanhOp) -> FailureOr<Value> {
        return math::TanhOp::create(b, loc, v[0]).getResult();
      })
      .Case([&](SqrtOp) -> FailureOr<Value> {
        return math::SqrtOp::create(b, loc, v[0]).getResult();
      })
      .Case([&](SigmoidOp) -> FailureOr<Value> {
        // 1 / (1 + exp(-x))
        Value one = arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                                   APFloat(1.0f));
        Value e =
            math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, v[0]));
        return arith::DivFOp::create(b, loc, one,
                                     arith::AddFOp::create(b, loc, one, e))
            .getResult();
      })
      .Case([&](NotOp) -> FailureOr<Value> {
        Value one = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1);
        return arith::XOrIOp::create(b, loc, v[0], one).getResult();
      })
      .Case([&](CastOp cast) -> FailureOr<Value> {
        Type to = scalarType(cast.getType());
        Type from = v[0].getType();
        if (from.isInteger(1) && to.isInteger(32))
          return arith::ExtUIOp::create(b, loc, to, v[0]).getResult();
        if (from.isInteger(1))
          return arith::UIToFPOp::create(b, loc, to, v[0]).getResult();
        if (to.isF32())
          return arith::SIToFPOp::create(b, loc, to, v[0]).getResult();
        return arith::FPToSIOp::create(b, loc, to, v[0]).getResult();
      })
      .Case([&](SelectOp) -> FailureOr<Value> {
        return arith::SelectOp::create(b, loc, v[0], v[1], v[2]).getResult();
      })
      .Default([&](Operation *other) -> FailureOr<Value> {
        return other->emitOpError()
               << "has no per-element form; a score modification or mask may "
                  "not use it";
      });
}
