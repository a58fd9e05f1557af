//===- KernelCommon.cpp - pieces the forward and backward share -----------===//

#include "compiler/lowering/KernelCommon.h"

#include "compiler/kernel/FragmentLayout.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;
using namespace flashjit;
using arith::CmpIPredicate;

ThreadPosition flashjit::threadPosition(KernelBuilder &k, int numThreads) {
  Value tid = k.threadId(numThreads);
  return {tid, k.remsi(tid, k.c32(32)), k.divsi(tid, k.c32(32))};
}

TensorArgs flashjit::declareTensor(KernelArgs &args, const std::string &name) {
  using Kind = KernelArg::Kind;
  return {args.add(name, Kind::pointer),
          args.add(name + ".batch_stride", Kind::i64),
          args.add(name + ".head_stride", Kind::i64),
          args.add(name + ".row_stride", Kind::i64)};
}

Value TensorView::row(KernelBuilder &k, Value rowIndex, Value rows) const {
  Value clamped = k.maxsi(k.minsi(rowIndex, k.sub(rows, k.c32(1))), k.c32(0));
  return k.gep(base, k.element(), k.mul(k.ext64(clamped), rowStride));
}

TensorView flashjit::viewOf(KernelBuilder &k, const KernelArgs &args,
                            const TensorArgs &t, Value batch, Value head) {
  Value offset = k.add(k.mul(k.ext64(batch), args.get(t.batchStride)),
                       k.mul(k.ext64(head), args.get(t.headStride)));
  return {k.gep(args.get(t.ptr), k.element(), offset), args.get(t.rowStride)};
}

void flashjit::copyRows(KernelBuilder &k, Value tile, int rows, int headDim,
                        Value thread, int numThreads, const TensorView &view,
                        Value start, Value limit, SharedLayout layout) {
  k.copyTileAsync(
      tile, rows, headDim, thread, numThreads,
      [&](Value r) { return view.row(k, k.add(start, r), limit); },
      [&](Value r) {
        return k.cmpi(CmpIPredicate::slt, k.add(start, r), limit);
      },
      layout);
  k.commitGroup();
}

SmallVector<Accumulator> flashjit::warpScores(KernelBuilder &k, Value aTile,
                                              Value row0, Value bTile,
                                              int numCols, int headDim,
                                              Value lane) {
  return warpScoreTiles(k, aTile, {row0}, bTile, numCols, headDim, lane)[0];
}

SmallVector<SmallVector<Accumulator>>
flashjit::warpScoreTiles(KernelBuilder &k, Value aTile, ArrayRef<Value> rows,
                         Value bTile, int numCols, int headDim, Value lane) {
  // A's fragments are read per 16 columns of the head dim and used against
  // every B tile: registers for one A fragment per tile at a time.
  SmallVector<SmallVector<Accumulator>> acc;
  for (size_t m = 0; m < rows.size(); ++m)
    acc.emplace_back(numCols / 8,
                     Accumulator{k.cf(0), k.cf(0), k.cf(0), k.cf(0)});
  for (int c = 0; c < headDim / 16; ++c) {
    SmallVector<std::array<Value, 4>> aFrag;
    for (Value row : rows)
      aFrag.push_back(k.loadA(aTile, headDim, lane, row, c * 16));
    k.forEachBTransposed(bTile, headDim, lane, 0, c * 16, numCols / 8,
                         [&](int n, const std::array<Value, 2> &bFrag) {
                           for (size_t m = 0; m < rows.size(); ++m)
                             acc[m][n] = k.mma(aFrag[m], bFrag, acc[m][n]);
                         });
  }
  return acc;
}

ScoreElements flashjit::modifyAndMask(KernelBuilder &k,
                                      VariantLowering &variant,
                                      ArrayRef<Accumulator> acc, Value rowBase,
                                      Value colBase, Value lane, Value full,
                                      Value colLimit, bool rowsAreKeys,
                                      Value rowLimit) {
  ScoreElements e;
  Value colInTile = fragmentColumn(k, lane);
  for (size_t n = 0; n < acc.size(); ++n)
    for (int i = 0; i < 4; ++i) {
      Value row = i < 2 ? rowBase : k.add(rowBase, k.c32(8));
      Value col =
          k.add(k.add(colBase, k.c32(n * 8)), k.add(colInTile, k.c32(i % 2)));
      Value q = rowsAreKeys ? col : row, kv = rowsAreKeys ? row : col;
      e.raw.push_back(acc[n][i]);
      e.q.push_back(q);
      e.kv.push_back(kv);
      e.scores.push_back(variant.log2ScoreAt(acc[n][i], q, kv));
    }
  // Partial blocks apply the mask and the bound; full blocks carry no mask
  // code.
  const float negInf = -std::numeric_limits<float>::infinity();
  auto masked = scf::IfOp::create(
      k.b, k.loc, full,
      [&](OpBuilder &, Location) {
        scf::YieldOp::create(k.b, k.loc, e.scores);
      },
      [&](OpBuilder &, Location) {
        SmallVector<Value> out;
        for (size_t i = 0; i < e.scores.size(); ++i) {
          Value col = rowsAreKeys ? e.q[i] : e.kv[i];
          Value keep = k.cmpi(CmpIPredicate::slt, col, colLimit);
          if (rowLimit)
            keep =
                k.andi(keep, k.cmpi(CmpIPredicate::slt,
                                    rowsAreKeys ? e.kv[i] : e.q[i], rowLimit));
          if (Value m = variant.keepAt(e.q[i], e.kv[i]))
            keep = k.andi(keep, m);
          out.push_back(k.select(keep, e.scores[i], k.cf(negInf)));
        }
        scf::YieldOp::create(k.b, k.loc, out);
      });
  e.scores.assign(masked.getResults().begin(), masked.getResults().end());
  return e;
}

std::array<Value, 4> flashjit::packA(KernelBuilder &k, ArrayRef<Value> v,
                                     int c) {
  return {k.pack(v[(2 * c) * 4 + 0], v[(2 * c) * 4 + 1]),
          k.pack(v[(2 * c) * 4 + 2], v[(2 * c) * 4 + 3]),
          k.pack(v[(2 * c + 1) * 4 + 0], v[(2 * c + 1) * 4 + 1]),
          k.pack(v[(2 * c + 1) * 4 + 2], v[(2 * c + 1) * 4 + 3])};
}

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
