//===- TargetInfo.h - what the compiler knows of a GPU ----------*- C++ -*-===//
//
// The hardware facts schedules are chosen from. The runtime fills one from
// the device it finds; the compiler also knows the common targets by name so
// that everything can be compiled and checked without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_TARGET_TARGETINFO_H
#define FLASHJIT_COMPILER_TARGET_TARGETINFO_H

#include "flashjit/status.h"

#include <string>
#include <string_view>
#include <vector>

namespace flashjit {

struct TargetInfo {
  /// The PTX target name: sm_80, sm_90a, ...
  std::string arch;
  int computeMajor = 0;
  int computeMinor = 0;
  /// Shared memory one block may use after opting in
  /// (cudaDevAttrMaxSharedMemoryPerBlockOptin), in bytes.
  int sharedMemoryPerBlockOptin = 0;
  /// 32-bit registers per SM, and the most one thread may use.
  int registersPerSM = 65536;
  int maxRegistersPerThread = 255;
  int maxThreadsPerBlock = 1024;
  int smCount = 0;
  /// The PTX ISA version to emit, as 10 * major + minor (80 is 8.0).
  int ptxVersion = 80;

  int computeCapability() const { return computeMajor * 10 + computeMinor; }
  /// Whether `mma.sync.m16n8k16` with bf16 and f16 inputs exists (sm_80+).
  bool hasMmaM16N8K16() const { return computeCapability() >= 80; }
  /// Whether `cp.async` exists (sm_80+).
  bool hasAsyncCopy() const { return computeCapability() >= 80; }
  /// Whether warpgroup MMA (`wgmma.mma_async`) exists: sm_90a only, the
  /// architecture-specific target (plain sm_90 lacks it).
  bool hasWarpgroupMma() const {
    return computeCapability() == 90 && !arch.empty() && arch.back() == 'a';
  }
};

/// The PTX ISA version flashjit emits for a compute capability: 6.4 below
/// sm_80, 8.0 for sm_80 to sm_89, 8.1 from sm_90 (the vector `red` of the
/// backward's dQ needs it).
int ptxVersionFor(int computeCapability);

/// The targets known by name, for compiling without a device:
/// sm_75 (T4), sm_80 (A100), sm_86 (A10, RTX 3090), sm_89 (L4, RTX 4090),
/// sm_90 and sm_90a (H100).
const std::vector<TargetInfo> &knownTargets();

/// The known target `arch`; an unknown name is an Error that lists the
/// known ones.
Expected<TargetInfo> targetByName(std::string_view arch);

/// The known target `arch` for kernels run on `device`: what that
/// architecture's kernels are compiled for (its shared memory, capped by
/// the device's), so that an older target's kernels run as they would on
/// their own GPU: sm_80's mma.sync kernels on an H200, say. A target the
/// device cannot run (a newer one, or the arch-specific target of another
/// architecture) is an Error that says so.
Expected<TargetInfo> targetOnDevice(const TargetInfo &device,
                                    std::string_view arch);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_TARGET_TARGETINFO_H
