//===- FuzzChecks.h - what every fuzz target demands of a result -*- C++
//-*-===//
//
// A failure must say why; a program that parsed or traced must print and
// parse back to the same text, and either compile to PTX or say why. Each
// broken promise traps, which libFuzzer reports as a finding.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_TESTS_FUZZ_FUZZCHECKS_H
#define FLASHJIT_TESTS_FUZZ_FUZZCHECKS_H

#include "compiler/Compiler.h"
#include "flashjit/program.h"

#include <cstdio>

namespace flashjit::fuzz {

inline void requireMessage(const Error &error, const char *stage) {
  if (error.message().empty()) {
    std::fprintf(stderr, "%s failed without saying why\n", stage);
    __builtin_trap();
  }
}

/// The round trip, then the pipeline to PTX: the forward, or the backward
/// when `backward` (the targets pick by the input's length).
inline void requireRoundTripAndCompile(const Program &program, bool backward) {
  Expected<Program> again = Program::parse(program.str(), "<printed>");
  if (!again || again->str() != program.str()) {
    std::fprintf(stderr, "a program does not round-trip:\n%s\n",
                 program.str().c_str());
    __builtin_trap();
  }
  static const TargetInfo target = *targetByName("sm_90a");
  CompileOptions options;
  options.target = target;
  options.headDim = 64;
  options.pass = backward ? CompilePass::backward : CompilePass::forward;
  Expected<CompiledPass> compiled = compileProgram(program, options);
  if (!compiled)
    requireMessage(compiled.error(), "compile");
}

} // namespace flashjit::fuzz

#endif // FLASHJIT_TESTS_FUZZ_FUZZCHECKS_H
