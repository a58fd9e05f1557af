//===- Dsl.cpp - trace the C++ DSL into a tile program --------------------===//
//
// While `trace` runs, a thread-local Tracer owns the module being built. Each
// DSL operation materialises literals, promotes i32 to f32 where the other
// side is f32, and creates the tile op with a result type computed here, so
// that building never fails: type errors are left to the verifier, which
// runs once at the end and whose message becomes the returned Error.
//
//===----------------------------------------------------------------------===//

#include "flashjit/dsl.h"

#include "compiler/frontend/ProgramState.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

#include <atomic>
#include <optional>

using namespace mlir;
using namespace flashjit;
using namespace flashjit::dsl;
using tile::Axis;
using tile::AxisSet;
using tile::TileType;

namespace flashjit::dsl::detail {

class Tracer {
public:
  explicit Tracer(std::string_view name)
      : id(++lastId), context(makeTileContext()), builder(context.get()),
        loc(NameLoc::get(StringAttr::get(context.get(), name))) {
    diagnostics.emplace(*context);
    module = ModuleOp::create(loc);
    builder.setInsertionPointToEnd(module->getBody());
    program = tile::ProgramOp::create(builder, loc, name);
    builder.setInsertionPointToEnd(&program.getBody().emplaceBlock());
  }

  /// Records the first misuse; later operations yield invalid tiles.
  void fail(std::string message) {
    if (!error)
      error = std::move(message);
  }

  Tile wrap(Value value);
  /// The value of `tile`, materialising a literal with `elementType`.
  /// Null (with a recorded error) if the tile is unusable here.
  Value use(const Tile &tile, Type elementType, StringRef opName);
  Type literalType(const Tile &tile);
  Type typeOf(const Tile &tile);

  Type f32() { return builder.getF32Type(); }
  Type i32() { return builder.getI32Type(); }
  Type i1() { return builder.getI1Type(); }
  TileType tileTypeOf(Value v) { return cast<TileType>(v.getType()); }

  template <typename OpT, typename... Args> Value create(Args &&...args) {
    return OpT::create(builder, loc, std::forward<Args>(args)...)->getResult(0);
  }

  /// Distinguishes this trace's tiles from those of earlier traces, whose
  /// values are gone.
  static inline std::atomic<unsigned long long> lastId{0};
  const unsigned long long id;
  std::unique_ptr<MLIRContext> context;
  /// Reset before the context leaves with the Program.
  std::optional<DiagnosticCollector> diagnostics;
  OpBuilder builder;
  Location loc;
  OwningOpRef<ModuleOp> module;
  tile::ProgramOp program;
  std::optional<std::string> error;
  bool stored = false;

