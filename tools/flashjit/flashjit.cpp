//===- flashjit.cpp - the main job: the built-in variants end to end ------===//
//
//   flashjit                 with a GPU: runs every built-in variant (forward
//                            and backward) against the CPU reference, timed;
//                            without one: compiles every variant for sm_90a
//                            and prints the kernels' schedules and PTX sizes
//   flashjit show NAME|FILE  prints one variant's tile program
//
//===----------------------------------------------------------------------===//

#include "flashjit/flashjit.h"
#include "compiler/Compiler.h"
#include "tools/runner/Runner.h"

#include <chrono>
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
    text +=
        (text.empty() ? "" : ", ") + param.name + ": " + typeName(param.type);
  for (const BufferInfo &buffer : program.buffers()) {
    std::string dims;
    for (const std::string &dim : buffer.dims)
      dims += (dims.empty() ? "" : ", ") + dim;
    text += (text.empty() ? "" : ", ") + buffer.name + ": " +
            typeName(buffer.type) + "[" + dims + "]";
  }
  return text.empty() ? "-" : text;
}

/// No GPU: compile each variant and summarise its PTX.
static int compileAll(const std::string &why) {
  std::printf("no GPU (%s)\ncompiling every built-in variant for sm_90a, "
              "head dim 128, bf16:\n\n",
              why.c_str());
  CompileOptions options;
  options.target = *targetByName("sm_90a");
  int failures = 0;
  for (const BuiltinVariant &variant : builtinVariants()) {
    Expected<Program> program = variant.build();
    if (!program) {
      std::fprintf(stderr, "%s: %s\n", variant.name.c_str(),
                   program.error().message().c_str());
      ++failures;
      continue;
    }
    std::printf("%s  (%s; launch inputs: %s)\n", variant.name.c_str(),
                variant.summary.c_str(), describeInputs(*program).c_str());
    for (CompilePass pass : {CompilePass::forward, CompilePass::backward}) {
      options.pass = pass;
      auto start = std::chrono::steady_clock::now();
      Expected<CompiledPass> compiled = compileProgram(*program, options);
      double ms = std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - start)
                      .count();
      if (!compiled) {
        std::fprintf(stderr, "  %s: %s\n", stringifyCompilePass(pass),
                     compiled.error().message().c_str());
        ++failures;
        continue;
      }
      std::printf("  %s: %zu bytes of PTX in %.0f ms\n",
                  stringifyCompilePass(pass), compiled->ptx.size(), ms);
      for (const KernelInfo &kernel : compiled->launch.kernels)
        std::printf("    %-44s %s\n", kernel.name.c_str(),
                    kernel.schedule.str().c_str());
    }
  }
  std::printf("\n%zu variants compiled%s\n",
              builtinVariants().size() - failures,
              failures ? ", some failed" : "");
  return failures == 0 ? 0 : 1;
}

/// A GPU: run each variant and check it.
static int runAll(std::shared_ptr<Runtime> runtime) {
  int failures = 0;
  for (const BuiltinVariant &variant : builtinVariants()) {
    RunConfig config;
    config.variant = variant.name;
    config.seqlenQ = config.seqlenKv = 1000;
    Expected<RunReport> report = runVariant(runtime, config);
    if (!report) {
      std::printf("%-28s error: %s\n", variant.name.c_str(),
                  report.error().message().c_str());
      ++failures;
      continue;
    }
    failures += !report->pass;
    std::printf("%-28s %s\n", variant.name.c_str(),
                report->pass ? "pass" : "FAIL");
    for (const std::string &line : report->lines)
      std::printf("    %s\n", line.c_str());
  }
  return failures == 0 ? 0 : 1;
}

static int show(std::string_view what) {
  bool isFile =
      what.find('/') != std::string_view::npos || what.ends_with(".mlir");
  Expected<Program> program =
      isFile ? Program::load(std::string(what)) : builtinVariant(what);
  if (!program) {
    std::fprintf(stderr, "flashjit: %s\n", program.error().message().c_str());
    return 1;
  }
  std::fputs(program->str().c_str(), stdout);
  return 0;
}

constexpr const char *kUsage =
    "usage: flashjit              run every built-in variant on the GPU (or,\n"
    "                             without one, compile each for sm_90a)\n"
    "       flashjit list         the built-in variants' names\n"
    "       flashjit show NAME|FILE.mlir\n"
    "                             a variant's tile program\n"
    "       flashjit --version | --help\n";

int main(int argc, char **argv) {
  if (argc == 1) {
    Expected<std::shared_ptr<Runtime>> runtime = Runtime::create();
    if (!runtime)
      return compileAll(runtime.error().message());
    return runAll(*runtime);
  }
  std::string_view command = argv[1];
  if (command == "--help" || command == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (command == "--version") {
    std::printf("flashjit %s\n", flashjit::version());
    return 0;
  }
  if (command == "show" && argc == 3)
    return show(argv[2]);
  if (command == "list" && argc == 2) {
    for (const BuiltinVariant &variant : builtinVariants())
      std::printf("%s\n", variant.name.c_str());
    return 0;
  }
  std::fputs(kUsage, stderr);
  return 2;
}
