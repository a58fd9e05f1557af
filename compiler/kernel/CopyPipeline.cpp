//===- CopyPipeline.cpp - tiles from global into shared memory ------------===//

#include "compiler/kernel/CopyPipeline.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace flashjit;

namespace {

/// Copies a [rows, d] tile of input elements from global memory into a
/// shared tile in `layout` with 16-byte cp.async copies spread over
/// `numThreads` threads. Row r reads `rowPtr(r)` (already offset to the
/// tile's row r) if `rowValid(r)`, else zero-fills.
void copyTileAsync(KernelBuilder &k, Value sharedTile, int rows, int headDim,
                   Value thread, int numThreads,
                   function_ref<Value(Value)> rowPtr,
                   function_ref<Value(Value)> rowValid, SharedLayout layout) {
  int chunksPerRow = headDim / 8;
  int chunks = rows * chunksPerRow;
  for (int first = 0; first < chunks; first += numThreads) {
    // Chunk `first + thread` of the tile, row-major over 16-byte chunks.
    Value chunk = k.add(thread, k.c32(first));
    Value inRange = k.cmpi(arith::CmpIPredicate::slt, chunk, k.c32(chunks));
    auto copy = [&] {
      Value row = k.divsi(chunk, k.c32(chunksPerRow));
      Value col = k.mul(k.remsi(chunk, k.c32(chunksPerRow)), k.c32(8));
      Value src = k.gep(rowPtr(row), k.element(), col);
      Value offset;
      if (layout == SharedLayout::padded) {
        offset = k.add(k.mul(row, k.c32(sharedRowElements(headDim))), col);
      } else {
        // Panel of 64 columns, then the row's 8 chunks XOR-swizzled.
        Value inRow = k.remsi(chunk, k.c32(chunksPerRow));
        Value panel = k.divsi(inRow, k.c32(8));
        Value swizzled =
            k.xori(k.remsi(inRow, k.c32(8)), k.remsi(row, k.c32(8)));
        offset =
            k.add(k.add(k.mul(panel, k.c32(rows * 64)), k.mul(row, k.c32(64))),
                  k.mul(swizzled, k.c32(8)));
      }
      Value dst = k.gep(sharedTile, k.element(), offset);
      Value bytes = k.select(rowValid(row), k.c32(16), k.c32(0));
      NVVM::CpAsyncOp::create(k.b, k.loc, dst, src, 16u,
                              NVVM::LoadCacheModifierKind::CG, bytes);
    };
    if (first + numThreads <= chunks) {
      copy();
    } else {
      scf::IfOp::create(k.b, k.loc, inRange, [&](OpBuilder &, Location) {
        copy();
        scf::YieldOp::create(k.b, k.loc);
      });
    }
  }
}

} // namespace

llvm::StringMap<Value>
flashjit::carveSharedTiles(KernelBuilder &k, ModuleOp module,
                           const SharedMemoryPlan &plan) {
  // Each region from the previous one, in input elements.
  const int elementBytes = 2;
  llvm::StringMap<Value> tiles;
  Value at, previous;
  int previousBytes = 0;
  for (const SharedRegion &region : plan.regions()) {
    at = previous
             ? k.gep(previous, k.element(), k.c32(previousBytes / elementBytes))
             : k.dynamicSharedMemory(module);
    tiles[region.name] = at;
    previous = at;
    previousBytes = region.bytes;
  }
  return tiles;
}

void TileCopier::copy(Value tile, int rows, const TensorView &view, Value start,
                      Value limit) const {
  copyTileAsync(
      k, tile, rows, headDim, thread, numThreads,
      [&](Value r) { return view.row(k, k.add(start, r), limit); },
      [&](Value r) {
        return k.cmpi(arith::CmpIPredicate::slt, k.add(start, r), limit);
      },
      engine.sharedLayout());
  k.commitGroup();
}

void TileCopier::land(int pending) const {
  k.waitGroup(pending);
  engine.fenceLandedCopies(k);
  k.barrier();
}
