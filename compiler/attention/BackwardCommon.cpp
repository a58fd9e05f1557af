//===- BackwardCommon.cpp - what the backward kernels share ---------------===//

#include "compiler/attention/BackwardCommon.h"

#include "compiler/kernel/FragmentLayout.h"
#include "compiler/kernel/SequenceInfo.h"
#include "compiler/kernel/TileScheduler.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace flashjit;
using arith::CmpFPredicate;
using arith::CmpIPredicate;

KernelInfo flashjit::describeBackwardKernel(StringRef name, KernelKind kind,
                                            const Schedule &s,
                                            const KernelArgs &args) {
  Schedule built = s;
  built.kind = kind;
  return describeKernel(name.str(), built, args.signature());
}

BackwardArgs flashjit::declareBackward(KernelArgs &args) {
  using Kind = KernelArg::Kind;
  BackwardArgs a;
  a.q = declareTensor(args, "q");
  a.k = declareTensor(args, "k");
  a.v = declareTensor(args, "v");
  a.dout = declareTensor(args, "do");
  a.lseLog2 = args.add("lse_log2", Kind::pointer);
  a.delta = args.add("delta", Kind::pointer);
  a.batch = args.add("batch", Kind::i32);
  a.headsQ = args.add("heads_q", Kind::i32);
  a.headsKv = args.add("heads_kv", Kind::i32);
  a.seqQ = args.add("seqlen_q", Kind::i32);
  a.seqKv = args.add("seqlen_kv", Kind::i32);
  a.scale = args.add("softmax_scale", Kind::f32);
  return a;
}

SmallVector<Accumulator> flashjit::zeroAccumulators(KernelBuilder &k,
                                                    int tiles) {
  return SmallVector<Accumulator>(
      tiles, Accumulator{k.cf(0), k.cf(0), k.cf(0), k.cf(0)});
}

SmallVector<Value> flashjit::flattenAccumulators(ArrayRef<Accumulator> acc) {
  SmallVector<Value> out;
  for (const Accumulator &a : acc)
    out.append(a.begin(), a.end());
  return out;
}

SmallVector<Accumulator> flashjit::accumulatorsAt(ValueRange values, int tiles,
                                                  int offset) {
  SmallVector<Accumulator> out(tiles);
  for (int t = 0; t < tiles; ++t)
    for (int i = 0; i < 4; ++i)
      out[t][i] = values[offset + t * 4 + i];
  return out;
}

/// Writes one warp's dSᵀ scores (16 keys from `warpRow`, `queries`
/// columns, in accumulator order) to the shared [keys, queries] tile in the
/// input type.
void flashjit::storeScoreGradient(KernelBuilder &k, Value dsTile, int queries,
                                  ArrayRef<Value> ds, Value warpRow,
                                  Value lane) {
  Value key = k.add(warpRow, fragmentRow(k, lane));
  Value colInTile = fragmentColumn(k, lane);
  const int stride = sharedRowElements(queries);
  for (int n = 0; n < queries / 8; ++n)
    for (int half = 0; half < 2; ++half) {
      Value row = k.add(key, k.c32(8 * half));
      Value col = k.add(k.c32(8 * n), colInTile);
      Value at =
          k.gep(dsTile, k.element(), k.add(k.mul(row, k.c32(stride)), col));
      k.store(k.pack(ds[4 * n + 2 * half], ds[4 * n + 2 * half + 1]), at, 4);
    }
}

/// Starts copying the row statistics of query rows [qStart, qStart + BM)
/// into the shared [2, BM] tile (log2 lse, then delta; zeros past
/// seqlen_q) with 4-byte cp.async: part of the group the caller commits
/// next.
void flashjit::copyRowStats(KernelBuilder &k, Value statsTile, int BM,
                            Value tid, int threads, Value lseLog2, Value delta,
                            Value bh, Value seqQ, Value qStart) {
  for (int first = 0; first < 2 * BM; first += threads) {
    Value j = first == 0 ? tid : k.add(tid, k.c32(first));
    auto copy = [&] {
      Value isDelta = k.cmpi(CmpIPredicate::sge, j, k.c32(BM));
      Value t = k.select(isDelta, k.sub(j, k.c32(BM)), j);
      Value row = k.add(qStart, t);
      Value clamped = k.minsi(row, k.sub(seqQ, k.c32(1)));
      Value index = SequenceInfo(seqQ).statisticIndex(k, bh, clamped);
      Value src = k.gep(k.select(isDelta, delta, lseLog2), k.f32(), index);
      Value bytes =
          k.select(k.cmpi(CmpIPredicate::slt, row, seqQ), k.c32(4), k.c32(0));
      NVVM::CpAsyncOp::create(k.b, k.loc, k.gep(statsTile, k.f32(), j), src, 4u,
                              NVVM::LoadCacheModifierKind::CA, bytes);
    };
    if (first + threads <= 2 * BM) {
      copy();
      continue;
    }
    scf::IfOp::create(k.b, k.loc, k.cmpi(CmpIPredicate::slt, j, k.c32(2 * BM)),
                      [&](OpBuilder &, Location) {
                        copy();
                        scf::YieldOp::create(k.b, k.loc);
                      });
  }
}

/// One statistic (`plane` 0: log2 lse, 1: delta) of each score element of a
/// thread in dK/dV's layout, where columns are the block's queries: one
/// 8-byte shared load per 8-column tile gives the thread's two columns.
/// Loaded where used, so that they are not live across the products.
SmallVector<Value> flashjit::columnStats(KernelBuilder &k, Value statsTile,
                                         int BM, int plane, Value lane) {
  SmallVector<Value> out;
  Value colInTile = fragmentColumn(k, lane);
  auto f32x2 = VectorType::get({2}, k.f32());
  for (int n = 0; n < BM / 8; ++n) {
    Value at = k.add(colInTile, k.c32(plane * BM + 8 * n));
    Value v = k.load(f32x2, k.gep(statsTile, k.f32(), at), 8);
    for (int i = 0; i < 4; ++i)
      out.push_back(
          LLVM::ExtractElementOp::create(k.b, k.loc, v, k.c32(i % 2)));
  }
  return out;
}
