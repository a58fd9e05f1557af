//===- ForwardKernel.cpp - the fused FlashAttention forward ---------------===//
//
// One thread block owns BLOCK_M query rows of one (batch, head); each warp
// owns rowTilesPerWarp tiles of 16 of them. For every key block that the mask
// does not rule out, the block's K and V tiles are copied into shared memory,
// S = Q Kᵀ is computed with tensor-core products, the variant's score
// modification (and, in partial blocks only, its mask) is applied per element,
// the online softmax rescales the running O, and P, kept in registers,
// multiplies V. Scores never leave the chip: O and the log-sum-exp are the
// only writes.
//
// The products are the kernel's MMA engine's (MmaEngine.h): mma.sync per
// warp, or on sm_90a warpgroup MMAs, whose accumulators land in the same
// per-warp layout, so everything between the two products is shared.
//
//===----------------------------------------------------------------------===//

#include "compiler/attention/ForwardKernel.h"

#include "compiler/attention/OnlineSoftmax.h"
#include "compiler/attention/ScoreTile.h"
#include "compiler/attention/StreamingLoop.h"
#include "compiler/kernel/CopyPipeline.h"
#include "compiler/kernel/FragmentLayout.h"
#include "compiler/kernel/MmaEngine.h"
#include "compiler/kernel/SequenceInfo.h"
#include "compiler/kernel/TileScheduler.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;
using namespace flashjit;
using arith::CmpIPredicate;

namespace {

/// The forward's parameters: tensors, sizes, scale (then the variant's).
struct ForwardArgs {
  TensorArgs q, k, v, o;
  unsigned lse, batch, headsQ, headsKv, seqlenQ, seqlenKv, scale;
};

ForwardArgs declareForwardArgs(KernelArgs &args) {
  using Kind = KernelArg::Kind;
  ForwardArgs a;
  a.q = declareTensor(args, "q");
  a.k = declareTensor(args, "k");
  a.v = declareTensor(args, "v");
  a.o = declareTensor(args, "o");
  a.lse = args.add("lse", Kind::pointer);
  a.batch = args.add("batch", Kind::i32);
  a.headsQ = args.add("heads_q", Kind::i32);
  a.headsKv = args.add("heads_kv", Kind::i32);
  a.seqlenQ = args.add("seqlen_q", Kind::i32);
  a.seqlenKv = args.add("seqlen_kv", Kind::i32);
  a.scale = args.add("softmax_scale", Kind::f32);
  return a;
}

/// What the loop over key blocks carries: per row tile, O (d / 8 m16n8
/// accumulators) and its rows' statistics; whether the next block's K is
/// already in flight.
struct ForwardLoopState {
  SmallVector<SmallVector<Value>> o;
  SmallVector<RowStatistics> rows;
  Value prefetched;

  static ForwardLoopState initial(KernelBuilder &k, int tiles, int oValues) {
    const float negInf = -std::numeric_limits<float>::infinity();
    ForwardLoopState s;
    s.o.assign(tiles, {});
    s.rows.resize(tiles);
    for (SmallVector<Value> &o : s.o)
      for (int i = 0; i < oValues; ++i)
        o.push_back(k.cf(0));
    for (RowStatistics &r : s.rows)
      r.max = {k.cf(negInf), k.cf(negInf)};
    for (RowStatistics &r : s.rows)
      r.sum = {k.cf(0), k.cf(0)};
    s.prefetched = k.cbool(false);
    return s;
  }
  /// The scf.for's values: every O, every max, every sum, prefetched.
  SmallVector<Value> values() const {
    SmallVector<Value> v;
    for (const SmallVector<Value> &tile : o)
      v.append(tile.begin(), tile.end());
    for (const RowStatistics &r : rows)
      v.append(r.max.begin(), r.max.end());
    for (const RowStatistics &r : rows)
      v.append(r.sum.begin(), r.sum.end());
    v.push_back(prefetched);
    return v;
  }
  static ForwardLoopState of(ValueRange v, int tiles, int oValues) {
    ForwardLoopState s;
    for (int t = 0; t < tiles; ++t)
      s.o.emplace_back(v.begin() + t * oValues, v.begin() + (t + 1) * oValues);
    int stats = tiles * oValues;
    s.rows.resize(tiles);
    for (int t = 0; t < tiles; ++t) {
      s.rows[t].max = {v[stats + 2 * t], v[stats + 2 * t + 1]};
      s.rows[t].sum = {v[stats + 2 * tiles + 2 * t],
                       v[stats + 2 * tiles + 2 * t + 1]};
    }
    s.prefetched = v[stats + 4 * tiles];
    return s;
  }
};

/// Builds the forward of one chain for one configuration.
class ForwardBuilder {
public:
  ForwardBuilder(ModuleOp module, const AttentionChain &chain,
                 const Schedule &s, InputType inputType)
      : module(module), chain(chain), s(s), b(module.getContext()),
        k(b, this->chain.store.getLoc(), inputType), engine(mmaEngineOf(s)),
        scheduler(s), variant(k, this->chain) {}

