//===- TangentModels.cpp - each tile op's derivative ----------------------===//
//
// TileTangentOpInterface for the f32 tile ops: the chain rule of each, with
// zero and one kept symbolic by ScoreTangentEmitter's helpers so that a
// scale or an added bias costs no code per element. max and min take the
// derivative of the operand they pick (the first at a tie), select that of
// the side it chooses.
//
//===----------------------------------------------------------------------===//

#include "compiler/rules/TangentInterface.h"
#include "compiler/rules/TileOpRules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace flashjit;
using namespace flashjit::tile;

namespace {

using Kind = ScoreTangent::Kind;

template <typename Model, typename Op>
using TangentModel = TileTangentOpInterface::ExternalModel<Model, Op>;

/// Constants, parameters, the scale, gathers and casts from integers do not
/// depend on the score.
template <typename Op>
struct IndependentTangent : TangentModel<IndependentTangent<Op>, Op> {
  ScoreTangent emitTangent(Operation *, ScoreTangentEmitter &,
                           ArrayRef<ScoreTangent>) const {
    return ScoreTangentEmitter::zero();
  }
};

struct AddTangent : TangentModel<AddTangent, AddOp> {
  ScoreTangent emitTangent(Operation *, ScoreTangentEmitter &e,
                           ArrayRef<ScoreTangent> d) const {
    return e.add(d[0], d[1]);
  }
};

struct SubTangent : TangentModel<SubTangent, SubOp> {
  ScoreTangent emitTangent(Operation *, ScoreTangentEmitter &e,
                           ArrayRef<ScoreTangent> d) const {
    return e.add(d[0], e.neg(d[1]));
  }
};

/// da * b + a * db.
struct MulTangent : TangentModel<MulTangent, MulOp> {
  ScoreTangent emitTangent(Operation *op, ScoreTangentEmitter &e,
                           ArrayRef<ScoreTangent> d) const {
    auto o = cast<MulOp>(op);
    const ScoreTangent &l = d[0], &r = d[1];
    ScoreTangent left = l.kind == Kind::zero
                            ? e.zero()
                            : e.scaled(l, e.value(o.getRhs()), o.getRhs());
    ScoreTangent right = r.kind == Kind::zero
                             ? e.zero()
                             : e.scaled(r, e.value(o.getLhs()), o.getLhs());
    return e.add(left, right);
  }
};

struct DivTangent : TangentModel<DivTangent, DivOp> {
  ScoreTangent emitTangent(Operation *op, ScoreTangentEmitter &e,
                           ArrayRef<ScoreTangent> t) const {
    auto o = cast<DivOp>(op);
    OpBuilder &b = e.builder;
    Location loc = e.loc;
    const ScoreTangent &l = t[0], &r = t[1];
    if (r.kind == Kind::zero) {
      // da / b
      if (l.kind == Kind::zero)
        return e.zero();
      Value d = e.value(o.getRhs());
      return e.general(arith::DivFOp::create(b, loc, e.materialize(l), d),
                       l.uniform && e.isScalar(o.getRhs()));
    }
    // (da * b - a * db) / b^2
    Value a = e.value(o.getLhs()), d = e.value(o.getRhs());
    Value num = arith::SubFOp::create(
        b, loc, arith::MulFOp::create(b, loc, e.materialize(l), d),
        arith::MulFOp::create(b, loc, a, e.materialize(r)));
    return e.perElement(arith::DivFOp::create(
        b, loc, num, arith::MulFOp::create(b, loc, d, d)));
  }
};

/// The tangent of the operand taken: the first where `pred` holds.
template <typename Op, arith::CmpFPredicate pred>
struct ExtremumTangent : TangentModel<ExtremumTangent<Op, pred>, Op> {
  ScoreTangent emitTangent(Operation *op, ScoreTangentEmitter &e,
                           ArrayRef<ScoreTangent> t) const {
    const ScoreTangent &l = t[0], &r = t[1];
    if (l.kind == Kind::zero && r.kind == Kind::zero)
      return e.zero();
    Value a = e.value(op->getOperand(0)), c = e.value(op->getOperand(1));
    Value first = arith::CmpFOp::create(e.builder, e.loc, pred, a, c);
    return e.perElement(arith::SelectOp::create(
        e.builder, e.loc, first, e.materialize(l), e.materialize(r)));
  }
};

struct NegTangent : TangentModel<NegTangent, NegOp> {
  ScoreTangent emitTangent(Operation *, ScoreTangentEmitter &e,
                           ArrayRef<ScoreTangent> d) const {
    return e.neg(d[0]);
  }
};

/// dx where x >= 0, -dx where x < 0.
struct AbsTangent : TangentModel<AbsTangent, AbsOp> {
  ScoreTangent emitTangent(Operation *op, ScoreTangentEmitter &e,
                           ArrayRef<ScoreTangent> t) const {
    const ScoreTangent &dx = t[0];
    if (dx.kind == Kind::zero)
      return e.zero();
    OpBuilder &b = e.builder;
    Value x = e.value(op->getOperand(0));
    Value isNeg = arith::CmpFOp::create(b, e.loc, arith::CmpFPredicate::OLT, x,
                                        e.constant(0));
    Value d = e.materialize(dx);
    return e.perElement(arith::SelectOp::create(
        b, e.loc, isNeg, arith::NegFOp::create(b, e.loc, d), d));
  }
};

/// d exp(x) = exp(x) dx.
struct ExpTangent : TangentModel<ExpTangent, ExpOp> {
  ScoreTangent emitTangent(Operation *op, ScoreTangentEmitter &e,
                           ArrayRef<ScoreTangent> t) const {
    const ScoreTangent &dx = t[0];
    if (dx.kind == Kind::zero)
      return e.zero();
    return e.perElement(arith::MulFOp::create(
        e.builder, e.loc, e.value(op->getResult(0)), e.materialize(dx)));
  }
};

/// d log(x) = dx / x.
struct LogTangent : TangentModel<LogTangent, LogOp> {
  ScoreTangent emitTangent(Operation *op, ScoreTangentEmitter &e,
                           ArrayRef<ScoreTangent> t) const {
    const ScoreTangent &dx = t[0];
    if (dx.kind == Kind::zero)
      return e.zero();
    return e.perElement(arith::DivFOp::create(
        e.builder, e.loc, e.materialize(dx), e.value(op->getOperand(0))));
  }
};

/// d tanh(x) = (1 - tanh(x)^2) dx.
struct TanhTangent : TangentModel<TanhTangent, TanhOp> {
  ScoreTangent emitTangent(Operation *op, ScoreTangentEmitter &e,
                           ArrayRef<ScoreTangent> t) const {
    const ScoreTangent &dx = t[0];
    if (dx.kind == Kind::zero)
      return e.zero();
    OpBuilder &b = e.builder;
    Value th = e.value(op->getResult(0));
    Value slope = arith::SubFOp::create(
        b, e.loc, e.constant(1), arith::MulFOp::create(b, e.loc, th, th));
    return e.perElement(
        arith::MulFOp::create(b, e.loc, slope, e.materialize(dx)));
  }
};

/// d sqrt(x) = dx / (2 sqrt(x)).
struct SqrtTangent : TangentModel<SqrtTangent, SqrtOp> {
  ScoreTangent emitTangent(Operation *op, ScoreTangentEmitter &e,
                           ArrayRef<ScoreTangent> t) const {
    const ScoreTangent &dx = t[0];
    if (dx.kind == Kind::zero)
      return e.zero();
    OpBuilder &b = e.builder;
    return e.perElement(arith::DivFOp::create(
        b, e.loc, e.materialize(dx),
        arith::MulFOp::create(b, e.loc, e.constant(2),
                              e.value(op->getResult(0)))));
  }
};

/// d sigmoid(x) = sigmoid(x) (1 - sigmoid(x)) dx.
struct SigmoidTangent : TangentModel<SigmoidTangent, SigmoidOp> {
  ScoreTangent emitTangent(Operation *op, ScoreTangentEmitter &e,
                           ArrayRef<ScoreTangent> t) const {
    const ScoreTangent &dx = t[0];
    if (dx.kind == Kind::zero)
      return e.zero();
    OpBuilder &b = e.builder;
    Value sg = e.value(op->getResult(0));
    Value slope = arith::MulFOp::create(
        b, e.loc, sg, arith::SubFOp::create(b, e.loc, e.constant(1), sg));
    return e.perElement(
        arith::MulFOp::create(b, e.loc, slope, e.materialize(dx)));
  }
};

/// The chosen side's tangent; the condition has none.
struct SelectTangent : TangentModel<SelectTangent, SelectOp> {
  ScoreTangent emitTangent(Operation *op, ScoreTangentEmitter &e,
                           ArrayRef<ScoreTangent> t) const {
    const ScoreTangent &x = t[1], &y = t[2];
    if (x.kind == Kind::zero && y.kind == Kind::zero)
      return e.zero();
    return e.perElement(arith::SelectOp::create(
        e.builder, e.loc, e.value(cast<SelectOp>(op).getCond()),
        e.materialize(x), e.materialize(y)));
  }
};

} // namespace

