//===- BackwardKernels.cpp - the FlashAttention backward ------------------===//

#include "compiler/attention/BackwardKernels.h"

#include "compiler/attention/BackwardCommon.h"
#include "compiler/attention/Epilogue.h"
#include "compiler/attention/ScoreTile.h"
#include "compiler/attention/StreamingLoop.h"
#include "compiler/kernel/CopyPipeline.h"
#include "compiler/kernel/FragmentLayout.h"
#include "compiler/kernel/SequenceInfo.h"
#include "compiler/kernel/TileScheduler.h"
#include "compiler/lowering/KeptBlockRange.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;
using namespace flashjit;
using arith::CmpFPredicate;
using arith::CmpIPredicate;

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
  TileScheduler scheduler(s);
  Value tid = k.threadId(threads);
  Value seq = args.get(seqArg);
  SequenceInfo sequences(seq);
  auto [bh, batch, head] = scheduler.head(k, args.get(headsArg));
  Value row = scheduler.workItem(k, tid);
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
    Value index = sequences.statisticIndex(k, bh, row);
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
  return describeBackwardKernel(name, KernelKind::backwardDelta, s, args);
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
  std::unique_ptr<MmaEngine> engine = mmaEngineOf(s);

  KernelArgs args(k);
  BackwardArgs a = declareBackward(args);
  TensorArgs dq = declareTensor(args, "dq");
  VariantLowering variant(k, chain);
  variant.declareArgs(args);
  args.createKernel(module, name, threads);

  TileScheduler scheduler(s);
  auto [tid, lane, warp] = threadPosition(k, threads);
  Value headsQ = args.get(a.headsQ), headsKv = args.get(a.headsKv);
  Value seqQ = args.get(a.seqQ), seqKv = args.get(a.seqKv);
  SequenceInfo seq(seqQ, seqKv);
  auto [bh, batch, head, headKv] = scheduler.queryHead(k, headsQ, headsKv);
  variant.bind(args, batch, head, args.get(a.batch), headsQ, seqQ, seqKv,
               args.get(a.scale));
  TensorView qView = viewOf(k, args, a.q, batch, head);
  TensorView dView = viewOf(k, args, a.dout, batch, head);
  TensorView kView = viewOf(k, args, a.k, batch, headKv);
  TensorView vView = viewOf(k, args, a.v, batch, headKv);
  Value qStart = scheduler.queryBlockStart(k, seq);
  Value qHi = seq.lastQueryRow(k, qStart, BM);

  llvm::StringMap<Value> shared =
      carveSharedTiles(k, module, sharedMemoryPlanOf(s));
  Value qTile = shared["q"], dTile = shared["do"], kTile = shared["k"],
        vTile = shared["v"];
  TileCopier copier(k, *engine, tid, threads, d);
  copier.copy(qTile, BM, qView, qStart, seqQ);
  copier.copy(dTile, BM, dView, qStart, seqQ);
  copier.land(0);

  Value warpRow = k.mul(warp, k.c32(16));
  Value rowBase = k.add(k.add(qStart, warpRow), fragmentRow(k, lane));
  Value rowLse[2], rowDelta[2];
  for (int r = 0; r < 2; ++r) {
    Value row = k.add(rowBase, k.c32(8 * r));
    Value clamped = k.maxsi(k.minsi(row, k.sub(seqQ, k.c32(1))), k.c32(0));
    Value index = seq.statisticIndex(k, bh, clamped);
    rowLse[r] = k.load(k.f32(), k.gep(args.get(a.lseLog2), k.f32(), index), 4);
    rowDelta[r] = k.load(k.f32(), k.gep(args.get(a.delta), k.f32(), index), 4);
  }
  Value rescale = k.cf(1.0f / (1.0f - float(variant.dropoutRate())));
  const int tiles = d / 8;

  Value numBlocks = seq.keyBlocks(k, BN);
  auto classify = [&](Value lo, Value hi) {
    return variant.classifyBlock(qStart, qHi, lo, hi);
  };
  // Only key blocks in this range may be kept: the loop does not test the
  // rest.
  BlockInterval kept =
      keptBlockRange(k, variant, numBlocks, BN, seqKv, [&](Value lo, Value hi) {
        return classify(lo, hi).first;
      });
  StreamingLoop loop(k, seq, StreamingLoop::Side::keys, BN, kept, classify);
  // dS of one kept key block, from S and dP recomputed.
  auto scoreGradients = [&](const StreamedBlock &block) {
    ScoreElements el = modifyAndMask(
        k, variant,
        engine->scores(k, qTile, BM, {warpRow}, warp, lane, kTile, BN, d)[0],
        rowBase, block.start, lane, block.full, seqKv, /*rowsAreKeys=*/false);
    SmallVector<Accumulator> dpAcc =
        engine->scores(k, dTile, BM, {warpRow}, warp, lane, vTile, BN, d)[0];
    SmallVector<Value> ds;
    for (size_t e = 0; e < el.scores.size(); e += 2) {
      int r = (e % 4) / 2;
      Value dp[2] = {dpAcc[e / 4][e % 4], dpAcc[e / 4][e % 4 + 1]};
      if (variant.hasDropout()) {
        auto [keep0, keep1] = variant.dropoutKeepPair(el.q[e], el.kv[e]);
        dp[0] = k.select(keep0, k.fmul(dp[0], rescale), k.cf(0));
        dp[1] = k.select(keep1, k.fmul(dp[1], rescale), k.cf(0));
      }
      for (int i = 0; i < 2; ++i) {
        Value p = probability(k, el.scores[e + i], rowLse[r]);
        ScoreTangent dmod =
            variant.scoreDerivativeAt(el.raw[e + i], el.q[e + i], el.kv[e + i]);
        ds.push_back(scoreGradient(k, p, dp[i], rowDelta[r], dmod));
      }
    }
    return ds;
  };
  SmallVector<Value> final = loop.run(
      flattenAccumulators(zeroAccumulators(k, tiles)),
      [&](const StreamedBlock &block, ValueRange state) {
        copier.copy(kTile, BN, kView, block.start, seqKv);
        copier.copy(vTile, BN, vView, block.start, seqKv);
        copier.land(0);
        SmallVector<Value> dQ(state.begin(), state.end());
        SmallVector<Value> ds = scoreGradients(block);
        // dQ += dS K.
        dQ = engine->issueAccumulate(
            k, [&](int c) { return packA(k, ds, c); }, kTile, BN, d, 0, d, lane,
            std::move(dQ));
        engine->await(k, /*pending=*/0, {dQ});
        k.barrier();
        return dQ;
      },
      [&](const StreamedBlock &, ValueRange state) {
        return SmallVector<Value>(state);
      });
  storeAccumulatorRows(k, viewOf(k, args, dq, batch, head),
                       accumulatorsAt(final, tiles, 0), rowBase, seqQ, 0, lane);
  LLVM::ReturnOp::create(b, k.loc, ValueRange{});
  return describeBackwardKernel(name, KernelKind::backwardQuery, s, args);
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
  TileScheduler scheduler(s);
  Value seq = args.get(seqArg);
  SequenceInfo sequences(seq);
  auto [bh, batch, head] = scheduler.head(k, args.get(headsArg));
  Value index = scheduler.workItem(k, k.threadId(threads));
  Value row = k.divsi(index, k.c32(chunks));
  Value col = k.mul(k.remsi(index, k.c32(chunks)), k.c32(8));
  TensorView dqView = viewOf(k, args, dq, batch, head);
  Value valid = k.cmpi(CmpIPredicate::slt, row, seq);
  scf::IfOp::create(b, k.loc, valid, [&](OpBuilder &, Location) {
    Value from =
        k.gep(args.get(accumArg), k.f32(),
              k.add(k.mul(sequences.statisticIndex(k, bh, row), k.c64(d)),
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
  return describeBackwardKernel(name, KernelKind::backwardQueryConvert, s,
                                args);
}
