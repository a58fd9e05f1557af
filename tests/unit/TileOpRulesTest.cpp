//===- TileOpRulesTest.cpp - the tile ops' rule models --------------------===//
//
// Which tile ops registerTileOpRuleModels gives which rules, and that the
// walkers name the op that has none.
//
//===----------------------------------------------------------------------===//

#include "compiler/rules/TileOpRules.h"
#include "compiler/lowering/BlockClassifier.h"
#include "compiler/lowering/ScoreDerivative.h"
#include "compiler/rules/IntervalBoundsInterface.h"
#include "compiler/rules/ScalarLoweringInterface.h"
#include "compiler/rules/TangentInterface.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace mlir;
using namespace flashjit;

namespace {

/// The rules of every tile op: s(calar), t(angent), b(ounds).
const std::map<std::string, std::string> kRules = {
    {"tile.program", ""},  {"tile.store", ""},
    {"tile.load_q", ""},   {"tile.load_k", ""},
    {"tile.load_v", ""},   {"tile.buffer", ""},
    {"tile.dot", ""},      {"tile.mask", ""},
    {"tile.softmax", ""},  {"tile.dropout", ""},
    {"tile.index", "b"},   {"tile.extent", "b"},
    {"tile.param", "tb"},  {"tile.softmax_scale", "tb"},
    {"tile.load", "tb"},   {"tile.constant", "stb"},
    {"tile.add", "stb"},   {"tile.sub", "stb"},
    {"tile.mul", "stb"},   {"tile.div", "stb"},
    {"tile.rem", "sb"},    {"tile.max", "stb"},
    {"tile.min", "stb"},   {"tile.and", "sb"},
    {"tile.or", "sb"},     {"tile.xor", "sb"},
    {"tile.cmp", "sb"},    {"tile.neg", "stb"},
    {"tile.abs", "stb"},   {"tile.exp", "stb"},
    {"tile.log", "stb"},   {"tile.tanh", "stb"},
    {"tile.sqrt", "stb"},  {"tile.sigmoid", "stb"},
    {"tile.not", "sb"},    {"tile.cast", "stb"},
    {"tile.select", "stb"}};

std::string rulesOf(RegisteredOperationName op) {
  std::string rules;
  if (op.hasInterface<TileScalarLoweringOpInterface>())
    rules += "s";
  if (op.hasInterface<TileTangentOpInterface>())
    rules += "t";
  if (op.hasInterface<TileIntervalBoundsOpInterface>())
    rules += "b";
  return rules;
}

TEST(TileOpRules, EveryTileOpHasItsRules) {
  DialectRegistry registry;
  registry.insert<tile::TileDialect>();
  registerTileOpRuleModels(registry);
  MLIRContext context(registry);
  context.loadDialect<tile::TileDialect>();
  std::set<std::string> seen;
  for (RegisteredOperationName op : context.getRegisteredOperations()) {
    if (op.getDialectNamespace() != "tile")
      continue;
    std::string name = op.getStringRef().str();
    seen.insert(name);
    auto expected = kRules.find(name);
    ASSERT_NE(expected, kRules.end()) << name << " is missing from kRules";
    EXPECT_EQ(rulesOf(op), expected->second) << name;
  }
  EXPECT_EQ(seen.size(), kRules.size());
}

constexpr const char *kCausal = R"mlir(
tile.program @causal {
  %q = tile.load_q : <[q, d], input>
  %k = tile.load_k : <[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
  %scale = tile.softmax_scale : <[], f32>
  %x = tile.mul %s, %scale : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
  %kv_idx = tile.index kv : <[kv], i32>
  %q_idx = tile.index q : <[q], i32>
  %keep = tile.cmp le, %kv_idx, %q_idx : <[kv], i32>, <[q], i32> -> <[q, kv], i1>
  %m = tile.mask %x, %keep : <[q, kv], f32>, <[q, kv], i1>
  %p, %lse = tile.softmax %m : <[q, kv], f32>
  %v = tile.load_v : <[kv, d], input>
  %o = tile.dot %p, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
  tile.store %o, %lse : <[q, d], f32>, <[q], f32>
}
)mlir";

/// Without the models every walker stops at the first op it must ask.
class MissingRules : public ::testing::Test {
protected:
  void SetUp() override {
    context.loadDialect<tile::TileDialect>();
    module = parseSourceString<ModuleOp>(kCausal, &context);
    ASSERT_TRUE(module);
    auto program = *module->getOps<tile::ProgramOp>().begin();
    for (Operation &op : program.getBody().front()) {
      if (auto mul = dyn_cast<tile::MulOp>(op))
        modified = mul.getResult();
      else if (auto cmp = dyn_cast<tile::CmpOp>(op))
        keep = cmp.getResult();
      else if (auto dot = dyn_cast<tile::DotOp>(op); dot && !rawScore)
        rawScore = dot.getResult();
    }
    builder.setInsertionPointToStart(&block);
  }

  /// Leaves are arguments of a detached block.
  FailureOr<Value> leaf(OpBuilder &, Operation *op, ArrayRef<Value>) {
    return block.addArgument(op->getResult(0).getType(), op->getLoc());
  }

  /// Runs `walk`, returning the one error it reported.
  template <typename Walk> std::string errorOf(Walk walk) {
    std::string message;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
      message = d.str();
      return success();
    });
    EXPECT_TRUE(failed(walk()));
    return message;
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  Value rawScore, modified, keep;
  Block block;
  OpBuilder builder{&context};
};

TEST_F(MissingRules, ElementEmitterNamesTheOp) {
  auto leafFn = [&](OpBuilder &b, Operation *op, ArrayRef<Value> v) {
    return leaf(b, op, v);
  };
  ElementEmitter emitter(builder, leafFn);
  EXPECT_EQ(errorOf([&] { return emitter.emit(modified); }),
            "'tile.mul' op has no per-element form; a score modification or "
            "mask may not use it");
}

TEST_F(MissingRules, ScoreTangentNamesTheOp) {
  auto leafFn = [&](OpBuilder &b, Operation *op, ArrayRef<Value> v) {
    return leaf(b, op, v);
  };
  ElementEmitter primal(builder, leafFn);
  EXPECT_EQ(errorOf([&] {
              return emitScoreTangent(primal, builder, modified, rawScore);
            }),
            "'tile.mul' op has no derivative; a score modification may not "
            "use it");
}

TEST_F(MissingRules, BlockClassifierNamesTheOp) {
  KernelBuilder k(builder, builder.getUnknownLoc(), InputType::f16);
  auto scalar = [](Operation *) { return Value(); };
  auto buffer = [](tile::BufferOp) { return BufferBinding(); };
  BlockClassifier classifier(k, {scalar, buffer, {}, {}, {}, {}});
  EXPECT_EQ(errorOf([&] { return classifier.classify(keep); }),
            "'tile.cmp' op has no bounds over a block; a mask may not use it");
}

} // namespace
