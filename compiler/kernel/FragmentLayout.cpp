//===- FragmentLayout.cpp - a lane's place in m16n8 tiles -----------------===//

#include "compiler/kernel/FragmentLayout.h"

using namespace mlir;
using namespace flashjit;

Value flashjit::fragmentRow(KernelBuilder &k, Value lane) {
  return k.divsi(lane, k.c32(4));
}

Value flashjit::fragmentColumn(KernelBuilder &k, Value lane) {
  return k.mul(k.remsi(lane, k.c32(4)), k.c32(2));
}

Value flashjit::leadsFragmentRow(KernelBuilder &k, Value lane) {
  return k.cmpi(arith::CmpIPredicate::eq, k.remsi(lane, k.c32(4)), k.c32(0));
}

static Value shuffleXor(KernelBuilder &k, Value v, int offset) {
  return NVVM::ShflOp::create(k.b, k.loc, v.getType(), k.c32(-1), v,
                              k.c32(offset), k.c32(0x1f), NVVM::ShflKind::bfly,
                              UnitAttr());
}

Value flashjit::quadReduce(KernelBuilder &k, Value v, bool max) {
  for (int offset : {1, 2}) {
    Value other = shuffleXor(k, v, offset);
    v = max ? k.fmax(v, other) : k.fadd(v, other);
  }
  return v;
}
