//===- PassLoading.cpp - a variant's pass compiled, cached, loaded --------===//

#include "runtime/PassLoading.h"

#include "compiler/kernel/KernelMetadata.h"
#include "runtime/Logging.h"

#include "flashjit/version.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace flashjit;

namespace {

/// Writes every stage of a compile under $FLASHJIT_DUMP_DIR.
StageDumper dumperFor(const std::string &stem) {
  const char *dir = std::getenv("FLASHJIT_DUMP_DIR");
  if (!dir)
    return {};
  return [dir = std::string(dir), stem](const std::string &stage,
                                        const std::string &ir) {
    std::string ext = stage == "ptx"       ? ".ptx"
                      : stage == "llvm-ir" ? ".ll"
                                           : ".mlir";
    std::ofstream(dir + "/" + stem + "." + stage + ext) << ir;
  };
}

/// The cubin the driver makes from `ptx` for the current context.
Expected<std::string> linkCubin(const CudaDriver &d, const std::string &ptx) {
  CUlinkState link;
  if (auto e =
          d.check("cuLinkCreate", d.cuLinkCreate(0, nullptr, nullptr, &link)))
    return *e;
  std::string copy = ptx;
  CUresult added =
      d.cuLinkAddData(link, CU_JIT_INPUT_PTX, copy.data(), copy.size() + 1,
                      "flashjit.ptx", 0, nullptr, nullptr);
  if (added != CUDA_SUCCESS) {
    d.cuLinkDestroy(link);
    return d.error("cuLinkAddData", added);
  }
  void *cubin = nullptr;
  size_t size = 0;
  CUresult done = d.cuLinkComplete(link, &cubin, &size);
  if (done != CUDA_SUCCESS) {
    d.cuLinkDestroy(link);
    return d.error("cuLinkComplete", done);
  }
  std::string bytes(static_cast<const char *>(cubin), size);
  d.cuLinkDestroy(link);
  return bytes;
}

CompileOptions compileOptionsFor(const Runtime::State &rt,
                                 const PassRequest &request) {
  CompileOptions options;
  options.target = rt.target;
  options.headDim = request.headDim;
  options.inputType =
      request.dtype == DType::f16 ? InputType::f16 : InputType::bf16;
  options.pass = request.pass;
  options.rowTilesPerWarp = rt.rowTilesPerWarp;
  options.blockM = rt.blockM;
  options.blockN = rt.blockN;
  options.deterministic =
      rt.deterministic && request.pass == CompilePass::backward;
  return options;
}

std::string keyMaterial(const Runtime::State &rt,
                        const Attention::State &attention,
                        const PassRequest &request) {
  std::string material = attention.text + "\n" + rt.target.arch +
                         " d=" + std::to_string(request.headDim) + " " +
                         stringifyDType(request.dtype) + " " +
                         stringifyCompilePass(request.pass);
  if (rt.rowTilesPerWarp != 0) // a forced tiling; the default needs none
    material += " tiles/warp=" + std::to_string(rt.rowTilesPerWarp);
  if (rt.blockM || rt.blockN)
    material += " blocks=" + std::to_string(rt.blockM) + "x" +
                std::to_string(rt.blockN);
  if (rt.deterministic && request.pass == CompilePass::backward)
    material += " deterministic";
  // Cubins linked on a device of another architecture than the target's.
  if (!rt.deviceArch.empty() && rt.deviceArch != rt.target.arch)
    material += " on " + rt.deviceArch;
  // An entry of another metadata format is never read back.
  return material + " metadata=" + std::to_string(kKernelMetadataFormat);
}

std::string stemOf(const Attention::State &attention,
                   const PassRequest &request) {
  return attention.program.name() + "-" + stringifyCompilePass(request.pass) +
         "-d" + std::to_string(request.headDim) + "-" +
         stringifyDType(request.dtype);
}

} // namespace

