//===- compile_benchmark.cpp - how long a variant takes to compile --------===//
//
// DSL trace to PTX, forward and backward, per built-in variant, on the
// machine that runs it (the budget: under 1 s for both passes).
//
//===----------------------------------------------------------------------===//

#include "compiler/Compiler.h"
#include "flashjit/kernels.h"

#include <benchmark/benchmark.h>

using namespace flashjit;

static void compileBothPasses(benchmark::State &state,
                              const BuiltinVariant &variant, int headDim) {
  CompileOptions options;
  options.target = *targetByName("sm_90a");
  options.headDim = headDim;
  options.inputType = InputType::bf16;
  for (auto _ : state) {
    Expected<Program> program = variant.build();
    if (!program) {
      state.SkipWithError(program.error().message().c_str());
      return;
    }
    for (CompilePass pass : {CompilePass::forward, CompilePass::backward}) {
      options.pass = pass;
      Expected<CompiledPass> compiled = compileProgram(*program, options);
      if (!compiled) {
        state.SkipWithError(compiled.error().message().c_str());
        return;
      }
      benchmark::DoNotOptimize(compiled->ptx.data());
    }
  }
}

int main(int argc, char **argv) {
  for (const BuiltinVariant &variant : builtinVariants())
    for (int d : {64, 128})
      benchmark::RegisterBenchmark(
          ("compile_fwd_bwd/" + variant.name + "/d" + std::to_string(d))
              .c_str(),
          [&variant, d](benchmark::State &s) {
            compileBothPasses(s, variant, d);
          })
          ->Unit(benchmark::kMillisecond)
          ->Iterations(3);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
