//===- Runtime.cpp - runtimes, attentions and their launches --------------===//

#include "flashjit/flashjit.h"

#include "compiler/analysis/AttentionChain.h"
#include "compiler/frontend/ProgramState.h"
#include "compiler/kernel/KernelMetadata.h"
#include "runtime/Logging.h"
#include "runtime/PassLoading.h"
#include "runtime/RuntimeState.h"

#include "flashjit/version.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>

using namespace flashjit;
using mlir::cast;

//===----------------------------------------------------------------------===//
// Runtime
//===----------------------------------------------------------------------===//

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
