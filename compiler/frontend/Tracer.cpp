//===- Tracer.cpp - trace the C++ DSL into a tile program -----------------===//
//
// Tracer::use turns a tile into the value an op takes. `trace` runs the body
// with a Tracer current on this thread, then runs the verifier once (its
// message becomes the returned Error) and orders the ops by dataflow.
// `attention` traces the standard chain.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/Tracer.h"

#include "mlir/IR/Verifier.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace flashjit;
using namespace flashjit::dsl;

namespace flashjit::dsl::detail {

thread_local Tracer *currentTracer = nullptr;

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

using flashjit::dsl::detail::Tracer;

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
