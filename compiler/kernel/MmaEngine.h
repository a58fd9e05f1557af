//===- MmaEngine.h - the tensor-core instruction of a kernel ----*- C++ -*-===//
//
// The hardware seam of the attention kernels: which instruction multiplies
// their tiles, and what that asks of the tiles' layout in shared memory.
// It is chosen once, from the kernel's configuration (mmaEngineOf); the
// attention builders only call it, and never ask which engine it is.
//
//   mma.sync    m16n8k16 per warp, operands loaded by ldmatrix from padded
//               rows (sm_80 and newer);
//   wgmma       warpgroup MMAs of 64 rows reading the 128-byte-swizzled
//               tiles through the async proxy (sm_90a), their accumulators
//               in the same per-warp layout as mma.sync's.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_KERNEL_MMAENGINE_H
#define FLASHJIT_COMPILER_KERNEL_MMAENGINE_H

#include "compiler/kernel/KernelBuilder.h"
#include "compiler/schedule/Schedule.h"

#include <memory>

namespace flashjit {

class MmaEngine {
public:
  virtual ~MmaEngine();

  /// How the tiles the products read sit in shared memory.
  virtual SharedLayout sharedLayout() const = 0;
  /// Elements of one shared-memory row of a [rows, headDim] tile.
  virtual int sharedRowElements(int headDim) const = 0;
  /// Makes copies that have landed in shared memory visible to the
  /// products' reads; goes between the copies' wait and the barrier.
  virtual void fenceLandedCopies(KernelBuilder &k) const = 0;

  /// S = A Bᵀ over the head dim, A [aRows, headDim] and B [bRows, headDim]
  /// in shared memory, for the A rows this warp owns: per 16-row tile (its
  /// first row within A in `tileRows`), the m16n8 accumulators of all bRows
  /// columns, ready to read.
  virtual llvm::SmallVector<llvm::SmallVector<Accumulator>>
  scores(KernelBuilder &k, mlir::Value aTile, int aRows,
         llvm::ArrayRef<mlir::Value> tileRows, mlir::Value warp,
         mlir::Value lane, mlir::Value bTile, int bRows, int headDim) const = 0;

  /// acc[t] += P_t B for each of the warp's `acc.size()` row tiles:
  /// `pFragment(t, c)` gives tile t's A fragment of reduction columns
  /// [16c, 16c + 16) (asked for in the order the engine consumes them), B
  /// is [reduceRows, n] in shared memory, and acc[t] holds n / 8 m16n8
  /// accumulators' values in order.
  using FragmentFn = llvm::function_ref<std::array<mlir::Value, 4>(int, int)>;
  virtual void accumulate(
      KernelBuilder &k, FragmentFn pFragment, mlir::Value bTile, int reduceRows,
      int n, mlir::Value lane,
      llvm::MutableArrayRef<llvm::SmallVector<mlir::Value>> acc) const = 0;

  // Products modelled as issued, then awaited: the warpgroup MMA's run
  // while the warp goes on, so their accumulators may not be read before
  // `await` has passed them; mma.sync's are complete when issued, and
  // awaiting them emits nothing.

  /// Whether products may stay in flight across other work at `headDim`:
  /// accumulators in flight cannot spill (ptxas spilled the warpgroup MMA's
  /// dK/dV 68-168 bytes at d 128), so only small head dims overlap them.
  virtual bool overlapsProducts(int headDim) const = 0;
  /// Issues S = A Bᵀ over the head dim for the 16 rows of A from `warpRow`
  /// (mma.sync) or the warpgroup's 64 (wgmma): bRows / 8 m16n8
  /// accumulators, in flight.
  virtual llvm::SmallVector<mlir::Value>
  issueScores(KernelBuilder &k, mlir::Value aTile, int aRows,
              mlir::Value warpRow, mlir::Value warp, mlir::Value lane,
              mlir::Value bTile, int bRows, int headDim) const = 0;
  /// Issues acc += A B: A's fragment of reduction columns [16c, 16c + 16)
  /// from `aFragment(c)`, B rows [0, reduceRows) of a [reduceRows, headDim]
  /// shared tile, columns [colBase, colBase + n); acc holds n / 8 m16n8
  /// accumulators. Returns them in flight.
  using ReductionFragmentFn =
      llvm::function_ref<std::array<mlir::Value, 4>(int)>;
  virtual llvm::SmallVector<mlir::Value>
  issueAccumulate(KernelBuilder &k, ReductionFragmentFn aFragment,
                  mlir::Value bTile, int reduceRows, int headDim, int colBase,
                  int n, mlir::Value lane,
                  llvm::SmallVector<mlir::Value> acc) const = 0;
  /// Waits until at most `pending` groups of products are in flight; the
  /// values of `completed` may then be read.
  virtual void
  await(KernelBuilder &k, int pending,
        llvm::ArrayRef<llvm::MutableArrayRef<mlir::Value>> completed) const = 0;
};

/// The engine of the kernel `schedule` configures (Schedule::warpgroupMma).
std::unique_ptr<MmaEngine> mmaEngineOf(const Schedule &schedule);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_KERNEL_MMAENGINE_H
