//===- CopyPipeline.h - tiles from global into shared memory ----*- C++ -*-===//
//
// How a kernel's tiles reach shared memory: carved out of the dynamic shared
// memory as the kernel's SharedMemoryPlan lays them out, copied with cp.async
// (one group per copy, in the layout the MMA engine reads), and landed: waited
// for, made visible to the engine's reads, then to every thread.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_KERNEL_COPYPIPELINE_H
#define FLASHJIT_COMPILER_KERNEL_COPYPIPELINE_H

#include "compiler/kernel/MmaEngine.h"
#include "compiler/lowering/KernelCommon.h"
#include "compiler/schedule/SharedMemoryPlan.h"

#include "llvm/ADT/StringMap.h"

namespace flashjit {

/// The regions of `plan`, by name, carved from the start of `module`'s
/// dynamic shared memory in order (pointers to the input type).
llvm::StringMap<mlir::Value> carveSharedTiles(KernelBuilder &k,
                                              mlir::ModuleOp module,
                                              const SharedMemoryPlan &plan);

/// Copies [rows, headDim] tiles with the block's threads.
class TileCopier {
public:
  TileCopier(KernelBuilder &k, const MmaEngine &engine, mlir::Value thread,
             int numThreads, int headDim)
      : k(k), engine(engine), thread(thread), numThreads(numThreads),
        headDim(headDim) {}

  /// Issues rows [start, start + rows) of `view` (`limit` valid rows, the
  /// rest zero-filled) into `tile` as one cp.async group.
  void copy(mlir::Value tile, int rows, const TensorView &view,
            mlir::Value start, mlir::Value limit) const;
  /// Waits until at most `pending` groups are in flight; the landed tiles
  /// are then visible to every thread and to the engine's products.
  void land(int pending) const;

private:
  KernelBuilder &k;
  const MmaEngine &engine;
  mlir::Value thread;
  int numThreads, headDim;
};

} // namespace flashjit

#endif // FLASHJIT_COMPILER_KERNEL_COPYPIPELINE_H
