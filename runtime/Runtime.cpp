//===- Runtime.cpp - compile, cache, load and launch ----------------------===//

#include "flashjit/flashjit.h"

#include "compiler/Compiler.h"
#include "compiler/analysis/AttentionChain.h"
#include "compiler/frontend/ProgramState.h"
#include "compiler/kernel/KernelMetadata.h"
#include "runtime/KernelArguments.h"
#include "runtime/Logging.h"
#include "runtime/Validation.h"
#include "runtime/cache/KernelCache.h"
#include "runtime/driver/CudaContext.h"
#include "runtime/driver/CudaDriver.h"

#include "flashjit/version.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>

using namespace flashjit;
using mlir::cast;

//===----------------------------------------------------------------------===//
// Loaded passes
//===----------------------------------------------------------------------===//

namespace {

/// A compiled pass loaded into the runtime's context.
struct LoadedPass {
  CUmodule module = nullptr;
  LaunchContract launch;
  std::vector<CUfunction> functions;
  /// Per kernel, where each parameter's value comes from.
  std::vector<std::vector<ArgumentSource>> sources;
};

} // namespace

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

const char *flashjit::version() { return FLASHJIT_VERSION_STRING; }

Runtime::Runtime(std::unique_ptr<State> state) : state_(std::move(state)) {}
Runtime::~Runtime() = default;
std::string Runtime::target() const { return state_->target.arch; }
bool Runtime::hasDevice() const { return state_->driver != nullptr; }
int Runtime::device() const { return state_->ordinal; }

/// The target kernels are compiled for on the options' device: its own, or
/// RuntimeOptions::target (else $FLASHJIT_TARGET) when that names an older
/// one it runs.
static Expected<TargetInfo> targetFor(const TargetInfo &device,
                                      const RuntimeOptions &options) {
  std::string name = options.target;
  const char *env = std::getenv("FLASHJIT_TARGET");
  if (name.empty() && env && *env)
    name = env;
  if (name.empty())
    return device;
  std::string what =
      options.target.empty() ? "FLASHJIT_TARGET: " : "RuntimeOptions::target: ";
  Expected<TargetInfo> target = targetOnDevice(device, name);
  if (!target)
    return Error(what + target.error().message());
  if (!target->hasMmaM16N8K16())
    return Error(what + "target " + target->arch +
                 " has no m16n8k16 tensor-core products (sm_80 or newer "
                 "needed)");
  return target;
}

