//===- KernelConfig.cpp - a Schedule as #tile.kernel_config ---------------===//

#include "compiler/kernel/KernelConfig.h"

using namespace flashjit;

namespace {

// The attribute's kinds are spelled as stringifyKernelKind spells them.
tile::KernelConfigKind configKindOf(KernelKind kind) {
  return *tile::symbolizeKernelConfigKind(stringifyKernelKind(kind));
}

KernelKind kernelKindOf(tile::KernelConfigKind kind) {
  llvm::StringRef name = tile::stringifyKernelConfigKind(kind);
  for (KernelKind k :
       {KernelKind::forward, KernelKind::backwardDelta,
        KernelKind::backwardKeyValue, KernelKind::backwardQuery,
        KernelKind::backwardKeyValueQuery, KernelKind::backwardQueryConvert})
    if (name == stringifyKernelKind(k))
      return k;
  llvm_unreachable("a kernel kind without a Schedule kind");
}

} // namespace

tile::KernelConfigAttr flashjit::kernelConfigOf(mlir::Type elementType,
                                                const Schedule &s) {
  assert(elementType.getIntOrFloatBitWidth() == 8 * s.elementBytes &&
         "the element type and the schedule's element bytes disagree");
  return tile::KernelConfigAttr::get(
      elementType.getContext(), configKindOf(s.kind), s.headDim, elementType,
      s.blockM, s.blockN, s.numWarps, s.numStages, s.headDimSplit,
      s.rowTilesPerWarp,
      s.warpgroupMma ? tile::MmaEngine::wgmma : tile::MmaEngine::mma_sync,
      s.sharedMemoryBytes, s.computeCapability, s.estimatedRegisters);
}

Schedule flashjit::scheduleOf(tile::KernelConfigAttr c) {
  Schedule s;
  s.kind = kernelKindOf(c.getKind());
  s.headDim = c.getHeadDim();
  s.elementBytes = c.getElementType().getIntOrFloatBitWidth() / 8;
  s.blockM = c.getBlockM();
  s.blockN = c.getBlockN();
  s.numWarps = c.getWarps();
  s.numStages = c.getStages();
  s.headDimSplit = c.getHeadDimSplit();
  s.rowTilesPerWarp = c.getRowTilesPerWarp();
  s.warpgroupMma = c.getMma() == tile::MmaEngine::wgmma;
  s.sharedMemoryBytes = c.getSharedMemory();
  s.computeCapability = c.getComputeCapability();
  s.estimatedRegisters = c.getRegisters();
  return s;
}
