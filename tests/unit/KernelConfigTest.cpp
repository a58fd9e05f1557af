//===- KernelConfigTest.cpp - a Schedule as #tile.kernel_config -----------===//

#include "compiler/kernel/KernelConfig.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

using namespace flashjit;

namespace {

constexpr KernelKind kKinds[] = {KernelKind::forward,
                                 KernelKind::backwardDelta,
                                 KernelKind::backwardKeyValue,
                                 KernelKind::backwardQuery,
                                 KernelKind::backwardKeyValueQuery,
                                 KernelKind::backwardQueryConvert};

TEST(KernelConfig, EveryScheduleGoesBothWays) {
  mlir::MLIRContext context;
  context.loadDialect<tile::TileDialect>();
  int checked = 0;
  for (const TargetInfo &target : knownTargets())
    for (KernelKind kind : kKinds)
      for (int headDim : supportedHeadDims()) {
        Expected<Schedule> s = scheduleForTarget(target, kind, headDim, {});
        if (!s)
          continue; // a target without tensor-core products, say
        Schedule back =
            scheduleOf(kernelConfigOf(mlir::BFloat16Type::get(&context), *s));
        EXPECT_EQ(back.str(), s->str()) << target.arch;
        EXPECT_EQ(back.kind, s->kind);
        EXPECT_EQ(back.headDim, s->headDim);
        EXPECT_EQ(back.elementBytes, s->elementBytes);
        EXPECT_EQ(back.blockM, s->blockM);
        EXPECT_EQ(back.blockN, s->blockN);
        EXPECT_EQ(back.numWarps, s->numWarps);
        EXPECT_EQ(back.numStages, s->numStages);
        EXPECT_EQ(back.headDimSplit, s->headDimSplit);
        EXPECT_EQ(back.rowTilesPerWarp, s->rowTilesPerWarp);
        EXPECT_EQ(back.warpgroupMma, s->warpgroupMma);
        EXPECT_EQ(back.sharedMemoryBytes, s->sharedMemoryBytes);
        EXPECT_EQ(back.computeCapability, s->computeCapability);
        EXPECT_EQ(back.estimatedRegisters, s->estimatedRegisters);
        ++checked;
      }
  EXPECT_GT(checked, 100);
}

TEST(KernelConfig, PrintsEveryField) {
  mlir::MLIRContext context;
  context.loadDialect<tile::TileDialect>();
  Expected<Schedule> s =
      scheduleForTarget(*targetByName("sm_90a"), KernelKind::forward, 128, {});
  ASSERT_TRUE(s) << s.error().message();
  std::string printed;
  llvm::raw_string_ostream os(printed);
  os << kernelConfigOf(mlir::BFloat16Type::get(&context), *s);
  EXPECT_EQ(printed.rfind("#tile.kernel_config<kind = forward, head_dim = "
                          "128, element_type = bf16, block_m = ",
                          0),
            0u)
      << printed;
  EXPECT_NE(printed.find("mma = wgmma"), std::string::npos) << printed;
}

} // namespace
