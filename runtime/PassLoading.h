//===- PassLoading.h - a variant's pass compiled, cached, loaded -*- C++
//-*-===//
//
// How a pass reaches the device: compiled (or found in the kernel cache, in
// memory or on disk), linked to a cubin where there is a device, and loaded
// into the runtime's context with its kernels' argument sources.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_RUNTIME_PASSLOADING_H
#define FLASHJIT_RUNTIME_PASSLOADING_H

#include "runtime/RuntimeState.h"

namespace flashjit {

/// The cache entry of `request`: from memory, from disk, or compiled now
/// (then linked to a cubin when there is a device).
Expected<KernelCache::Lookup> compiledPass(Runtime::State &rt,
                                           const Attention::State &attention,
                                           const PassRequest &request);

/// Compiles (or finds) the kernels of `pass` for `shape` and loads them,
/// once per attention and request.
Expected<std::shared_ptr<LoadedPass>> loadPass(Runtime::State &rt,
                                               Attention::State &attention,
                                               CompilePass pass,
                                               const LaunchShape &shape);

} // namespace flashjit

#endif // FLASHJIT_RUNTIME_PASSLOADING_H
