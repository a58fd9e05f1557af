//===- TileScheduler.cpp - which work a thread block does -----------------===//

#include "compiler/kernel/TileScheduler.h"

#include "compiler/kernel/KernelBuilder.h"
#include "compiler/kernel/SequenceInfo.h"

using namespace mlir;
using namespace flashjit;

GridRule TileScheduler::grid() const {
  switch (s.kind) {
  case KernelKind::forward:
  case KernelKind::backwardQuery:
    return {GridRule::Rows::seqlenQ, s.blockM, 1, false};
  case KernelKind::backwardDelta:
    return {GridRule::Rows::seqlenQ, s.numThreads(), 1, false};
  case KernelKind::backwardKeyValue:
  case KernelKind::backwardKeyValueQuery:
    return {GridRule::Rows::seqlenKv, s.blockN, s.headDimSplit, true};
  case KernelKind::backwardQueryConvert: // 8 elements per thread
    return {GridRule::Rows::queryElementsBy8, s.numThreads(), 1, false};
  }
  return {};
}

KernelInfo flashjit::describeKernel(std::string name, const Schedule &schedule,
                                    std::vector<KernelArg> args) {
  return {std::move(name), schedule.kind, schedule,
          TileScheduler(schedule).grid(), std::move(args)};
}

QueryHead TileScheduler::queryHead(KernelBuilder &k, Value headsQ,
                                   Value headsKv) const {
  QueryHead h;
  h.bh = k.blockIdY();
  h.batch = k.divsi(h.bh, headsQ);
  h.head = k.remsi(h.bh, headsQ);
  h.headKv = k.divsi(h.head, k.divsi(headsQ, headsKv));
  return h;
}

Value TileScheduler::queryBlockStart(KernelBuilder &k,
                                     const SequenceInfo &sequences) const {
  Value numQBlocks = sequences.queryBlocks(k, s.blockM);
  return k.mul(k.sub(k.sub(numQBlocks, k.c32(1)), k.blockIdX()),
               k.c32(s.blockM));
}

KeyBlockWork TileScheduler::keyBlock(KernelBuilder &k, Value headsKv) const {
  KeyBlockWork w;
  Value bhKv = k.blockIdY();
  w.batch = k.divsi(bhKv, headsKv), w.headKv = k.remsi(bhKv, headsKv);
  w.keyBlock = k.divsi(k.blockIdX(), k.c32(s.headDimSplit));
  w.slice = k.remsi(k.blockIdX(), k.c32(s.headDimSplit));
  return w;
}

HeadWork TileScheduler::head(KernelBuilder &k, Value heads) const {
  HeadWork h;
  h.bh = k.blockIdY();
  h.batch = k.divsi(h.bh, heads), h.head = k.remsi(h.bh, heads);
  return h;
}

Value TileScheduler::workItem(KernelBuilder &k, Value tid) const {
  return k.add(k.mul(k.blockIdX(), k.c32(s.numThreads())), tid);
}
