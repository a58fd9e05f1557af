//===- ScheduleTest.cpp - schedules follow the target's SRAM --------------===//

#include "compiler/schedule/Schedule.h"
#include "compiler/schedule/SharedMemoryPlan.h"

#include <gtest/gtest.h>

using namespace flashjit;

namespace {

Schedule schedule(const std::string &arch, KernelKind kind, int d) {
  Expected<TargetInfo> target = targetByName(arch);
  EXPECT_TRUE(target) << target.error().message();
  Expected<Schedule> s = scheduleForTarget(*target, kind, d);
  EXPECT_TRUE(s) << s.error().message();
  return s ? *s : Schedule{};
}

TEST(TargetInfo, KnownTargets) {
  for (const char *arch : {"sm_75", "sm_80", "sm_86", "sm_89", "sm_90a"})
    EXPECT_TRUE(targetByName(arch)) << arch;
  EXPECT_EQ(targetByName("sm_90a")->sharedMemoryPerBlockOptin, 227 * 1024);
  EXPECT_EQ(targetByName("sm_75")->sharedMemoryPerBlockOptin, 64 * 1024);
  EXPECT_TRUE(targetByName("sm_80")->hasMmaM16N8K16());
  EXPECT_FALSE(targetByName("sm_75")->hasMmaM16N8K16());
}

TEST(TargetInfo, UnknownTargetListsKnownOnes) {
  Expected<TargetInfo> target = targetByName("sm_100");
  ASSERT_FALSE(target);
  EXPECT_NE(target.error().message().find("unknown target 'sm_100'; known: "
                                          "sm_75, sm_80"),
            std::string::npos);
}

// An H200 compiling for sm_80 gets an A100's kernels: sm_80's shared
// memory and schedules, the PTX flashjit-ptx --target=sm_80 emits.
TEST(TargetInfo, OlderTargetOnADevice) {
  TargetInfo h200 = *targetByName("sm_90a");
  h200.smCount = 132;
  Expected<TargetInfo> ampere = targetOnDevice(h200, "sm_80");
  ASSERT_TRUE(ampere) << ampere.error().message();
  EXPECT_EQ(ampere->arch, "sm_80");
  EXPECT_EQ(ampere->computeCapability(), 80);
  EXPECT_EQ(ampere->ptxVersion, 80);
  EXPECT_EQ(ampere->sharedMemoryPerBlockOptin, 163 * 1024);
  EXPECT_EQ(ampere->smCount, 132);
  EXPECT_FALSE(ampere->hasWarpgroupMma());
  EXPECT_TRUE(targetOnDevice(h200, "sm_90a"));

  // A device's own limit caps the target's.
  TargetInfo small = h200;
  small.sharedMemoryPerBlockOptin = 100 * 1024;
  EXPECT_EQ(targetOnDevice(small, "sm_80")->sharedMemoryPerBlockOptin,
            100 * 1024);
}

TEST(TargetInfo, TargetsADeviceCannotRun) {
  TargetInfo a100 = *targetByName("sm_80");
  Expected<TargetInfo> newer = targetOnDevice(a100, "sm_90");
  ASSERT_FALSE(newer);
  EXPECT_EQ(newer.error().message(),
            "target sm_90 cannot run on the device (sm_80): its kernels need "
            "compute capability 9.0 or newer");
  TargetInfo rtx4090 = *targetByName("sm_89");
  Expected<TargetInfo> hopperOnly = targetOnDevice(rtx4090, "sm_90a");
  ASSERT_FALSE(hopperOnly);
  EXPECT_NE(hopperOnly.error().message().find(
                "its kernels need exactly compute capability 9.0"),
            std::string::npos);
  EXPECT_FALSE(targetOnDevice(a100, "sm_1"));
}

// The paper's rule: Bc = M / 4d, Br = min(Bc, d), in elements of 2 bytes.
// H100: M = 227 KiB -> Bc = 116224 / 512 = 227 -> 128 (largest block);
// Br = min(227, 128) = 128. T4: M = 64 KiB -> Bc = 32768 / 512 = 64,
// Br = 64. Shared rows are padded to d + 8 elements. (sm_90a's forward is
// the warpgroup MMA's own shape: WarpgroupMmaIsTheHopperForward.)
TEST(Schedule, PaperRuleAtHeadDim128) {
  // Two row tiles per warp (the default at d 128) take 64-key blocks.
  Schedule hopper = schedule("sm_90", KernelKind::forward, 128);
  EXPECT_EQ(hopper.blockM, 128);
  EXPECT_EQ(hopper.blockN, 64);
  EXPECT_EQ(hopper.numWarps, 4);
  EXPECT_EQ(hopper.numStages, 1);
  EXPECT_EQ(hopper.sharedMemoryBytes, (128 + 2 * 64) * 136 * 2);

  Schedule turing = schedule("sm_75", KernelKind::forward, 128);
  EXPECT_EQ(turing.blockM, 64);
  EXPECT_EQ(turing.blockN, 64);
  EXPECT_EQ(turing.numWarps, 4);
  EXPECT_EQ(turing.numStages, 1);
  EXPECT_EQ(turing.sharedMemoryBytes, (64 + 2 * 64) * 136 * 2);
  EXPECT_LT(turing.blockM * turing.blockN, hopper.blockM * hopper.blockN);
}

TEST(Schedule, SmallerTargetsGetSmallerTiles) {
  Schedule big = schedule("sm_90a", KernelKind::forward, 256);
  Schedule small = schedule("sm_86", KernelKind::forward, 256);
  EXPECT_LE(small.blockM * small.blockN * small.numStages,
            big.blockM * big.blockN * big.numStages);
}

TEST(Schedule, EveryTensorCoreTargetAndHeadDimFits) {
  for (const TargetInfo &target : knownTargets()) {
    if (!target.hasMmaM16N8K16())
      continue;
    for (int d : supportedHeadDims())
      for (KernelKind kind :
           {KernelKind::forward, KernelKind::backwardDelta,
            KernelKind::backwardKeyValue, KernelKind::backwardQuery}) {
        Expected<Schedule> s = scheduleForTarget(target, kind, d);
        ASSERT_TRUE(s) << target.arch << " d=" << d << ": "
                       << s.error().message();
        EXPECT_LE(s->sharedMemoryBytes, target.sharedMemoryPerBlockOptin)
            << s->str();
        EXPECT_LE(s->estimatedRegisters, target.maxRegistersPerThread)
            << s->str();
        if (kind == KernelKind::backwardDelta)
          continue;
        EXPECT_EQ(s->blockM % 16, 0) << s->str();
        EXPECT_EQ(s->blockN % 16, 0) << s->str();
        EXPECT_GE(s->numStages, 1) << s->str();
        EXPECT_LE(s->numThreads(), target.maxThreadsPerBlock) << s->str();
      }
  }
}

TEST(Schedule, LargeHeadDimSplitsTheKeyValueAccumulators) {
  Schedule s = schedule("sm_90a", KernelKind::backwardKeyValue, 256);
  EXPECT_GT(s.headDimSplit, 1) << s.str();
  EXPECT_EQ(schedule("sm_90a", KernelKind::backwardKeyValue, 64).headDimSplit,
            1);
}

// dK/dV with dQ keeps the packed dSᵀ live longer: with mma.sync (sm_90) a
// plain variant streams 32 query rows at d 64 (64 spilled in ptxas) and
// still 32 at d 128, with dSᵀ's tile in shared memory on top of K, V, Q
// and dO. (sm_90a's warpgroup MMA takes 64: WarpgroupMmaIsTheHopperForward.)
TEST(Schedule, KeyValueWithQueryGradientFitsItsExtraState) {
  Schedule d64 = schedule("sm_90", KernelKind::backwardKeyValueQuery, 64);
  Schedule d128 = schedule("sm_90", KernelKind::backwardKeyValueQuery, 128);
  EXPECT_EQ(d64.blockM, 32) << d64.str();
  EXPECT_EQ(d128.blockM, 32) << d128.str();
  EXPECT_EQ(schedule("sm_90", KernelKind::backwardKeyValue, 64).blockM, 64);
  Schedule plain = schedule("sm_90", KernelKind::backwardKeyValue, 128);
  EXPECT_EQ(d128.sharedMemoryBytes,
            plain.sharedMemoryBytes +
                d128.blockN * sharedRowElements(d128.blockM) * 2)
      << d128.str() << " vs " << plain.str();
  EXPECT_EQ(d128.computeCapability, 90);
}

TEST(Schedule, UnsupportedHeadDim) {
  Expected<Schedule> s =
      scheduleForTarget(*targetByName("sm_80"), KernelKind::forward, 80);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message(),
            "unsupported head dim 80; supported: 32, 64, 96, 128, 256");
}