Expected<KernelCache::Lookup>
flashjit::compiledPass(Runtime::State &rt, const Attention::State &attention,
                       const PassRequest &request) {
  auto start = std::chrono::steady_clock::now();
  std::string stem = stemOf(attention, request);
  Expected<KernelCache::Lookup> lookup = rt.cache->getOrBuild(
      keyMaterial(rt, attention, request), [&]() -> Expected<CacheEntry> {
        Expected<CompiledPass> compiled = compileProgram(
            attention.program, compileOptionsFor(rt, request), dumperFor(stem));
        if (!compiled)
          return compiled.error();
        CacheEntry entry{compiled->ptx, "",
                         kernelMetadataJson(compiled->launch, rt.target.arch)};
        if (rt.driver) {
          Expected<std::string> cubin = linkCubin(*rt.driver, entry.ptx);
          if (!cubin)
            return cubin.error();
          entry.cubin = std::move(*cubin);
        }
        return entry;
      });
  if (!lookup)
    return lookup.error();
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  const char *source = lookup->source == KernelCache::Source::built ? "compiled"
                       : lookup->source == KernelCache::Source::disk
                           ? "loaded from the disk cache"
                           : "found in memory";
  logger().debug("{}: {} in {:.1f} ms", stem, source, ms);
  return lookup;
}

/// Loads a cache entry's image into the current context.
namespace {

Expected<std::shared_ptr<LoadedPass>> loadModule(const CudaDriver &d,
                                                 const CacheEntry &entry,
                                                 const std::string &stem) {
  Expected<LaunchContract> launch = parseKernelMetadata(entry.metadata);
  if (!launch)
    return Error("the cached metadata of " + stem +
                 " is unreadable: " + launch.error().message());
  auto loaded = std::make_shared<LoadedPass>();
  loaded->launch = std::move(*launch);
  const std::string &image = entry.cubin.empty() ? entry.ptx : entry.cubin;
  std::string terminated = image + '\0';
  if (auto e = d.check("cuModuleLoadData",
                       d.cuModuleLoadData(&loaded->module, terminated.data())))
    return *e;
  for (const KernelInfo &k : loaded->launch.kernels) {
    CUfunction f;
    if (auto e =
            d.check("cuModuleGetFunction",
                    d.cuModuleGetFunction(&f, loaded->module, k.name.c_str())))
      return *e;
    if (auto e = d.check("cuFuncSetAttribute",
                         d.cuFuncSetAttribute(
                             f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                             k.schedule.sharedMemoryBytes)))
      return *e;
    loaded->functions.push_back(f);
    loaded->sources.push_back(
        resolveArguments(k.args, loaded->launch.workspace));
  }
  return loaded;
}

/// The runtime's loaded kernels of `request`, loaded now if need be.
Expected<std::shared_ptr<LoadedPass>>
loadPassOfRuntime(Runtime::State &rt, const Attention::State &attention,
                  const PassRequest &request) {
  std::string key = KernelCache::keyOf(keyMaterial(rt, attention, request));
  {
    std::lock_guard<std::mutex> lock(rt.mutex);
    auto it = rt.loaded.find(key);
    if (it != rt.loaded.end())
      return it->second;
  }
  Expected<KernelCache::Lookup> lookup = compiledPass(rt, attention, request);
  if (!lookup)
    return lookup.error();
  if (!rt.driver)
    return Error("no device: this runtime compiles for " + rt.target.arch +
                 " but cannot launch");
  Expected<std::shared_ptr<LoadedPass>> loaded =
      loadModule(*rt.driver, *lookup->entry, stemOf(attention, request));
  if (!loaded)
    return loaded.error();
  std::lock_guard<std::mutex> lock(rt.mutex);
  auto [it, inserted] = rt.loaded.emplace(key, *loaded);
  if (!inserted) // another thread loaded it meanwhile
    rt.driver->cuModuleUnload((*loaded)->module);
  return it->second;
}

} // namespace

Expected<std::shared_ptr<LoadedPass>>
flashjit::loadPass(Runtime::State &rt, Attention::State &attention,
                   CompilePass pass, const LaunchShape &shape) {
  PassRequest request{pass, int(shape.headDim), shape.dtype};
  {
    std::lock_guard<std::mutex> lock(attention.mutex);
    for (const auto &[launched, loaded] : attention.launched)
      if (launched == request)
        return loaded;
  }
  Expected<std::shared_ptr<LoadedPass>> loaded =
      loadPassOfRuntime(rt, attention, request);
  if (!loaded)
    return loaded.error();
  std::lock_guard<std::mutex> lock(attention.mutex);
  attention.launched.emplace_back(request, *loaded);
  return loaded;
}
