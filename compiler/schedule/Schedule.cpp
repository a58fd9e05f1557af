//===- Schedule.cpp - choose block shapes from a target's SRAM ------------===//

#include "compiler/schedule/Schedule.h"

#include "compiler/schedule/SharedMemoryPlan.h"

#include "llvm/ADT/bit.h"

#include <algorithm>

using namespace flashjit;

const char *flashjit::stringifyKernelKind(KernelKind kind) {
  switch (kind) {
  case KernelKind::forward:
    return "forward";
  case KernelKind::backwardDelta:
    return "backward_delta";
  case KernelKind::backwardKeyValue:
    return "backward_dkdv";
  case KernelKind::backwardQuery:
    return "backward_dq";
  case KernelKind::backwardKeyValueQuery:
    return "backward_dkdvdq";
  case KernelKind::backwardQueryConvert:
    return "backward_dq_convert";
  }
  return "unknown";
}

std::string Schedule::str() const {
  return std::string(stringifyKernelKind(kind)) +
         " d=" + std::to_string(headDim) +
         " BLOCK_M=" + std::to_string(blockM) +
         " BLOCK_N=" + std::to_string(blockN) +
         " warps=" + std::to_string(numWarps) +
         " stages=" + std::to_string(numStages) +
         (headDimSplit > 1 ? " split=" + std::to_string(headDimSplit) : "") +
         (rowTilesPerWarp > 1 ? " tiles/warp=" + std::to_string(rowTilesPerWarp)
                              : "") +
         (warpgroupMma ? " wgmma" : "") +
         " smem=" + std::to_string(sharedMemoryBytes) + " regs~" +
         std::to_string(estimatedRegisters);
}

const std::vector<int> &flashjit::supportedHeadDims() {
  static const std::vector<int> dims = {32, 64, 96, 128, 256};
  return dims;
}

