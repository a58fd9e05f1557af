//===- ScoreDerivative.cpp - d(score mod)/d(score), derived ---------------===//

#include "compiler/lowering/ScoreDerivative.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace flashjit;
using namespace flashjit::tile;

ScoreTangent flashjit::emitScoreTangent(ElementEmitter &primal, OpBuilder &b,
                                        Value modified, Value rawScore) {
  using Kind = ScoreTangent::Kind;
  Location loc = modified.getLoc();
  auto cf = [&](float v) {
    return arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(v))
        .getResult();
  };
  auto value = [&](Value tileValue) { return *primal.emit(tileValue); };
  auto isScalar = [](Value tileValue) {
    return cast<TileType>(tileValue.getType()).isScalar();
  };
  const ScoreTangent zero{Kind::zero, Value(), true};
  auto general = [](Value v, bool uniform) {
    return ScoreTangent{Kind::value, v, uniform};
  };
  // The f32 of a tangent, for the rules that need one.
  auto materialize = [&](const ScoreTangent &t) {
    return t.kind == Kind::zero  ? cf(0.0f)
           : t.kind == Kind::one ? cf(1.0f)
                                 : t.value;
  };
  auto add = [&](const ScoreTangent &x, const ScoreTangent &y) {
    if (x.kind == Kind::zero)
      return y;
    if (y.kind == Kind::zero)
      return x;
    return general(
        arith::AddFOp::create(b, loc, materialize(x), materialize(y)),
        x.uniform && y.uniform);
  };
  auto neg = [&](const ScoreTangent &x) {
    if (x.kind == Kind::zero)
      return x;
    return general(arith::NegFOp::create(b, loc, materialize(x)), x.uniform);
  };
  // x * factor, where the factor is the value of tile value `of`.
  auto scaled = [&](const ScoreTangent &x, Value factor, Value of) {
    if (x.kind == Kind::zero)
      return x;
    bool uniform = x.uniform && isScalar(of);
    if (x.kind == Kind::one)
      return general(factor, uniform);
    return general(arith::MulFOp::create(b, loc, x.value, factor), uniform);
  };
  // A tangent that varies per element.
  auto perElement = [&](Value v) { return general(v, false); };

  llvm::DenseMap<Value, ScoreTangent> tangents;
  std::function<ScoreTangent(Value)> tangent = [&](Value v) -> ScoreTangent {
    if (v == rawScore)
      return ScoreTangent{Kind::one, Value(), true};
    // Integer and boolean values have none.
    if (!cast<TileType>(v.getType()).getElementType().isF32())
      return zero;
    auto known = tangents.find(v);
    if (known != tangents.end())
      return known->second;
    Operation *op = v.getDefiningOp();
    ScoreTangent t =
        TypeSwitch<Operation *, ScoreTangent>(op)
            .Case([&](AddOp o) {
              return add(tangent(o.getLhs()), tangent(o.getRhs()));
            })
            .Case([&](SubOp o) {
              return add(tangent(o.getLhs()), neg(tangent(o.getRhs())));
            })
            .Case([&](MulOp o) {
              ScoreTangent l = tangent(o.getLhs()), r = tangent(o.getRhs());
              ScoreTangent left =
                  l.kind == Kind::zero
                      ? zero
                      : scaled(l, value(o.getRhs()), o.getRhs());
              ScoreTangent right =
                  r.kind == Kind::zero
                      ? zero
                      : scaled(r, value(o.getLhs()), o.getLhs());
              return add(left, right);
            })
            .Case([&](DivOp o) {
              ScoreTangent l = tangent(o.getLhs()), r = tangent(o.getRhs());
              if (r.kind == Kind::zero) {
                // da / b
                if (l.kind == Kind::zero)
                  return zero;
                Value d = value(o.getRhs());
                return general(arith::DivFOp::create(b, loc, materialize(l), d),
                               l.uniform && isScalar(o.getRhs()));
              }
              // (da * b - a * db) / b^2
              Value a = value(o.getLhs()), d = value(o.getRhs());
              Value num = arith::SubFOp::create(
                  b, loc, arith::MulFOp::create(b, loc, materialize(l), d),
                  arith::MulFOp::create(b, loc, a, materialize(r)));
              return perElement(arith::DivFOp::create(
                  b, loc, num, arith::MulFOp::create(b, loc, d, d)));
            })
            .Case<MaxOp, MinOp>([&](Operation *m) {
              ScoreTangent l = tangent(m->getOperand(0)),
                           r = tangent(m->getOperand(1));
              if (l.kind == Kind::zero && r.kind == Kind::zero)
                return zero;
              Value a = value(m->getOperand(0)), c = value(m->getOperand(1));
              auto pred = isa<MaxOp>(m) ? arith::CmpFPredicate::OGE
                                        : arith::CmpFPredicate::OLE;
              Value first = arith::CmpFOp::create(b, loc, pred, a, c);
              return perElement(arith::SelectOp::create(
                  b, loc, first, materialize(l), materialize(r)));
            })
            .Case([&](NegOp o) { return neg(tangent(o.getX())); })
            .Case([&](AbsOp o) {
              ScoreTangent dx = tangent(o.getX());
              if (dx.kind == Kind::zero)
                return zero;
              Value x = value(o.getX());
              Value isNeg = arith::CmpFOp::create(
                  b, loc, arith::CmpFPredicate::OLT, x, cf(0));
              Value d = materialize(dx);
              return perElement(arith::SelectOp::create(
                  b, loc, isNeg, arith::NegFOp::create(b, loc, d), d));
            })
            .Case([&](ExpOp o) {
              ScoreTangent dx = tangent(o.getX());
              if (dx.kind == Kind::zero)
                return zero;
              return perElement(
                  arith::MulFOp::create(b, loc, value(o), materialize(dx)));
            })
            .Case([&](LogOp o) {
              ScoreTangent dx = tangent(o.getX());
              if (dx.kind == Kind::zero)
                return zero;
              return perElement(arith::DivFOp::create(b, loc, materialize(dx),
                                                      value(o.getX())));
            })
            .Case([&](TanhOp o) {
              ScoreTangent dx = tangent(o.getX());
              if (dx.kind == Kind::zero)
                return zero;
              Value th = value(o);
              Value slope = arith::SubFOp::create(
                  b, loc, cf(1), arith::MulFOp::create(b, loc, th, th));
              return perElement(
                  arith::MulFOp::create(b, loc, slope, materialize(dx)));
            })
            .Case([&](SqrtOp o) {
              ScoreTangent dx = tangent(o.getX());
              if (dx.kind == Kind::zero)
                return zero;
              return perElement(arith::DivFOp::create(
                  b, loc, materialize(dx),
                  arith::MulFOp::create(b, loc, cf(2), value(o))));
            })
            .Case([&](SigmoidOp o) {
              ScoreTangent dx = tangent(o.getX());
              if (dx.kind == Kind::zero)
                return zero;
              Value sg = value(o);
              Value slope = arith::MulFOp::create(
                  b, loc, sg, arith::SubFOp::create(b, loc, cf(1), sg));
              return perElement(
                  arith::MulFOp::create(b, loc, slope, materialize(dx)));
            })
            .Case([&](SelectOp o) {
              ScoreTangent x = tangent(o.getA()), y = tangent(o.getB());
              if (x.kind == Kind::zero && y.kind == Kind::zero)
                return zero;
              return perElement(arith::SelectOp::create(
                  b, loc, value(o.getCond()), materialize(x), materialize(y)));
            })
            // Constants, casts from integers, parameters, gathers and
            // the scale do not depend on the score.
            .Default([&](Operation *) { return zero; });
    tangents[v] = t;
    return t;
  };
  return tangent(modified);
}