TEST(Schedule, TargetWithoutRoomIsAnError) {
  TargetInfo tiny = *targetByName("sm_80");
  tiny.arch = "tiny";
  tiny.sharedMemoryPerBlockOptin = 8 * 1024;
  Expected<Schedule> s = scheduleForTarget(tiny, KernelKind::forward, 256);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("no forward schedule for head dim 256 "
                                     "fits tiny"),
            std::string::npos)
      << s.error().message();
}

TEST(Schedule, DescribesItself) {
  Schedule s = schedule("sm_90a", KernelKind::forward, 64);
  EXPECT_EQ(s.str().rfind("forward d=64 BLOCK_M=", 0), 0u) << s.str();
}

} // namespace

TEST(Schedule, DropoutRegistersShrinkTheForwardKeyBlock) {
  const TargetInfo hopper = *targetByName("sm_90a");
  ScheduleHints oneTile;
  oneTile.rowTilesPerWarp = 1;
  Expected<Schedule> plain =
      scheduleForTarget(hopper, KernelKind::forward, 128, oneTile);
  Expected<Schedule> dropout = scheduleForTarget(
      hopper, KernelKind::forward, 128, {2, VariantCost::dropout()});
  ASSERT_TRUE(plain && dropout);
  EXPECT_EQ(plain->blockN, 128);
  EXPECT_EQ(dropout->blockN, 64);
  EXPECT_EQ(dropout->blockM, plain->blockM);
  EXPECT_LE(dropout->estimatedRegisters, hopper.maxRegistersPerThread);
}

