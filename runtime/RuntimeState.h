//===- RuntimeState.h - what a runtime and an attention hold ----*- C++ -*-===//
//
// The state behind Runtime and Attention, shared by the files that compile
// and load (PassLoading.cpp) and launch (Runtime.cpp) their passes.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_RUNTIME_RUNTIMESTATE_H
#define FLASHJIT_RUNTIME_RUNTIMESTATE_H

#include "flashjit/flashjit.h"

#include "compiler/Compiler.h"
#include "runtime/KernelArguments.h"
#include "runtime/Validation.h"
#include "runtime/cache/KernelCache.h"
#include "runtime/driver/CudaContext.h"
#include "runtime/driver/CudaDriver.h"

#include <map>
#include <mutex>

namespace flashjit {

//===----------------------------------------------------------------------===//
// Loaded passes
//===----------------------------------------------------------------------===//

/// A compiled pass loaded into the runtime's context.
struct LoadedPass {
  CUmodule module = nullptr;
  LaunchContract launch;
  std::vector<CUfunction> functions;
  /// Per kernel, where each parameter's value comes from.
  std::vector<std::vector<ArgumentSource>> sources;
};

//===----------------------------------------------------------------------===//
// Runtime
//===----------------------------------------------------------------------===//

struct Runtime::State {
  const CudaDriver *driver = nullptr;      ///< null offline
  std::unique_ptr<PrimaryContext> primary; ///< null offline
  int ordinal = -1;                        ///< -1 offline
  int rowTilesPerWarp = 0;    ///< RuntimeOptions::rowTilesPerWarp, resolved
  int blockM = 0, blockN = 0; ///< RuntimeOptions' forced block shape
  bool deterministic = false; ///< RuntimeOptions::deterministic, resolved
  TargetInfo target;
  std::string deviceArch; ///< the device's own target; empty offline
  std::unique_ptr<KernelCache> cache;
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<LoadedPass>> loaded;

  ~State() {
    if (!driver)
      return;
    Expected<ScopedContext> current =
        ScopedContext::enter(*driver, primary->context());
    for (auto &[key, pass] : loaded)
      if (pass->module && current)
        driver->cuModuleUnload(pass->module);
  }
};

/// One compile of a variant, besides the runtime's options.
struct PassRequest {
  CompilePass pass;
  int headDim;
  DType dtype;
  bool operator==(const PassRequest &) const = default;
};

struct Attention::State {
  State(std::shared_ptr<Runtime> runtime, Program program)
      : runtime(std::move(runtime)), program(std::move(program)),
        text(this->program.str()),
        interface(VariantInterface::of(this->program)) {}

  std::shared_ptr<Runtime> runtime;
  Program program;
  std::string text;           ///< the program's text, part of every cache key
  VariantInterface interface; ///< what launches are validated against
  /// The passes this attention launched, so that the next launch finds
  /// its kernels without hashing the program again (a few per variant).
  std::mutex mutex;
  std::vector<std::pair<PassRequest, std::shared_ptr<LoadedPass>>> launched;
};

} // namespace flashjit

#endif // FLASHJIT_RUNTIME_RUNTIMESTATE_H
