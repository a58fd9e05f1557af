//===- ScalarLoweringModels.cpp - each tile op at one element -------------===//
//
// TileScalarLoweringOpInterface for every elementwise tile op: i32 division
// rounds toward zero and its remainder takes the dividend's sign (divsi,
// remsi), max and min of floats propagate NaN (maximumf, minimumf), and
// casts from i1 read false as 0 and true as 1.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/ElementEmitter.h"
#include "compiler/rules/ScalarLoweringInterface.h"
#include "compiler/rules/TileOpRules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace flashjit;
using namespace flashjit::tile;

namespace {

template <typename Model, typename Op>
using ScalarModel = TileScalarLoweringOpInterface::ExternalModel<Model, Op>;

bool isFloat(Value scalar) { return isa<FloatType>(scalar.getType()); }

/// Builds `ScalarOp` of the scalars of a unary or binary `Op`.
template <typename Op, typename ScalarOp>
Value createOf(OpBuilder &b, Location loc, ArrayRef<Value> v) {
  if constexpr (Op::template hasTrait<OpTrait::OneOperand>())
    return ScalarOp::create(b, loc, v[0]);
  else
    return ScalarOp::create(b, loc, v[0], v[1]);
}

/// One scalar op for every element type.
template <typename Op, typename ScalarOp>
struct SameScalarOp : ScalarModel<SameScalarOp<Op, ScalarOp>, Op> {
  Value emitScalar(Operation *op, OpBuilder &b, ArrayRef<Value> v) const {
    return createOf<Op, ScalarOp>(b, op->getLoc(), v);
  }
};

/// An f32 and an i32 form.
template <typename Op, typename FloatOp, typename IntOp>
struct NumberScalarOp : ScalarModel<NumberScalarOp<Op, FloatOp, IntOp>, Op> {
  Value emitScalar(Operation *op, OpBuilder &b, ArrayRef<Value> v) const {
    if (isFloat(v[0]))
      return createOf<Op, FloatOp>(b, op->getLoc(), v);
    return createOf<Op, IntOp>(b, op->getLoc(), v);
  }
};

struct ConstantScalar : ScalarModel<ConstantScalar, ConstantOp> {
  Value emitScalar(Operation *op, OpBuilder &b, ArrayRef<Value>) const {
    return arith::ConstantOp::create(b, op->getLoc(),
                                     cast<ConstantOp>(op).getValue());
  }
};

arith::CmpFPredicate floatPredicate(CmpPredicate p) {
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

arith::CmpIPredicate intPredicate(CmpPredicate p) {
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

/// Ordered float comparisons (false on NaN) but for `ne`; signed integers.
struct CmpScalar : ScalarModel<CmpScalar, CmpOp> {
  Value emitScalar(Operation *op, OpBuilder &b, ArrayRef<Value> v) const {
    CmpPredicate p = cast<CmpOp>(op).getPredicate();
    if (isFloat(v[0]))
      return arith::CmpFOp::create(b, op->getLoc(), floatPredicate(p), v[0],
                                   v[1]);
    return arith::CmpIOp::create(b, op->getLoc(), intPredicate(p), v[0], v[1]);
  }
};

/// arith has no integer negation: 0 - x.
struct NegScalar : ScalarModel<NegScalar, NegOp> {
  Value emitScalar(Operation *op, OpBuilder &b, ArrayRef<Value> v) const {
    Location loc = op->getLoc();
    if (isFloat(v[0]))
      return arith::NegFOp::create(b, loc, v[0]);
    Value zero = arith::ConstantIntOp::create(b, loc, v[0].getType(), 0);
    return arith::SubIOp::create(b, loc, zero, v[0]);
  }
};

/// 1 / (1 + exp(-x)).
struct SigmoidScalar : ScalarModel<SigmoidScalar, SigmoidOp> {
  Value emitScalar(Operation *op, OpBuilder &b, ArrayRef<Value> v) const {
    Location loc = op->getLoc();
    Value one =
        arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(1.0f));
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, v[0]));
    return arith::DivFOp::create(b, loc, one,
                                 arith::AddFOp::create(b, loc, one, e));
  }
};