TEST(Schedule, PlainBackwardStreamsMoreQueryRowsThanHeavyVariants) {
  // dK/dV keeps S, P, dP and dS per score: a plain variant has room for
  // more query rows per step (more independent products in flight), a
  // score modification or dropout for fewer.
  const TargetInfo hopper = *targetByName("sm_90a");
  for (auto [d, plainRows, heavyRows] :
       {std::tuple{64, 64, 16}, std::tuple{128, 32, 16}}) {
    Expected<Schedule> plain =
        scheduleForTarget(hopper, KernelKind::backwardKeyValue, d);
    Expected<Schedule> modifying =
        scheduleForTarget(hopper, KernelKind::backwardKeyValue, d,
                          {2, VariantCost::scoreModifying()});
    Expected<Schedule> dropout = scheduleForTarget(
        hopper, KernelKind::backwardKeyValue, d, {2, VariantCost::dropout()});
    ASSERT_TRUE(plain && modifying && dropout);
    EXPECT_EQ(plain->blockM, plainRows) << plain->str();
    EXPECT_EQ(dropout->blockM, heavyRows) << dropout->str();
    EXPECT_GE(plain->blockM, modifying->blockM) << modifying->str();
    EXPECT_GE(modifying->blockM, dropout->blockM) << modifying->str();
    EXPECT_EQ(plain->headDimSplit, 1);
  }
}

TEST(Schedule, TwoRowTilesPerWarpAreTheDefaultForPlainVariantsAtD64AndD128) {
  // The mma.sync forward's choice: sm_90 (sm_90a takes the warpgroup MMA).
  const TargetInfo hopper = *targetByName("sm_90");
  auto tiles = [&](int d, VariantCost cost) {
    return scheduleForTarget(hopper, KernelKind::forward, d, {2, cost})
        ->rowTilesPerWarp;
  };
  EXPECT_EQ(tiles(128, {}), 2);
  EXPECT_EQ(tiles(64, {}), 2);
  EXPECT_EQ(tiles(64, VariantCost::scoreModifying()), 1);
  VariantCost masked;
  masked.masked = true;
  EXPECT_EQ(tiles(64, masked), 1);
  EXPECT_EQ(tiles(128, masked), 2);
  EXPECT_EQ(tiles(256, {}), 1);
  EXPECT_EQ(tiles(128, VariantCost::scoreModifying()), 1);
  EXPECT_EQ(tiles(128, VariantCost::dropout()), 1);
  Expected<Schedule> s = scheduleForTarget(hopper, KernelKind::forward, 128);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->blockM, 128);
  EXPECT_EQ(s->blockN, 64);
  EXPECT_EQ(s->numWarps, 4);
  // The backward kernels keep one tile per warp.
  EXPECT_EQ(scheduleForTarget(hopper, KernelKind::backwardQuery, 128)
                ->rowTilesPerWarp,
            1);
}

