//===- KernelCommon.cpp - pieces the forward and backward share -----------===//

#include "compiler/lowering/KernelCommon.h"

using namespace mlir;
using namespace flashjit;

ThreadPosition flashjit::threadPosition(KernelBuilder &k, int numThreads) {
  Value tid = k.threadId(numThreads);
  return {tid, k.remsi(tid, k.c32(32)), k.divsi(tid, k.c32(32))};
}

TensorArgs flashjit::declareTensor(KernelArgs &args, const std::string &name) {
  using Kind = KernelArg::Kind;
  return {args.add(name, Kind::pointer),
          args.add(name + ".batch_stride", Kind::i64),
          args.add(name + ".head_stride", Kind::i64),
          args.add(name + ".row_stride", Kind::i64)};
}

Value TensorView::row(KernelBuilder &k, Value rowIndex, Value rows) const {
  Value clamped = k.maxsi(k.minsi(rowIndex, k.sub(rows, k.c32(1))), k.c32(0));
  return k.gep(base, k.element(), k.mul(k.ext64(clamped), rowStride));
}

TensorView flashjit::viewOf(KernelBuilder &k, const KernelArgs &args,
                            const TensorArgs &t, Value batch, Value head) {
  Value offset = k.add(k.mul(k.ext64(batch), args.get(t.batchStride)),
                       k.mul(k.ext64(head), args.get(t.headStride)));
  return {k.gep(args.get(t.ptr), k.element(), offset), args.get(t.rowStride)};
}
