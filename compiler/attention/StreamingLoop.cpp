//===- StreamingLoop.cpp - the loop over the blocks a mask keeps ----------===//

#include "compiler/attention/StreamingLoop.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace flashjit;
using arith::CmpIPredicate;

StreamingLoop::StreamingLoop(KernelBuilder &k, const SequenceInfo &sequences,
                             Side side, int blockRows, BlockInterval blocks,
                             Classify classify)
    : k(k), sequences(sequences), side(side), blockRows(blockRows),
      blocks(blocks), classify(std::move(classify)), begin(blocks.begin),
      end(blocks.end) {}

void StreamingLoop::rotate(Value by) {
  count = k.sub(blocks.end, blocks.begin);
  rotation = by;
  begin = k.c32(0);
  end = count;
}

Value StreamingLoop::startOf(Value i) const {
  Value block =
      rotation ? k.add(blocks.begin, k.remsi(k.add(i, rotation), count)) : i;
  return k.mul(block, k.c32(blockRows));
}

Value StreamingLoop::lastRowOf(Value start) const {
  return side == Side::keys ? sequences.lastKeyRow(k, start, blockRows)
                            : sequences.lastQueryRow(k, start, blockRows);
}

std::pair<Value, Value> StreamingLoop::classifyFrom(Value start) const {
  Value hi = lastRowOf(start);
  return classify(start, hi);
}

std::pair<Value, Value> StreamingLoop::next(Value i) const {
  Value iNext = k.add(i, k.c32(1));
  Value nextStart = startOf(iNext);
  Value nextMayKeep = k.andi(k.cmpi(CmpIPredicate::slt, iNext, end),
                             classifyFrom(nextStart).first);
  return {nextMayKeep, nextStart};
}

StreamedBlock StreamingLoop::blockAt(Value i) const {
  StreamedBlock block;
  block.index = i;
  block.start = startOf(i);
  auto [mayKeep, mayMask] = classifyFrom(block.start);
  block.mayKeep = mayKeep;
  Value inBounds =
      side == Side::keys
          ? sequences.keyBlockInBounds(k, block.start, blockRows)
          : sequences.queryBlockInBounds(k, block.start, blockRows);
  block.full = k.andi(k.noti(mayMask), inBounds);
  if (alsoFull)
    block.full = k.andi(block.full, alsoFull);
  if (decidesNext)
    std::tie(block.nextMayKeep, block.nextStart) = next(i);
  return block;
}

SmallVector<Value> StreamingLoop::run(ValueRange init, Step visit,
                                      Step skip) const {
  auto loop = scf::ForOp::create(
      k.b, k.loc, begin, end, k.c32(1), init,
      [&](OpBuilder &, Location, Value i, ValueRange state) {
        StreamedBlock block = blockAt(i);
        auto ifKept = scf::IfOp::create(
            k.b, k.loc, block.mayKeep,
            [&](OpBuilder &, Location) {
              scf::YieldOp::create(k.b, k.loc, visit(block, state));
            },
            [&](OpBuilder &, Location) {
              scf::YieldOp::create(k.b, k.loc, skip(block, state));
            });
        scf::YieldOp::create(k.b, k.loc, ifKept.getResults());
      });
  return SmallVector<Value>(loop.getResults());
}
