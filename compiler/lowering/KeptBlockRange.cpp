//===- KeptBlockRange.cpp - the blocks a masked loop visits ---------------===//

#include "compiler/lowering/KeptBlockRange.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace flashjit;
using arith::CmpIPredicate;

/// The x in [lo, hi] found by bisection with `holds`: holds(x) or x == hi,
/// and !holds(x - 1) or x == lo. For a predicate that holds everywhere past
/// some point t (and anything before it), x <= t.
static Value bisect(KernelBuilder &k, Value lo, Value hi,
                    function_ref<Value(Value)> holds) {
  OpBuilder &b = k.b;
  Type i32 = b.getI32Type();
  auto search = scf::WhileOp::create(
      b, k.loc, TypeRange{i32, i32}, ValueRange{lo, hi},
      [&](OpBuilder &, Location, ValueRange range) {
        scf::ConditionOp::create(
            b, k.loc, k.cmpi(CmpIPredicate::slt, range[0], range[1]), range);
      },
      [&](OpBuilder &, Location, ValueRange range) {
        // lo + (hi - lo) / 2: both are block indices, no overflow either way.
        Value mid =
            k.add(range[0], k.divsi(k.sub(range[1], range[0]), k.c32(2)));
        Value yes = holds(mid);
        scf::YieldOp::create(
            b, k.loc,
            ValueRange{k.select(yes, range[0], k.add(mid, k.c32(1))),
                       k.select(yes, mid, range[1])});
      });
  return search.getResult(0);
}

BlockInterval
flashjit::keptBlockRange(KernelBuilder &k, const VariantLowering &variant,
                         Value numBlocks, int blockSize, Value extent,
                         function_ref<Value(Value, Value)> mayKeep) {
  if (!variant.hasMask() || variant.masksReadBuffers())
    return {k.c32(0), numBlocks};
  // Blocks first .. last, inclusive.
  auto mayKeepBlocks = [&](Value first, Value last) {
    Value lo = k.mul(first, k.c32(blockSize));
    Value end = k.minsi(k.mul(k.add(last, k.c32(1)), k.c32(blockSize)), extent);
    return mayKeep(lo, k.sub(end, k.c32(1)));
  };
  Value last = k.sub(numBlocks, k.c32(1));
  // Every prefix [0, x] from the first kept block on may be kept.
  Value begin = bisect(k, k.c32(0), numBlocks,
                       [&](Value x) { return mayKeepBlocks(k.c32(0), x); });
  // No suffix [x, last] up to the last kept block is empty.
  Value end = bisect(k, begin, numBlocks,
                     [&](Value x) { return k.noti(mayKeepBlocks(x, last)); });
  return {begin, end};
}
