//===- KeyValueGradientKernel.cpp - dK and dV per key block ---------------===//
//
// One thread block owns a key block (and, for large head dims, a slice of
// the head dim); it streams the query blocks of every query head that reads
// its key head, recomputing S and P, and accumulates dV += P_dᵀ dO and
// dK += dSᵀ Q in registers. With dQ (backward_dkdvdq) it also adds each
// block's dS K to the f32 dQ workspace with atomics.
//
//===----------------------------------------------------------------------===//

#include "compiler/attention/BackwardCommon.h"
#include "compiler/attention/BackwardKernels.h"
#include "compiler/attention/Epilogue.h"
#include "compiler/attention/ScoreTile.h"
#include "compiler/attention/StreamingLoop.h"
#include "compiler/kernel/CopyPipeline.h"
#include "compiler/kernel/FragmentLayout.h"
#include "compiler/kernel/MmaEngine.h"
#include "compiler/kernel/MmaSync.h"
#include "compiler/kernel/SequenceInfo.h"
#include "compiler/kernel/TileScheduler.h"
#include "compiler/lowering/KeptBlockRange.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace flashjit;
using arith::CmpFPredicate;
using arith::CmpIPredicate;

//===----------------------------------------------------------------------===//
// dK, dV: one key block (and one slice of the head dim) per thread block
//===----------------------------------------------------------------------===//

namespace {

/// One query head's stream of query blocks against this key block.
struct HeadStream {
  Value head, bh;
  TensorView qView, dView;
  std::optional<StreamingLoop> loop;
};

/// A stage's tiles: Q, dO, statistics.
struct QueryTiles {
  Value q, dout, stats;
};

/// A streamed block's recomputed scores and probabilities (P, and P_d as
/// dropout leaves it, with its keep bits).
struct BlockProbabilities {
  ScoreElements el;
  SmallVector<Value> p, pd, keep;
};

/// Builds dK/dV (with dQ's atomics for backwardKeyValueQuery) of one chain
/// for one configuration.
class KeyValueGradientBuilder {
public:
  KeyValueGradientBuilder(ModuleOp module, const AttentionChain &chain,
                          const Schedule &s, InputType inputType)
      : module(module), chain(chain), s(s), b(module.getContext()),
        k(b, this->chain.store.getLoc(), inputType), engine(mmaEngineOf(s)),
        variant(k, this->chain), d(s.headDim), BM(s.blockM), BN(s.blockN),
        threads(s.numThreads()), split(s.headDimSplit), dCols(d / split),
        tiles(dCols / 8), stages(s.numStages),
        rowElems(engine->sharedRowElements(d)), stageElems(2 * BM * rowElems),
        statsFloats(2 * BM),
        withQuery(s.kind == KernelKind::backwardKeyValueQuery) {}

  KernelInfo build(StringRef name);

private:
  void bindKeyBlock();
  void carveSharedTiles();
  SmallVector<Value> streamHeads(int colBase);
  void bindStream(HeadStream &h, Value g);
  QueryTiles tilesOf(Value stage);
  void copyQueryBlock(const HeadStream &h, Value qStart, Value stage);
  SmallVector<Value> visitQueryBlock(const HeadStream &h, int colBase,
                                     const StreamedBlock &block,
                                     ValueRange state, Value stage);
  BlockProbabilities probabilities(ArrayRef<Accumulator> scores,
                                   Value statsTile, Value qStart, Value full);
  SmallVector<Value> scoreGradients(const BlockProbabilities &bp,
                                    ArrayRef<Accumulator> dpAcc,
                                    Value statsTile);
  std::pair<Value, Value>
  addQueryGradientStreamingNext(const HeadStream &h, int colBase,
                                const StreamedBlock &block, Value stage);
  void writeGradients(int colBase, ValueRange results);

  ModuleOp module;
  AttentionChain chain; // op handles, cheap to copy
  const Schedule &s;
  OpBuilder b;
  KernelBuilder k;
  std::unique_ptr<MmaEngine> engine;
  VariantLowering variant;
  const int d, BM, BN, threads, split, dCols, tiles, stages;
  // K, V, Q and dO sit in the layout the engine reads; dQ's ldmatrix reads
  // K in it too.
  const int rowElems, stageElems, statsFloats;
  const bool withQuery;

