//===- MmaSync.h - mma.sync's operands and products -------------*- C++ -*-===//
//
// The warp-level tensor-core product of sm_80 and newer: m16n8k16
// mma.sync, its operands read from shared tiles by ldmatrix (padded rows
// of sharedRowElements, or, where given `swizzledRows`, the warpgroup
// MMA's 128-byte-swizzled panels), and the scores of a warp's rows built
// from them. The accumulators are in FragmentLayout.h's layout.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_KERNEL_MMASYNC_H
#define FLASHJIT_COMPILER_KERNEL_MMASYNC_H

#include "compiler/kernel/KernelBuilder.h"

namespace flashjit {

/// A operand (x4) of rows [row0, row0 + 16) and columns [col0, col0 + 16).
std::array<mlir::Value, 4> loadA(KernelBuilder &k, mlir::Value tile,
                                 int headDim, mlir::Value lane,
                                 mlir::Value row0, int col0);
/// B operand (x2) for out = A * tileᵀ: 8 tile rows [row0, row0 + 8) as
/// columns n, tile columns [col0, col0 + 16) as k.
std::array<mlir::Value, 2> loadBTransposed(KernelBuilder &k, mlir::Value tile,
                                           int headDim, mlir::Value lane,
                                           mlir::Value row0, int col0);
/// B operand (x2, ldmatrix .trans) for out = A * tile: tile rows
/// [row0, row0 + 16) as k, tile columns [col0, col0 + 8) as n.
/// `swizzledRows`, where given, says the tile is in the swizzled layout
/// with that many rows (here and in loadBPair and forEachB).
std::array<mlir::Value, 2> loadB(KernelBuilder &k, mlir::Value tile,
                                 int headDim, mlir::Value lane,
                                 mlir::Value row0, mlir::Value col0,
                                 int swizzledRows = 0);
/// Two B operands from one ldmatrix x4: loadBTransposed of rows
/// [row0, row0 + 8) and of [row0 + 8, row0 + 16). Halves the ldmatrix
/// instructions per product.
std::array<std::array<mlir::Value, 2>, 2>
loadBTransposedPair(KernelBuilder &k, mlir::Value tile, int headDim,
                    mlir::Value lane, mlir::Value row0, int col0);
/// Two B operands from one ldmatrix x4 .trans: loadB of columns
/// [col0, col0 + 8) and of [col0 + 8, col0 + 16).
std::array<std::array<mlir::Value, 2>, 2>
loadBPair(KernelBuilder &k, mlir::Value tile, int headDim, mlir::Value lane,
          mlir::Value row0, mlir::Value col0, int swizzledRows = 0);
/// Hands `use(t, operand)` the B operands t = 0 .. count - 1 of
/// loadBTransposed at rows row0 + 8 t, two per ldmatrix x4, in order.
void forEachBTransposed(
    KernelBuilder &k, mlir::Value tile, int headDim, mlir::Value lane, int row0,
    int col0, int count,
    llvm::function_ref<void(int, const std::array<mlir::Value, 2> &)> use);
/// Hands `use(t, operand)` the B operands t = 0 .. count - 1 of loadB at
/// columns col0 + 8 t, two per ldmatrix x4, in order.
void forEachB(
    KernelBuilder &k, mlir::Value tile, int headDim, mlir::Value lane,
    mlir::Value row0, mlir::Value col0, int count,
    llvm::function_ref<void(int, const std::array<mlir::Value, 2> &)> use,
    int swizzledRows = 0);
/// A operand (x4, ldmatrix .trans) of a tile stored transposed: tile
/// columns [m0, m0 + 16) as the rows m, tile rows [k0, k0 + 16) as k.
/// `width` is the tile's unpadded row length.
std::array<mlir::Value, 4> loadATransposed(KernelBuilder &k, mlir::Value tile,
                                           int width, mlir::Value lane,
                                           mlir::Value m0, int k0);
/// d = a * b + c with m16n8k16 mma.sync, f32 accumulation.
Accumulator mmaSync(KernelBuilder &k, llvm::ArrayRef<mlir::Value> a,
                    llvm::ArrayRef<mlir::Value> b, const Accumulator &c);

/// acc[t] += Aᵀ B_t for one warp, mma.sync on any engine: A [reduceRows,
/// aWidth] padded in shared memory, its columns [m0, m0 + 16) read
/// transposed; B_t columns [col0 + 8 t, + 8) of the [reduceRows, headDim]
/// tile in `bLayout`.
void accumulateTransposedA(KernelBuilder &k, mlir::Value aTile, int aWidth,
                           mlir::Value m0, mlir::Value bTile, int headDim,
                           SharedLayout bLayout, int reduceRows,
                           mlir::Value col0, mlir::Value lane,
                           llvm::MutableArrayRef<Accumulator> acc);

/// The scores of one warp's 16 tile rows against `numCols` tile columns:
/// acc[n] = A[row0 .. row0 + 16) · B[n * 8 .. n * 8 + 8)ᵀ over the head dim,
/// A and B padded shared tiles.
llvm::SmallVector<Accumulator> warpScores(KernelBuilder &k, mlir::Value aTile,
                                          mlir::Value row0, mlir::Value bTile,
                                          int numCols, int headDim,
                                          mlir::Value lane);
/// warpScores for several 16-row tiles of A at once (rows[m] their first
/// rows): each B fragment is read once and used by every tile.
llvm::SmallVector<llvm::SmallVector<Accumulator>>
warpScoreTiles(KernelBuilder &k, mlir::Value aTile,
               llvm::ArrayRef<mlir::Value> rows, mlir::Value bTile, int numCols,
               int headDim, mlir::Value lane);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_KERNEL_MMASYNC_H
