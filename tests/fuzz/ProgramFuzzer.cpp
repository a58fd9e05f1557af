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

#include "tests/fuzz/FuzzChecks.h"

#include <cstdint>
#include <string>

using namespace flashjit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  Expected<Program> program = Program::parse(text, "<fuzz>");
  if (!program) {
    fuzz::requireMessage(program.error(), "parse");
    return 0;
  }
  fuzz::requireRoundTripAndCompile(*program, size % 2);
  return 0;
}
