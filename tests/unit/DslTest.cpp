//===- DslTest.cpp - tracing C++ into tile programs -----------------------===//

#include "flashjit/dsl.h"

#include <gtest/gtest.h>

using namespace flashjit;
using namespace flashjit::dsl;

namespace {

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

/// Traces plain attention whose scores go through `mod`.
Expected<Program> withScoreMod(const ScoreMod &mod) {
  return attention("test", {.scoreMod = mod});
}

std::string errorOf(const Expected<Program> &program) {
  return program ? std::string("<no error>") : program.error().message();
}

TEST(Dsl, TracesTheStandardChain) {
  Expected<Program> program = attention("plain", {});
  ASSERT_TRUE(program) << errorOf(program);
  std::string text = program->str();
  for (const char *op :
       {"tile.load_q", "tile.load_k", "tile.dot", "tile.softmax_scale",
        "tile.softmax", "tile.load_v", "tile.store"})
    EXPECT_TRUE(contains(text, op)) << op << " missing in\n" << text;
  EXPECT_FALSE(contains(text, "tile.mask"));
  EXPECT_FALSE(contains(text, "tile.dropout"));
}

TEST(Dsl, LiteralsTakeTheTypeOfTheTileTheyMeet) {
  Expected<Program> program =
      withScoreMod([](Builder &b, Tile s) { return s * 2 + 1; });
  ASSERT_TRUE(program) << errorOf(program);
  std::string text = program->str();
  EXPECT_TRUE(contains(text, "tile.constant 2.000000e+00 : f32")) << text;
  EXPECT_TRUE(contains(text, "tile.constant 1.000000e+00 : f32")) << text;
  EXPECT_FALSE(contains(text, "tile.cast")) << text;
}

TEST(Dsl, IntegersPromoteToFloatInMixedArithmetic) {
  Expected<Program> program = withScoreMod(
      [](Builder &b, Tile s) { return s - (b.qIdx() - b.kvIdx()); });
  ASSERT_TRUE(program) << errorOf(program);
  EXPECT_TRUE(contains(program->str(),
                       "tile.cast %2 : <[q, kv], i32> -> <[q, kv], f32>") ||
              contains(program->str(), "-> <[q, kv], f32>"));
  EXPECT_TRUE(contains(program->str(), "tile.cast")) << program->str();
}

TEST(Dsl, FloatLiteralPromotesAnIntegerTile) {
  Expected<Program> program =
      withScoreMod([](Builder &b, Tile s) { return s + b.kvIdx() * 0.5; });
  ASSERT_TRUE(program) << errorOf(program);
  std::string text = program->str();
  EXPECT_TRUE(contains(text, "tile.cast %kv_idx : <[kv], i32> -> <[kv], f32>"))
      << text;
  EXPECT_TRUE(contains(text, "tile.constant 5.000000e-01 : f32")) << text;
}

TEST(Dsl, AccessorsEmitTheirOpOnce) {
  Expected<Program> program = attention("twice", {.maskMod = [](Builder &b) {
                                          return (b.kvIdx() <= b.qIdx()) &&
                                                 (b.qIdx() - b.kvIdx() < 128);
                                        }});
  ASSERT_TRUE(program) << errorOf(program);
  std::string text = program->str();
  EXPECT_TRUE(contains(text, "%q_idx = tile.index q"));
  EXPECT_FALSE(contains(text, "%q_idx_0")) << text;
}

TEST(Dsl, ParamsAndBuffersAreDeclaredOnce) {
  Expected<Program> program = withScoreMod([](Builder &b, Tile s) {
    Tile cap = b.param("cap");
    Buffer slopes = b.buffer("slopes", {"head"});
    return b.param("cap") * tanh(s / cap) + slopes[b.head()] +
           b.buffer("slopes", {"head"})[b.head()];
  });
  ASSERT_TRUE(program) << errorOf(program);
  EXPECT_EQ(program->params().size(), 1u);
  EXPECT_EQ(program->buffers().size(), 1u);
}

TEST(Dsl, OrderDoesNotDependOnArgumentEvaluation) {
  // The same program written with its leaves requested in another order.
  Expected<Program> a = withScoreMod(
      [](Builder &b, Tile s) { return s + toFloat(b.kvIdx() - b.qIdx()); });
  Expected<Program> b = withScoreMod([](Builder &bld, Tile s) {
    Tile q = bld.qIdx();
    Tile kv = bld.kvIdx();
    return s + toFloat(kv - q);
  });
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->str(), b->str());
}

