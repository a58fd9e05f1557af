//===- WarpgroupMma.h - Hopper's warpgroup MMA (wgmma) ----------*- C++ -*-===//
//
// sm_90a's asynchronous matrix product: the 4 warps of a warpgroup multiply
// a 64-row A (registers or shared memory) by a B in shared memory, both
// named by 64-bit matrix descriptors, into f32 accumulators in registers.
// Each warp w of the group holds rows 16w .. 16w + 16 of the result in the
// m16n8k16 layout (8-column tile t in accumulators 4t .. 4t + 4), so code
// written against mma.sync fragments applies unchanged.
//
// Operands are tiles in the 128-byte swizzled layout (SharedLayout::
// swizzled): a [rows, d] tile is d / 64 panels of rows x 128 bytes, the
// 16-byte chunk c of row r stored at chunk c ^ (r % 8), each panel 1024-byte
// aligned. The same tile serves as a K-major operand (its columns are the
// reduction, as K in Q Kᵀ) and as an MN-major one (its rows are, as V in
// P V).
//
// wgmma.mma_async has no LLVM intrinsic, so it is inline PTX; the fence,
// commit and wait are NVVM ops. Its results are in flight until the wait:
// fenceOperands passes values through an empty asm after it, so that LLVM
// cannot move their uses above the wait, nor the writes of its inputs below
// the fence.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_KERNEL_WARPGROUPMMA_H
#define FLASHJIT_COMPILER_KERNEL_WARPGROUPMMA_H

#include "compiler/kernel/KernelBuilder.h"

namespace flashjit {

class WarpgroupMma {
public:
  explicit WarpgroupMma(KernelBuilder &k) : k(k) {}

  /// The K-major operand of rows [rowOffsetBytes / 128, + 64 or N) of a
  /// swizzled tile of `tileRows` rows, reduction columns
  /// [16 kStep, 16 kStep + 16).
  mlir::Value kMajor(mlir::Value tile, int tileRows, mlir::Value rowOffsetBytes,
                     int kStep);
  /// The MN-major B of out = A * tile: tile rows [16 kStep, 16 kStep + 16)
  /// as the reduction, every column of the tile as N.
  mlir::Value mnMajor(mlir::Value tile, int tileRows, int kStep);

  /// acc += A B (acc empty: = A B) for one m64nNk16 product, A from
  /// shared memory; returns the N / 2 accumulators of this thread. Built
  /// as MLIR's nvvm.wgmma.mma_async (the lower-warpgroup-mma pass turns it
  /// into PTX).
  llvm::SmallVector<mlir::Value> multiply(int n, mlir::Value aDescriptor,
                                          mlir::Value bDescriptor,
                                          bool bMnMajor,
                                          llvm::ArrayRef<mlir::Value> acc);
  /// The same with A from registers: the four packed pairs of this
  /// thread's m16n8k16 A fragment of its warp's 16 rows. Inline PTX:
  /// nvvm.wgmma.mma_async has no register form of A.
  llvm::SmallVector<mlir::Value> multiply(int n, llvm::ArrayRef<mlir::Value> a,
                                          mlir::Value bDescriptor,
                                          bool bMnMajor,
                                          llvm::ArrayRef<mlir::Value> acc);

  /// wgmma.fence: orders earlier register writes before the products.
  void fence();
  /// Closes the products issued since the last commit into one group.
  void commit();
  /// Waits until at most `pending` groups are in flight.
  void wait(int pending);
  /// Replaces each value (f32 or i32) by itself passed through an empty
  /// side-effecting asm, pinning its place between the fence and the wait.
  void fenceOperands(llvm::MutableArrayRef<mlir::Value> values);

private:
  mlir::Value descriptor(mlir::Value tile, int64_t leadingBytes,
                         int64_t strideBytes, int64_t offsetBytes);

  KernelBuilder &k;
};

/// Issued products are in flight until awaited: their values may not be
/// read before `awaitWarpgroupProducts` returns them. Groups complete in
/// the order they were issued, so awaiting with `pending` = n leaves the
/// last n groups in flight (Hopper overlaps the products of one group with
/// whatever the warpgroup does meanwhile).

/// Issues (as one committed group) the scores of a warpgroup's 64 rows of
/// the swizzled tile A [aRows, d] against every row of the swizzled
/// B [bRows, d]: out = A Bᵀ, one product per 16 columns of d. Returns the
/// bRows / 2 accumulators in flight.
llvm::SmallVector<mlir::Value>
issueWarpgroupScores(KernelBuilder &k, mlir::Value aTile, int aRows,
                     mlir::Value warp, mlir::Value bTile, int bRows, int d);
/// Issues (as one committed group) acc += A B, A from registers
/// (aFragments[c]: this thread's m16n8k16 fragment of reduction columns
/// [16c, 16c + 16)), B rows [0, 16 * aFragments.size()) of the swizzled
/// [bRows, n] tile, MN-major. Returns the n / 2 accumulators in flight.
llvm::SmallVector<mlir::Value> issueWarpgroupAccumulate(
    KernelBuilder &k, llvm::ArrayRef<std::array<mlir::Value, 4>> aFragments,
    mlir::Value bTile, int bRows, int n, llvm::SmallVector<mlir::Value> acc);
/// Waits until at most `pending` groups are in flight, then passes each
/// group's values that are now complete through fenceOperands, so that
/// no use of them is moved above the wait.
void awaitWarpgroupProducts(
    KernelBuilder &k, int pending,
    llvm::ArrayRef<llvm::MutableArrayRef<mlir::Value>> completed);
/// Accumulators as m16n8 tiles (4 values each).
llvm::SmallVector<Accumulator> asAccumulatorTiles(llvm::ArrayRef<mlir::Value>);

/// The scores of a warpgroup's 64 rows of the swizzled tile A [aRows, d]
/// against every row of the swizzled B [bRows, d] (out = A Bᵀ, one product
/// per 16 columns of d), waited for: this warp's 16 rows as bRows / 8
/// m16n8 accumulator tiles. `warp` picks the warpgroup (warp / 4).
llvm::SmallVector<Accumulator>
warpgroupScores(KernelBuilder &k, mlir::Value aTile, int aRows,
                mlir::Value warp, mlir::Value bTile, int bRows, int d);
/// acc += A B for a warpgroup, A from registers (aFragments[c]: this
/// thread's m16n8k16 fragment of reduction columns [16c, 16c + 16)), B rows
/// [0, 16 * aFragments.size()) of the swizzled [bRows, n] tile, MN-major:
/// one product per fragment, waited for. acc holds n / 2 values.
llvm::SmallVector<mlir::Value> warpgroupAccumulate(
    KernelBuilder &k, llvm::ArrayRef<std::array<mlir::Value, 4>> aFragments,
    mlir::Value bTile, int bRows, int n, llvm::SmallVector<mlir::Value> acc);

/// fence.proxy.async for shared memory: makes this thread's ordinary and
/// cp.async writes visible to the warpgroup MMA's reads. Goes between the
/// cp.async wait and the barrier.
void fenceSharedForAsyncProxy(KernelBuilder &k);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_KERNEL_WARPGROUPMMA_H
