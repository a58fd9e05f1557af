//===- ProgramTest.cpp - parsing and printing programs --------------------===//

#include "flashjit/program.h"

#include <gtest/gtest.h>

using namespace flashjit;

namespace {

const char *kCausal = R"(
tile.program @causal {
  %q = tile.load_q : !tile.tile<[q, d], input>
  %k = tile.load_k : !tile.tile<[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  %qi = tile.index q : !tile.tile<[q], i32>
  %ki = tile.index kv : !tile.tile<[kv], i32>
  %keep = tile.cmp le, %ki, %qi : !tile.tile<[kv], i32>, !tile.tile<[q], i32> -> !tile.tile<[q, kv], i1>
  %m = tile.mask %s, %keep : !tile.tile<[q, kv], f32>, !tile.tile<[q, kv], i1>
  %p, %lse = tile.softmax %m : !tile.tile<[q, kv], f32>
  %v = tile.load_v : !tile.tile<[kv, d], input>
  %o = tile.dot %p, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  tile.store %o, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
}
)";

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

TEST(Program, ParsesAndNamesTheVariant) {
  Expected<Program> program = Program::parse(kCausal);
  ASSERT_TRUE(program) << program.error().message();
  EXPECT_EQ(program->name(), "causal");
  EXPECT_TRUE(contains(program->str(), "tile.program @causal"));
}

TEST(Program, ParseErrorNamesTheSourceAndLine) {
  Expected<Program> program =
      Program::parse("tile.program @x {\n  %q = tile.load_w\n}", "broken.mlir");
  ASSERT_FALSE(program);
  EXPECT_TRUE(contains(program.error().message(), "broken.mlir:2"))
      << program.error().message();
}

TEST(Program, VerifierErrorIsReported) {
  std::string text = kCausal;
  std::string dot = "%o = tile.dot %p, %v";
  text.replace(text.find(dot), dot.size(),
               "%pd = tile.dropout %p rate = 1.5 : !tile.tile<[q, kv], f32>\n"
               "  %o = tile.dot %pd, %v");
  Expected<Program> program = Program::parse(text, "bad.mlir");
  ASSERT_FALSE(program);
  EXPECT_TRUE(contains(program.error().message(),
                       "bad.mlir:12:9: error: 'tile.dropout' op rate must be "
                       "in [0, 1), got 1.5"))
      << program.error().message();
}

TEST(Program, ModuleMustHoldExactlyOneProgram) {
  std::string two = std::string(kCausal) + kCausal;
  // Two symbols of the same name fail in the parser already; rename one.
  two.replace(two.rfind("@causal"), 7, "@causal2");
  Expected<Program> program = Program::parse(two, "two.mlir");
  ASSERT_FALSE(program);
  EXPECT_TRUE(contains(program.error().message(),
                       "expected a module holding exactly one tile.program, "
                       "found 2"))
      << program.error().message();

  Expected<Program> empty = Program::parse("", "empty.mlir");
  ASSERT_FALSE(empty);
  EXPECT_TRUE(contains(empty.error().message(), "found 0"));
}

TEST(Program, LoadReportsAMissingFile) {
  Expected<Program> program = Program::load("/nonexistent/variant.mlir");
  ASSERT_FALSE(program);
  EXPECT_TRUE(contains(program.error().message(),
                       "cannot read '/nonexistent/variant.mlir'"));
}

TEST(Program, SaveReportsAnUnwritableDirectory) {
  Expected<Program> program = Program::parse(kCausal);
  ASSERT_TRUE(program);
  Expected<bool> saved = program->save("/nonexistent/dir/causal.mlir");
  ASSERT_FALSE(saved);
  EXPECT_TRUE(contains(saved.error().message(),
                       "cannot write '/nonexistent/dir/causal.mlir'"));
}

TEST(Program, CopiesShareOneModule) {
  Expected<Program> program = Program::parse(kCausal);
  ASSERT_TRUE(program);
  Program copy = *program;
  EXPECT_EQ(copy.str(), program->str());
}

} // namespace
