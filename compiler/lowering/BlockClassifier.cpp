//===- BlockClassifier.cpp - bound a mask over a block of scores ----------===//

#include "compiler/lowering/BlockClassifier.h"

#include "compiler/rules/IntervalBoundsInterface.h"

#include <limits>

using namespace mlir;
using namespace flashjit;
using namespace flashjit::tile;

static bool isBool(Type t) { return t.isInteger(1); }
static bool isInt(Type t) { return t.isInteger(32); }

IntervalBounds BlockClassifier::unknown(Type type) {
  if (isBool(type))
    return {k.cbool(true), k.cbool(true)};
  if (isInt(type))
    return {k.c64(std::numeric_limits<int64_t>::min()),
            k.c64(std::numeric_limits<int64_t>::max()), false, 0};
  return {k.cf(-std::numeric_limits<float>::infinity()),
          k.cf(std::numeric_limits<float>::infinity())};
}

FailureOr<std::pair<Value, Value>> BlockClassifier::classify(Value keep) {
  FailureOr<IntervalBounds> b = bounds(keep);
  if (failed(b))
    return failure();
  return std::make_pair(b->lo, b->hi);
}

Value BlockClassifier::gather(KernelBuilder &k, const BufferBinding &buffer,
                              Type elementType, ArrayRef<Value> indices) {
  // Clamp every index into its extent: a program can never read outside a
  // buffer.
  Value offset;
  for (auto [dim, index] : llvm::enumerate(indices)) {
    Value last = k.sub(buffer.extents[dim], k.c32(1));
    Value i = k.ext64(k.minsi(k.maxsi(index, k.c32(0)), last));
    offset = dim == 0 ? i : k.add(k.mul(offset, buffer.rowStride), i);
  }
  return k.load(elementType, k.gep(buffer.base, elementType, offset), 4);
}

FailureOr<IntervalBounds> BlockClassifier::bounds(Value tileValue) {
  auto it = memo.find(tileValue);
  if (it != memo.end())
    return it->second;
  Operation *op = tileValue.getDefiningOp();
  if (!op)
    return failure();
  FailureOr<IntervalBounds> result = compute(op);
  if (succeeded(result))
    memo[tileValue] = *result;
  return result;
}

FailureOr<bool> BlockClassifier::intOperandsBounded(Operation *op) {
  for (Value v : op->getOperands()) {
    auto type = dyn_cast<TileType>(v.getType());
    if (!type || !isInt(type.getElementType()))
      continue;
    FailureOr<IntervalBounds> b = bounds(v);
    if (failed(b))
      return failure();
    if (b->bits == 0)
      return false;
  }
  return true;
}

FailureOr<IntervalBounds> BlockClassifier::compute(Operation *op) {
  auto rule = dyn_cast<TileIntervalBoundsOpInterface>(op);
  if (!rule)
    return op->emitOpError() << "has no bounds over a block; a mask may not "
                                "use it";
  // Integer results: unbounded if an operand is, or if i64 might overflow.
  Type type = cast<TileType>(op->getResult(0).getType()).getElementType();
  if (isInt(type) && rule.propagatesUnboundedOperands()) {
    FailureOr<bool> bounded = intOperandsBounded(op);
    if (failed(bounded))
      return failure();
    if (!*bounded)
      return unknown(type);
  }
  SmallVector<IntervalBounds> operands;
  for (Value v : op->getOperands()) {
    if (isa<BufferType>(v.getType()))
      continue; // a gather's buffer: its rule binds it
    FailureOr<IntervalBounds> b = bounds(v);
    if (failed(b))
      return failure();
    operands.push_back(*b);
  }
  return rule.inferBounds(*this, operands);
}
