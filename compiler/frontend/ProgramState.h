//===- ProgramState.h - what a Program owns ---------------------*- C++ -*-===//

#ifndef FLASHJIT_COMPILER_FRONTEND_PROGRAMSTATE_H
#define FLASHJIT_COMPILER_FRONTEND_PROGRAMSTATE_H

#include "dialects/tile/TileDialect.h"
#include "flashjit/program.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <memory>
#include <string>

namespace flashjit {

/// A context and the module that lives in it; members are destroyed in
/// reverse order, the module first.
struct Program::State {
  std::unique_ptr<mlir::MLIRContext> context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

/// A context with the tile dialect loaded and no thread pool: programs are
/// small and many may exist at once.
std::unique_ptr<mlir::MLIRContext> makeTileContext();

/// Collects the diagnostics emitted on a context while it lives, as lines of
/// `location: severity: message`.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(mlir::MLIRContext &context);
  ~DiagnosticCollector();
  /// Everything collected, or `fallback` if nothing was.
  std::string message(std::string_view fallback) const;

private:
  mlir::MLIRContext &context_;
  uint64_t handlerId_;
  std::string text_;
};

/// Checks that `module` holds exactly one tile.program and nothing else, and
/// wraps it. `what` names the source in the error. On failure both stay
/// with the caller, who destroys the module before the context.
Expected<Program> adoptModule(std::unique_ptr<mlir::MLIRContext> &&context,
                              mlir::OwningOpRef<mlir::ModuleOp> &&module,
                              std::string_view what);

/// `file:line:col` for a file location, the name for a name location.
std::string formatLocation(mlir::Location loc);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_FRONTEND_PROGRAMSTATE_H
