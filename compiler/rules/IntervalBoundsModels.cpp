//===- IntervalBoundsModels.cpp - each tile op over a block ---------------===//
//
// TileIntervalBoundsOpInterface for the tile ops a mask may use: interval
// arithmetic on the ends (i64 for i32 values, so that sums and products of
// indices cannot overflow; `bits` tracks how wide they may grow), i1
// values as (may be true, may be false), and gathers scanned over the range
// their index takes.
//
//===----------------------------------------------------------------------===//

#include "compiler/rules/IntervalBoundsInterface.h"
#include "compiler/rules/ScalarLoweringInterface.h"
#include "compiler/rules/TileOpRules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace flashjit;
using namespace flashjit::tile;
using arith::CmpIPredicate;

namespace {

template <typename Model, typename Op>
using BoundsModel = TileIntervalBoundsOpInterface::ExternalModel<Model, Op>;

bool isBool(Type t) { return t.isInteger(1); }
bool isInt(Type t) { return t.isInteger(32); }

Type elementTypeOf(Value tileValue) {
  return cast<TileType>(tileValue.getType()).getElementType();
}

/// The bits of an integer result, or 0 (unbounded) past what i64 holds.
int bitsOf(int combined) { return combined > 62 ? 0 : combined; }

bool allPoints(ArrayRef<IntervalBounds> operands) {
  return llvm::all_of(operands,
                      [](const IntervalBounds &b) { return b.point; });
}

/// Arithmetic on the ends of f32 or i64 intervals.
struct Ends {
  Ends(KernelBuilder &k, Type type) : k(k), isF(isa<FloatType>(type)) {}
  Value min(Value a, Value b) {
    return isF ? Value(arith::MinNumFOp::create(k.b, k.loc, a, b))
               : k.minsi(a, b);
  }
  Value max(Value a, Value b) { return isF ? k.fmax(a, b) : k.maxsi(a, b); }
  Value add(Value a, Value b) { return isF ? k.fadd(a, b) : k.add(a, b); }
  Value sub(Value a, Value b) { return isF ? k.fsub(a, b) : k.sub(a, b); }
  Value mul(Value a, Value b) { return isF ? k.fmul(a, b) : k.mul(a, b); }
  Value zero() { return isF ? k.cf(0) : k.c64(0); }