Expected<std::shared_ptr<Runtime>> Runtime::create(RuntimeOptions options) {
  if (Expected<spdlog::level::level_enum> level = logLevelFromEnvironment();
      !level)
    return level.error();
  auto state = std::make_unique<State>();
  if (!options.offlineTarget.empty() && !options.target.empty())
    return Error("RuntimeOptions: offlineTarget compiles without a device, "
                 "target for an older target than the device's; give one");
  if (!options.offlineTarget.empty()) {
    Expected<TargetInfo> target = targetByName(options.offlineTarget);
    if (!target)
      return target.error();
    state->target = *target;
  } else {
    Expected<const CudaDriver *> driver = CudaDriver::get();
    if (!driver)
      return driver.error();
    const CudaDriver *d = *driver;
    Expected<TargetInfo> device = d->queryTarget(options.device);
    if (!device)
      return device.error();
    Expected<TargetInfo> target = targetFor(*device, options);
    if (!target)
      return target.error();
    state->target = *target;
    state->deviceArch = device->arch;
    Expected<std::unique_ptr<PrimaryContext>> primary =
        PrimaryContext::retain(*d, options.device);
    if (!primary)
      return primary.error();
    state->primary = std::move(*primary);
    state->ordinal = options.device;
    state->driver = d;
  }
  state->rowTilesPerWarp = options.rowTilesPerWarp;
  state->blockM = options.blockM;
  state->blockN = options.blockN;
  const char *env = std::getenv("FLASHJIT_ROW_TILES_PER_WARP");
  if (state->rowTilesPerWarp == 0 && env && *env) {
    state->rowTilesPerWarp = std::atoi(env);
    if (state->rowTilesPerWarp == 0)
      return Error("FLASHJIT_ROW_TILES_PER_WARP must be 1 to " +
                   std::to_string(kMaxRowTilesPerWarp) + ", not '" + env + "'");
  }
  if (state->rowTilesPerWarp < 0 ||
      state->rowTilesPerWarp > kMaxRowTilesPerWarp)
    return Error("row tiles per warp (RuntimeOptions or "
                 "FLASHJIT_ROW_TILES_PER_WARP) must be 1 to " +
                 std::to_string(kMaxRowTilesPerWarp) +
                 " (0: the compiler's choice)");
  state->deterministic = options.deterministic;
  if (const char *det = std::getenv("FLASHJIT_DETERMINISTIC");
      !state->deterministic && det && *det) {
    std::string value = det;
    if (value != "0" && value != "1")
      return Error("FLASHJIT_DETERMINISTIC must be 0 or 1, not '" + value +
                   "'");
    state->deterministic = value == "1";
  }
  std::string dir = options.memoryCacheOnly ? ""
                    : options.cacheDirectory.empty()
                        ? KernelCache::defaultDirectory()
                        : options.cacheDirectory;
  state->cache = std::make_unique<KernelCache>(dir);
  return std::make_shared<Runtime>(std::move(state));
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

namespace {
/// One compile of a variant, besides the runtime's options.
struct PassRequest {
  CompilePass pass;
  int headDim;
  DType dtype;
  bool operator==(const PassRequest &) const = default;
};
} // namespace

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

Attention::Attention(std::shared_ptr<State> state) : state_(std::move(state)) {}
const Program &Attention::program() const { return state_->program; }

Expected<Attention> Attention::create(std::shared_ptr<Runtime> runtime,
                                      Program variant) {
  if (!runtime)
    return Error("Attention::create needs a runtime");
  // A program the compiler cannot fuse is an error now, not at the first
  // launch.
  {
    DiagnosticCollector diagnostics(variant.context());
    auto program = cast<tile::ProgramOp>(variant.module().getBody()->front());
    if (failed(matchAttentionChain(program)))
      return Error(diagnostics.message("variant '" + variant.name() +
                                       "' cannot be fused"));
  }
  auto state = std::make_shared<State>(runtime, std::move(variant));
  return Attention(std::move(state));
}

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

/// The cache entry of `request`: from memory, from disk, or compiled now
/// (then linked to a cubin when there is a device).
Expected<KernelCache::Lookup> compiledPass(Runtime::State &rt,
                                           const Attention::State &attention,
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

/// Compiles (or finds) the kernels of `pass` for `shape` and loads them.
Expected<std::shared_ptr<LoadedPass>> loadPass(Runtime::State &rt,
                                               Attention::State &attention,
                                               CompilePass pass,
                                               const LaunchShape &shape) {
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

unsigned ceilDiv(int64_t a, int64_t b) { return unsigned((a + b - 1) / b); }

/// The grid of `kernel` for `shape`, by its rule.
std::pair<unsigned, unsigned> gridOf(const KernelInfo &kernel,
                                     const LaunchShape &shape) {
  const GridRule &rule = kernel.grid;
  int64_t rows = rule.rows == GridRule::Rows::seqlenQ ? shape.seqlenQ
                 : rule.rows == GridRule::Rows::seqlenKv
                     ? shape.seqlenKv
                     : shape.seqlenQ * shape.headDim / 8;
  int64_t heads = rule.keyValueHeads ? shape.headsKv : shape.headsQ;
  return {ceilDiv(rows, rule.rowsPerBlock) * unsigned(rule.multiplier),
          unsigned(shape.batch * heads)};
}

/// Launches kernel `i` of `pass` on the grid its rule gives for the shape.
Status launch(Runtime::State &rt, const LoadedPass &pass, size_t i,
              const LaunchValues &values, void *stream) {
  const KernelInfo &k = pass.launch.kernels[i];
  auto [gridX, gridY] = gridOf(k, values.shape);
  PackedArguments packed;
  if (auto e = packArguments(pass.sources[i], values, packed))
    return *e;
  const CudaDriver &d = *rt.driver;
  CUresult r = d.cuLaunchKernel(
      pass.functions[i], gridX, gridY, 1, k.schedule.numThreads(), 1, 1,
      k.schedule.sharedMemoryBytes, static_cast<CUstream>(stream),
      packed.pointers.data(), nullptr);
  if (r != CUDA_SUCCESS)
    return d.error(("cuLaunchKernel(" + k.name + ")").c_str(), r);
  return {};
}

/// Launches every kernel of `pass` in order, with the pass's workspace
/// (allocated on the stream and freed after the last kernel; the buffers
/// the contract says are summed into cleared first).
Status launchPass(Runtime::State &rt, const LoadedPass &pass,
                  LaunchValues values, void *stream) {
  const LaunchContract &contract = pass.launch;
  const LaunchShape &shape = values.shape;
  const CudaDriver &d = *rt.driver;
  auto cuStream = static_cast<CUstream>(stream);
  WorkspaceLayout layout =
      layoutOf(contract.workspace, shape.batch * shape.headsQ * shape.seqlenQ,
               shape.headDim);
  CUdeviceptr workspace = 0;
  if (layout.bytes > 0)
    if (auto e = d.check("cuMemAllocAsync",
                         d.cuMemAllocAsync(&workspace, layout.bytes, cuStream)))
      return *e;
  llvm::SmallVector<uint64_t, 4> addresses;
  for (int64_t offset : layout.offsets)
    addresses.push_back(uint64_t(workspace) + uint64_t(offset));
  values.workspace = addresses;
  Status status;
  for (size_t i = 0; i < contract.workspace.size() && status.ok(); ++i)
    if (contract.workspace[i].zeroed)
      if (auto e = d.check("cuMemsetD32Async",
                           d.cuMemsetD32Async(addresses[i], 0,
                                              layout.sizes[i] / 4, cuStream)))
        status = *e;
  for (size_t i = 0; i < contract.kernels.size() && status.ok(); ++i)
    status = launch(rt, pass, i, values, stream);
  if (workspace)
    d.cuMemFreeAsync(workspace, cuStream);
  return status;
}

/// What forward and backward hold while they launch: the validated shape,
/// the device's primary context pushed, the pass loaded.
struct Prepared {
  LaunchShape shape;
  Runtime::State *runtime;
  std::optional<ScopedContext> current;
  std::shared_ptr<LoadedPass> pass;
};

/// The steps before any launch; nullopt when the shape is empty and
/// nothing is to be launched. Offline, the pass is still compiled (and
/// cached) before "no device" is returned.
Expected<std::optional<Prepared>>
prepare(Attention::State &attention, CompilePass which,
        Expected<LaunchShape> shape, const std::vector<LaunchPointer> &pointers,
        void *stream) {
  if (!shape)
    return shape.error();
  if (shape->empty())
    return std::optional<Prepared>();
  Prepared prepared{*shape, &attention.runtime->state(), std::nullopt, nullptr};
  Runtime::State &rt = *prepared.runtime;
  if (rt.driver) {
    CUcontext context = rt.primary->context();
    Expected<ScopedContext> current = ScopedContext::enter(*rt.driver, context);
    if (!current)
      return current.error();
    prepared.current.emplace(std::move(*current));
    if (auto e = checkStreamContext(*rt.driver, static_cast<CUstream>(stream),
                                    context))
      return *e;
    if (auto e = checkDevicePointers(*rt.driver, rt.ordinal, pointers))
      return *e;
  }
  Expected<std::shared_ptr<LoadedPass>> pass =
      loadPass(rt, attention, which, *shape);
  if (!pass)
    return pass.error();
  prepared.pass = *pass;
  return std::optional<Prepared>(std::move(prepared));
}

/// The pointers of `tensors` and of the parameters' buffers that hold
/// elements (an empty tensor's pointer may be anything).
std::vector<LaunchPointer> pointersOf(
    std::initializer_list<std::pair<const char *, const TensorView *>> tensors,
    const AttentionParams &params) {
  auto holdsElements = [](const auto &shape) {
    return std::none_of(std::begin(shape), std::end(shape),
                        [](int64_t extent) { return extent == 0; });
  };
  std::vector<LaunchPointer> pointers;
  for (auto [name, tensor] : tensors)
    if (holdsElements(tensor->shape))
      pointers.push_back({name, tensor->data});
  for (const auto &[name, buffer] : params.buffers)
    if (holdsElements(buffer.shape))
      pointers.push_back({name.c_str(), buffer.data});
  return pointers;
}

} // namespace

Status Attention::forward(const TensorView &q, const TensorView &k,
                          const TensorView &v, const TensorView &o,
                          const TensorView &lse, const AttentionParams &params,
                          void *stream) const {
  Expected<std::optional<Prepared>> prepared = prepare(
      *state_, CompilePass::forward,
      validateForward(state_->interface, q, k, v, o, lse, params),
      pointersOf({{"q", &q}, {"k", &k}, {"v", &v}, {"o", &o}, {"lse", &lse}},
                 params),
      stream);
  if (!prepared)
    return prepared.error();
  if (!*prepared)
    return {}; // nothing to compute
  const LaunchShape &shape = (*prepared)->shape;
  const LoadedPass &pass = *(*prepared)->pass;
  LaunchValues values{shape, params, {&q, &k, &v, &o, &lse}};
  return launchPass(*(*prepared)->runtime, pass, values, stream);
}

Status Attention::backward(const TensorView &q, const TensorView &k,
                           const TensorView &v, const TensorView &o,
                           const TensorView &lse, const TensorView &dO,
                           const TensorView &dq, const TensorView &dk,
                           const TensorView &dv, const AttentionParams &params,
                           void *stream) const {
  Expected<std::optional<Prepared>> prepared =
      prepare(*state_, CompilePass::backward,
              validateBackward(state_->interface, q, k, v, o, lse, dO, dq, dk,
                               dv, params),
              pointersOf({{"q", &q},
                          {"k", &k},
                          {"v", &v},
                          {"o", &o},
                          {"lse", &lse},
                          {"dO", &dO},
                          {"dq", &dq},
                          {"dk", &dk},
                          {"dv", &dv}},
                         params),
              stream);
  if (!prepared)
    return prepared.error();
  if (!*prepared)
    return {}; // nothing to compute
  const LaunchShape &shape = (*prepared)->shape;
  const LoadedPass &pass = *(*prepared)->pass;
  LaunchValues values{
      shape, params, {&q, &k, &v, &o, &lse, &dO, &dq, &dk, &dv}};
  return launchPass(*(*prepared)->runtime, pass, values, stream);
}

Expected<CompiledKernels> Attention::compile(Pass pass, int headDim,
                                             DType dtype) const {
  if (dtype != DType::f16 && dtype != DType::bf16)
    return Error(std::string("Attention::compile: dtype must be f16 or "
                             "bf16, not ") +
                 stringifyDType(dtype));
  Runtime::State &rt = state_->runtime->state();
  PassRequest request{pass == Pass::forward ? CompilePass::forward
                                            : CompilePass::backward,
                      headDim, dtype};
  // With a device, the PTX is linked to a cubin in its primary context.
  std::optional<ScopedContext> current;
  if (rt.driver) {
    Expected<ScopedContext> entered =
        ScopedContext::enter(*rt.driver, rt.primary->context());
    if (!entered)
      return entered.error();
    current.emplace(std::move(*entered));
  }
  Expected<KernelCache::Lookup> lookup = compiledPass(rt, *state_, request);
  if (!lookup)
    return lookup.error();
  const CacheEntry &entry = *lookup->entry;
  Expected<LaunchContract> launch = parseKernelMetadata(entry.metadata);
  if (!launch)
    return launch.error();
  CompiledKernels compiled{rt.target.arch, entry.ptx, entry.metadata, {}};
  for (const KernelInfo &k : launch->kernels) {
    KernelSignature signature{k.name,
                              stringifyKernelKind(k.kind),
                              k.schedule.numThreads(),
                              k.schedule.sharedMemoryBytes,
                              {}};
    for (const KernelArg &arg : k.args)
      signature.params.emplace_back(arg.name, stringifyKernelArgKind(arg.kind));
    compiled.kernels.push_back(std::move(signature));
  }
  return compiled;
}
