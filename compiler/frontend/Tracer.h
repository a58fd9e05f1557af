//===- Tracer.h - the state of a running trace ------------------*- C++ -*-===//
//
// While `trace` runs, a thread-local Tracer owns the module being built; the
// DSL's operations (DslOps.cpp) and the Builder's accessors (DslBuilder.cpp)
// add ops to it, and Access reaches into the Tiles and Buffers they pass.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_FRONTEND_TRACER_H
#define FLASHJIT_COMPILER_FRONTEND_TRACER_H

#include "flashjit/dsl.h"

#include "compiler/frontend/ProgramState.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

#include <atomic>
#include <optional>

namespace flashjit::dsl::detail {

class Tracer {
public:
  explicit Tracer(std::string_view name)
      : id(++lastId), context(makeTileContext()), builder(context.get()),
        loc(mlir::NameLoc::get(mlir::StringAttr::get(context.get(), name))) {
    diagnostics.emplace(*context);
    module = mlir::ModuleOp::create(loc);
    builder.setInsertionPointToEnd(module->getBody());
    program = tile::ProgramOp::create(builder, loc, name);
    builder.setInsertionPointToEnd(&program.getBody().emplaceBlock());
  }

  /// Records the first misuse; later operations yield invalid tiles.
  void fail(std::string message) {
    if (!error)
      error = std::move(message);
  }

  Tile wrap(mlir::Value value);
  /// The value of `tile`, materialising a literal with `elementType`.
  /// Null (with a recorded error) if the tile is unusable here.
  mlir::Value use(const Tile &tile, mlir::Type elementType,
                  mlir::StringRef opName);
  mlir::Type literalType(const Tile &tile);
  mlir::Type typeOf(const Tile &tile);

  mlir::Type f32() { return builder.getF32Type(); }
  mlir::Type i32() { return builder.getI32Type(); }
  mlir::Type i1() { return builder.getI1Type(); }
  tile::TileType tileTypeOf(mlir::Value v) {
    return mlir::cast<tile::TileType>(v.getType());
  }

  template <typename OpT, typename... Args> mlir::Value create(Args &&...args) {
    return OpT::create(builder, loc, std::forward<Args>(args)...)->getResult(0);
  }

  /// Distinguishes this trace's tiles from those of earlier traces, whose
  /// values are gone.
  static inline std::atomic<unsigned long long> lastId{0};
  const unsigned long long id;
  std::unique_ptr<mlir::MLIRContext> context;
  /// Reset before the context leaves with the Program.
  std::optional<DiagnosticCollector> diagnostics;
  mlir::OpBuilder builder;
  mlir::Location loc;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  tile::ProgramOp program;
  std::optional<std::string> error;
  bool stored = false;

  // What Builder's accessors emitted already, so each is emitted once.
  mlir::Value inputs[3], scale, indices[4], extents[4];
  llvm::StringMap<mlir::Operation *> declared;
};

/// The tracer of the running trace on this thread; null outside `trace`.
extern thread_local Tracer *currentTracer;

struct Access {
  static unsigned long long traceId(const Tile &t) { return t.traceId_; }
  static bool isLiteral(const Tile &t) { return t.literal_ != Literal::none; }
  using Literal = Tile::Literal;
  static Literal literal(const Tile &t) { return t.literal_; }
  static double literalValue(const Tile &t) { return t.literalValue_; }
  static mlir::Value value(const Tile &t) {
    return mlir::Value::getFromOpaquePointer(t.value_);
  }
  static Tile make(Tracer *tracer, mlir::Value value) {
    Tile t;
    t.traceId_ = tracer->id;
    t.value_ = value.getAsOpaquePointer();
    return t;
  }
  static unsigned long long traceId(const Buffer &b) { return b.traceId_; }
  static mlir::Value value(const Buffer &b) {
    return mlir::Value::getFromOpaquePointer(b.value_);
  }
  static Buffer makeBuffer(Tracer *tracer, mlir::Value value) {
    Buffer b;
    b.traceId_ = tracer->id;
    b.value_ = value.getAsOpaquePointer();
    return b;
  }
};

} // namespace flashjit::dsl::detail

#endif // FLASHJIT_COMPILER_FRONTEND_TRACER_H