/// x xor true.
struct NotScalar : ScalarModel<NotScalar, NotOp> {
  Value emitScalar(Operation *op, OpBuilder &b, ArrayRef<Value> v) const {
    Location loc = op->getLoc();
    Value one = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1);
    return arith::XOrIOp::create(b, loc, v[0], one);
  }
};

/// i1 widens unsigned (true is 1), i32 and f32 convert signed; f32 to i32
/// rounds toward zero.
struct CastScalar : ScalarModel<CastScalar, CastOp> {
  Value emitScalar(Operation *op, OpBuilder &b, ArrayRef<Value> v) const {
    Location loc = op->getLoc();
    Type to = ElementEmitter::scalarType(cast<CastOp>(op).getType());
    Type from = v[0].getType();
    if (from.isInteger(1) && to.isInteger(32))
      return arith::ExtUIOp::create(b, loc, to, v[0]);
    if (from.isInteger(1))
      return arith::UIToFPOp::create(b, loc, to, v[0]);
    if (to.isF32())
      return arith::SIToFPOp::create(b, loc, to, v[0]);
    return arith::FPToSIOp::create(b, loc, to, v[0]);
  }
};

struct SelectScalar : ScalarModel<SelectScalar, SelectOp> {
  Value emitScalar(Operation *op, OpBuilder &b, ArrayRef<Value> v) const {
    return arith::SelectOp::create(b, op->getLoc(), v[0], v[1], v[2]);
  }
};

} // namespace

void flashjit::registerScalarLoweringModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, TileDialect *) {
    ConstantOp::attachInterface<ConstantScalar>(*ctx);
    AddOp::attachInterface<NumberScalarOp<AddOp, arith::AddFOp, arith::AddIOp>>(
        *ctx);
    SubOp::attachInterface<NumberScalarOp<SubOp, arith::SubFOp, arith::SubIOp>>(
        *ctx);
    MulOp::attachInterface<NumberScalarOp<MulOp, arith::MulFOp, arith::MulIOp>>(
        *ctx);
    DivOp::attachInterface<
        NumberScalarOp<DivOp, arith::DivFOp, arith::DivSIOp>>(*ctx);
    RemOp::attachInterface<SameScalarOp<RemOp, arith::RemSIOp>>(*ctx);
    MaxOp::attachInterface<
        NumberScalarOp<MaxOp, arith::MaximumFOp, arith::MaxSIOp>>(*ctx);
    MinOp::attachInterface<
        NumberScalarOp<MinOp, arith::MinimumFOp, arith::MinSIOp>>(*ctx);
    AndOp::attachInterface<SameScalarOp<AndOp, arith::AndIOp>>(*ctx);
    OrOp::attachInterface<SameScalarOp<OrOp, arith::OrIOp>>(*ctx);
    XorOp::attachInterface<SameScalarOp<XorOp, arith::XOrIOp>>(*ctx);
    CmpOp::attachInterface<CmpScalar>(*ctx);
    NegOp::attachInterface<NegScalar>(*ctx);
    AbsOp::attachInterface<NumberScalarOp<AbsOp, math::AbsFOp, math::AbsIOp>>(
        *ctx);
    ExpOp::attachInterface<SameScalarOp<ExpOp, math::ExpOp>>(*ctx);
    LogOp::attachInterface<SameScalarOp<LogOp, math::LogOp>>(*ctx);
    TanhOp::attachInterface<SameScalarOp<TanhOp, math::TanhOp>>(*ctx);
    SqrtOp::attachInterface<SameScalarOp<SqrtOp, math::SqrtOp>>(*ctx);
    SigmoidOp::attachInterface<SigmoidScalar>(*ctx);
    NotOp::attachInterface<NotScalar>(*ctx);
    CastOp::attachInterface<CastScalar>(*ctx);
    SelectOp::attachInterface<SelectScalar>(*ctx);
  });
}