  KernelBuilder &k;
  bool isF;
};

Ends endsOf(BlockClassifier &classifier, Operation *op) {
  return Ends(classifier.builder(), elementTypeOf(op->getResult(0)));
}

/// q and kv range over the block; batch and head are the thread block's.
struct IndexBounds : BoundsModel<IndexBounds, IndexOp> {
  IntervalBounds inferBounds(Operation *op, BlockClassifier &c,
                             ArrayRef<IntervalBounds>) const {
    KernelBuilder &k = c.builder();
    const BlockClassifier::Inputs &in = c.inputs();
    switch (cast<IndexOp>(op).getDim()) {
    case IndexDim::q:
      return {k.ext64(in.qLo), k.ext64(in.qHi)};
    case IndexDim::kv:
      return {k.ext64(in.kvLo), k.ext64(in.kvHi)};
    default: {
      Value v = k.ext64(in.scalar(op));
      return {v, v, true};
    }
    }
  }
};

/// Extents, parameters and the scale: one value over the kernel.
template <typename Op>
struct UniformBounds : BoundsModel<UniformBounds<Op>, Op> {
  IntervalBounds inferBounds(Operation *op, BlockClassifier &c,
                             ArrayRef<IntervalBounds>) const {
    KernelBuilder &k = c.builder();
    Value v = c.inputs().scalar(op);
    if (isInt(elementTypeOf(op->getResult(0))))
      v = k.ext64(v);
    return {v, v, true};
  }
};

struct ConstantBounds : BoundsModel<ConstantBounds, ConstantOp> {
  IntervalBounds inferBounds(Operation *op, BlockClassifier &c,
                             ArrayRef<IntervalBounds>) const {
    KernelBuilder &k = c.builder();
    Value v =
        arith::ConstantOp::create(k.b, k.loc, cast<ConstantOp>(op).getValue());
    if (isInt(elementTypeOf(op->getResult(0))))
      v = k.ext64(v);
    return {v, v, true};
  }
};

/// The min and max over what the gather reads: one element when its
/// indices are points, a loop over the one index that ranges, else nothing
/// known.
struct LoadBounds : BoundsModel<LoadBounds, LoadOp> {
  IntervalBounds inferBounds(Operation *op, BlockClassifier &c,
                             ArrayRef<IntervalBounds> indices) const {
    auto load = cast<LoadOp>(op);
    KernelBuilder &k = c.builder();
    BufferBinding buffer =
        c.inputs().buffer(load.getBuffer().getDefiningOp<BufferOp>());
    Type element = load.getType().getElementType();
    int ranges = 0, rangeDim = -1;
    for (auto [dim, b] : llvm::enumerate(indices)) {
      if (!b.point) {
        ++ranges;
        rangeDim = dim;
      }
    }
    if (ranges > 1 || llvm::any_of(indices, [](const IntervalBounds &b) {
          return b.bits == 0;
        }))
      return c.unknown(element);
    // Indices clamped into the buffer, as the gather itself clamps them.
    SmallVector<Value> lows, highs;
    for (auto [dim, b] : llvm::enumerate(indices)) {
      Value last = k.ext64(k.sub(buffer.extents[dim], k.c32(1)));
      lows.push_back(k.trunc32(k.minsi(k.maxsi(b.lo, k.c64(0)), last)));
      highs.push_back(k.trunc32(k.minsi(k.maxsi(b.hi, k.c64(0)), last)));
    }
    if (ranges == 0) {
      Value v = BlockClassifier::gather(k, buffer, element, lows);
      if (isInt(element))
        v = k.ext64(v);
      return {v, v, true, 32};
    }
    return scan(k, buffer, element, lows, highs, rangeDim);
  }