  KernelInfo build(StringRef name);

private:
  void bindBlock(const ForwardArgs &a);
  void placeRows();
  SmallVector<Value> visitBlock(const StreamedBlock &block,
                                const ForwardLoopState &state);
  void softmaxAndRescale(SmallVector<SmallVector<Value>> &x,
                         ForwardLoopState &next);
  void accumulateOutput(SmallVector<SmallVector<Value>> &x,
                        ArrayRef<ScoreElements> el, ForwardLoopState &next);
  void storeOutput(const ForwardLoopState &final, Value lse);

  ModuleOp module;
  AttentionChain chain; // op handles, cheap to copy
  const Schedule &s;
  OpBuilder b;
  KernelBuilder k;
  std::unique_ptr<MmaEngine> engine;
  TileScheduler scheduler;
  VariantLowering variant;
  std::optional<TileCopier> copier;
  std::optional<SequenceInfo> seq;
  KernelArgs *args = nullptr;

  Value lane, warp, bh, seqQ, seqKv, qStart;
  TensorView qView, kView, vView, oView;
  Value qTile, kTile, vTile;
  /// Per row tile: its first row within the block, this thread's two rows.
  SmallVector<Value> tileRow, row0, row1;
  Value colInTile, qLo, qHi;
};

KernelInfo ForwardBuilder::build(StringRef name) {
  KernelArgs kernelArgs(k);
  args = &kernelArgs;
  ForwardArgs a = declareForwardArgs(kernelArgs);
  variant.declareArgs(kernelArgs);
  kernelArgs.createKernel(module, name, s.numThreads());
  bindBlock(a);

  llvm::StringMap<Value> shared =
      carveSharedTiles(k, module, sharedMemoryPlanOf(s));
  qTile = shared["q"], kTile = shared["k"], vTile = shared["v"];
  // Q once.
  copier->copy(qTile, s.blockM, qView, qStart, seqQ);
  copier->land(0);
  placeRows();

  // Which key blocks to visit, from the mask's interval classification.
  Value numBlocks = seq->keyBlocks(k, s.blockN);
  // Every block is tested: bounding the loop made the sliding-window
  // forward 20% faster but tipped ALiBi-causal's d 64 kernel into a slower
  // schedule (bench/NOTES.md, entry 10).
  const int tiles = s.rowTilesPerWarp, oValues = s.headDim / 8 * 4;
  ForwardLoopState init = ForwardLoopState::initial(k, tiles, oValues);
  StreamingLoop loop(k, *seq, StreamingLoop::Side::keys, s.blockN,
                     {k.c32(0), numBlocks}, [&](Value lo, Value hi) {
                       return variant.classifyBlock(qLo, qHi, lo, hi);
                     });
  // Whether the next block is kept decides whether its K can be prefetched
  // while this block's P V runs.
  loop.lookAhead();
  SmallVector<Value> final = loop.run(
      init.values(),
      [&](const StreamedBlock &block, ValueRange values) {
        return visitBlock(block, ForwardLoopState::of(values, tiles, oValues));
      },
      // Nothing of a block the mask rules out is loaded.
      [&](const StreamedBlock &, ValueRange values) {
        ForwardLoopState next = ForwardLoopState::of(values, tiles, oValues);
        next.prefetched = k.cbool(false);
        return next.values();
      });
  storeOutput(ForwardLoopState::of(final, tiles, oValues),
              kernelArgs.get(a.lse));
  LLVM::ReturnOp::create(b, k.loc, ValueRange{});
  return describeKernel(name.str(), s, kernelArgs.signature());
}

/// Who this thread is, which (batch, head) and query block it owns, and the
/// views of its tensors.
void ForwardBuilder::bindBlock(const ForwardArgs &a) {
  auto [tid, laneId, warpId] = threadPosition(k, s.numThreads());
  lane = laneId, warp = warpId;
  copier.emplace(k, *engine, tid, s.numThreads(), s.headDim);
  Value headsQ = args->get(a.headsQ), headsKv = args->get(a.headsKv);
  auto [bhIndex, batch, head, headKv] = scheduler.queryHead(k, headsQ, headsKv);
  bh = bhIndex;
  seqQ = args->get(a.seqlenQ), seqKv = args->get(a.seqlenKv);
  seq.emplace(seqQ, seqKv);
  variant.bind(*args, batch, head, args->get(a.batch), headsQ, seqQ, seqKv,
               args->get(a.scale));
  qView = viewOf(k, *args, a.q, batch, head);
  kView = viewOf(k, *args, a.k, batch, headKv);
  vView = viewOf(k, *args, a.v, batch, headKv);
  oView = viewOf(k, *args, a.o, batch, head);
  qStart = scheduler.queryBlockStart(k, *seq);
}

/// This thread's rows and columns in the m16n8 fragments: each warp owns
/// rowTilesPerWarp tiles of 16 rows, so that every K and V fragment read
/// from shared memory feeds that many products.
void ForwardBuilder::placeRows() {
  const int M = s.rowTilesPerWarp;
  Value warpRow = k.mul(warp, k.c32(16 * M));
  for (int mt = 0; mt < M; ++mt) {
    tileRow.push_back(mt == 0 ? warpRow : k.add(warpRow, k.c32(16 * mt)));
    row0.push_back(k.add(k.add(qStart, tileRow[mt]), fragmentRow(k, lane)));
    row1.push_back(k.add(row0[mt], k.c32(8)));
  }
  colInTile = fragmentColumn(k, lane);
  qLo = qStart;
  qHi = seq->lastQueryRow(k, qStart, s.blockM);
}

/// One kept key block: its tiles in, S, the softmax, O += P V; K of the next
/// kept block streamed in under P V.
SmallVector<Value> ForwardBuilder::visitBlock(const StreamedBlock &block,
                                              const ForwardLoopState &state) {
  const int BN = s.blockN;
  Value kvStart = block.start;
  // K (unless the previous block prefetched it), then V, as separate
  // groups: S needs only K.
  scf::IfOp::create(b, k.loc, k.noti(state.prefetched),
                    [&](OpBuilder &, Location) {
                      copier->copy(kTile, BN, kView, kvStart, seqKv);
                      scf::YieldOp::create(b, k.loc);
                    });
  copier->copy(vTile, BN, vView, kvStart, seqKv);
  copier->land(1);

  // S = Q Kᵀ for this warp's tiles, modified and masked.
  SmallVector<SmallVector<Accumulator>> sAcc = engine->scores(
      k, qTile, s.blockM, tileRow, warp, lane, kTile, BN, s.headDim);
  SmallVector<ScoreElements> el;
  for (int mt = 0; mt < s.rowTilesPerWarp; ++mt)
    el.push_back(modifyAndMask(k, variant, sAcc[mt], row0[mt], kvStart, lane,
                               block.full, seqKv, /*rowsAreKeys=*/false));
  ForwardLoopState next = state;
  SmallVector<SmallVector<Value>> x;
  for (ScoreElements &e : el)
    x.push_back(e.scores);
  softmaxAndRescale(x, next);

  // Every warp is past S, so K's tile is free: the next kept block's K
  // streams in under this block's P V.
  copier->land(0);
  scf::IfOp::create(b, k.loc, block.nextMayKeep, [&](OpBuilder &, Location) {
    copier->copy(kTile, BN, kView, block.nextStart, seqKv);
    scf::YieldOp::create(b, k.loc);
  });
  accumulateOutput(x, el, next);
  // The next block overwrites V.
  k.barrier();
  next.prefetched = block.nextMayKeep;
  return next.values();
}

/// The online softmax of each row tile's scores (exponentiated in place)
/// and O rescaled to the new maxima.
void ForwardBuilder::softmaxAndRescale(SmallVector<SmallVector<Value>> &x,
                                       ForwardLoopState &next) {
  for (int mt = 0; mt < s.rowTilesPerWarp; ++mt) {
    auto [rows, alpha] = softmaxStep(k, x[mt], s.blockN, next.rows[mt]);
    next.rows[mt] = rows;
    next.o[mt] = rescaleRows(k, next.o[mt], alpha);
  }
}

/// O += P V, P re-packed from the S accumulators. Dropout acts on P for
/// this product only (the sums are of all of P), 16 columns at a time so
/// that the random bits live briefly.
void ForwardBuilder::accumulateOutput(SmallVector<SmallVector<Value>> &x,
                                      ArrayRef<ScoreElements> el,
                                      ForwardLoopState &next) {
  Value rescale = k.cf(1.0f / (1.0f - float(variant.dropoutRate())));
  // P's A fragment of columns [16c, 16c + 16) of tile mt.
  auto pFragment = [&](int mt, int c) {
    SmallVector<Value> &xs = x[mt];
    if (variant.hasDropout())
      for (int nt = 2 * c; nt < 2 * c + 2; ++nt)
        for (int r = 0; r < 2; ++r) {
          int e = nt * 4 + r * 2;
          auto [keep0, keep1] =
              variant.dropoutKeepPair(el[mt].q[e], el[mt].kv[e]);
          xs[e] = k.select(keep0, k.fmul(xs[e], rescale), k.cf(0));
          xs[e + 1] = k.select(keep1, k.fmul(xs[e + 1], rescale), k.cf(0));
        }
    return packA(k, xs, c);
  };
  engine->accumulate(k, pFragment, vTile, s.blockN, s.headDim, lane, next.o);
}

/// O / l and the log-sum-exp of every row below seqlen_q, written once.
void ForwardBuilder::storeOutput(const ForwardLoopState &final, Value lse) {
  for (int mt = 0; mt < s.rowTilesPerWarp; ++mt)
    for (int r = 0; r < 2; ++r) {
      Value row = r == 0 ? row0[mt] : row1[mt];
      FinishedRow done =
          finishRow(k, final.rows[mt].sum[r], final.rows[mt].max[r]);
      Value valid = k.cmpi(CmpIPredicate::slt, row, seqQ);
      scf::IfOp::create(b, k.loc, valid, [&](OpBuilder &, Location) {
        Value outRow = oView.row(k, row, seqQ);
        const SmallVector<Value> &o = final.o[mt];
        for (int t = 0; t < s.headDim / 8; ++t) {
          Value packed = k.pack(k.fmul(o[t * 4 + r * 2], done.inverseSum),
                                k.fmul(o[t * 4 + r * 2 + 1], done.inverseSum));
          Value col = k.add(k.c32(t * 8), colInTile);
          k.store(packed, k.gep(outRow, k.element(), col), 4);
        }
        Value writer = leadsFragmentRow(k, lane);
        scf::IfOp::create(b, k.loc, writer, [&](OpBuilder &, Location) {
          Value index = seq->statisticIndex(k, bh, row);
          k.store(done.lse, k.gep(lse, k.f32(), index), 4);
          scf::YieldOp::create(b, k.loc);
        });
        scf::YieldOp::create(b, k.loc);
      });
    }
}

} // namespace

FailureOr<KernelInfo> flashjit::buildForwardKernel(ModuleOp module,
                                                   const AttentionChain &chain,
                                                   const Schedule &s,
                                                   InputType inputType,
                                                   StringRef name) {
  return ForwardBuilder(module, chain, s, inputType).build(name);
}
