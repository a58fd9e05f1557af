//===- CudaDriver.cpp - the CUDA Driver API, loaded at run time -----------===//

#include "runtime/driver/CudaDriver.h"

#include <dlfcn.h>

#include <mutex>

using namespace flashjit;

#define FLASHJIT_STRINGIFY_(x) #x
// Expands cuda.h's versioning macros first: cuMemAlloc -> "cuMemAlloc_v2".
#define FLASHJIT_STRINGIFY(x) FLASHJIT_STRINGIFY_(x)

Expected<const CudaDriver *> CudaDriver::load(const std::string &library) {
  void *handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    return Error("no CUDA driver: cannot load " + library + " (" +
                 (why ? why : "unknown reason") +
                 "); install the NVIDIA driver or run where one is");
  }
  auto *driver = new CudaDriver();
  driver->handle = handle;
#define FLASHJIT_CUDA_SYMBOL(name)                                             \
  driver->name = reinterpret_cast<decltype(driver->name)>(                     \
      dlsym(handle, FLASHJIT_STRINGIFY(name)));                                \
  if (!driver->name) {                                                         \
    dlclose(handle);                                                           \
    delete driver;                                                             \
    return Error(std::string("the CUDA driver in ") + library +                \
                 " has no entry point " FLASHJIT_STRINGIFY(                    \
                     name) "; it is older than flashjit needs");               \
  }
#include "runtime/driver/CudaSymbols.def"
#undef FLASHJIT_CUDA_SYMBOL
#define FLASHJIT_CUDA_SYMBOL(name)                                             \
  driver->name = reinterpret_cast<decltype(driver->name)>(                     \
      dlsym(handle, FLASHJIT_STRINGIFY(name)));
#include "runtime/driver/CudaOptionalSymbols.def"
#undef FLASHJIT_CUDA_SYMBOL
  if (std::optional<Error> e = driver->check("cuInit", driver->cuInit(0))) {
    dlclose(handle);
    delete driver;
    return *e;
  }
  driver->cuDriverGetVersion(&driver->driverVersion);
  return static_cast<const CudaDriver *>(driver);
}

Expected<const CudaDriver *> CudaDriver::get() {
  // Loaded once and kept for the life of the process, like libcuda itself.
  static Expected<const CudaDriver *> driver = load("libcuda.so.1");
  return driver;
}

Expected<const CudaDriver *>
CudaDriver::loadForTesting(const std::string &library) {
  return load(library);
}

Error CudaDriver::error(const char *call, CUresult result) const {
  const char *name = nullptr, *text = nullptr;
  if (cuGetErrorName)
    cuGetErrorName(result, &name);
  if (cuGetErrorString)
    cuGetErrorString(result, &text);
  return Error(std::string(call) + " failed: " +
               (name ? name : "CUresult " + std::to_string(int(result))) +
               (text ? std::string(" (") + text + ")" : std::string()));
}

std::optional<Error> CudaDriver::check(const char *call,
                                       CUresult result) const {
  if (result == CUDA_SUCCESS)
    return std::nullopt;
  return error(call, result);
}

Expected<TargetInfo> CudaDriver::queryTarget(int ordinal) const {
  int count = 0;
  if (auto e = check("cuDeviceGetCount", cuDeviceGetCount(&count)))
    return *e;
  if (count == 0)
    return Error("the CUDA driver sees no GPU");
  if (ordinal < 0 || ordinal >= count)
    return Error("no GPU " + std::to_string(ordinal) + ": the driver sees " +
                 std::to_string(count));
  CUdevice device;
  if (auto e = check("cuDeviceGet", cuDeviceGet(&device, ordinal)))
    return *e;
  auto attribute = [&](CUdevice_attribute a, int &out) {
    return check("cuDeviceGetAttribute", cuDeviceGetAttribute(&out, a, device));
  };
  TargetInfo t;
  int smem = 0;
  for (auto [attr, out] :
       {std::pair{CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                  &t.computeMajor},
        std::pair{CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                  &t.computeMinor},
        std::pair{CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, &smem},
        std::pair{CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, &t.smCount},
        std::pair{CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR,
                  &t.registersPerSM},
        std::pair{CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK,
                  &t.maxThreadsPerBlock}})
    if (auto e = attribute(attr, *out))
      return *e;
  t.sharedMemoryPerBlockOptin = smem;
  int cc = t.computeCapability();
  // Hopper's arch-specific features need the `a` target; the kernels use
  // none yet, but the PTX is then the one a Hopper-tuned build would load.
  t.arch = "sm_" + std::to_string(cc) + (cc == 90 ? "a" : "");
  t.ptxVersion = ptxVersionFor(cc);
  if (cc < 80)
    return Error("GPU " + std::to_string(ordinal) + " has compute capability " +
                 std::to_string(t.computeMajor) + "." +
                 std::to_string(t.computeMinor) +
                 "; flashjit's kernels need 8.0 or newer (mma.sync m16n8k16)");
  return t;
}
