//===- ScoreTile.cpp - a block of scores and their gradient ---------------===//

#include "compiler/attention/ScoreTile.h"

#include "compiler/kernel/FragmentLayout.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;
using namespace flashjit;
using arith::CmpFPredicate;
using arith::CmpIPredicate;

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

/// P = exp(score - lse) from the score and the log-sum-exp in log2 units.
/// The row statistics hold +inf for a row the mask empties, so that its P
/// is exp2(-inf) = 0 with no test per element.
Value flashjit::probability(KernelBuilder &k, Value log2Score, Value log2Lse) {
  return k.exp2(k.fsub(log2Score, log2Lse));
}

/// dS = P * (dP - delta) * d(mod)/d(score). A derivative that varies per
/// element may not be finite where the mask removed the score, so there dS
/// is forced to 0 where P is; a uniform one is finite and needs no test.
Value flashjit::scoreGradient(KernelBuilder &k, Value p, Value dp, Value delta,
                              const ScoreTangent &dmod) {
  using Kind = ScoreTangent::Kind;
  if (dmod.kind == Kind::zero)
    return k.cf(0);
  Value ds = k.fmul(p, k.fsub(dp, delta));
  if (dmod.kind == Kind::one)
    return ds;
  ds = k.fmul(ds, dmod.value);
  if (dmod.uniform)
    return ds;
  return k.select(k.cmpf(CmpFPredicate::OEQ, p, k.cf(0)), k.cf(0), ds);
}