TEST(Schedule, ForcedBlocksAreTakenAndCheckedAgainstSharedMemory) {
  const TargetInfo hopper = *targetByName("sm_90a");
  ScheduleHints small;
  small.rowTilesPerWarp = 1;
  small.blockM = 64;
  small.blockN = 32;
  Expected<Schedule> s =
      scheduleForTarget(hopper, KernelKind::forward, 128, small);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->blockM, 64);
  EXPECT_EQ(s->blockN, 32);
  EXPECT_EQ(s->numWarps, 4);

  ScheduleHints huge;
  huge.rowTilesPerWarp = 1; // the mma.sync forward: no block limit but SRAM
  huge.blockM = 256;
  huge.blockN = 512;
  Expected<Schedule> big =
      scheduleForTarget(hopper, KernelKind::forward, 128, huge);
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message().find(
                "needs 348160 bytes of shared memory; sm_90a allows 232448"),
            std::string::npos)
      << big.error().message();

  ScheduleHints odd;
  odd.blockN = 24;
  Expected<Schedule> bad =
      scheduleForTarget(hopper, KernelKind::backwardKeyValue, 64, odd);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("not a tensor-core shape"),
            std::string::npos)
      << bad.error().message();
}

TEST(Schedule, WarpgroupMmaIsTheHopperForward) {
  const TargetInfo hopper = *targetByName("sm_90a");
  auto forward = [&](int d, VariantCost cost, ScheduleHints hints = {}) {
    hints.variant = cost;
    return scheduleForTarget(hopper, KernelKind::forward, d, hints);
  };
  for (int d : {64, 128}) {
    Expected<Schedule> s = forward(d, {});
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_TRUE(s->warpgroupMma) << s->str();
    // 128 keys; two warpgroups of 64 rows at d 128, one at d 64 (several
    // thread blocks per SM there); unpadded tiles.
    int rows = d == 64 ? 64 : 128;
    EXPECT_EQ(s->blockM, rows);
    EXPECT_EQ(s->blockN, 128);
    EXPECT_EQ(s->numWarps, rows / 16);
    EXPECT_EQ(s->rowTilesPerWarp, 1);
    EXPECT_EQ(s->sharedMemoryBytes, (rows + 2 * 128) * d * 2);
  }
  // A score modification at d 64: two warpgroups against 64 keys (one
  // warpgroup against 128 measured 11-43% slower there).
  Expected<Schedule> modified = forward(64, VariantCost::scoreModifying());
  EXPECT_EQ(modified->blockM, 128);
  EXPECT_EQ(modified->blockN, 64);
  EXPECT_TRUE(modified->warpgroupMma);
  // Dropout's registers take 64 keys at d 128; dropout beside a score
  // modification 32.
  EXPECT_EQ(forward(128, VariantCost::dropout())->blockN, 64);
  VariantCost heavy = VariantCost::dropout();
  heavy.forwardRegisters += VariantCost::kModifiedScoreForwardRegisters;
  EXPECT_EQ(forward(128, heavy)->blockN, 32);
  EXPECT_TRUE(forward(128, heavy)->warpgroupMma);
  // Not whole 128-byte rows, a forced row tiling, plain sm_90 and the
  // backward: mma.sync.
  EXPECT_FALSE(forward(96, {})->warpgroupMma);
  EXPECT_FALSE(forward(256, {})->warpgroupMma);
  ScheduleHints oneTile;
  oneTile.rowTilesPerWarp = 1;
  EXPECT_FALSE(forward(128, {}, oneTile)->warpgroupMma);
  EXPECT_FALSE(
      scheduleForTarget(*targetByName("sm_90"), KernelKind::forward, 128)
          ->warpgroupMma);
  EXPECT_FALSE(
      scheduleForTarget(hopper, KernelKind::backwardQuery, 128)->warpgroupMma);
  // dK/dV: warpgroups of 64 key rows, unpadded K, V, Q and dO (dSᵀ stays
  // padded for dQ's ldmatrix); not past the calibrated registers, nor
  // with a forced row tiling.
  for (int d : {64, 128}) {
    Expected<Schedule> kv =
        scheduleForTarget(hopper, KernelKind::backwardKeyValueQuery, d);
    ASSERT_TRUE(kv) << kv.error().message();
    EXPECT_TRUE(kv->warpgroupMma) << kv->str();
    // Plain variants: 128 keys x 64 queries (measured, bench/NOTES.md),
    // Q, dO and the statistics in two stages.
    EXPECT_EQ(kv->blockN, 128);
    EXPECT_EQ(kv->blockM, 64);
    EXPECT_EQ(kv->numStages, 2);
    EXPECT_EQ(kv->sharedMemoryBytes,
              (2 * kv->blockN + 2 * 2 * kv->blockM) * d * 2 +
                  2 * 8 * kv->blockM + kv->blockN * (kv->blockM + 8) * 2);
    // Without dQ nothing overlaps the stages: one.
    Expected<Schedule> deterministic =
        scheduleForTarget(hopper, KernelKind::backwardKeyValue, d);
    EXPECT_TRUE(deterministic->warpgroupMma);
    EXPECT_EQ(deterministic->numStages, 1);
  }
  EXPECT_FALSE(scheduleForTarget(hopper, KernelKind::backwardKeyValueQuery, 128,
                                 {2, heavy})
                   ->warpgroupMma);
  EXPECT_FALSE(
      scheduleForTarget(hopper, KernelKind::backwardKeyValueQuery, 128, oneTile)
          ->warpgroupMma);
  // A forced shape is checked against the warpgroup's 64 rows.
  ScheduleHints forced;
  forced.blockM = 192;
  forced.blockN = 64;
  Expected<Schedule> three = forward(128, {}, forced);
  ASSERT_TRUE(three) << three.error().message();
  EXPECT_EQ(three->numWarps, 12);
  forced.blockM = 96;
  Expected<Schedule> odd = forward(128, {}, forced);
  ASSERT_FALSE(odd);
  EXPECT_NE(odd.error().message().find("for the warpgroup MMA"),
            std::string::npos)
      << odd.error().message();
}

