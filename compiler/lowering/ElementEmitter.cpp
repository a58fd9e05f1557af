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
  FailureOr<Value> result = isa<LoadOp>(op) ? leaf(builder, op, operands)
                                            : lower(op, operands);
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
      return b.create<FOp>(loc, v[0], v[1]);
    return b.create<IOp>(loc, v[0], v[1]);
  };
  return TypeSwitch<Operation *, FailureOr<Value>>(op)
      .Case([&](ConstantOp c) -> FailureOr<Value> {
        return b.create<arith::ConstantOp>(loc, c.getValue()).getResult();
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
        return b.create<arith::RemSIOp>(loc, v[0], v[1]).getResult();
      })
      .Case([&](MaxOp) {
        return binary.operator()<arith::MaximumFOp, arith::MaxSIOp>();
      })
      .Case([&](MinOp) {
        return binary.operator()<arith::MinimumFOp, arith::MinSIOp>();
      })
      .Case([&](AndOp) -> FailureOr<Value> {
        return b.create<arith::AndIOp>(loc, v[0], v[1]).getResult();
      })
      .Case([&](OrOp) -> FailureOr<Value> {
        return b.create<arith::OrIOp>(loc, v[0], v[1]).getResult();
      })
      .Case([&](XorOp) -> FailureOr<Value> {
        return b.create<arith::XOrIOp>(loc, v[0], v[1]).getResult();
      })
      .Case([&](CmpOp cmp) -> FailureOr<Value> {
        if (isFloat(v[0]))
          return b
              .create<arith::CmpFOp>(loc, floatPredicate(cmp.getPredicate()),
                                     v[0], v[1])
              .getResult();
        return b
            .create<arith::CmpIOp>(loc, intPredicate(cmp.getPredicate()), v[0],
                                   v[1])
            .getResult();
      })
      .Case([&](NegOp) -> FailureOr<Value> {
        if (isFloat(v[0]))
          return b.create<arith::NegFOp>(loc, v[0]).getResult();
        Value zero = b.create<arith::ConstantIntOp>(loc, v[0].getType(), 0);
        return b.create<arith::SubIOp>(loc, zero, v[0]).getResult();
      })
      .Case([&](AbsOp) -> FailureOr<Value> {
        if (isFloat(v[0]))
          return b.create<math::AbsFOp>(loc, v[0]).getResult();
        return b.create<math::AbsIOp>(loc, v[0]).getResult();
      })
      .Case([&](ExpOp) -> FailureOr<Value> {
        return b.create<math::ExpOp>(loc, v[0]).getResult();
      })
      .Case([&](LogOp) -> FailureOr<Value> {
        return b.create<math::LogOp>(loc, v[0]).getResult();
      })
      .Case([&](TanhOp) -> FailureOr<Value> {
        return b.create<math::TanhOp>(loc, v[0]).getResult();
      })
      .Case([&](SqrtOp) -> FailureOr<Value> {
        return b.create<math::SqrtOp>(loc, v[0]).getResult();
      })
      .Case([&](SigmoidOp) -> FailureOr<Value> {
        // 1 / (1 + exp(-x))
        Value one = b.create<arith::ConstantFloatOp>(
            loc, b.getF32Type(), APFloat(1.0f));
        Value e = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, v[0]));
        return b
            .create<arith::DivFOp>(loc, one, b.create<arith::AddFOp>(loc, one, e))
            .getResult();
      })
      .Case([&](NotOp) -> FailureOr<Value> {
        Value one = b.create<arith::ConstantIntOp>(loc, b.getI1Type(), 1);
        return b.create<arith::XOrIOp>(loc, v[0], one).getResult();
      })
      .Case([&](CastOp cast) -> FailureOr<Value> {
        Type to = scalarType(cast.getType());
        Type from = v[0].getType();
        if (from.isInteger(1) && to.isInteger(32))
          return b.create<arith::ExtUIOp>(loc, to, v[0]).getResult();
        if (from.isInteger(1))
          return b.create<arith::UIToFPOp>(loc, to, v[0]).getResult();
        if (to.isF32())
          return b.create<arith::SIToFPOp>(loc, to, v[0]).getResult();
        return b.create<arith::FPToSIOp>(loc, to, v[0]).getResult();
      })
      .Case([&](SelectOp) -> FailureOr<Value> {
        return b.create<arith::SelectOp>(loc, v[0], v[1], v[2]).getResult();
      })
      .Default([&](Operation *other) -> FailureOr<Value> {
        return other->emitOpError()
               << "has no per-element form; a score modification or mask may "
                  "not use it";
      });
}
