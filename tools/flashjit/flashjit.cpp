//===- flashjit.cpp - the main job: the built-in variants at a glance -----===//
//
//   flashjit                 traces every built-in variant, prints a summary
//   flashjit show NAME|FILE  prints one variant's tile program
//
//===----------------------------------------------------------------------===//

#include "flashjit/kernels.h"

#include <cstdio>
#include <string>
#include <string_view>

using namespace flashjit;

static const char *typeName(ScalarType type) {
  return type == ScalarType::f32 ? "f32" : "i32";
}

static std::string describeInputs(const Program &program) {
  std::string text;
  for (const ParamInfo &param : program.params())
    text += (text.empty() ? "" : ", ") + param.name + ": " +
            typeName(param.type);
  for (const BufferInfo &buffer : program.buffers()) {
    std::string dims;
    for (const std::string &dim : buffer.dims)
      dims += (dims.empty() ? "" : ", ") + dim;
    text += (text.empty() ? "" : ", ") + buffer.name + ": " +
            typeName(buffer.type) + "[" + dims + "]";
  }
  return text.empty() ? "-" : text;
}

static int summarize() {
  int failures = 0;
  std::printf("%-28s %-40s %s\n", "variant", "launch inputs", "summary");
  for (const BuiltinVariant &variant : builtinVariants()) {
    Expected<Program> program = variant.build();
    if (!program) {
      std::fprintf(stderr, "%s: %s\n", variant.name.c_str(),
                   program.error().message().c_str());
      ++failures;
      continue;
    }
    std::printf("%-28s %-40s %s\n", variant.name.c_str(),
                describeInputs(*program).c_str(), variant.summary.c_str());
  }
  std::printf("\n%zu variants traced and verified; PTX generation is not "
              "built yet.\n",
              builtinVariants().size() - failures);
  return failures == 0 ? 0 : 1;
}

static int show(std::string_view what) {
  bool isFile = what.find('/') != std::string_view::npos ||
                what.ends_with(".mlir");
  Expected<Program> program =
      isFile ? Program::load(std::string(what)) : builtinVariant(what);
  if (!program) {
    std::fprintf(stderr, "flashjit: %s\n", program.error().message().c_str());
    return 1;
  }
  std::fputs(program->str().c_str(), stdout);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 1)
    return summarize();
  std::string_view command = argv[1];
  if (command == "show" && argc == 3)
    return show(argv[2]);
  std::fprintf(stderr, "usage: flashjit [show VARIANT|FILE.mlir]\n");
  return 2;
}