  /// Its operands say where it reads, not what it reads.
  bool propagatesUnboundedOperands(Operation *) const { return false; }

private:
  static IntervalBounds scan(KernelBuilder &k, const BufferBinding &buffer,
                             Type element, ArrayRef<Value> lows,
                             ArrayRef<Value> highs, int rangeDim) {
    SmallVector<Value> at(lows);
    Value lo = lows[rangeDim], hi = highs[rangeDim];
    Value first = BlockClassifier::gather(k, buffer, element, at);
    auto loop = scf::ForOp::create(
        k.b, k.loc, k.add(lo, k.c32(1)), k.add(hi, k.c32(1)), k.c32(1),
        ValueRange{first, first},
        [&](OpBuilder &, Location, Value i, ValueRange acc) {
          SmallVector<Value> idx = at;
          idx[rangeDim] = i;
          Value v = BlockClassifier::gather(k, buffer, element, idx);
          Value mn =
              isInt(element)
                  ? k.minsi(acc[0], v)
                  : Value(arith::MinNumFOp::create(k.b, k.loc, acc[0], v));
          Value mx = isInt(element) ? k.maxsi(acc[1], v) : k.fmax(acc[1], v);
          scf::YieldOp::create(k.b, k.loc, ValueRange{mn, mx});
        });
    IntervalBounds lohi = {loop.getResult(0), loop.getResult(1), false, 32};
    if (isInt(element)) {
      lohi.lo = k.ext64(lohi.lo);
      lohi.hi = k.ext64(lohi.hi);
    }
    return lohi;
  }
};

struct AddBounds : BoundsModel<AddBounds, AddOp> {
  IntervalBounds inferBounds(Operation *op, BlockClassifier &c,
                             ArrayRef<IntervalBounds> v) const {
    Ends e = endsOf(c, op);
    const IntervalBounds &a = v[0], &b = v[1];
    return {e.add(a.lo, b.lo), e.add(a.hi, b.hi), allPoints(v),
            bitsOf(std::max(a.bits, b.bits) + 1)};
  }
};

struct SubBounds : BoundsModel<SubBounds, SubOp> {
  IntervalBounds inferBounds(Operation *op, BlockClassifier &c,
                             ArrayRef<IntervalBounds> v) const {
    Ends e = endsOf(c, op);
    const IntervalBounds &a = v[0], &b = v[1];
    return {e.sub(a.lo, b.hi), e.sub(a.hi, b.lo), allPoints(v),
            bitsOf(std::max(a.bits, b.bits) + 1)};
  }
};

/// The least and greatest of the four products of the ends.
struct MulBounds : BoundsModel<MulBounds, MulOp> {
  IntervalBounds inferBounds(Operation *op, BlockClassifier &c,
                             ArrayRef<IntervalBounds> v) const {
    Ends e = endsOf(c, op);
    const IntervalBounds &a = v[0], &b = v[1];
    Value p0 = e.mul(a.lo, b.lo), p1 = e.mul(a.lo, b.hi),
          p2 = e.mul(a.hi, b.lo), p3 = e.mul(a.hi, b.hi);
    return {e.min(e.min(p0, p1), e.min(p2, p3)),
            e.max(e.max(p0, p1), e.max(p2, p3)), allPoints(v),
            bitsOf(a.bits + b.bits)};
  }
};

struct NegBounds : BoundsModel<NegBounds, NegOp> {
  IntervalBounds inferBounds(Operation *op, BlockClassifier &c,
                             ArrayRef<IntervalBounds> v) const {
    Ends e = endsOf(c, op);
    const IntervalBounds &a = v[0];
    Value zero = e.zero();
    return {e.sub(zero, a.hi), e.sub(zero, a.lo), a.point, bitsOf(a.bits + 1)};
  }
};

/// max and min are monotone in both operands.
template <typename Op, bool isMax>
struct ExtremumBounds : BoundsModel<ExtremumBounds<Op, isMax>, Op> {
  IntervalBounds inferBounds(Operation *op, BlockClassifier &c,
                             ArrayRef<IntervalBounds> v) const {
    Ends e = endsOf(c, op);
    const IntervalBounds &a = v[0], &b = v[1];
    if constexpr (isMax)
      return {e.max(a.lo, b.lo), e.max(a.hi, b.hi), allPoints(v),
              std::max(a.bits, b.bits)};
    return {e.min(a.lo, b.lo), e.min(a.hi, b.hi), allPoints(v),
            std::max(a.bits, b.bits)};
  }
};

struct AbsBounds : BoundsModel<AbsBounds, AbsOp> {
  IntervalBounds inferBounds(Operation *op, BlockClassifier &c,
                             ArrayRef<IntervalBounds> v) const {
    Ends e = endsOf(c, op);
    KernelBuilder &k = c.builder();
    const IntervalBounds &a = v[0];
    Value zero = e.zero();
    Value negLo = e.sub(zero, a.lo), negHi = e.sub(zero, a.hi);
    // [0, max(|lo|, |hi|)] when the range straddles 0.
    Value absLo = e.min(e.max(a.lo, negHi), e.max(negLo, a.hi));
    Value straddles =
        e.isF ? k.andi(k.cmpf(arith::CmpFPredicate::OLT, a.lo, zero),
                       k.cmpf(arith::CmpFPredicate::OGT, a.hi, zero))
              : k.andi(k.cmpi(CmpIPredicate::slt, a.lo, zero),
                       k.cmpi(CmpIPredicate::sgt, a.hi, zero));
    return {k.select(straddles, zero, absLo), e.max(negLo, a.hi), a.point,
            bitsOf(a.bits + 1)};
  }
};

/// Dividing by a positive point is monotone; by a negative one it swaps the
/// ends; by zero, or by a range, nothing is known.
struct DivBounds : BoundsModel<DivBounds, DivOp> {
  IntervalBounds inferBounds(Operation *op, BlockClassifier &c,
                             ArrayRef<IntervalBounds> v) const {
    Type type = elementTypeOf(op->getResult(0));
    KernelBuilder &k = c.builder();
    bool isF = isa<FloatType>(type);
    const IntervalBounds &a = v[0], &b = v[1];
    if (!b.point)
      return c.unknown(type);
    Value zero = isF ? k.cf(0) : k.c64(0);
    Value divisor =
        isF ? b.lo
            : k.select(k.cmpi(CmpIPredicate::eq, b.lo, zero), k.c64(1), b.lo);
    Value lo = isF ? k.fdiv(a.lo, divisor) : k.divsi(a.lo, divisor);
    Value hi = isF ? k.fdiv(a.hi, divisor) : k.divsi(a.hi, divisor);
    IntervalBounds u = c.unknown(type);
    Value positive = isF ? k.cmpf(arith::CmpFPredicate::OGT, b.lo, zero)
                         : k.cmpi(CmpIPredicate::sgt, b.lo, zero);
    Value negative = isF ? k.cmpf(arith::CmpFPredicate::OLT, b.lo, zero)
                         : k.cmpi(CmpIPredicate::slt, b.lo, zero);
    // Unbounded results stay representable: the ends of i64 or inf.
    return {k.select(positive, lo, k.select(negative, hi, u.lo)),
            k.select(positive, hi, k.select(negative, lo, u.hi)), allPoints(v),
            a.bits};
  }
};

/// |a % b| < |b|, with the sign of a.
struct RemBounds : BoundsModel<RemBounds, RemOp> {
  IntervalBounds inferBounds(Operation *op, BlockClassifier &c,
                             ArrayRef<IntervalBounds> v) const {
    KernelBuilder &k = c.builder();
    const IntervalBounds &a = v[0], &b = v[1];
    Value divisor =
        k.select(k.cmpi(CmpIPredicate::eq, b.lo, k.c64(0)), k.c64(1), b.lo);
    if (allPoints(v)) {
      Value r = k.remsi(a.lo, divisor);
      return {r, r, true, a.bits};
    }
    if (!b.point)
      return c.unknown(elementTypeOf(op->getResult(0)));
    Value m = k.sub(k.maxsi(divisor, k.sub(k.c64(0), divisor)), k.c64(1));
    Value nonNegative = k.cmpi(CmpIPredicate::sge, a.lo, k.c64(0));
    return {k.select(nonNegative, k.c64(0), k.sub(k.c64(0), m)), m, false,
            b.bits};
  }
};

/// A non-decreasing op maps the ends to the ends: its scalar form at each.
template <typename Op>
struct MonotoneBounds : BoundsModel<MonotoneBounds<Op>, Op> {
  IntervalBounds inferBounds(Operation *op, BlockClassifier &c,
                             ArrayRef<IntervalBounds> v) const {
    auto scalar = cast<TileScalarLoweringOpInterface>(op);
    OpBuilder &b = c.builder().b;
    const IntervalBounds &x = v[0];
    return {scalar.emitScalar(b, x.lo), scalar.emitScalar(b, x.hi), x.point};
  }
};

/// From i1, false < true; from i32 to f32, the ends convert (an unbounded
/// i64 end to a huge float); f32 to i32 may leave the i32 range.
struct CastBounds : BoundsModel<CastBounds, CastOp> {
  IntervalBounds inferBounds(Operation *op, BlockClassifier &c,
                             ArrayRef<IntervalBounds> v) const {
    Type type = elementTypeOf(op->getResult(0));
    KernelBuilder &k = c.builder();
    bool isF = isa<FloatType>(type);
    const IntervalBounds &a = v[0];
    if (isBool(elementTypeOf(op->getOperand(0)))) {
      // [mayFalse ? 0 : 1, mayTrue ? 1 : 0].
      Value zero = isF ? k.cf(0) : k.c64(0), one = isF ? k.cf(1) : k.c64(1);
      return {k.select(a.hi, zero, one), k.select(a.lo, one, zero), a.point, 1};
    }
    if (isF)
      return {arith::SIToFPOp::create(k.b, k.loc, k.f32(), a.lo),
              arith::SIToFPOp::create(k.b, k.loc, k.f32(), a.hi), a.point};
    return c.unknown(type);
  }
};

struct CmpBounds : BoundsModel<CmpBounds, CmpOp> {
  IntervalBounds inferBounds(Operation *op, BlockClassifier &c,
                             ArrayRef<IntervalBounds> v) const {
    auto cmp = cast<CmpOp>(op);
    Type et = elementTypeOf(cmp.getLhs());
    // i1 (in)equality: nothing known.
    if (isBool(et)) {
      IntervalBounds u = c.unknown(elementTypeOf(cmp.getResult()));
      return {u.lo, u.hi, false};
    }
    IntervalBounds r = compare(c.builder(), cmp.getPredicate(),
                               isa<FloatType>(et), v[0], v[1]);
    r.point = allPoints(v);
    return r;
  }

private:
  static IntervalBounds compare(KernelBuilder &k, CmpPredicate predicate,
                                bool f, const IntervalBounds &a,
                                const IntervalBounds &b) {
    auto lt = [&](Value x, Value y) {
      return f ? k.cmpf(arith::CmpFPredicate::OLT, x, y)
               : k.cmpi(CmpIPredicate::slt, x, y);
    };
    auto le = [&](Value x, Value y) {
      return f ? k.cmpf(arith::CmpFPredicate::OLE, x, y)
               : k.cmpi(CmpIPredicate::sle, x, y);
    };
    auto eq = [&](Value x, Value y) {
      return f ? k.cmpf(arith::CmpFPredicate::OEQ, x, y)
               : k.cmpi(CmpIPredicate::eq, x, y);
    };
    // For x < y: always true if x.hi < y.lo, never if x.lo >= y.hi.
    auto less = [&](const IntervalBounds &x, const IntervalBounds &y,
                    bool orEqual) -> IntervalBounds {
      Value always = orEqual ? le(x.hi, y.lo) : lt(x.hi, y.lo);
      Value never = orEqual ? lt(y.hi, x.lo) : le(y.hi, x.lo);
      return {k.noti(never), k.noti(always)};
    };
    switch (predicate) {
    case CmpPredicate::lt:
      return less(a, b, false);
    case CmpPredicate::le:
      return less(a, b, true);
    case CmpPredicate::gt:
      return less(b, a, false);
    case CmpPredicate::ge:
      return less(b, a, true);
    case CmpPredicate::eq:
    case CmpPredicate::ne: {
      Value disjoint = k.ori(lt(a.hi, b.lo), lt(b.hi, a.lo));
      Value same =
          k.andi(k.andi(eq(a.lo, a.hi), eq(b.lo, b.hi)), eq(a.lo, b.lo));
      IntervalBounds r = {k.noti(disjoint), k.noti(same)};
      if (predicate == CmpPredicate::ne)
        std::swap(r.lo, r.hi);
      return r;
    }
    }
    llvm_unreachable("unknown predicate");
  }
};

/// May be true if both may; may be false if either may.
struct AndBounds : BoundsModel<AndBounds, AndOp> {
  IntervalBounds inferBounds(Operation *, BlockClassifier &c,
                             ArrayRef<IntervalBounds> v) const {
    KernelBuilder &k = c.builder();
    const IntervalBounds &a = v[0], &b = v[1];
    return {k.andi(a.lo, b.lo), k.ori(a.hi, b.hi), allPoints(v)};
  }
};

/// May be true if either may; may be false if both may.
struct OrBounds : BoundsModel<OrBounds, OrOp> {
  IntervalBounds inferBounds(Operation *, BlockClassifier &c,
                             ArrayRef<IntervalBounds> v) const {
    KernelBuilder &k = c.builder();
    const IntervalBounds &a = v[0], &b = v[1];
    return {k.ori(a.lo, b.lo), k.andi(a.hi, b.hi), allPoints(v)};
  }
};

/// True where exactly one is: one may be true while the other may be false.
struct XorBounds : BoundsModel<XorBounds, XorOp> {
  IntervalBounds inferBounds(Operation *, BlockClassifier &c,
                             ArrayRef<IntervalBounds> v) const {
    KernelBuilder &k = c.builder();
    const IntervalBounds &a = v[0], &b = v[1];
    return {k.ori(k.andi(a.lo, b.hi), k.andi(a.hi, b.lo)),
            k.ori(k.andi(a.lo, b.lo), k.andi(a.hi, b.hi)), allPoints(v)};
  }
};

struct NotBounds : BoundsModel<NotBounds, NotOp> {
  IntervalBounds inferBounds(Operation *, BlockClassifier &,
                             ArrayRef<IntervalBounds> v) const {
    return {v[0].hi, v[0].lo, v[0].point};
  }
};

/// Both sides, or only the chosen one where the condition is known.
struct SelectBounds : BoundsModel<SelectBounds, SelectOp> {
  IntervalBounds inferBounds(Operation *op, BlockClassifier &c,
                             ArrayRef<IntervalBounds> v) const {
    KernelBuilder &k = c.builder();
    Ends e = endsOf(c, op);
    bool boolean = isBool(elementTypeOf(op->getResult(0)));
    const IntervalBounds &cond = v[0], &x = v[1], &y = v[2];
    Value onlyX = k.noti(cond.hi), onlyY = k.noti(cond.lo);
    Value lo = boolean ? k.ori(x.lo, y.lo) : e.min(x.lo, y.lo);
    Value hi = boolean ? k.ori(x.hi, y.hi) : e.max(x.hi, y.hi);
    lo = k.select(onlyX, x.lo, k.select(onlyY, y.lo, lo));
    hi = k.select(onlyX, x.hi, k.select(onlyY, y.hi, hi));
    return {lo, hi, allPoints(v), std::max(x.bits, y.bits)};
  }
};

} // namespace

