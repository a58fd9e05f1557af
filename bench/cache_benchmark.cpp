//===- cache_benchmark.cpp - a kernel's cost: cold, from disk, in memory --===//
//
// The three ways the runtime gets a compiled pass (causal, d 128, bf16, the
// forward for sm_90a): compiled cold, loaded from the disk cache by a new
// process (a new KernelCache on a filled directory), and found in memory.
//
//===----------------------------------------------------------------------===//

#include "compiler/Compiler.h"
#include "flashjit/kernels.h"
#include "runtime/cache/KernelCache.h"

#include <benchmark/benchmark.h>

#include <filesystem>

#include <unistd.h>

using namespace flashjit;

namespace {

std::string cacheDir() {
  return (std::filesystem::temp_directory_path() /
          ("flashjit-cache-benchmark-" + std::to_string(getpid())))
      .string();
}

const std::string kMaterial = "causal sm_90a d=128 bf16 fwd";

Expected<CacheEntry> compileCausal() {
  CompileOptions options;
  options.target = *targetByName("sm_90a");
  Expected<Program> program = builtinVariant("causal");
  if (!program)
    return program.error();
  Expected<CompiledPass> compiled = compileProgram(*program, options);
  if (!compiled)
    return compiled.error();
  return CacheEntry{compiled->ptx, "", "metadata"};
}

void coldCompile(benchmark::State &state) {
  for (auto _ : state) {
    std::filesystem::remove_all(cacheDir());
    KernelCache cache(cacheDir());
    auto r = cache.getOrBuild(kMaterial, compileCausal);
    if (!r || r->source != KernelCache::Source::built)
      state.SkipWithError("expected a compile");
  }
  std::filesystem::remove_all(cacheDir());
}

void diskLoad(benchmark::State &state) {
  std::filesystem::remove_all(cacheDir());
  if (!KernelCache(cacheDir()).getOrBuild(kMaterial, compileCausal)) {
    state.SkipWithError("the compile failed");
    return;
  }
  for (auto _ : state) {
    KernelCache cache(cacheDir()); // what a new process starts with
    auto r = cache.getOrBuild(kMaterial, compileCausal);
    if (!r || r->source != KernelCache::Source::disk)
      state.SkipWithError("expected a disk hit");
  }
  std::filesystem::remove_all(cacheDir());
}

void memoryHit(benchmark::State &state) {
  KernelCache cache("");
  if (!cache.getOrBuild(kMaterial, compileCausal)) {
    state.SkipWithError("the compile failed");
    return;
  }
  for (auto _ : state) {
    auto r = cache.getOrBuild(kMaterial, compileCausal);
    if (!r || r->source != KernelCache::Source::memory)
      state.SkipWithError("expected a memory hit");
    benchmark::DoNotOptimize(r->entry.get());
  }
}

} // namespace

BENCHMARK(coldCompile)->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(diskLoad)->Unit(benchmark::kMicrosecond);
BENCHMARK(memoryHit)->Unit(benchmark::kNanosecond);
BENCHMARK_MAIN();
