//===- CopyPipeline.cpp - tiles from global into shared memory ------------===//

#include "compiler/kernel/CopyPipeline.h"

using namespace mlir;
using namespace flashjit;

SmallVector<Value> flashjit::carveSharedTiles(KernelBuilder &k, ModuleOp module,
                                              ArrayRef<int> rows,
                                              int rowElements) {
  SmallVector<Value> tiles = {k.dynamicSharedMemory(module)};
  for (int previous : rows.drop_back())
    tiles.push_back(
        k.gep(tiles.back(), k.element(), k.c32(previous * rowElements)));
  return tiles;
}

void TileCopier::copy(Value tile, int rows, const TensorView &view, Value start,
                      Value limit) const {
  copyRows(k, tile, rows, headDim, thread, numThreads, view, start, limit,
           engine.sharedLayout());
}

void TileCopier::land(int pending) const {
  k.waitGroup(pending);
  engine.fenceLandedCopies(k);
  k.barrier();
}
