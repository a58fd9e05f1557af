//===- SharedMemoryPlan.h - where a kernel's tiles sit in shared memory ---===//
//
// One description of a kernel's dynamic shared memory: its regions in
// order, each right after the previous. The schedule takes its size from
// it (and checks it against the target), the kernel carves its tiles from
// it, so that the two cannot disagree.
//
//   forward           q [BM, d], k [stages x BN, d], v [stages x BN, d]
//   backward_dq       q, do [BM, d], k, v [stages x BN, d]
//   backward_dkdv(dq) k, v [BN, d], query_stages [stages x (q, do) [BM, d]],
//                     ds [BN, BM + 8] (with dq; else empty),
//                     stats [stages x (log2 lse, delta) [BM] f32]
//
// Rows of d sit padded to sharedRowElements(d) elements for mma.sync's
// ldmatrix, unpadded for the warpgroup MMA's swizzled layout.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_SCHEDULE_SHAREDMEMORYPLAN_H
#define FLASHJIT_COMPILER_SCHEDULE_SHAREDMEMORYPLAN_H

#include "compiler/schedule/Schedule.h"

#include <string>
#include <vector>

namespace flashjit {

struct SharedRegion {
  std::string name;
  int offset = 0, bytes = 0;
};

class SharedMemoryPlan {
public:
  /// Appends a region of `bytes` after the last.
  void add(std::string name, int bytes);

  const std::vector<SharedRegion> &regions() const { return all; }
  /// The region named `name` (which must exist).
  const SharedRegion &region(const std::string &name) const;
  /// The dynamic shared memory the kernel is launched with.
  int bytes() const {
    return all.empty() ? 0 : all.back().offset + all.back().bytes;
  }

private:
  std::vector<SharedRegion> all;
};

/// The plan of the kernel `s` configures (its kind, block shape, head dim,
/// element size, stages and MMA engine).
SharedMemoryPlan sharedMemoryPlanOf(const Schedule &s);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_SCHEDULE_SHAREDMEMORYPLAN_H
