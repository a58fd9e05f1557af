//===- CudaContext.h - the device's primary context, made current -*- C++
//-*-===//
//
// flashjit works in a device's primary context, the one the CUDA runtime
// and torch use, so their pointers and streams are valid in its launches.
// It never leaves the caller's thread changed: every API call that needs
// the context pushes it for the call's duration and pops it again.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_RUNTIME_DRIVER_CUDACONTEXT_H
#define FLASHJIT_RUNTIME_DRIVER_CUDACONTEXT_H

#include "runtime/driver/CudaDriver.h"

#include <memory>
#include <optional>
#include <vector>

namespace flashjit {

/// A retained primary context, released when the last owner goes.
class PrimaryContext {
public:
  static Expected<std::unique_ptr<PrimaryContext>>
  retain(const CudaDriver &driver, int ordinal);
  ~PrimaryContext();
  PrimaryContext(const PrimaryContext &) = delete;
  PrimaryContext &operator=(const PrimaryContext &) = delete;

  CUcontext context() const { return context_; }
  CUdevice device() const { return device_; }

private:
  PrimaryContext(const CudaDriver &driver, CUdevice device, CUcontext context)
      : driver_(driver), device_(device), context_(context) {}
  const CudaDriver &driver_;
  CUdevice device_;
  CUcontext context_;
};

/// `context` current on this thread until the scope ends; the previous
/// one is current again afterwards. Nothing is pushed when `context` is
/// current already.
class ScopedContext {
public:
  static Expected<ScopedContext> enter(const CudaDriver &driver,
                                       CUcontext context);
  ScopedContext(ScopedContext &&other) noexcept
      : driver_(other.driver_), pushed_(other.pushed_) {
    other.pushed_ = false;
  }
  ScopedContext &operator=(ScopedContext &&) = delete;
  ~ScopedContext();

private:
  ScopedContext(const CudaDriver &driver, bool pushed)
      : driver_(&driver), pushed_(pushed) {}
  const CudaDriver *driver_;
  bool pushed_;
};

/// An error naming the mismatch when `stream` (non-null, not a special
/// handle) belongs to another context than `context`.
std::optional<Error> checkStreamContext(const CudaDriver &driver,
                                        CUstream stream, CUcontext context);

/// A pointer a launch reads or writes, named for the error.
struct LaunchPointer {
  const char *name;
  const void *data;
};

/// An error naming the first pointer that is not device (or managed)
/// memory of device `ordinal`: pinned host memory, memory CUDA does not
/// know (malloc'd or freed), another device's. The kernel would fault on
/// it and take the context with it; this check leaves the context usable.
std::optional<Error> checkDevicePointers(const CudaDriver &driver, int ordinal,
                                         const std::vector<LaunchPointer> &all);

} // namespace flashjit

#endif // FLASHJIT_RUNTIME_DRIVER_CUDACONTEXT_H