TEST(Dsl, UnusedDeclarationsAreDropped) {
  Expected<Program> program = withScoreMod([](Builder &b, Tile s) {
    b.param("unused");
    return s;
  });
  ASSERT_TRUE(program) << errorOf(program);
  EXPECT_TRUE(program->params().empty());
}

TEST(Dsl, ShapeMismatchNamesTheOp) {
  // Adding the [q, d] query tile to the [q, kv] scores.
  Expected<Program> program =
      withScoreMod([](Builder &b, Tile s) { return s + b.q(); });
  ASSERT_FALSE(program);
  EXPECT_TRUE(contains(errorOf(program), "variant 'test'"));
  EXPECT_TRUE(contains(errorOf(program), "'tile.add' op"));
}

TEST(Dsl, ScoreModMustKeepTheScoreShape) {
  Expected<Program> program =
      withScoreMod([](Builder &b, Tile s) { return s + dot(s, b.v()); });
  ASSERT_FALSE(program);
  EXPECT_TRUE(contains(errorOf(program), "'tile.mask' op") ||
              contains(errorOf(program), "'tile.softmax' op operand must be "
                                         "a score tile"))
      << errorOf(program);
}

TEST(Dsl, MaskMustBeBoolean) {
  Expected<Program> program = attention(
      "notbool", {.maskMod = [](Builder &b) { return b.kvIdx() - b.qIdx(); }});
  ASSERT_FALSE(program);
  EXPECT_TRUE(contains(errorOf(program),
                       "'tile.mask' op mask must be a boolean (i1) tile"))
      << errorOf(program);
}

TEST(Dsl, MaskMustNotReadScores) {
  Expected<Program> program = trace("scoremask", [](Builder &b) {
    Tile s = dotTransposed(b.q(), b.k());
    Softmax sm = softmax(mask(s, s > 0));
    b.store(dot(sm.probs, b.v()), sm.lse);
  });
  ASSERT_FALSE(program);
  EXPECT_TRUE(contains(errorOf(program), "mask depends on the scores"))
      << errorOf(program);
}

TEST(Dsl, DropoutRateOutOfRange) {
  Expected<Program> program = attention("drop", {.dropoutRate = 1.5f});
  ASSERT_FALSE(program);
  EXPECT_TRUE(contains(errorOf(program),
                       "'tile.dropout' op rate must be in [0, 1), got 1.5"))
      << errorOf(program);
}

TEST(Dsl, BufferIndexOutOfDomain) {
  Expected<Program> program = withScoreMod([](Builder &b, Tile s) {
    return s + b.buffer("slopes", {"head"})[b.qIdx()];
  });
  ASSERT_FALSE(program);
  EXPECT_TRUE(contains(errorOf(program),
                       "index 0 is the 'q' index, which is out of the domain "
                       "of buffer dimension 0 ('head')"))
      << errorOf(program);
}

TEST(Dsl, UnknownBufferDimension) {
  Expected<Program> program = withScoreMod([](Builder &b, Tile s) {
    return s + b.buffer("table", {"seq"})[b.qIdx()];
  });
  ASSERT_FALSE(program);
  EXPECT_TRUE(
      contains(errorOf(program), "buffer 'table': unknown dimension 'seq'"))
      << errorOf(program);
}

TEST(Dsl, BufferOfRankThree) {
  Expected<Program> program = withScoreMod([](Builder &b, Tile s) {
    return s + b.buffer("cube", {"batch", "head", "q"})(b.batch(), b.head());
  });
  ASSERT_FALSE(program);
  EXPECT_TRUE(contains(errorOf(program), "buffer must have rank 1 or 2, got 3"))
      << errorOf(program);
}

TEST(Dsl, NameDeclaredTwiceWithAnotherType) {
  Expected<Program> program = withScoreMod([](Builder &b, Tile s) {
    return s + b.param("w") + toFloat(b.param("w", ScalarType::i32));
  });
  ASSERT_FALSE(program);
  EXPECT_TRUE(contains(errorOf(program), "'w' is already declared as a "
                                         "tile.param of type"))
      << errorOf(program);
}

TEST(Dsl, StoreIsRequired) {
  Expected<Program> program = trace("nostore", [](Builder &b) { b.q(); });
  ASSERT_FALSE(program);
  EXPECT_TRUE(contains(errorOf(program), "never calls store(o, lse)"));
}

TEST(Dsl, StoreTwice) {
  Expected<Program> program = trace("twice", [](Builder &b) {
    Softmax sm = softmax(dotTransposed(b.q(), b.k()));
    Tile o = dot(sm.probs, b.v());
    b.store(o, sm.lse);
    b.store(o, sm.lse);
  });
  ASSERT_FALSE(program);
  EXPECT_TRUE(contains(errorOf(program), "store(o, lse) is called twice"));
}

