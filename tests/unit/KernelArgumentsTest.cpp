//===- KernelArgumentsTest.cpp - a launch's values for kernel parameters --===//

#include "runtime/KernelArguments.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace flashjit;

namespace {

float asFloat(uint64_t word) {
  float f;
  std::memcpy(&f, &word, sizeof f);
  return f;
}
int32_t asI32(uint64_t word) {
  int32_t i;
  std::memcpy(&i, &word, sizeof i);
  return i;
}

TEST(KernelArguments, EveryKindOfParameterGetsItsValue) {
  using Kind = KernelArg::Kind;
  std::vector<KernelArg> args = {
      {"q", Kind::pointer},          {"do.row_stride", Kind::i64},
      {"seqlen_kv", Kind::i32},      {"softmax_scale", Kind::f32},
      {"dropout.offset", Kind::i64}, {"lse_log2", Kind::pointer},
      {"window", Kind::i32},         {"softcap", Kind::f32},
      {"slopes", Kind::pointer},     {"slopes.extent0", Kind::i32},
      {"bias.row_stride", Kind::i64}};
  TensorView q = TensorView::contiguous(reinterpret_cast<void *>(0x1000),
                                        DType::bf16, 2, 4, 100, 64);
  TensorView dO = q;
  dO.strides[2] = 256;
  AttentionParams params;
  params.softmaxScale = 0.25f;
  params.dropoutOffset = 12;
  params.scalars = {{"window", int32_t(-7)}, {"softcap", 30.0f}};
  params.buffers["slopes"] = {
      reinterpret_cast<void *>(0x2000), DType::f32, {4}, 0};
  params.buffers["bias"] = {
      reinterpret_cast<void *>(0x3000), DType::f32, {4, 9}, 16};
  LaunchShape shape{2, 4, 4, 100, 120, 64, DType::bf16};
  // The contract's workspace, in its order: names, not fixed slots.
  std::vector<WorkspaceBuffer> workspace = {
      {"dq_accum", WorkspaceBuffer::Extent::queryElements, true},
      {"lse_log2", WorkspaceBuffer::Extent::queryRows, false}};
  uint64_t addresses[] = {0x30, 0x20};
  LaunchValues values{
      shape, params, {&q, nullptr, nullptr, nullptr, nullptr, &dO}, addresses};

  PackedArguments packed;
  ASSERT_FALSE(
      packArguments(resolveArguments(args, workspace), values, packed));
  ASSERT_EQ(packed.words.size(), args.size());
  // cuLaunchKernel reads each value through its pointer.
  for (size_t i = 0; i < args.size(); ++i)
    EXPECT_EQ(packed.pointers[i], &packed.words[i]) << args[i].name;
  EXPECT_EQ(packed.words[0], 0x1000u);
  EXPECT_EQ(packed.words[1], 256u);
  EXPECT_EQ(asI32(packed.words[2]), 120);
  EXPECT_EQ(asFloat(packed.words[3]), 0.25f);
  EXPECT_EQ(packed.words[4], 12u);
  EXPECT_EQ(packed.words[5], 0x20u);
  EXPECT_EQ(asI32(packed.words[6]), -7);
  EXPECT_EQ(asFloat(packed.words[7]), 30.0f);
  EXPECT_EQ(packed.words[8], 0x2000u);
  EXPECT_EQ(asI32(packed.words[9]), 4);
  EXPECT_EQ(packed.words[10], 16u);
}

TEST(KernelArguments, ASingleEntryDimensionsStrideIsZero) {
  std::vector<KernelArg> args = {{"q.batch_stride", KernelArg::Kind::i64},
                                 {"q.head_stride", KernelArg::Kind::i64}};
  TensorView q = TensorView::contiguous(reinterpret_cast<void *>(0x1000),
                                        DType::bf16, 1, 4, 100, 64);
  q.strides[0] = 12345; // validation ignores it: only index 0 is read
  LaunchShape shape{1, 4, 4, 100, 100, 64, DType::bf16};
  LaunchValues values{shape, AttentionParams(), {&q}};
  PackedArguments packed;
  ASSERT_FALSE(packArguments(resolveArguments(args), values, packed));
  EXPECT_EQ(packed.words[0], 0u);
  EXPECT_EQ(packed.words[1], 100u * 64u);
}

TEST(KernelArguments, TheDefaultScaleIsOneOverRootD) {
  std::vector<KernelArg> args = {{"softmax_scale", KernelArg::Kind::f32}};
  AttentionParams params;
  LaunchShape shape{1, 1, 1, 1, 1, 64, DType::f16};
  LaunchValues values{shape, params, {}, {}};
  PackedArguments packed;
  ASSERT_FALSE(packArguments(resolveArguments(args), values, packed));
  EXPECT_EQ(asFloat(packed.words[0]), 0.125f);
}

TEST(KernelArguments, AWorkspaceNameThePassLacksHasNoValue) {
  // The forward's contract has no workspace: "delta" is nobody's.
  std::vector<KernelArg> args = {{"delta", KernelArg::Kind::pointer}};
  AttentionParams params;
  LaunchShape shape{1, 1, 1, 1, 1, 64, DType::f16};
  LaunchValues values{shape, params, {}, {}};
  PackedArguments packed;
  std::optional<Error> e =
      packArguments(resolveArguments(args, {}), values, packed);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message(), "internal: no value for kernel argument 'delta'");
}

TEST(KernelArguments, AMissingValueIsNamed) {
  std::vector<KernelArg> args = {{"dk", KernelArg::Kind::pointer},
                                 {"window", KernelArg::Kind::i32}};
  AttentionParams params;
  LaunchShape shape{1, 1, 1, 1, 1, 64, DType::f16};
  LaunchValues values{shape, params, {}, {}};
  PackedArguments packed;
  std::optional<Error> e =
      packArguments(resolveArguments(args), values, packed);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message(), "internal: no value for kernel argument 'dk'");
}

} // namespace
