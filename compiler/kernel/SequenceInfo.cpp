//===- SequenceInfo.cpp - the sequences a thread block works on -----------===//

#include "compiler/kernel/SequenceInfo.h"

using namespace mlir;
using namespace flashjit;
using arith::CmpIPredicate;

namespace {

Value blocksOf(KernelBuilder &k, Value length, int rows) {
  return k.divsi(k.add(length, k.c32(rows - 1)), k.c32(rows));
}

Value lastRowOf(KernelBuilder &k, Value start, int rows, Value length) {
  return k.sub(k.minsi(k.add(start, k.c32(rows)), length), k.c32(1));
}

Value inBounds(KernelBuilder &k, Value start, int rows, Value length) {
  return k.cmpi(CmpIPredicate::sle, k.add(start, k.c32(rows)), length);
}

} // namespace

Value SequenceInfo::queryBlocks(KernelBuilder &k, int rows) const {
  return blocksOf(k, seqQ, rows);
}

Value SequenceInfo::keyBlocks(KernelBuilder &k, int rows) const {
  return blocksOf(k, seqKv, rows);
}

Value SequenceInfo::lastQueryRow(KernelBuilder &k, Value start,
                                 int rows) const {
  return lastRowOf(k, start, rows, seqQ);
}

Value SequenceInfo::lastKeyRow(KernelBuilder &k, Value start, int rows) const {
  return lastRowOf(k, start, rows, seqKv);
}

Value SequenceInfo::queryBlockInBounds(KernelBuilder &k, Value start,
                                       int rows) const {
  return inBounds(k, start, rows, seqQ);
}

Value SequenceInfo::keyBlockInBounds(KernelBuilder &k, Value start,
                                     int rows) const {
  return inBounds(k, start, rows, seqKv);
}

Value SequenceInfo::statisticIndex(KernelBuilder &k, Value bh,
                                   Value row) const {
  return k.add(k.mul(k.ext64(bh), k.ext64(seqQ)), k.ext64(row));
}