TEST(Dsl, TileFromAnotherTraceIsAnError) {
  Tile leaked;
  Expected<Program> first = trace("first", [&](Builder &b) {
    leaked = b.qIdx();
    Softmax sm = softmax(dotTransposed(b.q(), b.k()));
    b.store(dot(sm.probs, b.v()), sm.lse);
  });
  ASSERT_TRUE(first) << errorOf(first);
  Expected<Program> second =
      withScoreMod([&](Builder &b, Tile s) { return s + toFloat(leaked); });
  ASSERT_FALSE(second);
  EXPECT_TRUE(contains(errorOf(second), "got a tile from another trace"))
      << errorOf(second);
}

TEST(Dsl, DefaultTileIsAnError) {
  Expected<Program> program =
      withScoreMod([](Builder &b, Tile s) { return s + Tile(); });
  ASSERT_FALSE(program);
  EXPECT_TRUE(contains(errorOf(program), "holds no value")) << errorOf(program);
}

TEST(Dsl, OperationsOutsideATraceYieldNothing) {
  Tile outside = Tile(1.0f) + Tile(2.0f);
  Expected<Program> program =
      withScoreMod([&](Builder &b, Tile s) { return s + outside; });
  ASSERT_FALSE(program);
  EXPECT_TRUE(contains(errorOf(program), "holds no value")) << errorOf(program);
}

TEST(Dsl, NestedTraceIsAnError) {
  std::string inner;
  Expected<Program> outer = trace("outer", [&](Builder &b) {
    Expected<Program> nested = attention("inner", {});
    inner = errorOf(nested);
    Softmax sm = softmax(dotTransposed(b.q(), b.k()));
    b.store(dot(sm.probs, b.v()), sm.lse);
  });
  EXPECT_TRUE(outer) << errorOf(outer);
  EXPECT_TRUE(contains(inner, "is called inside another trace")) << inner;
}

TEST(Dsl, FirstErrorWins) {
  Expected<Program> program = trace("errors", [](Builder &b) {
    b.buffer("x", {"nope"});
    b.store(Tile(), Tile());
  });
  ASSERT_FALSE(program);
  EXPECT_TRUE(contains(errorOf(program), "unknown dimension 'nope'"))
      << errorOf(program);
}

TEST(Dsl, WhereAndMathFunctions) {
  Expected<Program> program = withScoreMod([](Builder &b, Tile s) {
    Tile far = abs(b.qIdx() - b.kvIdx()) > 64;
    return where(far, s - log(1 + exp(-s)), sqrt(sigmoid(s)) + max(s, 0.f));
  });
  ASSERT_TRUE(program) << errorOf(program);
  std::string text = program->str();
  for (const char *op : {"tile.select", "tile.abs", "tile.log", "tile.exp",
                         "tile.neg", "tile.sqrt", "tile.sigmoid", "tile.max"})
    EXPECT_TRUE(contains(text, op)) << op << " missing in\n" << text;
}

TEST(Dsl, IntegerDivisionRemainderAndBooleans) {
  Expected<Program> program =
      attention("blocks", {.maskMod = [](Builder &b) {
                  Tile sameBlock = b.qIdx() / 64 == b.kvIdx() / 64;
                  Tile even = b.kvIdx() % 2 == 0;
                  return (sameBlock || !even) ^ (b.head() != 0);
                }});
  ASSERT_TRUE(program) << errorOf(program);
  std::string text = program->str();
  for (const char *op : {"tile.div", "tile.rem", "tile.or", "tile.not",
                         "tile.xor", "tile.cmp eq", "tile.cmp ne"})
    EXPECT_TRUE(contains(text, op)) << op << " missing in\n" << text;
}

TEST(Dsl, ExtentsAndBottomRightCausal) {
  Expected<Program> program =
      attention("br", {.maskMod = [](Builder &b) {
                  return b.kvIdx() <= b.qIdx() + b.seqlenKv() - b.seqlenQ() &&
                         b.batch() < b.batchSize() && b.head() < b.numHeads();
                }});
  ASSERT_TRUE(program) << errorOf(program);
  std::string text = program->str();
  for (const char *op : {"tile.extent kv", "tile.extent q", "tile.extent batch",
                         "tile.extent head"})
    EXPECT_TRUE(contains(text, op)) << op << " missing in\n" << text;
}

} // namespace