TEST(Schedule, TwoRowTilesPerWarpHalveTheWarps) {
  const TargetInfo hopper = *targetByName("sm_90a");
  for (int d : {64, 128}) {
    ScheduleHints two;
    two.rowTilesPerWarp = 2;
    Expected<Schedule> s =
        scheduleForTarget(hopper, KernelKind::forward, d, two);
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->rowTilesPerWarp, 2);
    EXPECT_EQ(s->blockM, 128) << d;
    EXPECT_EQ(s->numWarps, 4) << d;
    EXPECT_LE(s->estimatedRegisters, hopper.maxRegistersPerThread);
  }
  ScheduleHints bad;
  bad.rowTilesPerWarp = kMaxRowTilesPerWarp + 1;
  EXPECT_FALSE(scheduleForTarget(hopper, KernelKind::forward, 64, bad));
}

TEST(SharedMemoryPlan, RegionsFollowEachOtherAndMakeTheScheduleSize) {
  for (const char *arch : {"sm_80", "sm_86", "sm_90a"}) {
    Expected<TargetInfo> target = targetByName(arch);
    ASSERT_TRUE(target) << target.error().message();
    for (CompilePass pass : {CompilePass::forward, CompilePass::backward})
      for (bool deterministic : {false, true})
        for (int d : supportedHeadDims()) {
          Expected<std::vector<Schedule>> kernels =
              schedulePass(*target, pass, deterministic, d, ScheduleHints{});
          ASSERT_TRUE(kernels) << kernels.error().message();
          for (const Schedule &s : *kernels) {
            SharedMemoryPlan plan = sharedMemoryPlanOf(s);
            int end = 0;
            for (const SharedRegion &r : plan.regions()) {
              EXPECT_EQ(r.offset, end) << s.str() << " " << r.name;
              EXPECT_GE(r.bytes, 0) << s.str() << " " << r.name;
              end = r.offset + r.bytes;
            }
            EXPECT_EQ(plan.bytes(), s.sharedMemoryBytes) << s.str();
            EXPECT_LE(plan.bytes(), target->sharedMemoryPerBlockOptin);
            // dSᵀ goes through shared memory only where dK/dV adds dQ.
            if (ownsKeys(s.kind)) {
              EXPECT_EQ(plan.region("ds").bytes > 0,
                        s.kind == KernelKind::backwardKeyValueQuery);
            }
          }
        }
  }
}
