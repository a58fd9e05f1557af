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
