//===- BlockClassifier.cpp - bound a mask over a block of scores ----------===//

#include "compiler/lowering/BlockClassifier.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

using namespace mlir;
using namespace flashjit;
using namespace flashjit::tile;
using arith::CmpIPredicate;

static bool isBool(Type t) { return t.isInteger(1); }
static bool isInt(Type t) { return t.isInteger(32); }

BlockClassifier::Bounds BlockClassifier::unknown(Type type) {
  if (isBool(type))
    return {k.cbool(true), k.cbool(true)};
  if (isInt(type))
    return {k.c64(std::numeric_limits<int64_t>::min()),
            k.c64(std::numeric_limits<int64_t>::max()), false, 0};
  return {k.cf(-std::numeric_limits<float>::infinity()),
          k.cf(std::numeric_limits<float>::infinity())};
}

std::pair<Value, Value> BlockClassifier::classify(Value keep) {
  Bounds b = bounds(keep);
  return {b.lo, b.hi};
}

Value BlockClassifier::gather(KernelBuilder &k, const BufferBinding &buffer,
                              Type elementType, ArrayRef<Value> indices) {
  // Clamp every index into its extent: a program can never read outside a
  // buffer.
  Value offset;
  for (auto [dim, index] : llvm::enumerate(indices)) {
    Value last = k.sub(buffer.extents[dim], k.c32(1));
    Value i = k.ext64(k.minsi(k.maxsi(index, k.c32(0)), last));
    offset = dim == 0 ? i : k.add(k.mul(offset, buffer.rowStride), i);
  }
  return k.load(elementType, k.gep(buffer.base, elementType, offset), 4);
}

BlockClassifier::Bounds BlockClassifier::bounds(Value tileValue) {
  auto it = memo.find(tileValue);
  if (it != memo.end())
    return it->second;
  Bounds result = compute(tileValue.getDefiningOp());
  memo[tileValue] = result;
  return result;
}

BlockClassifier::Bounds BlockClassifier::scanBuffer(LoadOp load) {
  auto bufferOp = load.getBuffer().getDefiningOp<BufferOp>();
  BufferBinding buffer = in.buffer(bufferOp);
  Type element = load.getType().getElementType();
  SmallVector<Bounds> indices;
  int ranges = 0, rangeDim = -1;
  for (auto [dim, index] : llvm::enumerate(load.getIndices())) {
    indices.push_back(bounds(index));
    if (!indices.back().point) {
      ++ranges;
      rangeDim = dim;
    }
  }
  if (ranges > 1 ||
      llvm::any_of(indices, [](const Bounds &b) { return b.bits == 0; }))
    return unknown(element);
  // Indices clamped into the buffer, as the gather itself clamps them.
  SmallVector<Value> lows, highs;
  for (auto [dim, b] : llvm::enumerate(indices)) {
    Value last = k.ext64(k.sub(buffer.extents[dim], k.c32(1)));
    lows.push_back(k.trunc32(k.minsi(k.maxsi(b.lo, k.c64(0)), last)));
    highs.push_back(k.trunc32(k.minsi(k.maxsi(b.hi, k.c64(0)), last)));
  }
  auto widen = [&](Value v) -> Bounds {
    if (isInt(element))
      v = k.ext64(v);
    return {v, v, true, 32};
  };
  SmallVector<Value> at = lows;
  if (ranges == 0)
    return widen(gather(k, buffer, element, at));
  // min and max over the one index that ranges.
  Value lo = lows[rangeDim], hi = highs[rangeDim];
  Value first = gather(k, buffer, element, at);
  auto loop = scf::ForOp::create(
      k.b, k.loc, k.add(lo, k.c32(1)), k.add(hi, k.c32(1)), k.c32(1),
      ValueRange{first, first},
      [&](OpBuilder &, Location, Value i, ValueRange acc) {
        SmallVector<Value> idx = at;
        idx[rangeDim] = i;
        Value v = gather(k, buffer, element, idx);
        Value mn = isInt(element)
                       ? k.minsi(acc[0], v)
                       : Value(arith::MinNumFOp::create(k.b, k.loc, acc[0], v));
        Value mx = isInt(element) ? k.maxsi(acc[1], v) : k.fmax(acc[1], v);
        scf::YieldOp::create(k.b, k.loc, ValueRange{mn, mx});
      });
  Bounds lohi = {loop.getResult(0), loop.getResult(1), false, 32};
  if (isInt(element)) {
    lohi.lo = k.ext64(lohi.lo);
    lohi.hi = k.ext64(lohi.hi);
  }
  return lohi;
}

