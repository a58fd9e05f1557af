//===- TileTypesTest.cpp - axis sets and tile/buffer types ----------------===//

#include "compiler/frontend/ProgramState.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Diagnostics.h"

#include <gtest/gtest.h>

using namespace flashjit::tile;

namespace {

TEST(AxisSet, UnionAndOrder) {
  AxisSet scores{Axis::kv, Axis::q};
  EXPECT_EQ(scores.size(), 2u);
  EXPECT_TRUE(scores.contains(Axis::q));
  EXPECT_FALSE(scores.contains(Axis::d));
  auto axes = scores.axes();
  ASSERT_EQ(axes.size(), 2u);
  EXPECT_EQ(axes[0], Axis::q); // canonical order, whatever the input order
  EXPECT_EQ(axes[1], Axis::kv);
  EXPECT_EQ(AxisSet{Axis::q}.unite({Axis::kv}), scores);
  EXPECT_TRUE(AxisSet{}.isSubsetOf(scores));
  EXPECT_FALSE(AxisSet{Axis::d}.isSubsetOf(scores));
  EXPECT_TRUE(AxisSet{}.empty());
}

TEST(TileType, PrintsCanonicalSpelling) {
  auto context = flashjit::makeTileContext();
  auto type = TileType::get(context.get(), {Axis::kv, Axis::q},
                            mlir::Float32Type::get(context.get()));
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  EXPECT_EQ(text, "!tile.tile<[q, kv], f32>");
  EXPECT_FALSE(type.isScalar());
  EXPECT_TRUE(TileType::get(context.get(), {}, InputType::get(context.get()))
                  .isScalar());
}

TEST(TileType, ParsesEveryElementType) {
  auto context = flashjit::makeTileContext();
  for (const char *spelled :
       {"!tile.tile<[q, d], input>", "!tile.tile<[], f32>",
        "!tile.tile<[kv], i32>", "!tile.tile<[q, kv, d], i1>"}) {
    mlir::Type type = mlir::parseType(spelled, context.get());
    ASSERT_TRUE(type) << spelled;
    std::string text;
    llvm::raw_string_ostream os(text);
    os << type;
    EXPECT_EQ(text, spelled);
  }
}

TEST(BufferType, DomainsAcceptTheirIndices) {
  EXPECT_TRUE(
      BufferDim::domain(BufferDim::Kind::head).acceptsIndex(IndexDim::head));
  EXPECT_FALSE(
      BufferDim::domain(BufferDim::Kind::head).acceptsIndex(IndexDim::q));
  EXPECT_TRUE(
      BufferDim::domain(BufferDim::Kind::token).acceptsIndex(IndexDim::q));
  EXPECT_TRUE(
      BufferDim::domain(BufferDim::Kind::token).acceptsIndex(IndexDim::kv));
  EXPECT_FALSE(
      BufferDim::domain(BufferDim::Kind::token).acceptsIndex(IndexDim::batch));
  EXPECT_TRUE(BufferDim::fixedExtent(4).acceptsIndex(IndexDim::batch));
}

TEST(BufferType, GetCheckedRejectsRankThree) {
  auto context = flashjit::makeTileContext();
  flashjit::DiagnosticCollector diagnostics(*context);
  BufferDim head = BufferDim::domain(BufferDim::Kind::head);
  auto type = BufferType::getChecked(
      [&] { return mlir::emitError(mlir::UnknownLoc::get(context.get())); },
      context.get(), llvm::ArrayRef<BufferDim>{head, head, head},
      mlir::Type(mlir::Float32Type::get(context.get())));
  EXPECT_FALSE(type);
  EXPECT_NE(diagnostics.message("").find("buffer must have rank 1 or 2, got 3"),
            std::string::npos);
}

} // namespace
