//===- SharedMemoryPlan.cpp - where a kernel's tiles sit in shared memory -===//

#include "compiler/schedule/SharedMemoryPlan.h"

#include <cassert>

using namespace flashjit;

void SharedMemoryPlan::add(std::string name, int bytes) {
  all.push_back({std::move(name), this->bytes(), bytes});
}

const SharedRegion &SharedMemoryPlan::region(const std::string &name) const {
  for (const SharedRegion &r : all)
    if (r.name == name)
      return r;
  assert(false && "no such shared-memory region");
  return all.front();
}

SharedMemoryPlan flashjit::sharedMemoryPlanOf(const Schedule &s) {
  const int e = s.elementBytes;
  // The warpgroup MMA's swizzled tiles need no padding.
  const int rowBytes =
      (s.warpgroupMma ? s.headDim : sharedRowElements(s.headDim)) * e;
  const int tileM = s.blockM * rowBytes, tileN = s.blockN * rowBytes;
  SharedMemoryPlan plan;
  switch (s.kind) {
  case KernelKind::forward:
    // Q stays resident; K and V (per stage) stream.
    plan.add("q", tileM);
    plan.add("k", s.numStages * tileN);
    plan.add("v", s.numStages * tileN);
    break;
  case KernelKind::backwardQuery:
    // Q and dO stay resident; K and V (per stage) stream.
    plan.add("q", tileM);
    plan.add("do", tileM);
    plan.add("k", s.numStages * tileN);
    plan.add("v", s.numStages * tileN);
    break;
  case KernelKind::backwardKeyValue:
  case KernelKind::backwardKeyValueQuery:
    // K and V resident; Q and dO stream. Pᵀ and dSᵀ stay in registers as
    // the A operands of dV and dK; with dQ, dSᵀ also goes to shared memory
    // as the A operand of dS K. Each stage also holds the query block's
    // row statistics (log2 lse and delta, 8 bytes a row).
    plan.add("k", tileN);
    plan.add("v", tileN);
    plan.add("query_stages", s.numStages * 2 * tileM);
    plan.add("ds", s.kind == KernelKind::backwardKeyValueQuery
                       ? s.blockN * sharedRowElements(s.blockM) * e
                       : 0);
    plan.add("stats", s.numStages * 8 * s.blockM);
    break;
  case KernelKind::backwardDelta:
  case KernelKind::backwardQueryConvert:
    break;
  }
  return plan;
}
