//===- Program.cpp - parse, print and inspect tile programs ---------------===//

#include "compiler/frontend/ProgramState.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>

using namespace mlir;
using namespace flashjit;

std::unique_ptr<MLIRContext> flashjit::makeTileContext() {
  auto context =
      std::make_unique<MLIRContext>(MLIRContext::Threading::DISABLED);
  context->loadDialect<tile::TileDialect>();
  return context;
}

std::string flashjit::formatLocation(Location loc) {
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return (file.getFilename().getValue() + ":" + Twine(file.getLine()) + ":" +
            Twine(file.getColumn()))
        .str();
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto fused = dyn_cast<FusedLoc>(loc);
      fused && !fused.getLocations().empty())
    return formatLocation(fused.getLocations().front());
  std::string text;
  llvm::raw_string_ostream os(text);
  os << loc;
  return text;
}

static const char *severityLabel(DiagnosticSeverity severity) {
  switch (severity) {
  case DiagnosticSeverity::Error:
    return "error: ";
  case DiagnosticSeverity::Warning:
    return "warning: ";
  case DiagnosticSeverity::Note:
    return "note: ";
  case DiagnosticSeverity::Remark:
    return "remark: ";
  }
  return "";
}

DiagnosticCollector::DiagnosticCollector(MLIRContext &context)
    : context_(context) {
  handlerId_ = context.getDiagEngine().registerHandler([this](Diagnostic &d) {
    llvm::raw_string_ostream os(text_);
    if (!text_.empty())
      os << '\n';
    // An error without a place (a compile option's, say) is its message
    // alone, as an Error's message is.
    bool placed = !isa<UnknownLoc>(d.getLocation());
    if (placed)
      os << formatLocation(d.getLocation()) << ": ";
    if (placed || d.getSeverity() != DiagnosticSeverity::Error)
      os << severityLabel(d.getSeverity());
    os << d.str();
    return success();
  });
}

DiagnosticCollector::~DiagnosticCollector() {
  context_.getDiagEngine().eraseHandler(handlerId_);
}

std::string DiagnosticCollector::message(std::string_view fallback) const {
  return text_.empty() ? std::string(fallback) : text_;
}

Expected<Program> flashjit::adoptModule(std::unique_ptr<MLIRContext> &&context,
                                        OwningOpRef<ModuleOp> &&module,
                                        std::string_view what) {
  Block &body = module->getBodyRegion().front();
  size_t numOps = body.getOperations().size();
  if (numOps != 1 || !isa<tile::ProgramOp>(body.front()))
    return Error(
        std::string(what) +
        ": expected a module holding exactly one tile.program, found " +
        std::to_string(numOps) + " operation(s)");
  auto state = std::make_shared<Program::State>();
  state->context = std::move(context);
  state->module = std::move(module);
  return Program(std::move(state));
}

Expected<Program> Program::parse(std::string_view text,
                                 std::string_view sourceName) {
  std::unique_ptr<MLIRContext> context = makeTileContext();
  OwningOpRef<ModuleOp> module;
  std::string errors;
  {
    DiagnosticCollector diagnostics(*context);
    llvm::SourceMgr sourceMgr;
    sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(
            llvm::StringRef(text.data(), text.size()),
            llvm::StringRef(sourceName.data(), sourceName.size())),
        llvm::SMLoc());
    // parseSourceFile verifies what it parsed.
    module = parseSourceFile<ModuleOp>(sourceMgr, context.get());
    errors = diagnostics.message(std::string(sourceName) + ": cannot parse");
  }
  if (!module)
    return Error(errors);
  return adoptModule(std::move(context), std::move(module), sourceName);
}

Expected<Program> Program::load(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return Error("cannot read '" + path + "': " + buffer.getError().message());
  return parse((*buffer)->getBuffer().str(), path);
}

Program::Program(std::shared_ptr<State> state) : state_(std::move(state)) {}

mlir::ModuleOp Program::module() const { return *state_->module; }
MLIRContext &Program::context() const { return *state_->context; }

static tile::ProgramOp programOp(ModuleOp module) {
  return cast<tile::ProgramOp>(module.getBody()->front());
}

std::string Program::name() const {
  return programOp(module()).getSymName().str();
}

std::string Program::str() const {
  std::string text;
  llvm::raw_string_ostream os(text);
  module().print(os);
  return text;
}

Expected<bool> Program::save(const std::string &path) const {
  llvm::SmallString<128> temp;
  int fd;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueFile(path + ".tmp-%%%%%%%%", fd, temp))
    return Error("cannot write '" + path + "': " + ec.message());
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << str();
    os.flush();
    if (os.has_error()) {
      std::string message = os.error().message();
      os.clear_error();
      llvm::sys::fs::remove(temp);
      return Error("cannot write '" + path + "': " + message);
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, path)) {
    llvm::sys::fs::remove(temp);
    return Error("cannot write '" + path + "': " + ec.message());
  }
  return true;
}

static ScalarType scalarTypeOf(Type type) {
  return type.isF32() ? ScalarType::f32 : ScalarType::i32;
}

std::vector<ParamInfo> Program::params() const {
  std::vector<ParamInfo> result;
  programOp(module()).walk([&](tile::ParamOp op) {
    result.push_back(
        {op.getName().str(), scalarTypeOf(op.getType().getElementType())});
  });
  return result;
}

std::vector<BufferInfo> Program::buffers() const {
  std::vector<BufferInfo> result;
  programOp(module()).walk([&](tile::BufferOp op) {
    tile::BufferType type = op.getType();
    BufferInfo info{
        op.getName().str(), scalarTypeOf(type.getElementType()), {}};
    for (const tile::BufferDim &dim : type.getDims()) {
      std::string spelled;
      llvm::raw_string_ostream os(spelled);
      os << dim;
      info.dims.push_back(spelled);
    }
    result.push_back(std::move(info));
  });
  return result;
}
