//===- Epilogue.h - accumulators out of registers ---------------*- C++ -*-===//
//
// How the kernels' accumulators leave the chip: rows of m16n8 tiles stored
// in the input type (O, dQ, dK, dV), and dK/dV's share of dQ, multiplied
// out of shared memory and added with f32 atomics into the workspace.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_ATTENTION_EPILOGUE_H
#define FLASHJIT_COMPILER_ATTENTION_EPILOGUE_H

#include "compiler/lowering/KernelCommon.h"

namespace flashjit {

/// Writes accumulator rows `rowBase` and `rowBase + 8` (those below
/// `limit`) of `acc`, tile t covering columns colBase + 8t .. + 8, to the
/// view in the input type; `scale[r]` multiplies row r if given.
void storeAccumulatorRows(KernelBuilder &k, const TensorView &view,
                          llvm::ArrayRef<Accumulator> acc, mlir::Value rowBase,
                          mlir::Value limit, int colBase, mlir::Value lane,
                          llvm::ArrayRef<mlir::Value> scale = {});

/// dQ[qStart .., colBase ..] += dS K for one streamed query block. The
/// (BLOCK_M / 16) x (d / split / 8) output tiles go out in units of one
/// tile row and `run` tile columns, unit u to warp u % warps; each unit's
/// product runs over all BLOCK_N keys and is added with f32 atomics to the
/// [B * Hq, Nq, d] workspace before the next unit's begins, so that only
/// `run` accumulators are live beside dK and dV.
void addQueryGradient(KernelBuilder &k, const Schedule &s, mlir::Value dsTile,
                      mlir::Value kTile, SharedLayout kLayout, int colBase,
                      mlir::Value warp, mlir::Value lane, mlir::Value dqAccum,
                      mlir::Value bh, mlir::Value qStart, mlir::Value seqQ);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_ATTENTION_EPILOGUE_H