void flashjit::registerIntervalBoundsModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, TileDialect *) {
    IndexOp::attachInterface<IndexBounds>(*ctx);
    ExtentOp::attachInterface<UniformBounds<ExtentOp>>(*ctx);
    ParamOp::attachInterface<UniformBounds<ParamOp>>(*ctx);
    SoftmaxScaleOp::attachInterface<UniformBounds<SoftmaxScaleOp>>(*ctx);
    ConstantOp::attachInterface<ConstantBounds>(*ctx);
    LoadOp::attachInterface<LoadBounds>(*ctx);
    AddOp::attachInterface<AddBounds>(*ctx);
    SubOp::attachInterface<SubBounds>(*ctx);
    MulOp::attachInterface<MulBounds>(*ctx);
    NegOp::attachInterface<NegBounds>(*ctx);
    MaxOp::attachInterface<ExtremumBounds<MaxOp, true>>(*ctx);
    MinOp::attachInterface<ExtremumBounds<MinOp, false>>(*ctx);
    AbsOp::attachInterface<AbsBounds>(*ctx);
    DivOp::attachInterface<DivBounds>(*ctx);
    RemOp::attachInterface<RemBounds>(*ctx);
    ExpOp::attachInterface<MonotoneBounds<ExpOp>>(*ctx);
    LogOp::attachInterface<MonotoneBounds<LogOp>>(*ctx);
    TanhOp::attachInterface<MonotoneBounds<TanhOp>>(*ctx);
    SqrtOp::attachInterface<MonotoneBounds<SqrtOp>>(*ctx);
    SigmoidOp::attachInterface<MonotoneBounds<SigmoidOp>>(*ctx);
    CastOp::attachInterface<CastBounds>(*ctx);
    CmpOp::attachInterface<CmpBounds>(*ctx);
    AndOp::attachInterface<AndBounds>(*ctx);
    OrOp::attachInterface<OrBounds>(*ctx);
    XorOp::attachInterface<XorBounds>(*ctx);
    NotOp::attachInterface<NotBounds>(*ctx);
    SelectOp::attachInterface<SelectBounds>(*ctx);
  });
}
