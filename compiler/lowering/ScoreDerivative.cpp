//===- ScoreDerivative.cpp - d(score mod)/d(score), derived ---------------===//

#include "compiler/lowering/ScoreDerivative.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace flashjit;
using namespace flashjit::tile;

Value flashjit::emitScoreTangent(ElementEmitter &primal, OpBuilder &b,
                                 Value modified, Value rawScore) {
  Location loc = modified.getLoc();
  auto cf = [&](float v) {
    return arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(v))
        .getResult();
  };
  auto mulf = [&](Value x, Value y) {
    return arith::MulFOp::create(b, loc, x, y).getResult();
  };
  auto addf = [&](Value x, Value y) {
    return arith::AddFOp::create(b, loc, x, y).getResult();
  };
  auto subf = [&](Value x, Value y) {
    return arith::SubFOp::create(b, loc, x, y).getResult();
  };
  auto divf = [&](Value x, Value y) {
    return arith::DivFOp::create(b, loc, x, y).getResult();
  };
  auto value = [&](Value tileValue) { return *primal.emit(tileValue); };

  // Tangents of f32 tile values; integer and boolean values have none.
  llvm::DenseMap<Value, Value> tangents;
  std::function<Value(Value)> tangent = [&](Value v) -> Value {
    if (v == rawScore)
      return cf(1.0f);
    if (!cast<TileType>(v.getType()).getElementType().isF32())
      return cf(0.0f);
    if (Value known = tangents.lookup(v))
      return known;
    Operation *op = v.getDefiningOp();
    Value t = TypeSwitch<Operation *, Value>(op)
                  .Case([&](AddOp o) {
                    return addf(tangent(o.getLhs()), tangent(o.getRhs()));
                  })
                  .Case([&](SubOp o) {
                    return subf(tangent(o.getLhs()), tangent(o.getRhs()));
                  })
                  .Case([&](MulOp o) {
                    return addf(mulf(tangent(o.getLhs()), value(o.getRhs())),
                                mulf(value(o.getLhs()), tangent(o.getRhs())));
                  })
                  .Case([&](DivOp o) {
                    // (da * b - a * db) / b^2
                    Value a = value(o.getLhs()), d = value(o.getRhs());
                    return divf(subf(mulf(tangent(o.getLhs()), d),
                                     mulf(a, tangent(o.getRhs()))),
                                mulf(d, d));
                  })
                  .Case<MaxOp, MinOp>([&](Operation *m) {
                    Value a = value(m->getOperand(0)),
                          c = value(m->getOperand(1));
                    auto pred = isa<MaxOp>(m) ? arith::CmpFPredicate::OGE
                                              : arith::CmpFPredicate::OLE;
                    Value first = arith::CmpFOp::create(b, loc, pred, a, c);
                    return arith::SelectOp::create(b, loc, first,
                                                   tangent(m->getOperand(0)),
                                                   tangent(m->getOperand(1)))
                        .getResult();
                  })
                  .Case([&](NegOp o) {
                    return arith::NegFOp::create(b, loc, tangent(o.getX()))
                        .getResult();
                  })
                  .Case([&](AbsOp o) {
                    Value x = value(o.getX());
                    Value neg = arith::CmpFOp::create(
                        b, loc, arith::CmpFPredicate::OLT, x, cf(0));
                    Value dx = tangent(o.getX());
                    return arith::SelectOp::create(
                               b, loc, neg,
                               arith::NegFOp::create(b, loc, dx), dx)
                        .getResult();
                  })
                  .Case([&](ExpOp o) {
                    return mulf(value(o), tangent(o.getX()));
                  })
                  .Case([&](LogOp o) {
                    return divf(tangent(o.getX()), value(o.getX()));
                  })
                  .Case([&](TanhOp o) {
                    Value t = value(o);
                    return mulf(subf(cf(1), mulf(t, t)), tangent(o.getX()));
                  })
                  .Case([&](SqrtOp o) {
                    return divf(tangent(o.getX()), mulf(cf(2), value(o)));
                  })
                  .Case([&](SigmoidOp o) {
                    Value s = value(o);
                    return mulf(mulf(s, subf(cf(1), s)), tangent(o.getX()));
                  })
                  .Case([&](SelectOp o) {
                    return arith::SelectOp::create(b, loc, value(o.getCond()),
                                                   tangent(o.getA()),
                                                   tangent(o.getB()))
                        .getResult();
                  })
                  // Constants, casts from integers, parameters, gathers and
                  // the scale do not depend on the score.
                  .Default([&](Operation *) { return cf(0.0f); });
    tangents[v] = t;
    return t;
  };
  return tangent(modified);
}