BlockClassifier::Bounds BlockClassifier::compute(Operation *op) {
  Type type = cast<TileType>(op->getResult(0).getType()).getElementType();
  auto operand = [&](unsigned i) { return bounds(op->getOperand(i)); };
  auto bothPoint = [&] {
    return llvm::all_of(op->getOperands(), [&](Value v) {
      return isa<BufferType>(v.getType()) || bounds(v).point;
    });
  };
  auto isF = isa<FloatType>(type);
  // Integer results: unbounded if an operand is, or if i64 might overflow.
  auto bitsOf = [&](int combined) { return combined > 62 ? 0 : combined; };
  auto intOperandsKnown = [&] {
    return llvm::all_of(op->getOperands(), [&](Value v) {
      auto t = dyn_cast<TileType>(v.getType());
      return !t || !isInt(t.getElementType()) || bounds(v).bits != 0;
    });
  };
  if (isInt(type) && !isa<LoadOp, CmpOp>(op) && !intOperandsKnown())
    return unknown(type);
  auto mn = [&](Value a, Value b) {
    return isF ? Value(arith::MinNumFOp::create(k.b, k.loc, a, b))
               : k.minsi(a, b);
  };
  auto mx = [&](Value a, Value b) {
    return isF ? k.fmax(a, b) : k.maxsi(a, b);
  };
  auto addv = [&](Value a, Value b) {
    return isF ? k.fadd(a, b) : k.add(a, b);
  };
  auto subv = [&](Value a, Value b) {
    return isF ? k.fsub(a, b) : k.sub(a, b);
  };
  auto mulv = [&](Value a, Value b) {
    return isF ? k.fmul(a, b) : k.mul(a, b);
  };
  // A monotone non-decreasing function maps the ends to the ends.
  auto monotone = [&](auto make) -> Bounds {
    Bounds x = operand(0);
    return {make(x.lo), make(x.hi), x.point};
  };

  return TypeSwitch<Operation *, Bounds>(op)
      .Case([&](IndexOp index) -> Bounds {
        switch (index.getDim()) {
        case IndexDim::q:
          return {k.ext64(in.qLo), k.ext64(in.qHi)};
        case IndexDim::kv:
          return {k.ext64(in.kvLo), k.ext64(in.kvHi)};
        default: {
          Value v = k.ext64(in.scalar(op));
          return {v, v, true};
        }
        }
      })
      .Case<ExtentOp, ParamOp, SoftmaxScaleOp>([&](Operation *) -> Bounds {
        Value v = in.scalar(op);
        if (isInt(type))
          v = k.ext64(v);
        return {v, v, true};
      })
      .Case([&](ConstantOp c) -> Bounds {
        Value v = arith::ConstantOp::create(k.b, k.loc, c.getValue());
        if (isInt(type))
          v = k.ext64(v);
        return {v, v, true};
      })
      .Case([&](LoadOp load) { return scanBuffer(load); })
      .Case([&](AddOp) -> Bounds {
        Bounds a = operand(0), b = operand(1);
        return {addv(a.lo, b.lo), addv(a.hi, b.hi), bothPoint(),
                bitsOf(std::max(a.bits, b.bits) + 1)};
      })
      .Case([&](SubOp) -> Bounds {
        Bounds a = operand(0), b = operand(1);
        return {subv(a.lo, b.hi), subv(a.hi, b.lo), bothPoint(),
                bitsOf(std::max(a.bits, b.bits) + 1)};
      })
      .Case([&](MulOp) -> Bounds {
        Bounds a = operand(0), b = operand(1);
        Value p0 = mulv(a.lo, b.lo), p1 = mulv(a.lo, b.hi),
              p2 = mulv(a.hi, b.lo), p3 = mulv(a.hi, b.hi);
        return {mn(mn(p0, p1), mn(p2, p3)), mx(mx(p0, p1), mx(p2, p3)),
                bothPoint(), bitsOf(a.bits + b.bits)};
      })
      .Case([&](NegOp) -> Bounds {
        Bounds a = operand(0);
        Value zero = isF ? k.cf(0) : k.c64(0);
        return {subv(zero, a.hi), subv(zero, a.lo), a.point,
                bitsOf(a.bits + 1)};
      })
      .Case([&](MaxOp) -> Bounds {
        Bounds a = operand(0), b = operand(1);
        return {mx(a.lo, b.lo), mx(a.hi, b.hi), bothPoint(),
                std::max(a.bits, b.bits)};
      })
      .Case([&](MinOp) -> Bounds {
        Bounds a = operand(0), b = operand(1);
        return {mn(a.lo, b.lo), mn(a.hi, b.hi), bothPoint(),
                std::max(a.bits, b.bits)};
      })
      .Case([&](AbsOp) -> Bounds {
        Bounds a = operand(0);
        Value zero = isF ? k.cf(0) : k.c64(0);
        Value negLo = subv(zero, a.lo), negHi = subv(zero, a.hi);
        // [0, max(|lo|, |hi|)] when the range straddles 0.
        Value absLo = mn(mx(a.lo, negHi), mx(negLo, a.hi));
        Value straddles =
            isF ? k.andi(k.cmpf(arith::CmpFPredicate::OLT, a.lo, zero),
                         k.cmpf(arith::CmpFPredicate::OGT, a.hi, zero))
                : k.andi(k.cmpi(CmpIPredicate::slt, a.lo, zero),
                         k.cmpi(CmpIPredicate::sgt, a.hi, zero));
        return {k.select(straddles, zero, absLo), mx(negLo, a.hi), a.point,
                bitsOf(a.bits + 1)};
      })
      .Case([&](DivOp) -> Bounds {
        Bounds a = operand(0), b = operand(1);
        if (!b.point)
          return unknown(type);
        // Dividing by a positive point is monotone; by a negative one it
        // swaps the ends; by zero nothing is known.
        Value zero = isF ? k.cf(0) : k.c64(0);
        Value divisor = isF ? b.lo
                            : k.select(k.cmpi(CmpIPredicate::eq, b.lo, zero),
                                       k.c64(1), b.lo);
        Value lo = isF ? k.fdiv(a.lo, divisor) : k.divsi(a.lo, divisor);
        Value hi = isF ? k.fdiv(a.hi, divisor) : k.divsi(a.hi, divisor);
        Bounds u = unknown(type);
        Value positive = isF ? k.cmpf(arith::CmpFPredicate::OGT, b.lo, zero)
                             : k.cmpi(CmpIPredicate::sgt, b.lo, zero);
        Value negative = isF ? k.cmpf(arith::CmpFPredicate::OLT, b.lo, zero)
                             : k.cmpi(CmpIPredicate::slt, b.lo, zero);
        // Unbounded results stay representable: the ends of i64 or inf.
        return {k.select(positive, lo, k.select(negative, hi, u.lo)),
                k.select(positive, hi, k.select(negative, lo, u.hi)),
                bothPoint(), a.bits};
      })
      .Case([&](RemOp) -> Bounds {
        Bounds a = operand(0), b = operand(1);
        Value divisor =
            k.select(k.cmpi(CmpIPredicate::eq, b.lo, k.c64(0)), k.c64(1), b.lo);
        if (bothPoint()) {
          Value v = k.remsi(a.lo, divisor);
          return {v, v, true, a.bits};
        }
        if (!b.point)
          return unknown(type);
        // |a % b| < |b|, with the sign of a.
        Value m = k.sub(k.maxsi(divisor, k.sub(k.c64(0), divisor)), k.c64(1));
        Value nonNegative = k.cmpi(CmpIPredicate::sge, a.lo, k.c64(0));
        return {k.select(nonNegative, k.c64(0), k.sub(k.c64(0), m)), m, false,
                b.bits};
      })
      .Case<ExpOp, LogOp, TanhOp, SqrtOp, SigmoidOp>([&](Operation *) {
        return monotone([&](Value x) -> Value {
          return TypeSwitch<Operation *, Value>(op)
              .Case([&](ExpOp) { return math::ExpOp::create(k.b, k.loc, x); })
              .Case([&](LogOp) { return math::LogOp::create(k.b, k.loc, x); })
              .Case([&](TanhOp) { return math::TanhOp::create(k.b, k.loc, x); })
              .Case([&](SqrtOp) { return math::SqrtOp::create(k.b, k.loc, x); })
              .Case([&](SigmoidOp) {
                Value e = math::ExpOp::create(
                    k.b, k.loc, arith::NegFOp::create(k.b, k.loc, x));
                return k.fdiv(k.cf(1), k.fadd(k.cf(1), e));
              });
        });
      })
      .Case([&](CastOp castOp) -> Bounds {
        Bounds a = operand(0);
        Type from = cast<TileType>(castOp.getX().getType()).getElementType();
        if (isBool(from)) {
          // false < true: [mayFalse ? 0 : 1, mayTrue ? 1 : 0].
          Value zero = isF ? k.cf(0) : k.c64(0), one = isF ? k.cf(1) : k.c64(1);
          return {k.select(a.hi, zero, one), k.select(a.lo, one, zero), a.point,
                  1};
        }
        if (isF) // i32 -> f32; an unbounded i64 end converts to a huge float
          return {arith::SIToFPOp::create(k.b, k.loc, k.f32(), a.lo),
                  arith::SIToFPOp::create(k.b, k.loc, k.f32(), a.hi), a.point};
        // f32 -> i32 may leave the i32 range: nothing is known then.
        return unknown(type);
      })
      .Case([&](CmpOp cmp) -> Bounds {
        Bounds a = operand(0), b = operand(1);
        Type et = cast<TileType>(cmp.getLhs().getType()).getElementType();
        if (isBool(et)) {
          // i1 equality: compare as the intervals {0, 1}.
          Bounds u = unknown(type);
          return {u.lo, u.hi, false};
        }
        bool f = isa<FloatType>(et);
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
        auto less = [&](Bounds x, Bounds y, bool orEqual) -> Bounds {
          Value always = orEqual ? le(x.hi, y.lo) : lt(x.hi, y.lo);
          Value never = orEqual ? lt(y.hi, x.lo) : le(y.hi, x.lo);
          return {k.noti(never), k.noti(always)};
        };
        Bounds r;
        switch (cmp.getPredicate()) {
        case CmpPredicate::lt:
          r = less(a, b, false);
          break;
        case CmpPredicate::le:
          r = less(a, b, true);
          break;
        case CmpPredicate::gt:
          r = less(b, a, false);
          break;
        case CmpPredicate::ge:
          r = less(b, a, true);
          break;
        case CmpPredicate::eq:
        case CmpPredicate::ne: {
          Value disjoint = k.ori(lt(a.hi, b.lo), lt(b.hi, a.lo));
          Value same =
              k.andi(k.andi(eq(a.lo, a.hi), eq(b.lo, b.hi)), eq(a.lo, b.lo));
          r = {k.noti(disjoint), k.noti(same)};
          if (cmp.getPredicate() == CmpPredicate::ne)
            std::swap(r.lo, r.hi);
          break;
        }
        }
        r.point = bothPoint();
        return r;
      })
      .Case([&](AndOp) -> Bounds {
        Bounds a = operand(0), b = operand(1);
        return {k.andi(a.lo, b.lo), k.ori(a.hi, b.hi), bothPoint()};
      })
      .Case([&](OrOp) -> Bounds {
        Bounds a = operand(0), b = operand(1);
        return {k.ori(a.lo, b.lo), k.andi(a.hi, b.hi), bothPoint()};
      })
      .Case([&](XorOp) -> Bounds {
        Bounds a = operand(0), b = operand(1);
        return {k.ori(k.andi(a.lo, b.hi), k.andi(a.hi, b.lo)),
                k.ori(k.andi(a.lo, b.lo), k.andi(a.hi, b.hi)), bothPoint()};
      })
      .Case([&](NotOp) -> Bounds {
        Bounds a = operand(0);
        return {a.hi, a.lo, a.point};
      })
      .Case([&](SelectOp) -> Bounds {
        Bounds c = operand(0), x = operand(1), y = operand(2);
        // Only the chosen side when the condition is known.
        Value onlyX = k.noti(c.hi), onlyY = k.noti(c.lo);
        Value lo = isBool(type) ? k.ori(x.lo, y.lo) : mn(x.lo, y.lo);
        Value hi = isBool(type) ? k.ori(x.hi, y.hi) : mx(x.hi, y.hi);
        lo = k.select(onlyX, x.lo, k.select(onlyY, y.lo, lo));
        hi = k.select(onlyX, x.hi, k.select(onlyY, y.hi, hi));
        return {lo, hi, bothPoint(), std::max(x.bits, y.bits)};
      })
      .Default([&](Operation *) { return unknown(type); });
}