void flashjit::registerTangentModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, TileDialect *) {
    ConstantOp::attachInterface<IndependentTangent<ConstantOp>>(*ctx);
    ParamOp::attachInterface<IndependentTangent<ParamOp>>(*ctx);
    SoftmaxScaleOp::attachInterface<IndependentTangent<SoftmaxScaleOp>>(*ctx);
    LoadOp::attachInterface<IndependentTangent<LoadOp>>(*ctx);
    CastOp::attachInterface<IndependentTangent<CastOp>>(*ctx);
    AddOp::attachInterface<AddTangent>(*ctx);
    SubOp::attachInterface<SubTangent>(*ctx);
    MulOp::attachInterface<MulTangent>(*ctx);
    DivOp::attachInterface<DivTangent>(*ctx);
    MaxOp::attachInterface<ExtremumTangent<MaxOp, arith::CmpFPredicate::OGE>>(
        *ctx);
    MinOp::attachInterface<ExtremumTangent<MinOp, arith::CmpFPredicate::OLE>>(
        *ctx);
    NegOp::attachInterface<NegTangent>(*ctx);
    AbsOp::attachInterface<AbsTangent>(*ctx);
    ExpOp::attachInterface<ExpTangent>(*ctx);
    LogOp::attachInterface<LogTangent>(*ctx);
    TanhOp::attachInterface<TanhTangent>(*ctx);
    SqrtOp::attachInterface<SqrtTangent>(*ctx);
    SigmoidOp::attachInterface<SigmoidTangent>(*ctx);
    SelectOp::attachInterface<SelectTangent>(*ctx);
  });
}
