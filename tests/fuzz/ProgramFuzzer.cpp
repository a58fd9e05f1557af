//===- ProgramFuzzer.cpp - random tile program text, parsed and compiled --===//
//
// libFuzzer target: the bytes are a tile program's text. Parsing and
// verifying it must either succeed or end in a diagnostic with a message;
// a program that parses goes through the whole pipeline to PTX (forward or
// backward by the input's length), which again must either succeed or say
// why. A crash, a hang, a sanitizer report or an empty error is a finding.
// Seed corpus: kernels/*.mlir.
//
//===----------------------------------------------------------------------===//

#include "compiler/Compiler.h"
#include "flashjit/program.h"

#include <cstdint>
#include <cstdio>
#include <string>

using namespace flashjit;

namespace {

void requireMessage(const Error &error, const char *stage) {
  if (error.message().empty()) {
    std::fprintf(stderr, "%s failed without saying why\n", stage);
    __builtin_trap();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  Expected<Program> program = Program::parse(text, "<fuzz>");
  if (!program) {
    requireMessage(program.error(), "parse");
    return 0;
  }
  // What parses prints and parses again to the same text.
  Expected<Program> again = Program::parse(program->str(), "<printed>");
  if (!again || again->str() != program->str()) {
    std::fprintf(stderr, "a parsed program does not round-trip\n");
    __builtin_trap();
  }
  static const TargetInfo target = *targetByName("sm_90a");
  CompileOptions options;
  options.target = target;
  options.headDim = 64;
  options.pass = size % 2 ? CompilePass::backward : CompilePass::forward;
  Expected<CompiledPass> compiled = compileProgram(*program, options);
  if (!compiled)
    requireMessage(compiled.error(), "compile");
  return 0;
}