  KernelArgs *args = nullptr;
  BackwardArgs a;
  TensorArgs dk, dv;
  unsigned dqAccumArg = 0;
  std::optional<TileCopier> copier;
  std::optional<SequenceInfo> seq;
  Value tid, lane, warp, headsQ, headsKv, seqQ, seqKv, group, batch, headKv;
  Value kvBlock, slice, kvStart, kvHi;
  TensorView kView, vView;
  Value kTile, vTile, queryTiles, dsTile, statsTiles;
  Value warpRow, rowBase, numQBlocks, keysInBounds, lseLog2, deltaPtr;
  Value rescale;
  SmallVector<Value> init;
};

KernelInfo KeyValueGradientBuilder::build(StringRef name) {
  KernelArgs kernelArgs(k);
  args = &kernelArgs;
  a = declareBackward(kernelArgs);
  dk = declareTensor(kernelArgs, "dk");
  dv = declareTensor(kernelArgs, "dv");
  if (withQuery)
    dqAccumArg = kernelArgs.add("dq_accum", KernelArg::Kind::pointer);
  variant.declareArgs(kernelArgs);
  kernelArgs.createKernel(module, name, threads);
  bindKeyBlock();
  carveSharedTiles();
  copier.emplace(k, *engine, tid, threads, d);
  copier->copy(kTile, BN, kView, kvStart, seqKv);
  copier->copy(vTile, BN, vView, kvStart, seqKv);
  copier->land(0);

  warpRow = k.mul(warp, k.c32(16));
  rowBase = k.add(k.add(kvStart, warpRow), fragmentRow(k, lane));
  init = flattenAccumulators(zeroAccumulators(k, 2 * tiles));
  numQBlocks = seq->queryBlocks(k, BM);
  // Key rows past seqlen_kv (zero-filled K) are masked too: their P would
  // be exp(-lse), not finite for a very negative lse, and dQ would take
  // inf * 0 from them.
  keysInBounds = seq->keyBlockInBounds(k, kvStart, BN);
  lseLog2 = args->get(a.lseLog2), deltaPtr = args->get(a.delta);
  rescale = k.cf(1.0f / (1.0f - float(variant.dropoutRate())));

  // The dK/dV columns this thread block owns: [slice * dCols, + dCols).
  // Each slice is a compile-time column range, so the slices are emitted
  // as the branches of a switch on `slice`.
  if (split == 1) {
    writeGradients(0, streamHeads(0));
  } else {
    for (int sl = 0; sl < split; ++sl) {
      Value mine = k.cmpi(CmpIPredicate::eq, slice, k.c32(sl));
      scf::IfOp::create(b, k.loc, mine, [&](OpBuilder &, Location) {
        writeGradients(sl * dCols, streamHeads(sl * dCols));
        scf::YieldOp::create(b, k.loc);
      });
    }
  }
  LLVM::ReturnOp::create(b, k.loc, ValueRange{});
  return describeBackwardKernel(name, s.kind, s, kernelArgs);
}

/// Who this thread is, which key block (and head-dim slice) of which
/// (batch, key head) its thread block owns, and the views of K and V.
void KeyValueGradientBuilder::bindKeyBlock() {
  auto [tidValue, laneValue, warpValue] = threadPosition(k, threads);
  tid = tidValue, lane = laneValue, warp = warpValue;
  headsQ = args->get(a.headsQ), headsKv = args->get(a.headsKv);
  seqQ = args->get(a.seqQ), seqKv = args->get(a.seqKv);
  seq.emplace(seqQ, seqKv);
  group = k.divsi(headsQ, headsKv);
  KeyBlockWork work = TileScheduler(s).keyBlock(k, headsKv);
  batch = work.batch, headKv = work.headKv;
  kvBlock = work.keyBlock, slice = work.slice;
  kvStart = k.mul(kvBlock, k.c32(BN));
  kvHi = seq->lastKeyRow(k, kvStart, BN);
  kView = viewOf(k, *args, a.k, batch, headKv);
  vView = viewOf(k, *args, a.v, batch, headKv);
}

/// The tiles of the kernel's SharedMemoryPlan. Two stages (the warpgroup MMA
/// with dQ only) double-buffer Q, dO and the statistics: the next query
/// block streams into one while dK's product still reads the other, under
/// dQ's product.
void KeyValueGradientBuilder::carveSharedTiles() {
  assert((stages == 1 || (stages == 2 && withQuery)) &&
         "dK/dV streams one stage, two with the warpgroup MMA and dQ");
  llvm::StringMap<Value> shared =
      flashjit::carveSharedTiles(k, module, sharedMemoryPlanOf(s));
  kTile = shared["k"], vTile = shared["v"];
  queryTiles = shared["query_stages"];
  dsTile = shared["ds"], statsTiles = shared["stats"];
}

/// Over the query heads that share this key head, then their blocks; the
/// dK and dV accumulators of columns [colBase, colBase + dCols).
SmallVector<Value> KeyValueGradientBuilder::streamHeads(int colBase) {
  auto heads = scf::ForOp::create(
      b, k.loc, k.c32(0), group, k.c32(1), init,
      [&](OpBuilder &, Location, Value g, ValueRange outer) {
        HeadStream h;
        bindStream(h, g);
        // With dQ, the loop also carries whether this block's copies were
        // already issued by the previous one, and into which stage.
        const int prefetchedIdx = 8 * tiles, stageIdx = 8 * tiles + 1;
        SmallVector<Value> blockInit(outer.begin(), outer.end());
        if (withQuery) {
          blockInit.push_back(k.cbool(false));
          blockInit.push_back(k.c32(0));
        }
        SmallVector<Value> accumulators = h.loop->run(
            blockInit,
            [&](const StreamedBlock &block, ValueRange state) {
              Value prefetched =
                  withQuery ? state[prefetchedIdx] : k.cbool(false);
              Value stage = withQuery ? state[stageIdx] : k.c32(0);
              scf::IfOp::create(b, k.loc, k.noti(prefetched),
                                [&](OpBuilder &, Location) {
                                  copyQueryBlock(h, block.start, stage);
                                  scf::YieldOp::create(b, k.loc);
                                });
              return visitQueryBlock(h, colBase, block, state, stage);
            },
            [&](const StreamedBlock &, ValueRange state) {
              SmallVector<Value> next(state.begin(), state.end());
              if (withQuery)
                next[prefetchedIdx] = k.cbool(false);
              return next;
            });
        accumulators.resize(8 * tiles);
        scf::YieldOp::create(b, k.loc, accumulators);
      });
  return SmallVector<Value>(heads.getResults());
}

/// Query head g of this key head's group: bound to the variant, its views,
/// and the loop over its query blocks.
void KeyValueGradientBuilder::bindStream(HeadStream &h, Value g) {
  h.head = k.add(k.mul(headKv, group), g);
  h.bh = k.add(k.mul(batch, headsQ), h.head);
  variant.bind(*args, batch, h.head, args->get(a.batch), headsQ, seqQ, seqKv,
               args->get(a.scale));
  h.qView = viewOf(k, *args, a.q, batch, h.head);
  h.dView = viewOf(k, *args, a.dout, batch, h.head);
  auto classify = [this](Value lo, Value hi) {
    return variant.classifyBlock(lo, hi, kvStart, kvHi);
  };
  // Only query blocks in this range may be kept: the loop does not test
  // the rest.
  BlockInterval kept =
      keptBlockRange(k, variant, numQBlocks, BM, seqQ, [&](Value lo, Value hi) {
        return classify(lo, hi).first;
      });
  h.loop.emplace(k, *seq, StreamingLoop::Side::queries, BM, kept, classify);
  // Key rows past seqlen_kv are masked too (keysInBounds).
  h.loop->requireForFull(keysInBounds);
  // With dQ the loop counts the kept blocks from a different start for
  // each key block, so that the thread blocks' atomics do not all hit the
  // same dQ rows at once; without, it runs over the block indices
  // themselves.
  if (withQuery)
    h.loop->rotate(kvBlock);
}

QueryTiles KeyValueGradientBuilder::tilesOf(Value stage) {
  Value q = k.gep(queryTiles, k.element(), k.mul(stage, k.c32(stageElems)));
  return QueryTiles{
      q, k.gep(q, k.element(), k.c32(BM * rowElems)),
      k.gep(statsTiles, k.f32(), k.mul(stage, k.c32(statsFloats)))};
}

/// Stats, Q and dO of a query block into a stage.
void KeyValueGradientBuilder::copyQueryBlock(const HeadStream &h, Value qStart,
                                             Value stage) {
  QueryTiles t = tilesOf(stage);
  copyRowStats(k, t.stats, BM, tid, threads, lseLog2, deltaPtr, h.bh, seqQ,
               qStart);
  copier->copy(t.q, BM, h.qView, qStart, seqQ);
  copier->copy(t.dout, BM, h.dView, qStart, seqQ);
}

/// One kept query block: Sᵀ, P, dV += P_dᵀ dO, dPᵀ, dSᵀ, dK += dSᵀ Q, and
/// with dQ its share of dQ while the next kept block streams in.
SmallVector<Value>
KeyValueGradientBuilder::visitQueryBlock(const HeadStream &h, int colBase,
                                         const StreamedBlock &block,
                                         ValueRange state, Value stage) {
  Value qStart = block.start;
  copier->land(0);
  QueryTiles cur = tilesOf(stage);
  SmallVector<Accumulator> dV = accumulatorsAt(state, tiles, 0);
  SmallVector<Accumulator> dK = accumulatorsAt(state, tiles, 4 * tiles);

  // Sᵀ = K Qᵀ: rows are keys, columns queries. When the engine overlaps
  // products (the warpgroup MMA at d 64), dPᵀ = V dOᵀ is issued right
  // behind Sᵀ and runs under the softmax, dV's under dSᵀ, dK's under dQ's.
  const bool overlap = engine->overlapsProducts(d);
  SmallVector<Value> dpInFlight;
  auto issueDp = [&] {
    dpInFlight =
        engine->issueScores(k, vTile, BN, warpRow, warp, lane, cur.dout, BM, d);
  };
  SmallVector<Value> sT =
      engine->issueScores(k, kTile, BN, warpRow, warp, lane, cur.q, BM, d);
  if (overlap)
    issueDp();
  engine->await(k, /*pending=*/overlap ? 1 : 0, {sT});
  BlockProbabilities bp = probabilities(accumulatorsAt(sT, BM / 8, 0),
                                        cur.stats, qStart, block.full);

  // dV += P_dᵀ dO (and dK += dSᵀ Q below), left in flight when the engine
  // overlaps products.
  SmallVector<Value> dvInFlight, dkInFlight;
  auto issueAccumulate = [&](ArrayRef<Accumulator> acc, ArrayRef<Value> aValues,
                             Value bTile) {
    return engine->issueAccumulate(
        k, [&](int c) { return packA(k, aValues, c); }, bTile, BM, d, colBase,
        dCols, lane, flattenAccumulators(acc));
  };
  auto landAccumulators = [&] {
    engine->await(k, /*pending=*/0, {dvInFlight, dkInFlight});
    if (!dvInFlight.empty())
      dV = accumulatorsAt(dvInFlight, tiles, 0);
    if (!dkInFlight.empty())
      dK = accumulatorsAt(dkInFlight, tiles, 0);
    dvInFlight.clear();
    dkInFlight.clear();
  };
  dvInFlight = issueAccumulate(dV, bp.pd, cur.dout);
  if (!overlap)
    landAccumulators();
  // dPᵀ = V dOᵀ (when overlapped: issued before dV's product, still in
  // flight), then dSᵀ. Issued after dV's, dPᵀ completes after it too.
  if (!overlap)
    issueDp();
  engine->await(k, /*pending=*/overlap ? 1 : 0, {dpInFlight});
  SmallVector<Value> ds =
      scoreGradients(bp, accumulatorsAt(dpInFlight, BM / 8, 0), cur.stats);
  // dK += dSᵀ Q.
  dkInFlight = issueAccumulate(dK, ds, cur.q);
  if (!overlap)
    landAccumulators();
  if (withQuery)
    storeScoreGradient(k, dsTile, BM, ds, warpRow, lane);
  // dV's and dK's products read this stage's dO and Q: with one stage,
  // done before the next block's copies overwrite them.
  if (overlap && stages == 1)
    landAccumulators();
  Value nextKeep, nextStage;
  if (withQuery)
    std::tie(nextKeep, nextStage) =
        addQueryGradientStreamingNext(h, colBase, block, stage);
  // Two stages: dV's and dK's products ran under dQ's.
  if (overlap && stages == 2)
    landAccumulators();
  // The next block overwrites Q, dO and dSᵀ.
  k.barrier();
  SmallVector<Value> next = flattenAccumulators(dV);
  next.append(flattenAccumulators(dK));
  if (withQuery) {
    next.push_back(nextKeep);
    next.push_back(nextStage);
  }
  return next;
}

/// The block's scores, modified and masked, and P = exp2(score - lse)
/// (and P_d: dropout's kept entries rescaled, the rest 0).
BlockProbabilities KeyValueGradientBuilder::probabilities(
    ArrayRef<Accumulator> scores, Value statsTile, Value qStart, Value full) {
  BlockProbabilities bp;
  bp.el = modifyAndMask(k, variant, scores, rowBase, qStart, lane, full, seqQ,
                        /*rowsAreKeys=*/true, /*rowLimit=*/seqKv);
  SmallVector<Value> lse2 = columnStats(k, statsTile, BM, /*plane=*/0, lane);
  const ScoreElements &el = bp.el;
  for (size_t e = 0; e < el.scores.size(); ++e) {
    bp.p.push_back(probability(k, el.scores[e], lse2[e]));
    if (variant.hasDropout()) {
      bp.keep.push_back(variant.dropoutKeepAt(el.q[e], el.kv[e]));
      bp.pd.push_back(
          k.select(bp.keep.back(), k.fmul(bp.p.back(), rescale), k.cf(0)));
    } else {
      bp.pd.push_back(bp.p.back());
    }
  }
  return bp;
}

/// dSᵀ per element from P, dPᵀ (dropped as P was), delta and the score
/// modification's derivative.
SmallVector<Value>
KeyValueGradientBuilder::scoreGradients(const BlockProbabilities &bp,
                                        ArrayRef<Accumulator> dpAcc,
                                        Value statsTile) {
  SmallVector<Value> delta = columnStats(k, statsTile, BM, /*plane=*/1, lane);
  SmallVector<Value> ds;
  const ScoreElements &el = bp.el;
  for (size_t e = 0; e < el.scores.size(); ++e) {
    Value dp = dpAcc[e / 4][e % 4];
    if (variant.hasDropout())
      dp = k.select(bp.keep[e], k.fmul(dp, rescale), k.cf(0));
    ScoreTangent dmod = variant.scoreDerivativeAt(el.raw[e], el.q[e], el.kv[e]);
    ds.push_back(scoreGradient(k, bp.p[e], dp, delta[e], dmod));
  }
  return ds;
}

/// With dQ: once every warp's dSᵀ is in place (and every warp is done with
/// the statistics and, one stage, with Q and dO), the next kept block's
/// copies stream in under dQ's product. Returns whether the next block was
/// prefetched, and into which stage.
std::pair<Value, Value> KeyValueGradientBuilder::addQueryGradientStreamingNext(
    const HeadStream &h, int colBase, const StreamedBlock &block, Value stage) {
  k.barrier();
  // (Decided here, not at the top: nothing of it is live across the
  // products.)
  auto [nextKeep, nextStart] = h.loop->next(block.index);
  Value nextStage = stages == 2 ? k.sub(k.c32(1), stage) : stage;
  scf::IfOp::create(b, k.loc, nextKeep, [&](OpBuilder &, Location) {
    copyQueryBlock(h, nextStart, nextStage);
    scf::YieldOp::create(b, k.loc);
  });
  addQueryGradient(k, s, dsTile, kTile, engine->sharedLayout(), colBase, warp,
                   lane, args->get(dqAccumArg), h.bh, block.start, seqQ);
  return {nextKeep, nextStage};
}

void KeyValueGradientBuilder::writeGradients(int colBase, ValueRange results) {
  TensorView dkView = viewOf(k, *args, dk, batch, headKv);
  TensorView dvView = viewOf(k, *args, dv, batch, headKv);
  storeAccumulatorRows(k, dvView, accumulatorsAt(results, tiles, 0), rowBase,
                       seqKv, colBase, lane);
  storeAccumulatorRows(k, dkView, accumulatorsAt(results, tiles, 4 * tiles),
                       rowBase, seqKv, colBase, lane);
}

} // namespace

FailureOr<KernelInfo> flashjit::buildBackwardKeyValueKernel(
    ModuleOp module, const AttentionChain &chain, const Schedule &s,
    InputType inputType, StringRef name) {
  return KeyValueGradientBuilder(module, chain, s, inputType).build(name);
}
