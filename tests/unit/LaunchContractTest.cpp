//===- LaunchContractTest.cpp - a pass's launches and their JSON ----------===//

#include "compiler/kernel/LaunchContract.h"
#include "compiler/Compiler.h"
#include "compiler/kernel/KernelMetadata.h"
#include "compiler/kernel/TileScheduler.h"
#include "flashjit/kernels.h"

#include <gtest/gtest.h>

using namespace flashjit;

namespace {

using Extent = WorkspaceBuffer::Extent;

std::vector<Schedule> schedulesOf(KernelKind a, KernelKind b, KernelKind c) {
  std::vector<Schedule> schedules(3);
  schedules[0].kind = a;
  schedules[1].kind = b;
  schedules[2].kind = c;
  return schedules;
}

TEST(LaunchContract, TheForwardNeedsNoWorkspace) {
  std::vector<Schedule> forward(1);
  forward[0].kind = KernelKind::forward;
  EXPECT_TRUE(workspaceOf(forward).empty());
}

TEST(LaunchContract, TheAtomicBackwardSumsDqInAZeroedBuffer) {
  std::vector<WorkspaceBuffer> expected = {
      {"delta", Extent::queryRows, false},
      {"lse_log2", Extent::queryRows, false},
      {"dq_accum", Extent::queryElements, true}};
  EXPECT_EQ(workspaceOf(schedulesOf(KernelKind::backwardDelta,
                                    KernelKind::backwardKeyValueQuery,
                                    KernelKind::backwardQueryConvert)),
            expected);
  expected.pop_back(); // the deterministic backward writes dQ itself
  EXPECT_EQ(workspaceOf(schedulesOf(KernelKind::backwardDelta,
                                    KernelKind::backwardKeyValue,
                                    KernelKind::backwardQuery)),
            expected);
}

TEST(LaunchContract, BuffersStartAtTheAlignment) {
  std::vector<WorkspaceBuffer> workspace = {{"a", Extent::queryRows, false},
                                            {"b", Extent::queryRows, false},
                                            {"c", Extent::queryElements, true}};
  WorkspaceLayout layout = layoutOf(workspace, /*queryRows=*/100, 64);
  EXPECT_EQ(layout.offsets, (std::vector<int64_t>{0, 512, 1024}));
  EXPECT_EQ(layout.sizes, (std::vector<int64_t>{400, 400, 100 * 64 * 4}));
  EXPECT_EQ(layout.bytes, 1024 + 100 * 64 * 4);
  EXPECT_EQ(layoutOf({}, 100, 64).bytes, 0);
}

/// The backward of `causal` for sm_90a, compiled: the contract the runtime
/// would cache.
LaunchContract compiledBackward(bool deterministic) {
  Expected<Program> program = builtinVariant("causal");
  if (!program)
    ADD_FAILURE() << program.error().message();
  CompileOptions options;
  options.target = *targetByName("sm_90a");
  options.pass = CompilePass::backward;
  options.deterministic = deterministic;
  Expected<CompiledPass> compiled = compileProgram(*program, options);
  if (!compiled)
    ADD_FAILURE() << compiled.error().message();
  return compiled ? compiled->launch : LaunchContract();
}

TEST(LaunchContract, JsonRoundTripsEveryField) {
  for (bool deterministic : {false, true}) {
    LaunchContract launch = compiledBackward(deterministic);
    ASSERT_EQ(launch.kernels.size(), 3u);
    Expected<LaunchContract> read =
        parseKernelMetadata(kernelMetadataJson(launch, "sm_90a"));
    ASSERT_TRUE(read) << read.error().message();
    EXPECT_EQ(read->workspace, launch.workspace);
    ASSERT_EQ(read->kernels.size(), launch.kernels.size());
    for (size_t i = 0; i < launch.kernels.size(); ++i) {
      const KernelInfo &a = launch.kernels[i], &b = read->kernels[i];
      EXPECT_EQ(b.name, a.name);
      EXPECT_EQ(b.kind, a.kind);
      EXPECT_EQ(b.grid, a.grid) << a.name;
      EXPECT_EQ(b.grid, TileScheduler(a.schedule).grid()) << a.name;
      EXPECT_EQ(b.schedule.numThreads(), a.schedule.numThreads());
      EXPECT_EQ(b.schedule.sharedMemoryBytes, a.schedule.sharedMemoryBytes);
      ASSERT_EQ(b.args.size(), a.args.size());
      for (size_t j = 0; j < a.args.size(); ++j) {
        EXPECT_EQ(b.args[j].name, a.args[j].name);
        EXPECT_EQ(b.args[j].kind, a.args[j].kind);
      }
    }
  }
}

TEST(LaunchContract, TheGridIsReadNotRecomputed) {
  LaunchContract launch = compiledBackward(false);
  launch.kernels[1].grid.multiplier = 7;
  Expected<LaunchContract> read =
      parseKernelMetadata(kernelMetadataJson(launch, "sm_90a"));
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(read->kernels[1].grid.multiplier, 7);
}

TEST(LaunchContract, MalformedMetadataSaysWhat) {
  std::string json = kernelMetadataJson(compiledBackward(false), "sm_90a");
  auto replaced = [&](const std::string &from, const std::string &to) {
    std::string s = json;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? s : s.replace(at, from.size(), to);
  };
  struct Case {
    std::string text, message;
  } cases[] = {
      {replaced("\"format\": 2", "\"format\": 1"), "another format"},
      {replaced("\"zeroed\": true", "\"zeroed\": 1"), "expected a boolean"},
      {replaced("batch*heads_q*seqlen_q*head_dim", "rows"), "unknown value"},
      {replaced("\"grid\"", "\"grids\""), "needs name, kind, schedule, grid"},
      {replaced("\"workspace\"", "\"scratch\""), "kernels and workspace"},
  };
  for (const Case &c : cases) {
    Expected<LaunchContract> read = parseKernelMetadata(c.text);
    ASSERT_FALSE(read) << c.message;
    EXPECT_NE(read.error().message().find(c.message), std::string::npos)
        << read.error().message();
  }
}

} // namespace
