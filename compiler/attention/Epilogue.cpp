//===- Epilogue.cpp - accumulators out of registers -----------------------===//

#include "compiler/attention/Epilogue.h"

#include "compiler/attention/BackwardCommon.h"

#include "compiler/kernel/FragmentLayout.h"
#include "compiler/kernel/MmaSync.h"
#include "compiler/kernel/SequenceInfo.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace flashjit;
using arith::CmpIPredicate;

namespace {

/// The most dQ output tiles a warp accumulates at once inside dK/dV, beside
/// the dK and dV accumulators.
constexpr int kMaxQueryRun = 4;

} // namespace

void flashjit::storeAccumulatorRows(KernelBuilder &k, const TensorView &view,
                                    ArrayRef<Accumulator> acc, Value rowBase,
                                    Value limit, int colBase, Value lane,
                                    ArrayRef<Value> scale) {
  Value colInTile = fragmentColumn(k, lane);
  for (int r = 0; r < 2; ++r) {
    Value row = k.add(rowBase, k.c32(8 * r));
    Value valid = k.cmpi(CmpIPredicate::slt, row, limit);
    scf::IfOp::create(k.b, k.loc, valid, [&](OpBuilder &, Location) {
      Value out = view.row(k, row, limit);
      for (size_t t = 0; t < acc.size(); ++t) {
        Value lo = acc[t][2 * r], hi = acc[t][2 * r + 1];
        if (!scale.empty()) {
          lo = k.fmul(lo, scale[r]);
          hi = k.fmul(hi, scale[r]);
        }
        Value col = k.add(k.c32(colBase + 8 * int(t)), colInTile);
        k.store(k.pack(lo, hi), k.gep(out, k.element(), col), 4);
      }
      scf::YieldOp::create(k.b, k.loc);
    });
  }
}

/// dQ[qStart .., colBase ..] += dS K for one streamed query block. The
/// (BLOCK_M / 16) x (d / split / 8) output tiles go out in units of one
/// tile row and `run` tile columns, unit u to warp u % warps; each unit's
/// product runs over all BLOCK_N keys and is added with f32 atomics to the
/// [B * Hq, Nq, d] workspace before the next unit's begins, so that only
/// `run` accumulators are live beside dK and dV.
void flashjit::addQueryGradient(KernelBuilder &k, const Schedule &s,
                                Value dsTile, Value kTile, SharedLayout kLayout,
                                int colBase, Value warp, Value lane,
                                Value dqAccum, Value bh, Value qStart,
                                Value seqQ) {
  const int d = s.headDim, BM = s.blockM, BN = s.blockN;
  const int rowTiles = BM / 16, colTiles = d / s.headDimSplit / 8;
  int run = kMaxQueryRun;
  while (colTiles % run)
    run /= 2;
  const int unitsPerRow = colTiles / run, units = rowTiles * unitsPerRow;
  const int warps = s.numWarps;
  Value colInTile = fragmentColumn(k, lane);
  for (int round = 0; round * warps < units; ++round) {
    Value unit = k.add(warp, k.c32(round * warps));
    auto body = [&] {
      Value rowTile = k.divsi(unit, k.c32(unitsPerRow));
      Value col0 =
          k.add(k.c32(colBase),
                k.mul(k.remsi(unit, k.c32(unitsPerRow)), k.c32(run * 8)));
      Value m0 = k.mul(rowTile, k.c32(16));
      SmallVector<Accumulator> acc = zeroAccumulators(k, run);
      accumulateTransposedA(k, dsTile, BM, m0, kTile, d, kLayout, BN, col0,
                            lane, acc);
      Value rowBase = k.add(k.add(qStart, m0), fragmentRow(k, lane));
      for (int half = 0; half < 2; ++half) {
        Value row = k.add(rowBase, k.c32(8 * half));
        Value valid = k.cmpi(CmpIPredicate::slt, row, seqQ);
        scf::IfOp::create(k.b, k.loc, valid, [&](OpBuilder &, Location) {
          Value rowStart =
              k.mul(SequenceInfo(seqQ).statisticIndex(k, bh, row), k.c64(d));
          for (int t = 0; t < run; ++t) {
            Value col = k.add(k.add(col0, k.c32(8 * t)), colInTile);
            k.atomicAddPair(
                k.gep(dqAccum, k.f32(), k.add(rowStart, k.ext64(col))),
                acc[t][2 * half], acc[t][2 * half + 1],
                /*vector=*/s.computeCapability >= 90);
          }
          scf::YieldOp::create(k.b, k.loc);
        });
      }
    };
    if ((round + 1) * warps <= units) {
      body();
      continue;
    }
    // The last round: some warps have no unit.
    Value mine = k.cmpi(CmpIPredicate::slt, unit, k.c32(units));
    scf::IfOp::create(k.b, k.loc, mine, [&](OpBuilder &, Location) {
      body();
      scf::YieldOp::create(k.b, k.loc);
    });
  }
}
