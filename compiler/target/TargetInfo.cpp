//===- TargetInfo.cpp - the GPUs known by name ----------------------------===//

#include "compiler/target/TargetInfo.h"

#include <algorithm>

using namespace flashjit;

const std::vector<TargetInfo> &flashjit::knownTargets() {
  // Shared memory opt-in limits and SM counts from NVIDIA's tuning guides
  // and the devices themselves (one representative part per architecture).
  static const std::vector<TargetInfo> targets = [] {
    auto make = [](std::string arch, int major, int minor, int smemKiB,
                   int sms) {
      TargetInfo t;
      t.arch = std::move(arch);
      t.computeMajor = major;
      t.computeMinor = minor;
      t.sharedMemoryPerBlockOptin = smemKiB * 1024;
      t.smCount = sms;
      return t;
    };
    std::vector<TargetInfo> list = {
        make("sm_75", 7, 5, 64, 40),   // T4
        make("sm_80", 8, 0, 163, 108), // A100
        make("sm_86", 8, 6, 99, 84),   // A10 / RTX 3090
        make("sm_89", 8, 9, 99, 58),   // L4 / RTX 4090
        make("sm_90", 9, 0, 227, 132), // H100 SXM
        make("sm_90a", 9, 0, 227, 132),
    };
    for (TargetInfo &t : list)
      t.ptxVersion = ptxVersionFor(t.computeCapability());
    return list;
  }();
  return targets;
}

int flashjit::ptxVersionFor(int computeCapability) {
  return computeCapability < 80 ? 64 : computeCapability < 90 ? 80 : 81;
}

Expected<TargetInfo> flashjit::targetByName(std::string_view arch) {
  std::string known;
  for (const TargetInfo &target : knownTargets()) {
    if (target.arch == arch)
      return target;
    known += (known.empty() ? "" : ", ") + target.arch;
  }
  return Error("unknown target '" + std::string(arch) + "'; known: " + known);
}

Expected<TargetInfo> flashjit::targetOnDevice(const TargetInfo &device,
                                              std::string_view arch) {
  Expected<TargetInfo> target = targetByName(arch);
  if (!target)
    return target;
  bool archSpecific = target->arch.back() == 'a';
  if (target->computeCapability() > device.computeCapability() ||
      (archSpecific &&
       target->computeCapability() != device.computeCapability()))
    return Error(
        "target " + target->arch + " cannot run on the device (" + device.arch +
        "): its kernels need " +
        (archSpecific ? "exactly compute capability " : "compute capability ") +
        std::to_string(target->computeMajor) + "." +
        std::to_string(target->computeMinor) +
        (archSpecific ? "" : " or newer"));
  target->sharedMemoryPerBlockOptin = std::min(
      target->sharedMemoryPerBlockOptin, device.sharedMemoryPerBlockOptin);
  target->smCount = device.smCount;
  target->registersPerSM = device.registersPerSM;
  target->maxThreadsPerBlock = device.maxThreadsPerBlock;
  return target;
}