  // What Builder's accessors emitted already, so each is emitted once.
  Value inputs[3], scale, indices[4], extents[4];
  llvm::StringMap<Operation *> declared;
};

thread_local Tracer *currentTracer = nullptr;

struct Access {
  static unsigned long long traceId(const Tile &t) { return t.traceId_; }
  static bool isLiteral(const Tile &t) { return t.literal_ != Literal::none; }
  using Literal = Tile::Literal;
  static Literal literal(const Tile &t) { return t.literal_; }
  static double literalValue(const Tile &t) { return t.literalValue_; }
  static Value value(const Tile &t) {
    return Value::getFromOpaquePointer(t.value_);
  }
  static Tile make(Tracer *tracer, Value value) {
    Tile t;
    t.traceId_ = tracer->id;
    t.value_ = value.getAsOpaquePointer();
    return t;
  }
  static unsigned long long traceId(const Buffer &b) { return b.traceId_; }
  static Value value(const Buffer &b) {
    return Value::getFromOpaquePointer(b.value_);
  }
  static Buffer makeBuffer(Tracer *tracer, Value value) {
    Buffer b;
    b.traceId_ = tracer->id;
    b.value_ = value.getAsOpaquePointer();
    return b;
  }
};

Tile Tracer::wrap(Value value) { return Access::make(this, value); }

Type Tracer::literalType(const Tile &tile) {
  switch (Access::literal(tile)) {
  case Access::Literal::f32:
    return f32();
  case Access::Literal::i32:
    return i32();
  case Access::Literal::i1:
    return i1();
  case Access::Literal::none:
    break;
  }
  return {};
}

Type Tracer::typeOf(const Tile &tile) {
  if (Access::isLiteral(tile))
    return literalType(tile);
  if (Access::traceId(tile) != id || !Access::value(tile))
    return {};
  return tileTypeOf(Access::value(tile)).getElementType();
}

Value Tracer::use(const Tile &tile, Type elementType, StringRef opName) {
  if (Access::isLiteral(tile)) {
    double v = Access::literalValue(tile);
    if (!elementType)
      elementType = literalType(tile);
    TypedAttr attr;
    if (elementType.isF32())
      attr = builder.getF32FloatAttr(static_cast<float>(v));
    else if (elementType.isSignlessInteger(1))
      attr = builder.getBoolAttr(v != 0);
    else
      attr = builder.getI32IntegerAttr(static_cast<int32_t>(v));
    return create<tile::ConstantOp>(attr);
  }
  if (!Access::traceId(tile) || !Access::value(tile)) {
    fail(("'" + opName +
          "' got a tile that holds no value: it was made "
          "outside a trace, default-constructed, or came from "
          "an operation that failed")
             .str());
    return {};
  }
  if (Access::traceId(tile) != id) {
    fail(("'" + opName + "' got a tile from another trace").str());
    return {};
  }
  Value value = Access::value(tile);
  Type have = tileTypeOf(value).getElementType();
  if (elementType && elementType.isF32() && have.isSignlessInteger(32))
    return create<tile::CastOp>(tileTypeOf(value).withElementType(f32()),
                                value);
  return value;
}

} // namespace flashjit::dsl::detail

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

//===----------------------------------------------------------------------===//
// Builder
//===----------------------------------------------------------------------===//

/// Emits the op `make` returns into `slot` on first use.
template <typename Make>
static Tile emitOnce(Tracer &t, Value &slot, Make make) {
  if (t.error)
    return {};
  if (!slot)
    slot = make();
  return t.wrap(slot);
}

static Tile inputTile(Tracer &t, unsigned which) {
  return emitOnce(t, t.inputs[which], [&]() -> Value {
    Axis rows = which == 0 ? Axis::q : Axis::kv;
    auto type = TileType::get(t.context.get(), {rows, Axis::d},
                              tile::InputType::get(t.context.get()));
    if (which == 0)
      return t.create<tile::LoadQOp>(type);
    if (which == 1)
      return t.create<tile::LoadKOp>(type);
    return t.create<tile::LoadVOp>(type);
  });
}

Tile dsl::Builder::q() { return inputTile(tracer_, 0); }
Tile dsl::Builder::k() { return inputTile(tracer_, 1); }
Tile dsl::Builder::v() { return inputTile(tracer_, 2); }

Tile dsl::Builder::softmaxScale() {
  Tracer &t = tracer_;
  return emitOnce(t, t.scale, [&]() -> Value {
    return t.create<tile::SoftmaxScaleOp>(
        TileType::get(t.context.get(), {}, t.f32()));
  });
}

static Tile indexTile(Tracer &t, tile::IndexDim dim) {
  return emitOnce(t, t.indices[static_cast<unsigned>(dim)], [&]() -> Value {
    AxisSet axes;
    if (dim == tile::IndexDim::q)
      axes = {Axis::q};
    else if (dim == tile::IndexDim::kv)
      axes = {Axis::kv};
    return t.create<tile::IndexOp>(
        TileType::get(t.context.get(), axes, t.i32()), dim);
  });
}

static Tile extentTile(Tracer &t, tile::IndexDim dim) {
  return emitOnce(t, t.extents[static_cast<unsigned>(dim)], [&]() -> Value {
    return t.create<tile::ExtentOp>(TileType::get(t.context.get(), {}, t.i32()),
                                    dim);
  });
}

