//===- CudaContext.cpp - the device's primary context, made current -------===//

#include "runtime/driver/CudaContext.h"

using namespace flashjit;

Expected<std::unique_ptr<PrimaryContext>>
PrimaryContext::retain(const CudaDriver &driver, int ordinal) {
  CUdevice device;
  if (auto e =
          driver.check("cuDeviceGet", driver.cuDeviceGet(&device, ordinal)))
    return *e;
  CUcontext context;
  if (auto e = driver.check("cuDevicePrimaryCtxRetain",
                            driver.cuDevicePrimaryCtxRetain(&context, device)))
    return *e;
  return std::unique_ptr<PrimaryContext>(
      new PrimaryContext(driver, device, context));
}

PrimaryContext::~PrimaryContext() {
  driver_.cuDevicePrimaryCtxRelease(device_);
}

Expected<ScopedContext> ScopedContext::enter(const CudaDriver &driver,
                                             CUcontext context) {
  CUcontext current = nullptr;
  if (auto e =
          driver.check("cuCtxGetCurrent", driver.cuCtxGetCurrent(&current)))
    return *e;
  if (current == context)
    return ScopedContext(driver, false);
  if (auto e =
          driver.check("cuCtxPushCurrent", driver.cuCtxPushCurrent(context)))
    return *e;
  return ScopedContext(driver, true);
}

ScopedContext::~ScopedContext() {
  if (!pushed_)
    return;
  CUcontext popped;
  driver_->cuCtxPopCurrent(&popped);
}

std::optional<Error> flashjit::checkStreamContext(const CudaDriver &driver,
                                                  CUstream stream,
                                                  CUcontext context) {
  // The legacy and per-thread default streams act on whatever is current.
  if (stream == nullptr || stream == CU_STREAM_LEGACY ||
      stream == CU_STREAM_PER_THREAD)
    return std::nullopt;
  CUcontext owner = nullptr;
  if (auto e =
          driver.check("cuStreamGetCtx", driver.cuStreamGetCtx(stream, &owner)))
    return e;
  if (owner != context)
    return Error("the stream belongs to another CUDA context than the "
                 "device's primary context, which flashjit launches in");
  return std::nullopt;
}

std::optional<Error>
flashjit::checkDevicePointers(const CudaDriver &driver, int ordinal,
                              const std::vector<LaunchPointer> &all) {
  for (const LaunchPointer &p : all) {
    if (!p.data)
      continue; // an empty tensor's; validation refused the others
    // Unlike the singular call, cuPointerGetAttributes leaves the
    // attributes zero for a pointer CUDA does not know, and succeeds.
    unsigned memoryType = 0, managed = 0;
    int device = -1;
    CUpointer_attribute attributes[] = {CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
                                        CU_POINTER_ATTRIBUTE_IS_MANAGED,
                                        CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL};
    void *values[] = {&memoryType, &managed, &device};
    if (auto e =
            driver.check("cuPointerGetAttributes",
                         driver.cuPointerGetAttributes(
                             3, attributes, values,
                             CUdeviceptr(reinterpret_cast<uintptr_t>(p.data)))))
      return e;
    std::string name = p.name;
    if (managed)
      continue;
    if (memoryType == CU_MEMORYTYPE_HOST)
      return Error(name + " is host memory (pinned or registered); flashjit "
                          "reads and writes device memory only");
    if (memoryType != CU_MEMORYTYPE_DEVICE)
      return Error(name + " is not memory CUDA knows (a host pointer, or "
                          "freed device memory)");
    if (device != ordinal)
      return Error(name + " is memory of device " + std::to_string(device) +
                   "; this runtime launches on device " +
                   std::to_string(ordinal));
  }
  return std::nullopt;
}
