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