Tile dsl::Builder::batch() { return indexTile(tracer_, tile::IndexDim::batch); }
Tile dsl::Builder::head() { return indexTile(tracer_, tile::IndexDim::head); }
Tile dsl::Builder::qIdx() { return indexTile(tracer_, tile::IndexDim::q); }
Tile dsl::Builder::kvIdx() { return indexTile(tracer_, tile::IndexDim::kv); }
Tile dsl::Builder::batchSize() {
  return extentTile(tracer_, tile::IndexDim::batch);
}
Tile dsl::Builder::numHeads() {
  return extentTile(tracer_, tile::IndexDim::head);
}
Tile dsl::Builder::seqlenQ() { return extentTile(tracer_, tile::IndexDim::q); }
Tile dsl::Builder::seqlenKv() {
  return extentTile(tracer_, tile::IndexDim::kv);
}

static Type scalarType(Tracer &t, ScalarType type) {
  return type == ScalarType::f32 ? t.f32() : t.i32();
}

/// Returns the op already declared as `name`, failing the trace if it is of
/// another kind or type than `type`.
static Operation *lookupDeclared(Tracer &t, StringRef name, StringRef kind,
                                 Type type) {
  auto it = t.declared.find(name);
  if (it == t.declared.end())
    return nullptr;
  Operation *op = it->second;
  if (op->getName().getStringRef() != kind ||
      op->getResult(0).getType() != type) {
    std::string have;
    llvm::raw_string_ostream os(have);
    os << op->getName() << " of type " << op->getResult(0).getType();
    t.fail(("'" + name + "' is already declared as a " + have).str());
  }
  return op;
}

Tile dsl::Builder::param(std::string_view name, ScalarType type) {
  Tracer &t = tracer_;
  if (t.error)
    return {};
  auto tileType = TileType::get(t.context.get(), {}, scalarType(t, type));
  StringRef key(name.data(), name.size());
  if (Operation *op =
          lookupDeclared(t, key, tile::ParamOp::getOperationName(), tileType))
    return t.error ? Tile() : t.wrap(op->getResult(0));
  auto op = tile::ParamOp::create(t.builder, t.loc, tileType, key);
  t.declared[key] = op;
  return t.wrap(op);
}

Buffer dsl::Builder::buffer(std::string_view name,
                            std::initializer_list<std::string_view> dims,
                            ScalarType type) {
  Tracer &t = tracer_;
  if (t.error)
    return {};
  StringRef key(name.data(), name.size());
  SmallVector<tile::BufferDim> parsed;
  for (std::string_view spelled : dims) {
    StringRef dim(spelled.data(), spelled.size());
    using Kind = tile::BufferDim::Kind;
    auto kind = llvm::StringSwitch<std::optional<Kind>>(dim)
                    .Case("batch", Kind::batch)
                    .Case("head", Kind::head)
                    .Case("q", Kind::q)
                    .Case("kv", Kind::kv)
                    .Case("token", Kind::token)
                    .Case("?", Kind::dynamic)
                    .Default(std::nullopt);
    int64_t extent = 0;
    if (kind)
      parsed.push_back(tile::BufferDim::domain(*kind));
    else if (!dim.getAsInteger(10, extent))
      parsed.push_back(tile::BufferDim::fixedExtent(extent));
    else {
      t.fail(("buffer '" + key + "': unknown dimension '" + dim +
              "', expected batch, head, q, kv, token, an extent or ?")
                 .str());
      return {};
    }
  }
  auto bufferType = tile::BufferType::getChecked(
      [&] { return emitError(t.loc); }, t.context.get(),
      ArrayRef<tile::BufferDim>(parsed), scalarType(t, type));
  if (!bufferType) {
    t.fail(t.diagnostics->message("invalid buffer type"));
    return {};
  }
  if (Operation *op = lookupDeclared(t, key, tile::BufferOp::getOperationName(),
                                     bufferType))
    return t.error ? Buffer() : Access::makeBuffer(&t, op->getResult(0));
  auto op = tile::BufferOp::create(t.builder, t.loc, bufferType, key);
  t.declared[key] = op;
  return Access::makeBuffer(&t, op.getResult());
}

