//===- BlockClassifier.h - bound a mask over a block of scores --*- C++ -*-===//
//
// A block of scores (query rows [qLo, qHi], key rows [kvLo, kvHi]) is empty
// if the mask is false everywhere in it, full if it is true everywhere, and
// partial otherwise. BlockClassifier emits the code that decides this by
// interval arithmetic over the mask expression: indices become their ranges,
// scalars (parameters, extents, head, batch) points, and gathers from
// auxiliary buffers the minimum and maximum over the range they read (a
// short loop at run time, as for document ids). Masks affine in q and kv
// (causal, sliding window, prefix LM) reduce to a few integer comparisons.
// Each op's rule is its TileIntervalBoundsOpInterface (compiler/rules/).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_LOWERING_BLOCKCLASSIFIER_H
#define FLASHJIT_COMPILER_LOWERING_BLOCKCLASSIFIER_H

#include "compiler/kernel/KernelBuilder.h"
#include "dialects/tile/TileDialect.h"

#include "llvm/ADT/DenseMap.h"

namespace flashjit {

/// Where a kernel keeps an auxiliary buffer.
struct BufferBinding {
  mlir::Value base;                          ///< !llvm.ptr<1>
  llvm::SmallVector<mlir::Value, 2> extents; ///< i32 per dimension
  mlir::Value rowStride;                     ///< i64, elements; rank 2 only
};

/// A value's interval over the block: lo/hi for i32 values (held as i64)
/// and f32 values; for i1 values lo is "may be true" and hi "may be false".
struct IntervalBounds {
  mlir::Value lo, hi;
  bool point = false; ///< known at compile time to be a single value
  /// Integers: an upper bound on the bits of |lo| and |hi|, so that i64
  /// interval arithmetic never overflows; 0 for unbounded.
  int bits = 32;
};

class BlockClassifier {
public:
  struct Inputs {
    /// The scalar (i32 or f32) of a leaf that is uniform over the kernel:
    /// tile.index batch/head, tile.extent, tile.param, tile.softmax_scale.
    llvm::function_ref<mlir::Value(mlir::Operation *)> scalar;
    llvm::function_ref<BufferBinding(tile::BufferOp)> buffer;
    /// The block, inclusive, as i32.
    mlir::Value qLo, qHi, kvLo, kvHi;
  };

  BlockClassifier(KernelBuilder &k, Inputs inputs) : k(k), in(inputs) {}

  /// i1 values: whether `keep` may be true and may be false somewhere in
  /// the block. Fails (after emitting an error) on an op with no rule.
  mlir::FailureOr<std::pair<mlir::Value, mlir::Value>>
  classify(mlir::Value keep);

  /// The value of a clamped gather from a bound buffer at one element.
  static mlir::Value gather(KernelBuilder &k, const BufferBinding &buffer,
                            mlir::Type elementType,
                            llvm::ArrayRef<mlir::Value> indices);

  // What the rules build with.
  KernelBuilder &builder() const { return k; }
  const Inputs &inputs() const { return in; }
  /// Nothing known about a value of element type `type`.
  IntervalBounds unknown(mlir::Type type);

private:
  mlir::FailureOr<IntervalBounds> bounds(mlir::Value tileValue);
  mlir::FailureOr<IntervalBounds> compute(mlir::Operation *op);
  /// Whether no i32 operand of `op` is unbounded, looking no further than
  /// the first that is.
  mlir::FailureOr<bool> intOperandsBounded(mlir::Operation *op);

  KernelBuilder &k;
  Inputs in;
  llvm::DenseMap<mlir::Value, IntervalBounds> memo;
};

} // namespace flashjit

#endif // FLASHJIT_COMPILER_LOWERING_BLOCKCLASSIFIER_H
