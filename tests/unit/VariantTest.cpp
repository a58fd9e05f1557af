//===- VariantTest.cpp - built-in variants and their textual twins --------===//

#include "flashjit/kernels.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

using namespace flashjit;

namespace {

class BuiltinVariantTest : public ::testing::TestWithParam<BuiltinVariant> {};

TEST_P(BuiltinVariantTest, TracedProgramEqualsTextualTwin) {
  const BuiltinVariant &variant = GetParam();
  Expected<Program> traced = variant.build();
  ASSERT_TRUE(traced) << traced.error().message();
  EXPECT_EQ(traced->name(), variant.name);

  std::string twinPath =
      std::string(FLASHJIT_KERNELS_DIR) + "/" + variant.name + ".mlir";
  ASSERT_TRUE(std::filesystem::exists(twinPath)) << twinPath;
  Expected<Program> twin = Program::load(twinPath);
  ASSERT_TRUE(twin) << twin.error().message();
  EXPECT_EQ(traced->str(), twin->str())
      << "kernels/" << variant.name << ".cpp and its .mlir twin differ";
}

TEST_P(BuiltinVariantTest, PrintedTextParsesBackToTheSameText) {
  Expected<Program> traced = GetParam().build();
  ASSERT_TRUE(traced) << traced.error().message();
  std::string text = traced->str();
  Expected<Program> reparsed = Program::parse(text, GetParam().name);
  ASSERT_TRUE(reparsed) << reparsed.error().message();
  EXPECT_EQ(reparsed->str(), text);
}

TEST_P(BuiltinVariantTest, SavesAndLoads) {
  Expected<Program> traced = GetParam().build();
  ASSERT_TRUE(traced) << traced.error().message();
  std::string path = ::testing::TempDir() + "/" + GetParam().name + ".mlir";
  Expected<bool> saved = traced->save(path);
  ASSERT_TRUE(saved) << saved.error().message();
  Expected<Program> loaded = Program::load(path);
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->str(), traced->str());
  std::remove(path.c_str());
}

TEST_P(BuiltinVariantTest, TracingTwiceGivesTheSameProgram) {
  Expected<Program> first = GetParam().build();
  Expected<Program> second = GetParam().build();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->str(), second->str());
}

INSTANTIATE_TEST_SUITE_P(
    Kernels, BuiltinVariantTest, ::testing::ValuesIn(builtinVariants()),
    [](const ::testing::TestParamInfo<BuiltinVariant> &info) {
      return info.param.name;
    });

TEST(BuiltinVariants, EveryTwinHasAVariant) {
  for (const auto &entry :
       std::filesystem::directory_iterator(FLASHJIT_KERNELS_DIR)) {
    if (entry.path().extension() != ".mlir")
      continue;
    std::string name = entry.path().stem().string();
    EXPECT_TRUE(builtinVariant(name))
        << entry.path() << " has no built-in variant of that name";
  }
}

TEST(BuiltinVariants, UnknownNameListsTheKnownOnes) {
  Expected<Program> program = builtinVariant("causl");
  ASSERT_FALSE(program);
  EXPECT_NE(program.error().message().find("unknown variant 'causl'"),
            std::string::npos);
  EXPECT_NE(program.error().message().find("causal"), std::string::npos);
}

TEST(BuiltinVariants, LaunchInputsAreDeclared) {
  Expected<Program> alibi = builtinVariant("alibi");
  ASSERT_TRUE(alibi);
  ASSERT_EQ(alibi->buffers().size(), 1u);
  EXPECT_EQ(alibi->buffers()[0].name, "slopes");
  EXPECT_EQ(alibi->buffers()[0].dims, std::vector<std::string>{"head"});
  EXPECT_TRUE(alibi->params().empty());

  Expected<Program> bias = builtinVariant("relative_bias");
  ASSERT_TRUE(bias);
  ASSERT_EQ(bias->params().size(), 1u);
  EXPECT_EQ(bias->params()[0].name, "max_distance");
  EXPECT_EQ(bias->params()[0].type, ScalarType::i32);
  ASSERT_EQ(bias->buffers().size(), 1u);
  EXPECT_EQ(bias->buffers()[0].dims, (std::vector<std::string>{"head", "?"}));
}

} // namespace