void dsl::Builder::store(const Tile &o, const Tile &lse) {
  Tracer &t = tracer_;
  if (t.error)
    return;
  if (t.stored) {
    t.fail("store(o, lse) is called twice");
    return;
  }
  StringRef name = tile::StoreOp::getOperationName();
  Value vo = t.use(o, t.f32(), name);
  Value vlse = vo ? t.use(lse, t.f32(), name) : Value();
  if (!vlse)
    return;
  tile::StoreOp::create(t.builder, t.loc, vo, vlse);
  t.stored = true;
}

/// Puts the program's ops in an order that depends only on its dataflow:
/// post-order from the store, operands left to right. C++ leaves the order
/// in which a call's arguments are evaluated to the compiler, so the order
/// the ops were traced in is not the same everywhere; this one is. Ops the
/// store does not use are dropped.
static void orderByDataflow(tile::ProgramOp program) {
  Operation *store = program.getStore();
  llvm::SetVector<Operation *> order;
  // Iterative post-order: an op is placed once all its operands are.
  SmallVector<std::pair<Operation *, unsigned>> stack{{store, 0}};
  llvm::SmallPtrSet<Operation *, 32> entered{store};
  while (!stack.empty()) {
    auto &[op, next] = stack.back();
    if (next < op->getNumOperands()) {
      Operation *def = op->getOperand(next++).getDefiningOp();
      if (def && entered.insert(def).second)
        stack.push_back({def, 0});
      continue;
    }
    order.insert(op);
    stack.pop_back();
  }
  Block &body = program.getBody().front();
  SmallVector<Operation *> dead;
  for (Operation &op : body)
    if (!order.contains(&op))
      dead.push_back(&op);
  for (Operation *op : llvm::reverse(dead)) {
    op->dropAllUses();
    op->erase();
  }
  for (Operation *op : order)
    op->moveBefore(&body, body.end());
}

//===----------------------------------------------------------------------===//
// trace and attention
//===----------------------------------------------------------------------===//

Expected<Program> dsl::trace(std::string_view name,
                             const std::function<void(Builder &)> &body) {
  if (dsl::detail::currentTracer)
    return Error("trace('" + std::string(name) +
                 "') is called inside another trace");
  auto tracer = std::make_unique<Tracer>(name);
  Tracer &t = *tracer;
  std::string prefix = "variant '" + std::string(name) + "': ";
  {
    dsl::detail::currentTracer = &t;
    llvm::scope_exit restore([] { dsl::detail::currentTracer = nullptr; });
    dsl::Builder builder(t);
    body(builder);
  }
  if (!t.error && !t.stored)
    t.fail("the body never calls store(o, lse)");
  if (!t.error && failed(verify(*t.module)))
    t.fail(t.diagnostics->message("verification failed"));
  if (!t.error)
    orderByDataflow(t.program);
  t.diagnostics.reset();
  if (t.error)
    return Error(prefix + *t.error);
  return adoptModule(std::move(t.context), std::move(t.module), name);
}

Expected<Program> dsl::attention(std::string_view name,
                                 const AttentionSpec &spec) {
  return trace(name, [&](dsl::Builder &b) {
    Tile scores = dotTransposed(b.q(), b.k()) * b.softmaxScale();
    if (spec.scoreMod)
      scores = spec.scoreMod(b, scores);
    if (spec.maskMod)
      scores = mask(scores, spec.maskMod(b));
    Softmax sm = softmax(scores);
    Tile probs = sm.probs;
    if (spec.dropoutRate != 0.f)
      probs = dropout(probs, spec.dropoutRate);
    b.store(dot(probs, b.v()), sm.lse);
  });
}
