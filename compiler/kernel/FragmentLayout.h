//===- FragmentLayout.h - a lane's place in m16n8 tiles ---------*- C++ -*-===//
//
// Where a lane's values sit in the m16n8 tiles of mma.sync's accumulators,
// which are also the layout of its A fragments and of the warpgroup MMA's
// accumulators (each warp holding 16 of the warpgroup's rows): value i of
// tile n is at row fragmentRow + 8 * (i / 2) and column 8 n +
// fragmentColumn + i % 2 of the warp's 16 rows. The four lanes of a quad
// share a row.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_KERNEL_FRAGMENTLAYOUT_H
#define FLASHJIT_COMPILER_KERNEL_FRAGMENTLAYOUT_H

#include "compiler/kernel/KernelBuilder.h"

namespace flashjit {

/// The first of the lane's two rows (the other is 8 below): lane / 4.
mlir::Value fragmentRow(KernelBuilder &k, mlir::Value lane);
/// The first of the lane's two columns in each 8-column tile: 2 (lane % 4).
mlir::Value fragmentColumn(KernelBuilder &k, mlir::Value lane);
/// Whether the lane is its quad's first, the one that writes what the quad
/// reduced for its rows.
mlir::Value leadsFragmentRow(KernelBuilder &k, mlir::Value lane);
/// The max (or sum) of `v` over the quad's lanes, in every lane of it: a
/// row's reduction once each lane has reduced its own columns.
mlir::Value quadReduce(KernelBuilder &k, mlir::Value v, bool max);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_KERNEL_FRAGMENTLAYOUT_H
