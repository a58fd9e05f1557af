//===- BackwardKernels.cpp - the FlashAttention backward ------------------===//

#include "compiler/lowering/BackwardKernels.h"

#include "compiler/kernel/CopyPipeline.h"
#include "compiler/kernel/MmaEngine.h"
#include "compiler/lowering/KeptBlockRange.h"
#include "compiler/lowering/KernelCommon.h"
#include "compiler/lowering/WarpgroupMma.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;
using namespace flashjit;
using arith::CmpFPredicate;
using arith::CmpIPredicate;

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
/// The most dQ output tiles a warp accumulates at once inside dK/dV, beside
/// the dK and dV accumulators.
constexpr int kMaxQueryRun = 4;

KernelInfo describe(StringRef name, KernelKind kind, const Schedule &s,
                    const KernelArgs &args) {
  Schedule built = s;
  built.kind = kind;
  return describeKernel(name.str(), built, args.signature());
}

/// P = exp(score - lse) from the score and the log-sum-exp in log2 units.
/// The row statistics hold +inf for a row the mask empties, so that its P
/// is exp2(-inf) = 0 with no test per element.
Value probability(KernelBuilder &k, Value log2Score, Value log2Lse) {
  return k.exp2(k.fsub(log2Score, log2Lse));
}

/// dS = P * (dP - delta) * d(mod)/d(score). A derivative that varies per
/// element may not be finite where the mask removed the score, so there dS
/// is forced to 0 where P is; a uniform one is finite and needs no test.
Value scoreGradient(KernelBuilder &k, Value p, Value dp, Value delta,
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

/// The arguments the dK/dV and dQ kernels share. `lse_log2` and `delta`
/// are backward_delta's [B * Hq, Nq] row statistics: the log-sum-exp in
/// log2 units (+inf for an empty row) and rowsum(dO * O).
struct BackwardArgs {
  TensorArgs q, k, v, dout;
  unsigned lseLog2, delta, batch, headsQ, headsKv, seqQ, seqKv, scale;
};

BackwardArgs declareBackward(KernelArgs &args) {
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

SmallVector<Accumulator> zeros(KernelBuilder &k, int tiles) {
  return SmallVector<Accumulator>(
      tiles, Accumulator{k.cf(0), k.cf(0), k.cf(0), k.cf(0)});
}

SmallVector<Value> flatten(ArrayRef<Accumulator> acc) {
  SmallVector<Value> out;
  for (const Accumulator &a : acc)
    out.append(a.begin(), a.end());
  return out;
}

SmallVector<Accumulator> unflatten(ValueRange values, int tiles, int offset) {
  SmallVector<Accumulator> out(tiles);
  for (int t = 0; t < tiles; ++t)
    for (int i = 0; i < 4; ++i)
      out[t][i] = values[offset + t * 4 + i];
  return out;
}

/// Writes one warp's dSᵀ scores (16 keys from `warpRow`, `queries`
/// columns, in accumulator order) to the shared [keys, queries] tile in the
/// input type.
void storeScoreGradient(KernelBuilder &k, Value dsTile, int queries,
                        ArrayRef<Value> ds, Value warpRow, Value lane) {
  Value key = k.add(warpRow, k.divsi(lane, k.c32(4)));
  Value colInTile = k.mul(k.remsi(lane, k.c32(4)), k.c32(2));
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
void copyRowStats(KernelBuilder &k, Value statsTile, int BM, Value tid,
                  int threads, Value lseLog2, Value delta, Value bh, Value seqQ,
                  Value qStart) {
  for (int first = 0; first < 2 * BM; first += threads) {
    Value j = first == 0 ? tid : k.add(tid, k.c32(first));
    auto copy = [&] {
      Value isDelta = k.cmpi(CmpIPredicate::sge, j, k.c32(BM));
      Value t = k.select(isDelta, k.sub(j, k.c32(BM)), j);
      Value row = k.add(qStart, t);
      Value clamped = k.minsi(row, k.sub(seqQ, k.c32(1)));
      Value index = k.add(k.mul(k.ext64(bh), k.ext64(seqQ)), k.ext64(clamped));
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
SmallVector<Value> columnStats(KernelBuilder &k, Value statsTile, int BM,
                               int plane, Value lane) {
  SmallVector<Value> out;
  Value colInTile = k.mul(k.remsi(lane, k.c32(4)), k.c32(2));
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

/// dQ[qStart .., colBase ..] += dS K for one streamed query block. The
/// (BLOCK_M / 16) x (d / split / 8) output tiles go out in units of one
/// tile row and `run` tile columns, unit u to warp u % warps; each unit's
/// product runs over all BLOCK_N keys and is added with f32 atomics to the
/// [B * Hq, Nq, d] workspace before the next unit's begins, so that only
/// `run` accumulators are live beside dK and dV.
void addQueryGradient(KernelBuilder &k, const Schedule &s, Value dsTile,
                      Value kTile, SharedLayout kLayout, int colBase,
                      Value warp, Value lane, Value dqAccum, Value bh,
                      Value qStart, Value seqQ) {
  const int d = s.headDim, BM = s.blockM, BN = s.blockN;
  const int rowTiles = BM / 16, colTiles = d / s.headDimSplit / 8;
  int run = kMaxQueryRun;
  while (colTiles % run)
    run /= 2;
  const int unitsPerRow = colTiles / run, units = rowTiles * unitsPerRow;
  const int warps = s.numWarps;
  Value colInTile = k.mul(k.remsi(lane, k.c32(4)), k.c32(2));
  for (int round = 0; round * warps < units; ++round) {
    Value unit = k.add(warp, k.c32(round * warps));
    auto body = [&] {
      Value rowTile = k.divsi(unit, k.c32(unitsPerRow));
      Value col0 =
          k.add(k.c32(colBase),
                k.mul(k.remsi(unit, k.c32(unitsPerRow)), k.c32(run * 8)));
      Value m0 = k.mul(rowTile, k.c32(16));
      SmallVector<Accumulator> acc = zeros(k, run);
      for (int c = 0; c < BN / 16; ++c) {
        auto frag = k.loadATransposed(dsTile, BM, lane, m0, c * 16);
        k.forEachB(
            kTile, d, lane, k.c32(c * 16), col0, run,
            [&](int t, const std::array<Value, 2> &kFrag) {
              acc[t] = k.mma(frag, kFrag, acc[t]);
            },
            /*swizzledRows=*/kLayout == SharedLayout::swizzled ? BN : 0);
      }
      Value rowBase = k.add(k.add(qStart, m0), k.divsi(lane, k.c32(4)));
      for (int half = 0; half < 2; ++half) {
        Value row = k.add(rowBase, k.c32(8 * half));
        Value valid = k.cmpi(CmpIPredicate::slt, row, seqQ);
        scf::IfOp::create(k.b, k.loc, valid, [&](OpBuilder &, Location) {
          Value rowStart = k.mul(
              k.add(k.mul(k.ext64(bh), k.ext64(seqQ)), k.ext64(row)), k.c64(d));
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

} // namespace

//===----------------------------------------------------------------------===//
// delta = rowsum(dO * O)
//===----------------------------------------------------------------------===//

FailureOr<KernelInfo> flashjit::buildBackwardDeltaKernel(
    ModuleOp module, const AttentionChain &matched, const Schedule &s,
    InputType inputType, StringRef name) {
  OpBuilder b(module.getContext());
  AttentionChain chain = matched;
  KernelBuilder k(b, chain.store.getLoc(), inputType);
  using Kind = KernelArg::Kind;
  KernelArgs args(k);
  TensorArgs o = declareTensor(args, "o"), dout = declareTensor(args, "do");
  unsigned lseArg = args.add("lse", Kind::pointer);
  unsigned deltaArg = args.add("delta", Kind::pointer);
  unsigned lseLog2Arg = args.add("lse_log2", Kind::pointer);
  unsigned headsArg = args.add("heads_q", Kind::i32);
  unsigned seqArg = args.add("seqlen_q", Kind::i32);
  const int threads = s.numThreads(), d = s.headDim;
  args.createKernel(module, name, threads);

  // One thread per row, 16 bytes at a time.
  Value tid = k.threadId(threads);
  Value bh = k.blockIdY();
  Value heads = args.get(headsArg), seq = args.get(seqArg);
  Value batch = k.divsi(bh, heads), head = k.remsi(bh, heads);
  Value row = k.add(k.mul(k.blockIdX(), k.c32(threads)), tid);
  TensorView oView = viewOf(k, args, o, batch, head);
  TensorView dView = viewOf(k, args, dout, batch, head);
  Value valid = k.cmpi(CmpIPredicate::slt, row, seq);
  scf::IfOp::create(b, k.loc, valid, [&](OpBuilder &, Location) {
    Value oRow = oView.row(k, row, seq), dRow = dView.row(k, row, seq);
    auto vec = VectorType::get({8}, k.element());
    Value sum = k.cf(0);
    for (int c = 0; c < d; c += 8) {
      Value ov = k.load(vec, k.gep(oRow, k.element(), k.c32(c)), 16);
      Value dv = k.load(vec, k.gep(dRow, k.element(), k.c32(c)), 16);
      for (int i = 0; i < 8; ++i) {
        auto at = [&](Value v) {
          Value e = LLVM::ExtractElementOp::create(b, k.loc, v, k.c32(i));
          return arith::ExtFOp::create(b, k.loc, k.f32(), e).getResult();
        };
        sum = k.fadd(sum, k.fmul(at(ov), at(dv)));
      }
    }
    Value index = k.add(k.mul(k.ext64(bh), k.ext64(seq)), k.ext64(row));
    Value lse = k.load(k.f32(), k.gep(args.get(lseArg), k.f32(), index), 4);
    // The other kernels take exp2(score - lse) with no test for an empty
    // row (lse = -inf): +inf there makes every P of the row 0.
    Value lse2 = k.select(k.cmpf(CmpFPredicate::OEQ, lse, k.cf(kNegInf)),
                          k.cf(std::numeric_limits<float>::infinity()),
                          k.fmul(lse, k.cf(kLog2e)));
    k.store(sum, k.gep(args.get(deltaArg), k.f32(), index), 4);
    k.store(lse2, k.gep(args.get(lseLog2Arg), k.f32(), index), 4);
    scf::YieldOp::create(b, k.loc);
  });
  LLVM::ReturnOp::create(b, k.loc, ValueRange{});
  return describe(name, KernelKind::backwardDelta, s, args);
}

//===----------------------------------------------------------------------===//
// dK, dV: one key block (and one slice of the head dim) per thread block
//===----------------------------------------------------------------------===//

FailureOr<KernelInfo> flashjit::buildBackwardKeyValueKernel(
    ModuleOp module, const AttentionChain &matched, const Schedule &s,
    InputType inputType, StringRef name) {
  OpBuilder b(module.getContext());
  AttentionChain chain = matched;
  KernelBuilder k(b, chain.store.getLoc(), inputType);
  const int d = s.headDim, BM = s.blockM, BN = s.blockN;
  const int threads = s.numThreads(), split = s.headDimSplit;
  const int dCols = d / split;
  // K, V, Q and dO sit in the layout the engine reads; dQ's ldmatrix
  // reads K in it too.
  std::unique_ptr<MmaEngine> engine = mmaEngineOf(s);
  const int rowElems = engine->sharedRowElements(d);

  const bool withQuery = s.kind == KernelKind::backwardKeyValueQuery;

  KernelArgs args(k);
  BackwardArgs a = declareBackward(args);
  TensorArgs dk = declareTensor(args, "dk"), dv = declareTensor(args, "dv");
  unsigned dqAccumArg =
      withQuery ? args.add("dq_accum", KernelArg::Kind::pointer) : 0;
  VariantLowering variant(k, chain);
  variant.declareArgs(args);
  args.createKernel(module, name, threads);

  auto [tid, lane, warp] = threadPosition(k, threads);
  Value headsQ = args.get(a.headsQ), headsKv = args.get(a.headsKv);
  Value seqQ = args.get(a.seqQ), seqKv = args.get(a.seqKv);
  Value group = k.divsi(headsQ, headsKv);
  Value bhKv = k.blockIdY();
  Value batch = k.divsi(bhKv, headsKv), headKv = k.remsi(bhKv, headsKv);
  Value kvBlock = k.divsi(k.blockIdX(), k.c32(split));
  Value slice = k.remsi(k.blockIdX(), k.c32(split));
  Value kvStart = k.mul(kvBlock, k.c32(BN));
  Value kvHi = k.sub(k.minsi(k.add(kvStart, k.c32(BN)), seqKv), k.c32(1));

  TensorView kView = viewOf(k, args, a.k, batch, headKv);
  TensorView vView = viewOf(k, args, a.v, batch, headKv);

  // Two stages (the warpgroup MMA with dQ only) double-buffer Q, dO and
  // the statistics: the next query block streams into one while dK's
  // product still reads the other, under dQ's product.
  const int stages = s.numStages;
  assert((stages == 1 || (stages == 2 && withQuery)) &&
         "dK/dV streams one stage, two with the warpgroup MMA and dQ");
  Value smem = k.dynamicSharedMemory(module);
  Value kTile = smem;
  Value vTile = k.gep(kTile, k.element(), k.c32(BN * rowElems));
  // Per stage: Q [BM, d], then dO [BM, d].
  Value queryTiles = k.gep(vTile, k.element(), k.c32(BN * rowElems));
  const int stageElems = 2 * BM * rowElems;
  // dSᵀ [BN, BM], the A operand of dQ's product (with dQ only), then per
  // stage the query block's row statistics [BM] x (log2 lse, delta).
  Value dsTile = k.gep(queryTiles, k.element(), k.c32(stages * stageElems));
  Value statsTiles = k.gep(dsTile, k.element(),
                           k.c32(withQuery ? BN * sharedRowElements(BM) : 0));
  const int statsFloats = 2 * BM;
  TileCopier copier(k, *engine, tid, threads, d);
  copier.copy(kTile, BN, kView, kvStart, seqKv);
  copier.copy(vTile, BN, vView, kvStart, seqKv);
  copier.land(0);

  Value warpRow = k.mul(warp, k.c32(16));
  Value rowBase = k.add(k.add(kvStart, warpRow), k.divsi(lane, k.c32(4)));
  // The dK/dV columns this thread block owns: [slice * dCols, + dCols).
  // Each slice is a compile-time column range, so the slices are emitted
  // as the branches of a switch on `slice`.
  const int tiles = dCols / 8;
  SmallVector<Value> init = flatten(zeros(k, 2 * tiles));

  Value numQBlocks = k.divsi(k.add(seqQ, k.c32(BM - 1)), k.c32(BM));
  // Key rows past seqlen_kv (zero-filled K) are masked too: their P would
  // be exp(-lse), not finite for a very negative lse, and dQ would take
  // inf * 0 from them.
  Value keysInBounds =
      k.cmpi(CmpIPredicate::sle, k.add(kvStart, k.c32(BN)), seqKv);
  Value lseLog2 = args.get(a.lseLog2), deltaPtr = args.get(a.delta);
  Value rescale = k.cf(1.0f / (1.0f - float(variant.dropoutRate())));

  auto body = [&](int colBase) -> SmallVector<Value> {
    // Over the query heads that share this key head, then their blocks.
    auto heads = scf::ForOp::create(
        b, k.loc, k.c32(0), group, k.c32(1), init,
        [&](OpBuilder &, Location, Value g, ValueRange outer) {
          Value head = k.add(k.mul(headKv, group), g);
          Value bh = k.add(k.mul(batch, headsQ), head);
          variant.bind(args, batch, head, args.get(a.batch), headsQ, seqQ,
                       seqKv, args.get(a.scale));
          TensorView qView = viewOf(k, args, a.q, batch, head);
          TensorView dView = viewOf(k, args, a.dout, batch, head);
          // Only query blocks in this range may be kept: the loop does not
          // test the rest.
          BlockInterval kept = keptBlockRange(
              k, variant, numQBlocks, BM, seqQ, [&](Value lo, Value hi) {
                return variant.classifyBlock(lo, hi, kvStart, kvHi).first;
              });
          // With dQ the loop counts the kept blocks from a different start
          // for each key block, so that the thread blocks' atomics do not
          // all hit the same dQ rows at once; without, it runs over the
          // block indices themselves.
          Value keptBlocks = k.sub(kept.end, kept.begin);
          Value loopBegin = withQuery ? k.c32(0) : kept.begin;
          Value loopEnd = withQuery ? keptBlocks : kept.end;
          auto queryStartOf = [&](Value i) {
            Value block =
                withQuery
                    ? k.add(kept.begin, k.remsi(k.add(i, kvBlock), keptBlocks))
                    : i;
            return k.mul(block, k.c32(BM));
          };
          auto classifyQueries = [&](Value qStart) {
            Value qHi =
                k.sub(k.minsi(k.add(qStart, k.c32(BM)), seqQ), k.c32(1));
            return variant.classifyBlock(qStart, qHi, kvStart, kvHi);
          };
          // A stage's tiles: Q, dO, statistics.
          struct QueryTiles {
            Value q, dout, stats;
          };
          auto tilesOf = [&](Value stage) {
            Value q =
                k.gep(queryTiles, k.element(), k.mul(stage, k.c32(stageElems)));
            return QueryTiles{
                q, k.gep(q, k.element(), k.c32(BM * rowElems)),
                k.gep(statsTiles, k.f32(), k.mul(stage, k.c32(statsFloats)))};
          };
          // Stats, Q and dO of a query block into a stage.
          auto copyQueryBlock = [&](Value qStart, Value stage) {
            QueryTiles t = tilesOf(stage);
            copyRowStats(k, t.stats, BM, tid, threads, lseLog2, deltaPtr, bh,
                         seqQ, qStart);
            copier.copy(t.q, BM, qView, qStart, seqQ);
            copier.copy(t.dout, BM, dView, qStart, seqQ);
          };
          // With dQ, the loop also carries whether this block's copies were
          // already issued by the previous one, and into which stage.
          const int prefetchedIdx = 8 * tiles, stageIdx = 8 * tiles + 1;
          SmallVector<Value> blockInit(outer.begin(), outer.end());
          if (withQuery) {
            blockInit.push_back(k.cbool(false));
            blockInit.push_back(k.c32(0));
          }
          auto blocks = scf::ForOp::create(
              b, k.loc, loopBegin, loopEnd, k.c32(1), blockInit,
              [&](OpBuilder &, Location, Value i, ValueRange state) {
                Value qStart = queryStartOf(i);
                auto [mayKeep, mayMask] = classifyQueries(qStart);
                Value inBounds =
                    k.cmpi(CmpIPredicate::sle, k.add(qStart, k.c32(BM)), seqQ);
                Value full =
                    k.andi(k.andi(k.noti(mayMask), inBounds), keysInBounds);
                Value prefetched =
                    withQuery ? state[prefetchedIdx] : k.cbool(false);
                Value stage = withQuery ? state[stageIdx] : k.c32(0);
                Value nextKeep, nextStage;
                auto ifKept = scf::IfOp::create(
                    b, k.loc, mayKeep,
                    [&](OpBuilder &, Location) {
                      scf::IfOp::create(b, k.loc, k.noti(prefetched),
                                        [&](OpBuilder &, Location) {
                                          copyQueryBlock(qStart, stage);
                                          scf::YieldOp::create(b, k.loc);
                                        });
                      copier.land(0);
                      QueryTiles cur = tilesOf(stage);
                      Value qTile = cur.q, dTile = cur.dout;
                      Value statsTile = cur.stats;
                      SmallVector<Accumulator> dV = unflatten(state, tiles, 0);
                      SmallVector<Accumulator> dK =
                          unflatten(state, tiles, 4 * tiles);

                      // Sᵀ = K Qᵀ: rows are keys, columns queries. With
                      // the warpgroup MMA at d 64, products overlap: dPᵀ =
                      // V dOᵀ is issued right behind Sᵀ and runs under the
                      // softmax, dV's under dSᵀ, dK's under dQ's. At d 128
                      // each is waited for at once: in-flight accumulators
                      // cannot spill, and ptxas spilled 68-168 bytes there.
                      SmallVector<Value> dpInFlight;
                      const bool overlap = engine->overlapsProducts(d);
                      const bool dpUnderSoftmax = overlap;
                      auto issueDp = [&] {
                        dpInFlight = engine->issueScores(
                            k, vTile, BN, warpRow, warp, lane, dTile, BM, d);
                      };
                      SmallVector<Value> sT = engine->issueScores(
                          k, kTile, BN, warpRow, warp, lane, qTile, BM, d);
                      if (dpUnderSoftmax)
                        issueDp();
                      engine->await(k, /*pending=*/dpUnderSoftmax ? 1 : 0,
                                    {sT});
                      SmallVector<Accumulator> scores = asAccumulatorTiles(sT);
                      ScoreElements el = modifyAndMask(
                          k, variant, scores, rowBase, qStart, lane, full, seqQ,
                          /*rowsAreKeys=*/true, /*rowLimit=*/seqKv);
                      SmallVector<Value> lse2 =
                          columnStats(k, statsTile, BM, /*plane=*/0, lane);
                      SmallVector<Value> p, pd, keep;
                      for (size_t e = 0; e < el.scores.size(); ++e) {
                        p.push_back(probability(k, el.scores[e], lse2[e]));
                        if (variant.hasDropout()) {
                          keep.push_back(
                              variant.dropoutKeepAt(el.q[e], el.kv[e]));
                          pd.push_back(k.select(
                              keep.back(), k.fmul(p.back(), rescale), k.cf(0)));
                        } else {
                          pd.push_back(p.back());
                        }
                      }
                      // dV += P_dᵀ dO (and dK += dSᵀ Q below), issued and
                      // left in flight when the engine overlaps products.
                      SmallVector<Value> dvInFlight, dkInFlight;
                      auto issueAccumulate = [&](ArrayRef<Accumulator> acc,
                                                 ArrayRef<Value> aValues,
                                                 Value bTile) {
                        return engine->issueAccumulate(
                            k, [&](int c) { return packA(k, aValues, c); },
                            bTile, BM, d, colBase, dCols, lane, flatten(acc));
                      };
                      auto landAccumulators = [&] {
                        engine->await(k, /*pending=*/0,
                                      {dvInFlight, dkInFlight});
                        if (!dvInFlight.empty())
                          dV = unflatten(dvInFlight, tiles, 0);
                        if (!dkInFlight.empty())
                          dK = unflatten(dkInFlight, tiles, 0);
                        dvInFlight.clear();
                        dkInFlight.clear();
                      };
                      dvInFlight = issueAccumulate(dV, pd, dTile);
                      if (!overlap)
                        landAccumulators();
                      // dPᵀ = V dOᵀ (when overlapped: issued before dV's
                      // product, still in flight), then dSᵀ. Issued after
                      // dV's, dPᵀ completes after it too.
                      if (!dpUnderSoftmax)
                        issueDp();
                      engine->await(k, /*pending=*/dpUnderSoftmax ? 1 : 0,
                                    {dpInFlight});
                      SmallVector<Accumulator> dpAcc =
                          asAccumulatorTiles(dpInFlight);
                      SmallVector<Value> delta =
                          columnStats(k, statsTile, BM, /*plane=*/1, lane);
                      SmallVector<Value> ds;
                      for (size_t e = 0; e < el.scores.size(); ++e) {
                        Value dp = dpAcc[e / 4][e % 4];
                        if (variant.hasDropout())
                          dp = k.select(keep[e], k.fmul(dp, rescale), k.cf(0));
                        ScoreTangent dmod = variant.scoreDerivativeAt(
                            el.raw[e], el.q[e], el.kv[e]);
                        ds.push_back(
                            scoreGradient(k, p[e], dp, delta[e], dmod));
                      }
                      // dK += dSᵀ Q.
                      dkInFlight = issueAccumulate(dK, ds, qTile);
                      if (!overlap)
                        landAccumulators();
                      if (withQuery)
                        storeScoreGradient(k, dsTile, BM, ds, warpRow, lane);
                      // dV's and dK's products read this stage's dO and Q:
                      // with one stage, done before the next block's copies
                      // overwrite them.
                      if (overlap && stages == 1)
                        landAccumulators();
                      if (withQuery) {
                        // Every warp's dSᵀ is in place, and every warp is
                        // done with the statistics and (one stage) with Q
                        // and dO: the next kept block's copies stream in
                        // under dQ's product.
                        k.barrier();
                        // (Decided here, not at the top: nothing of it is
                        // live across the products.)
                        Value iNext = k.add(i, k.c32(1));
                        Value nextStart = queryStartOf(iNext);
                        nextKeep =
                            k.andi(k.cmpi(CmpIPredicate::slt, iNext, loopEnd),
                                   classifyQueries(nextStart).first);
                        nextStage =
                            stages == 2 ? k.sub(k.c32(1), stage) : stage;
                        scf::IfOp::create(
                            b, k.loc, nextKeep, [&](OpBuilder &, Location) {
                              copyQueryBlock(nextStart, nextStage);
                              scf::YieldOp::create(b, k.loc);
                            });
                        addQueryGradient(k, s, dsTile, kTile,
                                         engine->sharedLayout(), colBase, warp,
                                         lane, args.get(dqAccumArg), bh, qStart,
                                         seqQ);
                      }
                      // Two stages: dV's and dK's products ran under dQ's.
                      if (overlap && stages == 2)
                        landAccumulators();
                      // The next block overwrites Q, dO and dSᵀ.
                      k.barrier();
                      SmallVector<Value> next = flatten(dV);
                      next.append(flatten(dK));
                      if (withQuery) {
                        next.push_back(nextKeep);
                        next.push_back(nextStage);
                      }
                      scf::YieldOp::create(b, k.loc, next);
                    },
                    [&](OpBuilder &, Location) {
                      SmallVector<Value> next(state.begin(), state.end());
                      if (withQuery)
                        next[prefetchedIdx] = k.cbool(false);
                      scf::YieldOp::create(b, k.loc, next);
                    });
                scf::YieldOp::create(b, k.loc, ifKept.getResults());
              });
          SmallVector<Value> accumulators(blocks.getResults());
          accumulators.resize(8 * tiles);
          scf::YieldOp::create(b, k.loc, accumulators);
        });
    SmallVector<Value> results(heads.getResults());
    return results;
  };

  auto write = [&](int colBase, ValueRange results) {
    TensorView dkView = viewOf(k, args, dk, batch, headKv);
    TensorView dvView = viewOf(k, args, dv, batch, headKv);
    storeAccumulatorRows(k, dvView, unflatten(results, tiles, 0), rowBase,
                         seqKv, colBase, lane);
    storeAccumulatorRows(k, dkView, unflatten(results, tiles, 4 * tiles),
                         rowBase, seqKv, colBase, lane);
  };

  if (split == 1) {
    write(0, body(0));
  } else {
    for (int sl = 0; sl < split; ++sl) {
      Value mine = k.cmpi(CmpIPredicate::eq, slice, k.c32(sl));
      scf::IfOp::create(b, k.loc, mine, [&](OpBuilder &, Location) {
        write(sl * dCols, body(sl * dCols));
        scf::YieldOp::create(b, k.loc);
      });
    }
  }
  LLVM::ReturnOp::create(b, k.loc, ValueRange{});
  return describe(name, s.kind, s, args);
}

//===----------------------------------------------------------------------===//
// dQ: one query block per thread block
//===----------------------------------------------------------------------===//

FailureOr<KernelInfo> flashjit::buildBackwardQueryKernel(
    ModuleOp module, const AttentionChain &matched, const Schedule &s,
    InputType inputType, StringRef name) {
  OpBuilder b(module.getContext());
  AttentionChain chain = matched;
  KernelBuilder k(b, chain.store.getLoc(), inputType);
  const int d = s.headDim, BM = s.blockM, BN = s.blockN;
  const int threads = s.numThreads();
  const int rowElems = sharedRowElements(d);

  KernelArgs args(k);
  BackwardArgs a = declareBackward(args);
  TensorArgs dq = declareTensor(args, "dq");
  VariantLowering variant(k, chain);
  variant.declareArgs(args);
  args.createKernel(module, name, threads);

  auto [tid, lane, warp] = threadPosition(k, threads);
  Value headsQ = args.get(a.headsQ), headsKv = args.get(a.headsKv);
  Value seqQ = args.get(a.seqQ), seqKv = args.get(a.seqKv);
  auto [bh, batch, head, headKv] = queryHeadOf(k, headsQ, headsKv);
  variant.bind(args, batch, head, args.get(a.batch), headsQ, seqQ, seqKv,
               args.get(a.scale));
  TensorView qView = viewOf(k, args, a.q, batch, head);
  TensorView dView = viewOf(k, args, a.dout, batch, head);
  TensorView kView = viewOf(k, args, a.k, batch, headKv);
  TensorView vView = viewOf(k, args, a.v, batch, headKv);
  // Query blocks in reverse, the longest first (as in the forward).
  Value numQBlocks = k.divsi(k.add(seqQ, k.c32(BM - 1)), k.c32(BM));
  Value qStart =
      k.mul(k.sub(k.sub(numQBlocks, k.c32(1)), k.blockIdX()), k.c32(BM));
  Value qHi = k.sub(k.minsi(k.add(qStart, k.c32(BM)), seqQ), k.c32(1));

  Value smem = k.dynamicSharedMemory(module);
  Value qTile = smem;
  Value dTile = k.gep(qTile, k.element(), k.c32(BM * rowElems));
  Value kTile = k.gep(dTile, k.element(), k.c32(BM * rowElems));
  Value vTile = k.gep(kTile, k.element(), k.c32(BN * rowElems));
  copyRows(k, qTile, BM, d, tid, threads, qView, qStart, seqQ);
  copyRows(k, dTile, BM, d, tid, threads, dView, qStart, seqQ);
  k.waitGroup(0);
  k.barrier();

  Value warpRow = k.mul(warp, k.c32(16));
  Value rowBase = k.add(k.add(qStart, warpRow), k.divsi(lane, k.c32(4)));
  Value rowLse[2], rowDelta[2];
  for (int r = 0; r < 2; ++r) {
    Value row = k.add(rowBase, k.c32(8 * r));
    Value clamped = k.maxsi(k.minsi(row, k.sub(seqQ, k.c32(1))), k.c32(0));
    Value index = k.add(k.mul(k.ext64(bh), k.ext64(seqQ)), k.ext64(clamped));
    rowLse[r] = k.load(k.f32(), k.gep(args.get(a.lseLog2), k.f32(), index), 4);
    rowDelta[r] = k.load(k.f32(), k.gep(args.get(a.delta), k.f32(), index), 4);
  }
  Value rescale = k.cf(1.0f / (1.0f - float(variant.dropoutRate())));
  const int tiles = d / 8;

  Value numBlocks = k.divsi(k.add(seqKv, k.c32(BN - 1)), k.c32(BN));
  // Only key blocks in this range may be kept: the loop does not test the
  // rest.
  BlockInterval kept =
      keptBlockRange(k, variant, numBlocks, BN, seqKv, [&](Value lo, Value hi) {
        return variant.classifyBlock(qStart, qHi, lo, hi).first;
      });
  auto loop = scf::ForOp::create(
      b, k.loc, kept.begin, kept.end, k.c32(1), flatten(zeros(k, tiles)),
      [&](OpBuilder &, Location, Value j, ValueRange state) {
        Value kvStart = k.mul(j, k.c32(BN));
        Value kvHi = k.sub(k.minsi(k.add(kvStart, k.c32(BN)), seqKv), k.c32(1));
        auto [mayKeep, mayMask] =
            variant.classifyBlock(qStart, qHi, kvStart, kvHi);
        Value inBounds =
            k.cmpi(CmpIPredicate::sle, k.add(kvStart, k.c32(BN)), seqKv);
        Value full = k.andi(k.noti(mayMask), inBounds);
        auto ifKept = scf::IfOp::create(
            b, k.loc, mayKeep,
            [&](OpBuilder &, Location) {
              copyRows(k, kTile, BN, d, tid, threads, kView, kvStart, seqKv);
              copyRows(k, vTile, BN, d, tid, threads, vView, kvStart, seqKv);
              k.waitGroup(0);
              k.barrier();
              SmallVector<Accumulator> dQ = unflatten(state, tiles, 0);
              ScoreElements el = modifyAndMask(
                  k, variant, warpScores(k, qTile, warpRow, kTile, BN, d, lane),
                  rowBase, kvStart, lane, full, seqKv, /*rowsAreKeys=*/false);
              SmallVector<Accumulator> dpAcc =
                  warpScores(k, dTile, warpRow, vTile, BN, d, lane);
              SmallVector<Value> ds;
              for (size_t e = 0; e < el.scores.size(); e += 2) {
                int r = (e % 4) / 2;
                Value dp[2] = {dpAcc[e / 4][e % 4], dpAcc[e / 4][e % 4 + 1]};
                if (variant.hasDropout()) {
                  auto [keep0, keep1] =
                      variant.dropoutKeepPair(el.q[e], el.kv[e]);
                  dp[0] = k.select(keep0, k.fmul(dp[0], rescale), k.cf(0));
                  dp[1] = k.select(keep1, k.fmul(dp[1], rescale), k.cf(0));
                }
                for (int i = 0; i < 2; ++i) {
                  Value p = probability(k, el.scores[e + i], rowLse[r]);
                  ScoreTangent dmod = variant.scoreDerivativeAt(
                      el.raw[e + i], el.q[e + i], el.kv[e + i]);
                  ds.push_back(scoreGradient(k, p, dp[i], rowDelta[r], dmod));
                }
              }
              // dQ += dS K.
              for (int c = 0; c < BN / 16; ++c) {
                auto frag = packA(k, ds, c);
                k.forEachB(kTile, d, lane, k.c32(c * 16), k.c32(0), tiles,
                           [&](int t, const std::array<Value, 2> &f) {
                             dQ[t] = k.mma(frag, f, dQ[t]);
                           });
              }
              k.barrier();
              scf::YieldOp::create(b, k.loc, flatten(dQ));
            },
            [&](OpBuilder &, Location) {
              scf::YieldOp::create(b, k.loc, state);
            });
        scf::YieldOp::create(b, k.loc, ifKept.getResults());
      });
  storeAccumulatorRows(k, viewOf(k, args, dq, batch, head),
                       unflatten(loop.getResults(), tiles, 0), rowBase, seqQ, 0,
                       lane);
  LLVM::ReturnOp::create(b, k.loc, ValueRange{});
  return describe(name, KernelKind::backwardQuery, s, args);
}

//===----------------------------------------------------------------------===//
// dQ: the f32 workspace of backward_dkdvdq to the input type
//===----------------------------------------------------------------------===//

FailureOr<KernelInfo> flashjit::buildBackwardQueryConvertKernel(
    ModuleOp module, const AttentionChain &matched, const Schedule &s,
    InputType inputType, StringRef name) {
  OpBuilder b(module.getContext());
  AttentionChain chain = matched;
  KernelBuilder k(b, chain.store.getLoc(), inputType);
  using Kind = KernelArg::Kind;
  KernelArgs args(k);
  unsigned accumArg = args.add("dq_accum", Kind::pointer);
  TensorArgs dq = declareTensor(args, "dq");
  unsigned headsArg = args.add("heads_q", Kind::i32);
  unsigned seqArg = args.add("seqlen_q", Kind::i32);
  const int threads = s.numThreads(), d = s.headDim;
  args.createKernel(module, name, threads);

  // Each thread converts 8 consecutive elements of one row: coalesced
  // 32-byte reads and 16-byte writes.
  const int chunks = d / 8;
  Value bh = k.blockIdY();
  Value heads = args.get(headsArg), seq = args.get(seqArg);
  Value batch = k.divsi(bh, heads), head = k.remsi(bh, heads);
  Value index = k.add(k.mul(k.blockIdX(), k.c32(threads)), k.threadId(threads));
  Value row = k.divsi(index, k.c32(chunks));
  Value col = k.mul(k.remsi(index, k.c32(chunks)), k.c32(8));
  TensorView dqView = viewOf(k, args, dq, batch, head);
  Value valid = k.cmpi(CmpIPredicate::slt, row, seq);
  scf::IfOp::create(b, k.loc, valid, [&](OpBuilder &, Location) {
    Value from =
        k.gep(args.get(accumArg), k.f32(),
              k.add(k.mul(k.add(k.mul(k.ext64(bh), k.ext64(seq)), k.ext64(row)),
                          k.c64(d)),
                    k.ext64(col)));
    auto f32x4 = VectorType::get({4}, k.f32());
    SmallVector<Value> values;
    for (int half = 0; half < 2; ++half) {
      Value v = k.load(f32x4, k.gep(from, k.f32(), k.c32(4 * half)), 16);
      for (int i = 0; i < 4; ++i)
        values.push_back(LLVM::ExtractElementOp::create(b, k.loc, v, k.c32(i)));
    }
    auto i32x4 = VectorType::get({4}, k.i32());
    Value packed = LLVM::PoisonOp::create(b, k.loc, i32x4);
    for (int i = 0; i < 4; ++i)
      packed = LLVM::InsertElementOp::create(
          b, k.loc, packed, k.pack(values[2 * i], values[2 * i + 1]), k.c32(i));
    Value to = k.gep(dqView.row(k, row, seq), k.element(), col);
    k.store(packed, to, 16);
    scf::YieldOp::create(b, k.loc);
  });
  LLVM::ReturnOp::create(b, k.loc, ValueRange{});
  return describe(name, KernelKind::backwardQueryConvert, s, args);
}
