//===- DslOps.cpp - the DSL's operations on tiles -------------------------===//
//
// Each DSL operation materialises literals, promotes i32 to f32 where the
// other side is f32, and creates the tile op with a result type computed
// here, so that building never fails: type errors are left to the verifier,
// which runs once at the end of `trace`.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/Tracer.h"

using namespace mlir;
using namespace flashjit;
using namespace flashjit::dsl;
using tile::Axis;
using tile::AxisSet;
using tile::TileType;

using flashjit::dsl::detail::Access;
using flashjit::dsl::detail::Tracer;

/// The tracer of the running trace, or null after recording nothing: a DSL
/// call outside `trace` has nowhere to report and yields an invalid tile,
/// which the trace that uses it reports.
static Tracer *active() {
  Tracer *tracer = dsl::detail::currentTracer;
  if (tracer && tracer->error)
    return nullptr;
  return tracer;
}

static AxisSet axesOf(Value v) { return cast<TileType>(v.getType()).getAxes(); }

/// The element type two operands meet at: f32 if either is, else the type of
/// whichever is not a literal.
static Type commonElementType(Tracer &t, const Tile &a, const Tile &b) {
  Type ta = t.typeOf(a), tb = t.typeOf(b);
  if (!ta || !tb)
    return ta ? ta : tb;
  if (ta.isF32() || tb.isF32())
    return t.f32();
  if (Access::isLiteral(a))
    return tb;
  return ta;
}

namespace {
enum class ResultKind { sameAsOperands, boolean };
} // namespace

template <typename OpT, typename... Extra>
static Tile binary(const Tile &a, const Tile &b, ResultKind kind,
                   Extra... extra) {
  Tracer *t = active();
  if (!t)
    return {};
  StringRef name = OpT::getOperationName();
  Type element = commonElementType(*t, a, b);
  Value lhs = t->use(a, element, name);
  Value rhs = lhs ? t->use(b, element, name) : Value();
  if (!lhs || !rhs)
    return {};
  auto lhsType = t->tileTypeOf(lhs);
  Type resultElement =
      kind == ResultKind::boolean ? t->i1() : lhsType.getElementType();
  auto resultType = TileType::get(
      t->context.get(), axesOf(lhs).unite(axesOf(rhs)), resultElement);
  return t->wrap(t->create<OpT>(resultType, extra..., lhs, rhs));
}

/// Float-only unary ops promote i32 to f32 as arithmetic does.
template <typename OpT> static Tile unary(const Tile &x, bool floatOnly) {
  Tracer *t = active();
  if (!t)
    return {};
  Type element = floatOnly ? t->f32() : Type();
  Value value = t->use(x, element, OpT::getOperationName());
  if (!value)
    return {};
  return t->wrap(t->create<OpT>(value.getType(), value));
}

static Tile compare(tile::CmpPredicate predicate, const Tile &a,
                    const Tile &b) {
  return binary<tile::CmpOp>(a, b, ResultKind::boolean, predicate);
}

Tile dsl::operator+(const Tile &a, const Tile &b) {
  return binary<tile::AddOp>(a, b, ResultKind::sameAsOperands);
}
Tile dsl::operator-(const Tile &a, const Tile &b) {
  return binary<tile::SubOp>(a, b, ResultKind::sameAsOperands);
}
Tile dsl::operator*(const Tile &a, const Tile &b) {
  return binary<tile::MulOp>(a, b, ResultKind::sameAsOperands);
}
Tile dsl::operator/(const Tile &a, const Tile &b) {
  return binary<tile::DivOp>(a, b, ResultKind::sameAsOperands);
}
Tile dsl::operator%(const Tile &a, const Tile &b) {
  return binary<tile::RemOp>(a, b, ResultKind::sameAsOperands);
}
Tile dsl::max(const Tile &a, const Tile &b) {
  return binary<tile::MaxOp>(a, b, ResultKind::sameAsOperands);
}
Tile dsl::min(const Tile &a, const Tile &b) {
  return binary<tile::MinOp>(a, b, ResultKind::sameAsOperands);
}
Tile dsl::operator&&(const Tile &a, const Tile &b) {
  return binary<tile::AndOp>(a, b, ResultKind::sameAsOperands);
}
Tile dsl::operator||(const Tile &a, const Tile &b) {
  return binary<tile::OrOp>(a, b, ResultKind::sameAsOperands);
}
Tile dsl::operator^(const Tile &a, const Tile &b) {
  return binary<tile::XorOp>(a, b, ResultKind::sameAsOperands);
}
Tile dsl::operator==(const Tile &a, const Tile &b) {
  return compare(tile::CmpPredicate::eq, a, b);
}
Tile dsl::operator!=(const Tile &a, const Tile &b) {
  return compare(tile::CmpPredicate::ne, a, b);
}
Tile dsl::operator<(const Tile &a, const Tile &b) {
  return compare(tile::CmpPredicate::lt, a, b);
}
Tile dsl::operator<=(const Tile &a, const Tile &b) {
  return compare(tile::CmpPredicate::le, a, b);
}
Tile dsl::operator>(const Tile &a, const Tile &b) {
  return compare(tile::CmpPredicate::gt, a, b);
}
Tile dsl::operator>=(const Tile &a, const Tile &b) {
  return compare(tile::CmpPredicate::ge, a, b);
}

