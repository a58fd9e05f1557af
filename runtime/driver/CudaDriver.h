//===- CudaDriver.h - the CUDA Driver API, loaded at run time ---*- C++ -*-===//
//
// flashjit never links libcuda: the driver is opened with dlopen at first
// use, so every compile-side tool and test runs on a machine without one,
// and a missing driver is an error message, not a loader failure. Every
// call's failure names the call, the CUresult and the driver's own text.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_RUNTIME_DRIVER_CUDADRIVER_H
#define FLASHJIT_RUNTIME_DRIVER_CUDADRIVER_H

#include "compiler/target/TargetInfo.h"
#include "flashjit/status.h"

#include <cuda.h>

#include <optional>

#include <string>

namespace flashjit {

class CudaDriver {
public:
  /// The driver, loaded and initialised once per process. Fails with the
  /// reason (no libcuda.so.1, a missing entry point, cuInit's error); the
  /// same error is returned to every later caller.
  static Expected<const CudaDriver *> get();

  /// Loads from `library` instead of libcuda.so.1, without caching: for
  /// tests of the failure paths.
  static Expected<const CudaDriver *>
  loadForTesting(const std::string &library);

  /// `call failed: CUDA_ERROR_X (the driver's description)`.
  Error error(const char *call, CUresult result) const;
  /// success() if result is CUDA_SUCCESS, else error(call, result).
  std::optional<Error> check(const char *call, CUresult result) const;

  /// The compiler's view of device `ordinal`.
  Expected<TargetInfo> queryTarget(int ordinal) const;

  int version() const { return driverVersion; }

#define FLASHJIT_CUDA_SYMBOL(name) decltype(&::name) name = nullptr;
#include "runtime/driver/CudaSymbols.def"
  /// Null where the driver lacks them.
#include "runtime/driver/CudaOptionalSymbols.def"
#undef FLASHJIT_CUDA_SYMBOL

private:
  CudaDriver() = default;
  static Expected<const CudaDriver *> load(const std::string &library);
  void *handle = nullptr;
  int driverVersion = 0;
};

} // namespace flashjit

#endif // FLASHJIT_RUNTIME_DRIVER_CUDADRIVER_H
