//===- VariantLowering.h - a variant's pieces inside a kernel ---*- C++ -*-===//
//
// What every kernel of a variant shares: its launch arguments (scalar
// parameters, auxiliary buffers, the dropout seed and offset), the modified
// score and the mask at one element, the classification of a block, and the
// dropout decision at one element.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_LOWERING_VARIANTLOWERING_H
#define FLASHJIT_COMPILER_LOWERING_VARIANTLOWERING_H

#include "compiler/analysis/AttentionChain.h"
#include "compiler/kernel/KernelBuilder.h"
#include "compiler/kernel/LaunchContract.h"
#include "compiler/lowering/BlockClassifier.h"
#include "compiler/lowering/ScoreDerivative.h"

namespace flashjit {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

/// Collects a kernel's parameters, then creates the function and hands out
/// its arguments by the index `add` returned.
class KernelArgs {
public:
  explicit KernelArgs(KernelBuilder &k) : k(k) {}
  unsigned add(std::string name, KernelArg::Kind kind);
  /// Creates the kernel, marked for `numThreads` threads, with its entry
  /// block as the insertion point.
  mlir::LLVM::LLVMFuncOp createKernel(mlir::ModuleOp module,
                                      llvm::StringRef name, int numThreads);
  mlir::Value get(unsigned index) const;
  const std::vector<KernelArg> &signature() const { return args; }

private:
  KernelBuilder &k;
  std::vector<KernelArg> args;
  mutable mlir::LLVM::LLVMFuncOp func;
};

class VariantLowering {
public:
  VariantLowering(KernelBuilder &k, const AttentionChain &chain)
      : k(k), chain(chain) {}

  /// Declares the variant's launch arguments, after the kernel's own.
  void declareArgs(KernelArgs &args);
  /// Binds the declared arguments and the launch's uniform scalars (i32
  /// batch and query head of this thread block, B, Hq, Nq, Nkv; f32
  /// softmax scale).
  void bind(const KernelArgs &args, mlir::Value batch, mlir::Value head,
            mlir::Value batchSize, mlir::Value numHeads, mlir::Value seqlenQ,
            mlir::Value seqlenKv, mlir::Value scale);

  bool hasMask() const { return !chain.masks.empty(); }
  /// Whether a mask gathers from an auxiliary buffer (document ids): its
  /// classification of a range of rows scans the range.
  bool masksReadBuffers() const;
  bool hasDropout() const { return bool(chain.dropout); }
  double dropoutRate() const;

  /// The modified score (f32) of raw score `score` at (q, kv), i32 indices,
  /// times log2(e): the softmax runs on exp2. A modification that ends in a
  /// product with a scalar (the softmax scale) takes log2(e) into that
  /// scalar, so the common case costs one multiply per element.
  mlir::Value log2ScoreAt(mlir::Value score, mlir::Value q, mlir::Value kv);
  /// The derivative d(modified score)/d(raw score) at the same element.
  ScoreTangent scoreDerivativeAt(mlir::Value score, mlir::Value q,
                                 mlir::Value kv);
  /// Whether the masks keep (q, kv); null when the variant has none.
  mlir::Value keepAt(mlir::Value q, mlir::Value kv);
  /// (may be kept, may be masked) over the block [qLo, qHi] x [kvLo, kvHi].
  std::pair<mlir::Value, mlir::Value> classifyBlock(mlir::Value qLo,
                                                    mlir::Value qHi,
                                                    mlir::Value kvLo,
                                                    mlir::Value kvHi);
  /// Dropout keeps of the two adjacent columns (kv, kv + 1), kv even, of
  /// query row q: Philox once per group of four columns.
  std::pair<mlir::Value, mlir::Value> dropoutKeepPair(mlir::Value q,
                                                      mlir::Value kv);
  /// Dropout's keep of one element (q, kv).
  mlir::Value dropoutKeepAt(mlir::Value q, mlir::Value kv);

private:
  std::array<mlir::Value, 4> philoxWords(mlir::Value q, mlir::Value kv);
  mlir::Value scalarOf(mlir::Operation *leaf);
  BufferBinding bufferOf(tile::BufferOp op);

  KernelBuilder &k;
  AttentionChain chain;
  // Argument indices of parameters, buffers (base, extents, row stride),
  // and the dropout seed and offset.
  llvm::DenseMap<mlir::Operation *, unsigned> paramArg;
  llvm::DenseMap<mlir::Operation *, std::vector<unsigned>> bufferArgs;
  unsigned seedArg = 0, offsetArg = 0;
  const KernelArgs *args = nullptr;
  mlir::Value batch, head, batchSize, numHeads, seqlenQ, seqlenKv, scale;
};

} // namespace flashjit

#endif // FLASHJIT_COMPILER_LOWERING_VARIANTLOWERING_H