Tile dsl::operator-(const Tile &a) { return unary<tile::NegOp>(a, false); }
Tile dsl::operator!(const Tile &a) { return unary<tile::NotOp>(a, false); }
Tile dsl::abs(const Tile &x) { return unary<tile::AbsOp>(x, false); }
Tile dsl::exp(const Tile &x) { return unary<tile::ExpOp>(x, true); }
Tile dsl::log(const Tile &x) { return unary<tile::LogOp>(x, true); }
Tile dsl::tanh(const Tile &x) { return unary<tile::TanhOp>(x, true); }
Tile dsl::sqrt(const Tile &x) { return unary<tile::SqrtOp>(x, true); }
Tile dsl::sigmoid(const Tile &x) { return unary<tile::SigmoidOp>(x, true); }

static Tile castTo(const Tile &x, Type (Tracer::*target)()) {
  Tracer *t = active();
  if (!t)
    return {};
  Type to = (t->*target)();
  if (Access::isLiteral(x))
    return t->wrap(t->use(x, to, tile::CastOp::getOperationName()));
  Value value = t->use(x, Type(), tile::CastOp::getOperationName());
  if (!value)
    return {};
  TileType type = t->tileTypeOf(value);
  if (type.getElementType() == to)
    return x;
  return t->wrap(t->create<tile::CastOp>(type.withElementType(to), value));
}

Tile dsl::toFloat(const Tile &x) { return castTo(x, &Tracer::f32); }
Tile dsl::toInt(const Tile &x) { return castTo(x, &Tracer::i32); }

Tile dsl::where(const Tile &cond, const Tile &a, const Tile &b) {
  Tracer *t = active();
  if (!t)
    return {};
  StringRef name = tile::SelectOp::getOperationName();
  Value c = t->use(cond, t->i1(), name);
  Type element = commonElementType(*t, a, b);
  Value va = c ? t->use(a, element, name) : Value();
  Value vb = va ? t->use(b, element, name) : Value();
  if (!vb)
    return {};
  auto type = TileType::get(t->context.get(),
                            axesOf(c).unite(axesOf(va)).unite(axesOf(vb)),
                            t->tileTypeOf(va).getElementType());
  return t->wrap(t->create<tile::SelectOp>(type, c, va, vb));
}

static Tile loadFrom(const dsl::Buffer &buffer,
                     ArrayRef<const Tile *> indices) {
  Tracer *t = active();
  if (!t)
    return {};
  StringRef name = tile::LoadOp::getOperationName();
  if (Access::traceId(buffer) != t->id || !Access::value(buffer)) {
    t->fail("'tile.load' got a buffer that does not belong to this trace");
    return {};
  }
  SmallVector<Value> values;
  AxisSet axes;
  for (const Tile *index : indices) {
    Value v = t->use(*index, t->i32(), name);
    if (!v)
      return {};
    axes = axes.unite(axesOf(v));
    values.push_back(v);
  }
  Value b = Access::value(buffer);
  auto type =
      TileType::get(t->context.get(), axes,
                    cast<tile::BufferType>(b.getType()).getElementType());
  return t->wrap(t->create<tile::LoadOp>(type, b, values));
}

Tile dsl::load(const dsl::Buffer &buffer, const Tile &index) {
  return loadFrom(buffer, {&index});
}
Tile dsl::load(const dsl::Buffer &buffer, const Tile &i, const Tile &j) {
  return loadFrom(buffer, {&i, &j});
}
Tile dsl::Buffer::operator[](const Tile &index) const {
  return load(*this, index);
}
Tile dsl::Buffer::operator()(const Tile &i, const Tile &j) const {
  return load(*this, i, j);
}

static Tile makeDot(const Tile &a, const Tile &b, bool transposeRhs) {
  Tracer *t = active();
  if (!t)
    return {};
  StringRef name = tile::DotOp::getOperationName();
  Value lhs = t->use(a, Type(), name);
  Value rhs = lhs ? t->use(b, Type(), name) : Value();
  if (!rhs)
    return {};
  // Guess the result from the first axis of lhs and the kept axis of rhs;
  // when the operands do not fit, the verifier says why.
  SmallVector<Axis> l = axesOf(lhs).axes(), r = axesOf(rhs).axes();
  AxisSet axes;
  if (!l.empty())
    axes = axes.unite({l.front()});
  if (!r.empty())
    axes = axes.unite({transposeRhs ? r.front() : r.back()});
  auto type = TileType::get(t->context.get(), axes, t->f32());
  auto op =
      tile::DotOp::create(t->builder, t->loc, type, lhs, rhs, transposeRhs);
  return t->wrap(op.getResult());
}

Tile dsl::dot(const Tile &a, const Tile &b) { return makeDot(a, b, false); }
Tile dsl::dotTransposed(const Tile &a, const Tile &b) {
  return makeDot(a, b, true);
}

Tile dsl::mask(const Tile &scores, const Tile &keep) {
  Tracer *t = active();
  if (!t)
    return {};
  StringRef name = tile::MaskOp::getOperationName();
  Value s = t->use(scores, t->f32(), name);
  Value k = s ? t->use(keep, Type(), name) : Value();
  if (!k)
    return {};
  return t->wrap(t->create<tile::MaskOp>(s.getType(), s, k));
}

Softmax dsl::softmax(const Tile &scores) {
  Tracer *t = active();
  if (!t)
    return {};
  Value s = t->use(scores, t->f32(), tile::SoftmaxOp::getOperationName());
  if (!s)
    return {};
  auto op = tile::SoftmaxOp::create(t->builder, t->loc, s);
  return {t->wrap(op.getProbs()), t->wrap(op.getLse())};
}

Tile dsl::dropout(const Tile &probs, float rate) {
  Tracer *t = active();
  if (!t)
    return {};
  Value p = t->use(probs, t->f32(), tile::DropoutOp::getOperationName());
  if (!p)
    return {};
  return t->wrap(t->create<tile::DropoutOp>(p.getType(), p,
                                            t->builder.getF32FloatAttr(rate)));
}
