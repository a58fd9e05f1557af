//===- Schedule.h - tile sizes, warps and stages for a target ---*- C++ -*-===//
//
// A schedule fixes the block shape of one kernel: BLOCK_M query rows and
// BLOCK_N key rows per step, the warps that share them and how many K/V
// stages are in flight. It is chosen from the target's shared memory by the
// FlashAttention paper's rule (Bc ~ M / 4d, Br = min(Bc, d)), rounded to
// tensor-core shapes and then fitted to the target's shared memory and the
// per-thread register budget.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_SCHEDULE_SCHEDULE_H
#define FLASHJIT_COMPILER_SCHEDULE_SCHEDULE_H

#include "compiler/target/TargetInfo.h"
#include "flashjit/status.h"

#include <string>
#include <vector>

namespace flashjit {

/// The kernels of one variant.
enum class KernelKind {
  /// O and the log-sum-exp.
  forward,
  /// delta = rowsum(dO * O), the backward's first step.
  backwardDelta,
  /// dK and dV: one key block per thread block, streaming query blocks.
  backwardKeyValue,
  /// dQ: one query block per thread block, streaming key blocks (the
  /// deterministic backward's second kernel).
  backwardQuery,
  /// dK and dV as backwardKeyValue, and dQ's share of every key block
  /// added with f32 atomics into a zeroed workspace: P and dS are computed
  /// once, not twice (the default backward).
  backwardKeyValueQuery,
  /// dQ from that f32 workspace to the input type.
  backwardQueryConvert,
};
/// Whether `kind` owns key rows and streams query rows.
inline bool ownsKeys(KernelKind kind) {
  return kind == KernelKind::backwardKeyValue ||
         kind == KernelKind::backwardKeyValueQuery;
}
const char *stringifyKernelKind(KernelKind kind);

struct Schedule {
  KernelKind kind = KernelKind::forward;
  int headDim = 0;
  int elementBytes = 2;
  /// Rows of the block a thread block owns, and rows streamed per step.
  /// Forward and dQ own query rows (BLOCK_M) and stream keys (BLOCK_N);
  /// dK/dV own key rows (BLOCK_N) and stream queries (BLOCK_M).
  int blockM = 0;
  int blockN = 0;
  int numWarps = 0;
  /// Buffers of the streamed tiles in shared memory (2 = double-buffered).
  int numStages = 0;
  /// dK/dV only: thread blocks that share one key block, each accumulating
  /// headDim / split columns of dK and dV (and recomputing S and dP), so
  /// that large head dims fit the register file.
  int headDimSplit = 1;
  /// Forward only: the 16-row tensor-core tiles each warp owns. With 2,
  /// every K and V fragment read from shared memory feeds two products.
  int rowTilesPerWarp = 1;
  /// Forward and dK/dV: their products as Hopper warpgroup MMAs (wgmma,
  /// sm_90a): each group of 4 warps multiplies the 64 rows it owns (query
  /// rows in the forward, key rows in dK/dV), Q, K, V and dO read from
  /// shared memory in the 128-byte swizzled layout, which needs no
  /// padding. Otherwise, and for dK/dV's dQ product, each warp issues
  /// m16n8k16 mma.sync.
  bool warpgroupMma = false;
  int sharedMemoryBytes = 0;
  /// The target's compute capability (90 for sm_90a), for instruction
  /// choices that depend on it.
  int computeCapability = 0;
  /// The compiler's estimate of 32-bit registers per thread, kept under
  /// the target's limit.
  int estimatedRegisters = 0;

  int numThreads() const { return numWarps * 32; }
  /// One line: `forward d=128 BLOCK_M=128 BLOCK_N=64 warps=8 stages=2
  /// smem=98304`.
  std::string str() const;
};

/// Elements of one shared-memory row of a [rows, d] tile: the head dim plus
/// 16 bytes of padding, so that the 8 rows one ldmatrix reads fall in 8
/// different bank groups.
inline int sharedRowElements(int headDim) { return headDim + 8; }

/// Query rows one warpgroup MMA multiplies (wgmma's M).
constexpr int kWarpgroupRows = 64;
/// The head dimensions the kernels support.
const std::vector<int> &supportedHeadDims();

/// What a variant's own per-element code costs the kernels in registers,
/// beyond a plain scaled score's. Calibrated against `ptxas -v` over the
/// PTX matrix (tests/lit/compiler/ptx-matrix.test).
struct VariantCost {
  /// Forward: registers its per-element code keeps live.
  int forwardRegisters = 0;
  /// dK/dV: 32-bit values it keeps per score beyond S, P, dP and dS (the
  /// modified score and its derivative, dropout's keep bits).
  int backwardValuesPerScore = 0;
  /// Whether it masks: the partial blocks' mask code needs registers too.
  bool masked = false;

  /// No per-element code beyond the mask (no score modification, no
  /// dropout): the shapes measured for causal and full attention apply.
  bool plain() const {
    return forwardRegisters == 0 && backwardValuesPerScore == 0;
  }

  /// A score modification beyond the softmax scale (ALiBi, softcap, a
  /// bias): its input and derivative stay live in the backward.
  static VariantCost scoreModifying() { return {0, 2}; }
  /// Dropout: Philox state, random words and keep bits.
  static VariantCost dropout() { return {48, 5}; }
  /// What a score modification adds to dropout's forward registers.
  static constexpr int kModifiedScoreForwardRegisters = 32;
};

/// The most 16-row tiles a forward warp may own.
constexpr int kMaxRowTilesPerWarp = 4;

/// What a schedule takes besides the target and the head dim.
struct ScheduleHints {
  int elementBytes = 2;
  VariantCost variant;
  /// The forward's 16-row tiles per warp (Schedule::rowTilesPerWarp); 0:
  /// the schedule's choice per head dim and variant.
  /// A forced value also selects the mma.sync kernels on sm_90a, whose
  /// forward and dK/dV default to the warpgroup MMA (Schedule::
  /// warpgroupMma): the A/B switch.
  int rowTilesPerWarp = 0;
  /// A forced block shape, for tuning and tests (0: chosen): BLOCK_M query
  /// rows and BLOCK_N key rows, as Schedule names them. It is not shrunk
  /// to fit: past the target's shared memory it is an error that says so.
  int blockM = 0, blockN = 0;
};

/// Picks the schedule of `kind` for `target` at head dim `headDim`. Fails
/// with the reason for an unsupported head dim or a target too small for
/// any schedule.
Expected<Schedule> scheduleForTarget(const TargetInfo &target, KernelKind kind,
                                     int headDim,
                                     const ScheduleHints &hints = {});

/// The two passes a variant is compiled for.
enum class CompilePass { forward, backward };
/// `fwd` or `bwd`.
const char *stringifyCompilePass(CompilePass pass);

/// The kernels of `pass` in launch order: the forward; the backward as
/// delta, dK/dV with dQ added by atomics, dQ's conversion, or, when
/// `deterministic` (no atomics, the same bits on every run), as delta,
/// dK/dV, dQ.
std::vector<KernelKind> kernelKindsOf(CompilePass pass, bool deterministic);

/// The schedules of every kernel of `pass`, in launch order.
Expected<std::vector<Schedule>> schedulePass(const TargetInfo &target,
                                             CompilePass pass,
                                             bool deterministic, int headDim,
                                             const ScheduleHints &hints);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_SCHEDULE_SCHEDULE_H