namespace {

constexpr int kMmaRows = 16; // m16n8k16: one warp owns 16 rows of a tile
constexpr int kMinBlock = 16;
constexpr int kMaxBlock = 128;
// Registers a kernel needs beyond its tiles: addresses, loop state, the
// running max and sum.
constexpr int kRegisterOverhead = 48;
constexpr int kRegisterMargin = 32;
// The most estimated registers at which dK/dV takes the warpgroup MMA:
// calibrated with ptxas -v, the combined dropout variant's d 128 kernel
// (estimate 252) spilled 40 bytes with it and none without.
constexpr int kWarpgroupBackwardRegisters = 248;
// What dK/dV keeps per score of a plain variant: S, P, dP, dS.
constexpr int kBackwardValuesPerScore = 4;

/// K/V buffers the kernels implement: one until the copy of the next block
/// is overlapped with the current one (the pipelining of issue 6).
int maxStages(KernelKind) { return 1; }

int roundDown(int value, int multiple) { return value / multiple * multiple; }
int roundUp(int value, int multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

/// Shared memory and registers of a candidate, per kernel kind. Each warp
/// owns 16 rows (times the forward's row tiles) of the block the thread
/// block owns, and each thread holds (16 * columns / 32) accumulator values
/// of every 16-row tile it keeps.
void account(Schedule &s, const VariantCost &variant) {
  int d = s.headDim;
  s.sharedMemoryBytes = sharedMemoryPlanOf(s).bytes();
  switch (s.kind) {
  case KernelKind::forward:
  case KernelKind::backwardQuery: {
    s.numWarps = s.blockM / (kMmaRows * s.rowTilesPerWarp);
    // O or dQ accumulator [16, d] and the score tile [16, BLOCK_N]; dQ
    // also holds P, dP and dS of each score (ptxas showed the backward
    // spilling with less room).
    int scoreTiles = s.kind == KernelKind::forward ? 1 : 4;
    s.estimatedRegisters =
        s.rowTilesPerWarp *
            (kMmaRows * d / 32 + scoreTiles * kMmaRows * s.blockN / 32) +
        kRegisterOverhead +
        (s.kind == KernelKind::forward ? variant.forwardRegisters : 0);
    break;
  }
  case KernelKind::backwardKeyValue:
  case KernelKind::backwardKeyValueQuery: {
    s.numWarps = s.blockN / kMmaRows;
    // dK and dV accumulators [16, d / split] each; per score [16, BLOCK_M]
    // S, P (also packed as the A operand of dV), dP and dS, plus the
    // variant's own values. Calibrated against ptxas -v over the PTX
    // matrix (tests/lit/compiler/ptx-matrix.test): a plain variant runs
    // BLOCK_M 32 at d 128 and 64 at d 64 in up to ~250 registers with no
    // spill, so this kind needs no margin on top.
    // With dQ, dSᵀ packed to the input type (one register per pair) stays
    // live from its store to shared memory through dK's product; dQ's own
    // product comes after P, dP and S are dead. Calibrated as above: d 64
    // BLOCK_M 64 spilled 24 bytes without that term, d 128 BLOCK_M 32 none.
    s.estimatedRegisters =
        2 * kMmaRows * (d / s.headDimSplit) / 32 +
        (kBackwardValuesPerScore + variant.backwardValuesPerScore) * kMmaRows *
            s.blockM / 32 +
        kRegisterOverhead +
        (s.kind == KernelKind::backwardKeyValueQuery ? kMmaRows * s.blockM / 64
                                                     : 0);
    break;
  }
  case KernelKind::backwardDelta:
  case KernelKind::backwardQueryConvert:
    s.numWarps = 4;
    s.estimatedRegisters = kRegisterOverhead;
    break;
  }
}

/// Two 16-row tiles per forward warp read each K and V fragment once for
/// two products. Measured on the H100 (bench/NOTES.md, entries 4 and 6):
/// +25% at d 128, where it takes 128 x 64 blocks in 4 warps, as
/// FlashAttention-2 does; at d 64 (128 x 128 blocks) +2% with one operand
/// per ldmatrix, +8-11% (full) and +2-4% (causal) with two, but there the
/// masked variants' 128-key partial blocks spill 176-352 bytes. Variants
/// with their own per-element code do not fit the registers beside two
/// tiles, nor does d 256.
int defaultRowTilesPerWarp(int headDim, const VariantCost &variant) {
  bool plain =
      variant.forwardRegisters == 0 && variant.backwardValuesPerScore == 0;
  if (headDim == 64)
    return plain && !variant.masked ? 2 : 1;
  return headDim == 128 && plain ? 2 : 1;
}

/// `s` with the block shape the hints force: checked against tensor-core
/// shapes and the target's shared memory, but not shrunk to fit.
Expected<Schedule> forcedSchedule(const TargetInfo &target, Schedule s,
                                  const ScheduleHints &hints) {
  if (hints.blockM)
    s.blockM = hints.blockM;
  if (hints.blockN)
    s.blockN = hints.blockN;
  bool keysOwned = ownsKeys(s.kind);
  // A warpgroup MMA multiplies 64 query rows by at most 256 keys, with 4
  // warps per 64 rows.
  int ownedMultiple =
      s.warpgroupMma
          ? kWarpgroupRows
          : kMmaRows * (s.kind == KernelKind::forward ? s.rowTilesPerWarp : 1);
  int maxOwned = s.warpgroupMma ? 256 : 1024;
  int maxStreamed = s.warpgroupMma ? 256 : 1024;
  int owned = keysOwned ? s.blockN : s.blockM;
  int streamed = keysOwned ? s.blockM : s.blockN;
  std::string shape = std::string(stringifyKernelKind(s.kind)) +
                      " BLOCK_M=" + std::to_string(s.blockM) +
                      " BLOCK_N=" + std::to_string(s.blockN);
  if (owned <= 0 || owned % ownedMultiple || owned > maxOwned ||
      streamed <= 0 || streamed % kMinBlock || streamed > maxStreamed)
    return Error(
        "the forced " + shape + " is not a tensor-core shape" +
        (s.warpgroupMma ? " for the warpgroup MMA" : "") + ": the " +
        (keysOwned ? "key" : "query") +
        " rows a thread block owns must be a multiple of " +
        std::to_string(ownedMultiple) + ", at most " +
        std::to_string(maxOwned) + ", the rows it streams a multiple of " +
        std::to_string(kMinBlock) + ", at most " + std::to_string(maxStreamed));
  account(s, hints.variant);
  if (s.sharedMemoryBytes > target.sharedMemoryPerBlockOptin)
    return Error("the forced " + shape + " needs " +
                 std::to_string(s.sharedMemoryBytes) +
                 " bytes of shared memory; " + target.arch + " allows " +
                 std::to_string(target.sharedMemoryPerBlockOptin));
  return s;
}

/// The Hopper forward (Schedule::warpgroupMma). Two warpgroups own 128
/// query rows, so that each K and V block copied to shared memory feeds
/// 128 rows, against 128 keys per step at d 128 and 64 at d 64; a plain
/// variant at d 64 takes one warpgroup of 64 rows against 128 keys. Fewer
/// keys where the variant's registers need it: each shape won on the H100
/// where it is taken, and 64 x 128 loses where a score modification adds
/// code per score (bench/NOTES.md, entries 7 and 9). Fails where no shape
/// fits, and the mma.sync forward is taken instead.
Expected<Schedule> warpgroupForwardSchedule(const TargetInfo &target,
                                            Schedule s,
                                            const ScheduleHints &hints) {
  s.warpgroupMma = true;
  s.rowTilesPerWarp = 1;
  s.numStages = 1;
  const bool oneWarpgroup = s.headDim == 64 && hints.variant.plain();
  s.blockM = oneWarpgroup ? kWarpgroupRows : 2 * kWarpgroupRows;
  s.blockN = s.headDim == 64 && !oneWarpgroup ? 64 : 128;
  if (hints.blockM || hints.blockN)
    return forcedSchedule(target, s, hints);
  // The margin as for mma.sync: with none, dropout's forwards spilled
  // 20-64 bytes (its keep bits of all of P are live before P V).
  int registerBudget = target.maxRegistersPerThread - kRegisterMargin;
  for (;;) {
    account(s, hints.variant);
    if (s.sharedMemoryBytes <= target.sharedMemoryPerBlockOptin &&
        s.estimatedRegisters <= registerBudget)
      return s;
    if (s.blockN <= 32)
      return Error("no warpgroup MMA forward fits");
    s.blockN /= 2;
  }
}

/// dK/dV with dQ on the warpgroup MMA streams query blocks through two
/// stages where they fit: the next block lands in one while dV's and dK's
/// products may still read the other's dO and Q. Accounts `s` either way.
Schedule withQueryStages(const TargetInfo &target, Schedule s,
                         const ScheduleHints &hints) {
  s.numStages = 1;
  if (s.kind == KernelKind::backwardKeyValueQuery && s.warpgroupMma) {
    s.numStages = 2;
    account(s, hints.variant);
    if (s.sharedMemoryBytes <= target.sharedMemoryPerBlockOptin)
      return s;
    s.numStages = 1;
  }
  account(s, hints.variant);
  return s;
}

/// On sm_90a, dK/dV's four products over K, V, Q and dO become warpgroup
/// MMAs where each warpgroup owns 64 whole key rows with every head-dim
/// column (the registers are the same: each thread still holds 16 rows'
/// worth of every tile). `s` as chosen otherwise; a forced shape is taken
/// as given, past the calibrated registers too.
Schedule withKeyWarpgroups(const TargetInfo &target, Schedule s,
                           const ScheduleHints &hints) {
  bool forced = hints.blockM || hints.blockN;
  if (ownsKeys(s.kind) && target.hasWarpgroupMma() &&
      hints.rowTilesPerWarp == 0 && (s.headDim == 64 || s.headDim == 128) &&
      s.elementBytes == 2 && s.headDimSplit == 1 && s.blockN % 64 == 0 &&
      (forced || s.estimatedRegisters <= kWarpgroupBackwardRegisters)) {
    s.warpgroupMma = true;
    s = withQueryStages(target, s, hints);
  }
  return s;
}

/// sm_90a's dK/dV with dQ (the default backward) for plain variants: two
/// warpgroups own 128 key rows and stream 64 query rows per step, faster on
/// the H100 than the register-fitted shapes at d 64 and 128 despite a small
/// spill at d 128 (bench/NOTES.md, entry 8; the deterministic dK/dV is not
/// taken so). Fails (and the fitted schedule is taken) for a variant
/// with its own per-element code, a forced shape or tiling, or another
/// head dim.
Expected<Schedule> keyWarpgroupSchedule(const TargetInfo &target, Schedule s,
                                        const ScheduleHints &hints) {
  if (s.kind != KernelKind::backwardKeyValueQuery ||
      !target.hasWarpgroupMma() || !hints.variant.plain() ||
      hints.rowTilesPerWarp || hints.blockM || hints.blockN ||
      (s.headDim != 64 && s.headDim != 128) || s.elementBytes != 2)
    return Error("no wide warpgroup dK/dV");
  s.blockM = 64;
  s.blockN = 2 * kWarpgroupRows;
  s.warpgroupMma = true;
  s = withQueryStages(target, s, hints);
  if (s.sharedMemoryBytes > target.sharedMemoryPerBlockOptin)
    return Error("no wide warpgroup dK/dV");
  return s;
}

} // namespace

Expected<Schedule> flashjit::scheduleForTarget(const TargetInfo &target,
                                               KernelKind kind, int headDim,
                                               const ScheduleHints &hints) {
  const int elementBytes = hints.elementBytes;
  const std::vector<int> &dims = supportedHeadDims();
  if (std::find(dims.begin(), dims.end(), headDim) == dims.end()) {
    std::string known;
    for (int d : dims)
      known += (known.empty() ? "" : ", ") + std::to_string(d);
    return Error("unsupported head dim " + std::to_string(headDim) +
                 "; supported: " + known);
  }
  if (target.sharedMemoryPerBlockOptin <= 0)
    return Error("target " + target.arch + " reports no shared memory");

  Schedule s;
  s.kind = kind;
  s.computeCapability = target.computeCapability();
  s.headDim = headDim;
  s.elementBytes = elementBytes;
  if (hints.rowTilesPerWarp < 0 || hints.rowTilesPerWarp > kMaxRowTilesPerWarp)
    return Error("row tiles per warp must be 1 to " +
                 std::to_string(kMaxRowTilesPerWarp) + " (0: chosen), not " +
                 std::to_string(hints.rowTilesPerWarp));
  if (kind == KernelKind::forward && hints.rowTilesPerWarp == 0 &&
      target.hasWarpgroupMma() && (headDim == 64 || headDim == 128) &&
      elementBytes == 2) {
    Expected<Schedule> warpgroup = warpgroupForwardSchedule(target, s, hints);
    // A forced shape that does not fit is the caller's error, not a reason
    // to pick another kernel.
    if (warpgroup || hints.blockM || hints.blockN)
      return warpgroup;
  }
  if (kind == KernelKind::forward && hints.rowTilesPerWarp == 0) {
    // The choice: two tiles where they keep 64-key blocks (as measured),
    // else one.
    ScheduleHints forced = hints;
    forced.rowTilesPerWarp = defaultRowTilesPerWarp(headDim, hints.variant);
    Expected<Schedule> chosen =
        scheduleForTarget(target, kind, headDim, forced);
    if (!chosen || (chosen->rowTilesPerWarp > 1 && chosen->blockN < 64)) {
      forced.rowTilesPerWarp = 1;
      return scheduleForTarget(target, kind, headDim, forced);
    }
    return chosen;
  }
  s.rowTilesPerWarp = kind == KernelKind::forward ? hints.rowTilesPerWarp : 1;
  if (kind == KernelKind::backwardDelta ||
      kind == KernelKind::backwardQueryConvert) {
    s.blockM = 128;
    s.blockN = 0;
    s.numStages = 1;
    account(s, hints.variant);
    return s;
  }

  // The paper's rule with M in elements: Bc = M / 4d, Br = min(Bc, d).
  int sramElements = target.sharedMemoryPerBlockOptin / elementBytes;
  int bc = sramElements / (4 * headDim);
  int br = std::min(bc, headDim);
  // Round to tensor-core shapes: the streamed block to a power of two
  // (halving it then stays on tensor-core multiples),
  // the owned block up to a multiple of 64 rows per tile a warp owns, so
  // that small head dims still give each thread block 4 warps.
  s.blockN = std::clamp(int(llvm::bit_floor(unsigned(std::max(bc, 1)))),
                        kMinBlock, kMaxBlock);
  const int rowsPerWarp = kMmaRows * s.rowTilesPerWarp;
  s.blockM = std::clamp(roundUp(br, 4 * rowsPerWarp), 4 * rowsPerWarp,
                        std::max(kMaxBlock, 4 * rowsPerWarp));
  if (ownsKeys(kind))
    std::swap(s.blockM, s.blockN); // owned rows are keys here
  s.numStages = maxStages(kind);
  if (Expected<Schedule> wide = keyWarpgroupSchedule(target, s, hints))
    return wide;
  if (hints.blockM || hints.blockN) {
    Expected<Schedule> forced = forcedSchedule(target, s, hints);
    if (!forced)
      return forced;
    return withKeyWarpgroups(target, *forced, hints);
  }

  // The estimate leaves out fragments of the operands in flight; keep a
  // margin so that ptxas does not spill. dK/dV's estimate is calibrated
  // without one; two row tiles run at the edge (ptxas spills 12-160 bytes
  // there), which the H100 measured as still well ahead of one tile.
  int registerBudget =
      target.maxRegistersPerThread -
      (ownsKeys(kind) || s.rowTilesPerWarp > 1 ? 0 : kRegisterMargin);
  int &streamed = ownsKeys(kind) ? s.blockM : s.blockN;
  int &owned = ownsKeys(kind) ? s.blockN : s.blockM;
  // Shrink until the candidate fits: stages first (latency hiding is worth
  // less than tile size), then the streamed block, then the owned one.
  for (;;) {
    account(s, hints.variant);
    bool fitsSmem = s.sharedMemoryBytes <= target.sharedMemoryPerBlockOptin;
    bool fitsRegs = s.estimatedRegisters <= registerBudget;
    if (fitsSmem && fitsRegs)
      return withKeyWarpgroups(target, s, hints);
    if (!fitsRegs && streamed > kMinBlock) {
      streamed = roundDown(streamed / 2, kMinBlock);
      continue;
    }
    if (!fitsRegs && ownsKeys(kind) && headDim / s.headDimSplit > 32) {
      s.headDimSplit *= 2;
      continue;
    }
    if (s.numStages > 1) {
      --s.numStages;
      continue;
    }
    if (streamed > 32) {
      streamed = roundDown(streamed / 2, kMinBlock);
      continue;
    }
    if (owned > (ownsKeys(kind) ? kMinBlock : rowsPerWarp)) {
      owned /= 2;
      s.numStages = maxStages(kind);
      continue;
    }
    if (streamed > kMinBlock) {
      streamed = kMinBlock;
      continue;
    }
    return Error("no " + std::string(stringifyKernelKind(kind)) +
                 " schedule for head dim " + std::to_string(headDim) +
                 " fits " + target.arch + " (" +
                 std::to_string(target.sharedMemoryPerBlockOptin) +
                 " bytes of shared memory, " + std::to_string(registerBudget) +
                 " registers per thread); the smallest needs " +
                 std::to_string(s.sharedMemoryBytes) + " bytes and ~" +
                 std::to_string(s.estimatedRegisters) + " registers");
  }
}

const char *flashjit::stringifyCompilePass(CompilePass pass) {
  return pass == CompilePass::forward ? "fwd" : "bwd";
}

std::vector<KernelKind> flashjit::kernelKindsOf(CompilePass pass,
                                                bool deterministic) {
  if (pass == CompilePass::forward)
    return {KernelKind::forward};
  if (deterministic)
    return {KernelKind::backwardDelta, KernelKind::backwardKeyValue,
            KernelKind::backwardQuery};
  return {KernelKind::backwardDelta, KernelKind::backwardKeyValueQuery,
          KernelKind::backwardQueryConvert};
}

Expected<std::vector<Schedule>>
flashjit::schedulePass(const TargetInfo &target, CompilePass pass,
                       bool deterministic, int headDim,
                       const ScheduleHints &hints) {
  std::vector<Schedule> schedules;
  for (KernelKind kind : kernelKindsOf(pass, deterministic)) {
    Expected<Schedule> schedule =
        scheduleForTarget(target, kind, headDim, hints);
    if (!schedule)
      return schedule.error();
    schedules.push_back(*schedule);
  }
  return schedules;
}
