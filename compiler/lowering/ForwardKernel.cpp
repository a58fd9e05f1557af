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
// The products are m16n8k16 mma.sync per warp, or on sm_90a warpgroup MMAs
// (Schedule::warpgroupMma): the accumulators land in the same per-warp
// layout, so everything between the two products is shared.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/ForwardKernel.h"

#include "compiler/lowering/KernelCommon.h"
#include "compiler/lowering/WarpgroupMma.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace flashjit;
using arith::CmpFPredicate;
using arith::CmpIPredicate;

FailureOr<KernelInfo>
flashjit::buildForwardKernel(ModuleOp module, const AttentionChain &matched,
                             const Schedule &s, InputType inputType,
                             StringRef name) {
  AttentionChain chain = matched; // op handles, cheap to copy
  OpBuilder b(module.getContext());
  KernelBuilder k(b, chain.store.getLoc(), inputType);
  const int d = s.headDim, BM = s.blockM, BN = s.blockN;
  const int threads = s.numThreads();
  // The warpgroup MMA reads unpadded swizzled tiles (WarpgroupMma.h).
  const bool wgmma = s.warpgroupMma;
  const SharedLayout layout =
      wgmma ? SharedLayout::swizzled : SharedLayout::padded;
  const int rowElems = wgmma ? d : sharedRowElements(d);

  // Parameters: tensors, sizes, scale, then the variant's own.
  using Kind = KernelArg::Kind;
  KernelArgs args(k);
  TensorArgs q = declareTensor(args, "q"), kk = declareTensor(args, "k"),
             v = declareTensor(args, "v"), o = declareTensor(args, "o");
  unsigned lseArg = args.add("lse", Kind::pointer);
  unsigned batchArg = args.add("batch", Kind::i32);
  unsigned headsQArg = args.add("heads_q", Kind::i32);
  unsigned headsKvArg = args.add("heads_kv", Kind::i32);
  unsigned seqQArg = args.add("seqlen_q", Kind::i32);
  unsigned seqKvArg = args.add("seqlen_kv", Kind::i32);
  unsigned scaleArg = args.add("softmax_scale", Kind::f32);
  VariantLowering variant(k, chain);
  variant.declareArgs(args);
  args.createKernel(module, name, threads);

  // Who this thread is.
  auto [tid, lane, warp] = threadPosition(k, threads);
  Value headsQ = args.get(headsQArg), headsKv = args.get(headsKvArg);
  auto [bh, batch, head, headKv] = queryHeadOf(k, headsQ, headsKv);
  Value seqQ = args.get(seqQArg), seqKv = args.get(seqKvArg);
  variant.bind(args, batch, head, args.get(batchArg), headsQ, seqQ, seqKv,
               args.get(scaleArg));

  TensorView qView = viewOf(k, args, q, batch, head);
  TensorView kView = viewOf(k, args, kk, batch, headKv);
  TensorView vView = viewOf(k, args, v, batch, headKv);
  TensorView oView = viewOf(k, args, o, batch, head);

  // Query blocks in reverse: under a causal mask the last blocks visit the
  // most keys, and blocks are dispatched in order of blockIdx.x, so the
  // longest start first and the shortest fill the tail of the grid.
  Value numQBlocks = k.divsi(k.add(seqQ, k.c32(BM - 1)), k.c32(BM));
  Value qStart =
      k.mul(k.sub(k.sub(numQBlocks, k.c32(1)), k.blockIdX()), k.c32(BM));

  // Shared memory: Q [BM, d], then K [BN, d], then V [BN, d] (padded rows).
  Value smem = k.dynamicSharedMemory(module);
  Value qTile = smem;
  Value kTile = k.gep(smem, k.element(), k.c32(BM * rowElems));
  Value vTile = k.gep(kTile, k.element(), k.c32(BN * rowElems));

  // Copies in flight until `pending` groups remain, then visible to every
  // thread (and to the warpgroup MMA, which reads through the async proxy).
  auto landCopies = [&](int pending) {
    k.waitGroup(pending);
    if (wgmma)
      fenceSharedForAsyncProxy(k);
    k.barrier();
  };
  auto copyTile = [&](Value tile, int rows, const TensorView &view, Value start,
                      Value limit) {
    copyRows(k, tile, rows, d, tid, threads, view, start, limit, layout);
  };

  // Q once.
  copyTile(qTile, BM, qView, qStart, seqQ);
  landCopies(0);
  // Each warp owns M = rowTilesPerWarp tiles of 16 rows: every K and V
  // fragment read from shared memory then feeds M products.
  const int M = s.rowTilesPerWarp;
  Value warpRow = k.mul(warp, k.c32(16 * M));
  SmallVector<Value> tileRow, row0, row1;
  for (int mt = 0; mt < M; ++mt) {
    tileRow.push_back(mt == 0 ? warpRow : k.add(warpRow, k.c32(16 * mt)));
    // This thread's two rows of the tile.
    row0.push_back(k.add(k.add(qStart, tileRow[mt]), k.divsi(lane, k.c32(4))));
    row1.push_back(k.add(row0[mt], k.c32(8)));
  }
  // This thread's column pair within an 8-column tile.
  Value colInTile = k.mul(k.remsi(lane, k.c32(4)), k.c32(2));
  Value qLo = qStart;
  Value qHi = k.sub(k.minsi(k.add(qStart, k.c32(BM)), seqQ), k.c32(1));

  // Which key blocks to visit, from the mask's interval classification.
  Value numBlocks = k.divsi(k.add(seqKv, k.c32(BN - 1)), k.c32(BN));
  auto classifyAt = [&](Value j) {
    Value start = k.mul(j, k.c32(BN));
    Value hi = k.sub(k.minsi(k.add(start, k.c32(BN)), seqKv), k.c32(1));
    return variant.classifyBlock(qLo, qHi, start, hi);
  };
  // Every block is tested: bounding the loop with KeptBlockRange made the
  // sliding-window forward 20% faster at N 16384 but tipped ALiBi-causal's
  // d 64 kernel (two warpgroups at 127 registers) into a schedule 27%
  // slower (bench/NOTES.md, entry 10).

  // Loop state: O of each tile [d/8 tiles x 4], the running max (log2
  // units) of each tile's two rows, their partial sums, then whether block
  // j's K is already in flight.
  const float negInf = -std::numeric_limits<float>::infinity();
  const int numO = d / 8 * 4;
  auto oIdx = [&](int mt, int i) { return mt * numO + i; };
  auto maxIdx = [&](int mt, int r) { return M * numO + mt * 2 + r; };
  auto sumIdx = [&](int mt, int r) { return M * numO + 2 * M + mt * 2 + r; };
  const int prefetchedIdx = M * numO + 4 * M;
  SmallVector<Value> init;
  for (int i = 0; i < M * numO; ++i)
    init.push_back(k.cf(0));
  for (int i = 0; i < 2 * M; ++i)
    init.push_back(k.cf(negInf));
  for (int i = 0; i < 2 * M; ++i)
    init.push_back(k.cf(0));
  init.push_back(k.cbool(false));

  auto loop = scf::ForOp::create(
      b, k.loc, k.c32(0), numBlocks, k.c32(1), init,
      [&](OpBuilder &, Location, Value j, ValueRange state) {
        Value kvStart = k.mul(j, k.c32(BN));
        auto [mayKeep, mayMask] = classifyAt(j);
        Value prefetched = state[prefetchedIdx];
        Value inBounds =
            k.cmpi(CmpIPredicate::sle, k.add(kvStart, k.c32(BN)), seqKv);
        Value full = k.andi(k.noti(mayMask), inBounds);
        // Whether the next block is kept decides whether its K can be
        // prefetched while this block's P V runs.
        Value jNext = k.add(j, k.c32(1));
        Value nextKeep = k.andi(k.cmpi(CmpIPredicate::slt, jNext, numBlocks),
                                classifyAt(jNext).first);

        // Blocks the mask rules out are skipped: nothing is loaded.
        auto ifNotEmpty = scf::IfOp::create(
            b, k.loc, mayKeep,
            [&](OpBuilder &, Location) {
              // K (unless the previous block prefetched it), then V, as
              // separate groups: S needs only K.
              scf::IfOp::create(b, k.loc, k.noti(prefetched),
                                [&](OpBuilder &, Location) {
                                  copyTile(kTile, BN, kView, kvStart, seqKv);
                                  scf::YieldOp::create(b, k.loc);
                                });
              copyTile(vTile, BN, vView, kvStart, seqKv);
              landCopies(1);

              // S = Q Kᵀ for this warp's tiles, modified and masked.
              SmallVector<SmallVector<Accumulator>> sAcc =
                  wgmma ? SmallVector<SmallVector<Accumulator>>{warpgroupScores(
                              k, qTile, BM, warp, kTile, BN, d)}
                        : warpScoreTiles(k, qTile, tileRow, kTile, BN, d, lane);
              SmallVector<ScoreElements> el;
              for (int mt = 0; mt < M; ++mt)
                el.push_back(modifyAndMask(k, variant, sAcc[mt], row0[mt],
                                           kvStart, lane, full, seqKv,
                                           /*rowsAreKeys=*/false));

              // Online softmax in log2 units, tile by tile.
              SmallVector<Value> next(state.begin(), state.end());
              SmallVector<SmallVector<Value>> x(M);
              for (int mt = 0; mt < M; ++mt) {
                x[mt] = el[mt].scores;
                Value alpha[2];
                for (int r = 0; r < 2; ++r) {
                  // Two independent chains per row, not one of BLOCK_N / 4
                  // dependent steps.
                  Value partMax[2] = {x[mt][r * 2], x[mt][r * 2 + 1]};
                  for (int nt = 1; nt < BN / 8; ++nt)
                    for (int i = 0; i < 2; ++i)
                      partMax[i] =
                          k.fmax(partMax[i], x[mt][nt * 4 + r * 2 + i]);
                  Value rowMax = k.quadReduce(k.fmax(partMax[0], partMax[1]),
                                              /*max=*/true);
                  Value mOld = state[maxIdx(mt, r)];
                  Value mNew = k.fmax(mOld, rowMax);
                  // A row with nothing kept yet keeps m = -inf; subtract 0
                  // instead so that exp2 gives 0, not NaN.
                  Value mUse =
                      k.select(k.cmpf(CmpFPredicate::OEQ, mNew, k.cf(negInf)),
                               k.cf(0), mNew);
                  alpha[r] = k.exp2(k.fsub(mOld, mUse));
                  Value partSum[2];
                  for (int nt = 0; nt < BN / 8; ++nt)
                    for (int i = 0; i < 2; ++i) {
                      Value &xi = x[mt][nt * 4 + r * 2 + i];
                      xi = k.exp2(k.fsub(xi, mUse));
                      partSum[i] = nt == 0 ? xi : k.fadd(partSum[i], xi);
                    }
                  next[maxIdx(mt, r)] = mNew;
                  next[sumIdx(mt, r)] =
                      k.fadd(k.fmul(state[sumIdx(mt, r)], alpha[r]),
                             k.fadd(partSum[0], partSum[1]));
                }
                for (int t = 0; t < d / 8; ++t)
                  for (int i = 0; i < 4; ++i)
                    next[oIdx(mt, t * 4 + i)] =
                        k.fmul(state[oIdx(mt, t * 4 + i)], alpha[i / 2]);
              }

              // Every warp is past S, so K's tile is free: the next kept
              // block's K streams in under this block's P V.
              landCopies(0);
              scf::IfOp::create(b, k.loc, nextKeep, [&](OpBuilder &, Location) {
                copyTile(kTile, BN, kView, k.mul(jNext, k.c32(BN)), seqKv);
                scf::YieldOp::create(b, k.loc);
              });

              // O += P V, P re-packed from the S accumulators. Dropout acts
              // on P for this product only (the sum above is of all of
              // P), 16 columns at a time so that the random bits live
              // briefly. Each V fragment feeds every tile.
              Value rescale =
                  k.cf(1.0f / (1.0f - float(variant.dropoutRate())));
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
                      xs[e + 1] =
                          k.select(keep1, k.fmul(xs[e + 1], rescale), k.cf(0));
                    }
                return packA(k, xs, c);
              };
              if (wgmma) {
                SmallVector<std::array<Value, 4>> p;
                for (int c = 0; c < BN / 16; ++c)
                  p.push_back(pFragment(0, c));
                SmallVector<Value> o(next.begin() + oIdx(0, 0),
                                     next.begin() + oIdx(0, numO));
                o = warpgroupAccumulate(k, p, vTile, BN, d, o);
                std::copy(o.begin(), o.end(), next.begin() + oIdx(0, 0));
              } else {
                for (int c = 0; c < BN / 16; ++c) {
                  SmallVector<std::array<Value, 4>> pFrag;
                  for (int mt = 0; mt < M; ++mt)
                    pFrag.push_back(pFragment(mt, c));
                  // V one operand per ldmatrix (x2): with two per x4, ptxas
                  // spilled the sliding-window and combined-dropout forwards
                  // at d 64.
                  for (int t = 0; t < d / 8; ++t) {
                    auto vFrag =
                        k.loadB(vTile, d, lane, k.c32(c * 16), k.c32(t * 8));
                    for (int mt = 0; mt < M; ++mt) {
                      Accumulator acc = {
                          next[oIdx(mt, t * 4)], next[oIdx(mt, t * 4 + 1)],
                          next[oIdx(mt, t * 4 + 2)], next[oIdx(mt, t * 4 + 3)]};
                      acc = k.mma(pFrag[mt], vFrag, acc);
                      for (int i = 0; i < 4; ++i)
                        next[oIdx(mt, t * 4 + i)] = acc[i];
                    }
                  }
                }
              }
              // The next block overwrites V.
              k.barrier();
              next[prefetchedIdx] = nextKeep;
              scf::YieldOp::create(b, k.loc, next);
            },
            [&](OpBuilder &, Location) {
              SmallVector<Value> next(state.begin(), state.end());
              next[prefetchedIdx] = k.cbool(false);
              scf::YieldOp::create(b, k.loc, next);
            });
        scf::YieldOp::create(b, k.loc, ifNotEmpty.getResults());
      });

  // O / l and the log-sum-exp, written once.
  ValueRange fin = loop.getResults();
  Value lse = args.get(lseArg);
  for (int mt = 0; mt < M; ++mt)
    for (int r = 0; r < 2; ++r) {
      Value row = r == 0 ? row0[mt] : row1[mt];
      Value l = k.quadReduce(fin[sumIdx(mt, r)], /*max=*/false);
      Value m = fin[maxIdx(mt, r)];
      Value empty = k.cmpf(CmpFPredicate::OEQ, l, k.cf(0));
      // A row the mask removes entirely: O = 0, lse = -inf.
      Value inv = k.select(empty, k.cf(0), k.fdiv(k.cf(1), l));
      Value rowLse = k.select(empty, k.cf(negInf),
                              k.fmul(k.fadd(m, k.log2(l)), k.cf(kLn2)));
      Value valid = k.cmpi(CmpIPredicate::slt, row, seqQ);
      scf::IfOp::create(b, k.loc, valid, [&](OpBuilder &, Location) {
        Value outRow = oView.row(k, row, seqQ);
        for (int t = 0; t < d / 8; ++t) {
          Value packed = k.pack(k.fmul(fin[oIdx(mt, t * 4 + r * 2)], inv),
                                k.fmul(fin[oIdx(mt, t * 4 + r * 2 + 1)], inv));
          Value col = k.add(k.c32(t * 8), colInTile);
          k.store(packed, k.gep(outRow, k.element(), col), 4);
        }
        Value writer =
            k.cmpi(CmpIPredicate::eq, k.remsi(lane, k.c32(4)), k.c32(0));
        scf::IfOp::create(b, k.loc, writer, [&](OpBuilder &, Location) {
          Value index = k.add(k.mul(k.ext64(bh), k.ext64(seqQ)), k.ext64(row));
          k.store(rowLse, k.gep(lse, k.f32(), index), 4);
          scf::YieldOp::create(b, k.loc);
        });
        scf::YieldOp::create(b, k.loc);
      });
    }
  LLVM::ReturnOp::create(b, k.loc, ValueRange{});

  return describeKernel(name.str(), s, args.signature());
}
