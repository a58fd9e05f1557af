//===- flashjit/program.h - an attention variant as a tile program -*- C++
//-*-===//
//
// A `Program` is one attention variant: a verified `tile` dialect module
// holding one `tile.program`. It is made by tracing the C++ DSL
// (flashjit/dsl.h) or by parsing its text, and prints back to that text.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_PROGRAM_H
#define FLASHJIT_PROGRAM_H

#include "flashjit/status.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mlir {
class MLIRContext;
class ModuleOp;
} // namespace mlir

namespace flashjit {

/// The element type of a scalar parameter or an auxiliary buffer.
enum class ScalarType { f32, i32 };

/// A scalar parameter the variant reads, bound by name at launch.
struct ParamInfo {
  std::string name;
  ScalarType type;
};

/// An auxiliary buffer the variant reads, bound by name at launch. `dims`
/// spells each dimension as in the program: "batch", "head", "q", "kv",
/// "token", an extent such as "127", or "?".
struct BufferInfo {
  std::string name;
  ScalarType type;
  std::vector<std::string> dims;
};

class Program {
public:
  /// Parses and verifies the text of a module holding exactly one
  /// `tile.program`. `sourceName` names the text in error messages.
  static Expected<Program> parse(std::string_view text,
                                 std::string_view sourceName = "<text>");
  /// Reads and parses a file.
  static Expected<Program> load(const std::string &path);

  /// The variant's name, the symbol of its `tile.program`.
  std::string name() const;
  /// The module in the dialect's textual form; `parse` reads it back.
  std::string str() const;
  /// Writes `str()` to `path` atomically (a temporary file, then rename).
  Expected<bool> save(const std::string &path) const;

  /// Parameters and buffers in the order the program declares them.
  std::vector<ParamInfo> params() const;
  std::vector<BufferInfo> buffers() const;

  /// The MLIR module, for the compiler. It lives in `context()`.
  mlir::ModuleOp module() const;
  mlir::MLIRContext &context() const;

  /// Takes ownership of a verified module and the context it lives in.
  struct State;
  explicit Program(std::shared_ptr<State> state);

private:
  std::shared_ptr<State> state_;
};

} // namespace flashjit

#endif // FLASHJIT_PROGRAM_H
