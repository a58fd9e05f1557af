//===- MmaEngine.cpp - mma.sync and warpgroup MMA engines -----------------===//

#include "compiler/kernel/MmaEngine.h"

#include "compiler/kernel/MmaSync.h"
#include "compiler/kernel/WarpgroupMma.h"
#include "compiler/lowering/KernelCommon.h"

using namespace mlir;
using namespace flashjit;

MmaEngine::~MmaEngine() = default;

namespace {

/// m16n8k16 mma.sync per warp from padded shared rows.
class MmaSyncEngine final : public MmaEngine {
public:
  SharedLayout sharedLayout() const override { return SharedLayout::padded; }
  int sharedRowElements(int headDim) const override {
    return flashjit::sharedRowElements(headDim);
  }
  void fenceLandedCopies(KernelBuilder &) const override {}

  SmallVector<SmallVector<Accumulator>>
  scores(KernelBuilder &k, Value aTile, int, ArrayRef<Value> tileRows, Value,
         Value lane, Value bTile, int bRows, int headDim) const override {
    return warpScoreTiles(k, aTile, tileRows, bTile, bRows, headDim, lane);
  }

  void accumulate(KernelBuilder &k, FragmentFn pFragment, Value bTile,
                  int reduceRows, int n, Value lane,
                  MutableArrayRef<SmallVector<Value>> acc) const override {
    for (int c = 0; c < reduceRows / 16; ++c) {
      SmallVector<std::array<Value, 4>> a;
      for (int t = 0; t < int(acc.size()); ++t)
        a.push_back(pFragment(t, c));
      // B one operand per ldmatrix (x2): with two per x4, ptxas spilled the
      // sliding-window and combined-dropout forwards at d 64.
      for (int j = 0; j < n / 8; ++j) {
        auto b = loadB(k, bTile, n, lane, k.c32(c * 16), k.c32(j * 8));
        for (int t = 0; t < int(acc.size()); ++t) {
          Accumulator tile = {acc[t][j * 4], acc[t][j * 4 + 1],
                              acc[t][j * 4 + 2], acc[t][j * 4 + 3]};
          tile = mmaSync(k, a[t], b, tile);
          for (int i = 0; i < 4; ++i)
            acc[t][j * 4 + i] = tile[i];
        }
      }
    }
  }

  bool overlapsProducts(int) const override { return false; }

  SmallVector<Value> issueScores(KernelBuilder &k, Value aTile, int,
                                 Value warpRow, Value, Value lane, Value bTile,
                                 int bRows, int headDim) const override {
    SmallVector<Value> values;
    for (const Accumulator &tile :
         warpScores(k, aTile, warpRow, bTile, bRows, headDim, lane))
      values.append(tile.begin(), tile.end());
    return values;
  }

  SmallVector<Value> issueAccumulate(KernelBuilder &k,
                                     ReductionFragmentFn aFragment, Value bTile,
                                     int reduceRows, int headDim, int colBase,
                                     int n, Value lane,
                                     SmallVector<Value> acc) const override {
    for (int c = 0; c < reduceRows / 16; ++c) {
      auto a = aFragment(c);
      forEachB(k, bTile, headDim, lane, k.c32(c * 16), k.c32(colBase), n / 8,
               [&](int t, const std::array<Value, 2> &b) {
                 Accumulator tile = {acc[t * 4], acc[t * 4 + 1], acc[t * 4 + 2],
                                     acc[t * 4 + 3]};
                 tile = mmaSync(k, a, b, tile);
                 std::copy(tile.begin(), tile.end(), acc.begin() + t * 4);
               });
    }
    return acc;
  }

  void await(KernelBuilder &, int,
             ArrayRef<MutableArrayRef<Value>>) const override {}
};

/// Warpgroup MMAs (sm_90a) from 128-byte-swizzled shared tiles; each
/// warpgroup multiplies 64 rows, so a warp owns one 16-row tile.
class WarpgroupMmaEngine final : public MmaEngine {
public:
  SharedLayout sharedLayout() const override { return SharedLayout::swizzled; }
  int sharedRowElements(int headDim) const override { return headDim; }
  void fenceLandedCopies(KernelBuilder &k) const override {
    fenceSharedForAsyncProxy(k);
  }

  SmallVector<SmallVector<Accumulator>>
  scores(KernelBuilder &k, Value aTile, int aRows, ArrayRef<Value>, Value warp,
         Value, Value bTile, int bRows, int headDim) const override {
    return {warpgroupScores(k, aTile, aRows, warp, bTile, bRows, headDim)};
  }

  void accumulate(KernelBuilder &k, FragmentFn pFragment, Value bTile,
                  int reduceRows, int n, Value,
                  MutableArrayRef<SmallVector<Value>> acc) const override {
    assert(acc.size() == 1 && "a warp owns one tile of a warpgroup's rows");
    SmallVector<std::array<Value, 4>> a;
    for (int c = 0; c < reduceRows / 16; ++c)
      a.push_back(pFragment(0, c));
    acc[0] = warpgroupAccumulate(k, a, bTile, reduceRows, n, acc[0]);
  }

  bool overlapsProducts(int headDim) const override { return headDim <= 64; }

  SmallVector<Value> issueScores(KernelBuilder &k, Value aTile, int aRows,
                                 Value, Value warp, Value, Value bTile,
                                 int bRows, int headDim) const override {
    return issueWarpgroupScores(k, aTile, aRows, warp, bTile, bRows, headDim);
  }

  SmallVector<Value> issueAccumulate(KernelBuilder &k,
                                     ReductionFragmentFn aFragment, Value bTile,
                                     int reduceRows, int headDim, int colBase,
                                     int n, Value,
                                     SmallVector<Value> acc) const override {
    assert(colBase == 0 && n == headDim &&
           "a warpgroup product covers every column");
    SmallVector<std::array<Value, 4>> a;
    for (int c = 0; c < reduceRows / 16; ++c)
      a.push_back(aFragment(c));
    return issueWarpgroupAccumulate(k, a, bTile, reduceRows, headDim,
                                    std::move(acc));
  }

  void await(KernelBuilder &k, int pending,
             ArrayRef<MutableArrayRef<Value>> completed) const override {
    awaitWarpgroupProducts(k, pending, completed);
  }
};

} // namespace

std::unique_ptr<MmaEngine> flashjit::mmaEngineOf(const Schedule &schedule) {
  if (schedule.warpgroupMma)
    return std::make_unique<WarpgroupMmaEngine>();
  return std::make_unique<MmaSyncEngine>();
}
