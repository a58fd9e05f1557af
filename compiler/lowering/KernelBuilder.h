//===- KernelBuilder.h - building blocks of the fused kernels ---*- C++ -*-===//
//
// The kernels are llvm.func ops whose bodies mix scf/arith/math with llvm
// pointer arithmetic and nvvm warp-level ops. KernelBuilder wraps an
// OpBuilder with the pieces every kernel needs: integer and float helpers,
// thread and block ids, dynamic shared memory, cp.async tile copies into a
// padded shared layout, ldmatrix fragments, m16n8k16 mma, quad shuffles and
// packing f32 pairs into f16x2 / bf16x2.
//
// Fragment layout (m16n8k16, f32 accumulators): a thread holds c0, c1 at
// row lane/4, columns 2*(lane%4) + {0, 1} of an 8-column tile, and c2, c3
// at row lane/4 + 8.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_LOWERING_KERNELBUILDER_H
#define FLASHJIT_COMPILER_LOWERING_KERNELBUILDER_H

#include "compiler/schedule/Schedule.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Builders.h"

#include <array>

namespace flashjit {

/// The element type of Q, K, V, O (and dO, dQ, dK, dV).
enum class InputType { f16, bf16 };
const char *stringifyInputType(InputType type);

/// How a [rows, d] tile sits in shared memory.
enum class SharedLayout {
  /// Rows of d + 8 elements (sharedRowElements): the padding spreads the 8
  /// rows one ldmatrix reads over the banks.
  padded,
  /// The warpgroup MMA's 128-byte swizzle (WarpgroupMma.h): d / 64 panels
  /// of rows x 64 elements, 16-byte chunk c of row r at c ^ (r % 8).
  swizzled,
};

/// Four f32 accumulators of one m16n8k16 output tile.
using Accumulator = std::array<mlir::Value, 4>;

class KernelBuilder {
public:
  KernelBuilder(mlir::OpBuilder &builder, mlir::Location loc,
                InputType inputType)
      : b(builder), loc(loc), inputType(inputType) {}

  mlir::OpBuilder &b;
  mlir::Location loc;
  InputType inputType;

  // Types.
  mlir::Type i1() { return b.getI1Type(); }
  mlir::Type i32() { return b.getI32Type(); }
  mlir::Type i64() { return b.getI64Type(); }
  mlir::Type f32() { return b.getF32Type(); }
  /// f16 or bf16.
  mlir::Type element();
  mlir::Type globalPtr();
  mlir::Type sharedPtr();

  // Constants and arithmetic (i32/i64 by operand type).
  mlir::Value c32(int64_t v);
  mlir::Value c64(int64_t v);
  mlir::Value cf(float v);
  mlir::Value cbool(bool v);
  mlir::Value add(mlir::Value a, mlir::Value b);
  mlir::Value sub(mlir::Value a, mlir::Value b);
  mlir::Value mul(mlir::Value a, mlir::Value b);
  mlir::Value divsi(mlir::Value a, mlir::Value b);
  mlir::Value remsi(mlir::Value a, mlir::Value b);
  mlir::Value minsi(mlir::Value a, mlir::Value b);
  mlir::Value maxsi(mlir::Value a, mlir::Value b);
  mlir::Value cmpi(mlir::arith::CmpIPredicate p, mlir::Value a, mlir::Value b);
  mlir::Value cmpf(mlir::arith::CmpFPredicate p, mlir::Value a, mlir::Value b);
  mlir::Value select(mlir::Value c, mlir::Value a, mlir::Value b);
  mlir::Value andi(mlir::Value a, mlir::Value b);
  mlir::Value ori(mlir::Value a, mlir::Value b);
  mlir::Value xori(mlir::Value a, mlir::Value b);
  mlir::Value noti(mlir::Value a);
  mlir::Value ext64(mlir::Value a);
  mlir::Value trunc32(mlir::Value a);
  mlir::Value fadd(mlir::Value a, mlir::Value b);
  mlir::Value fsub(mlir::Value a, mlir::Value b);
  mlir::Value fmul(mlir::Value a, mlir::Value b);
  mlir::Value fdiv(mlir::Value a, mlir::Value b);
  mlir::Value fmax(mlir::Value a, mlir::Value b);
  mlir::Value exp2(mlir::Value a);
  mlir::Value log2(mlir::Value a);

  // Thread geometry.
  mlir::Value threadId(int numThreads);
  mlir::Value blockIdX();
  mlir::Value blockIdY();

  // Memory.
  /// Declares the kernel module's dynamic shared memory (`extern
  /// __shared__`) and returns its address.
  mlir::Value dynamicSharedMemory(mlir::ModuleOp module);
  /// `base + index` elements of `elementType`; index is i32 or i64.
  mlir::Value gep(mlir::Value base, mlir::Type elementType, mlir::Value index);
  mlir::Value load(mlir::Type type, mlir::Value ptr, unsigned align);
  void store(mlir::Value value, mlir::Value ptr, unsigned align);
  /// *ptr += value on an f32 in global memory, relaxed at device scope
  /// (its result unused: ptxas makes it a `red`).
  void atomicAdd(mlir::Value ptr, mlir::Value value);
  /// ptr[0] += lo, ptr[1] += hi (ptr 8-byte aligned): one `red.v2.f32` where
  /// `vector` (sm_90 and newer), else two atomicAdds.
  void atomicAddPair(mlir::Value ptr, mlir::Value lo, mlir::Value hi,
                     bool vector);

  /// Copies a [rows, d] tile of input elements from global memory into a
  /// padded shared tile with 16-byte cp.async copies spread over
  /// `numThreads` threads. Row r reads `rowPtr(r)` (already offset to the
  /// tile's row r) if `rowValid(r)`, else zero-fills.
  void copyTileAsync(mlir::Value sharedTile, int rows, int headDim,
                     mlir::Value thread, int numThreads,
                     llvm::function_ref<mlir::Value(mlir::Value row)> rowPtr,
                     llvm::function_ref<mlir::Value(mlir::Value row)> rowValid,
                     SharedLayout layout = SharedLayout::padded);
  void commitGroup();
  void waitGroup(int pending);
  void barrier();

  // Warp-level matrix fragments from padded shared tiles [rows, d].
  /// A operand (x4) of rows [row0, row0 + 16) and columns [col0, col0 + 16).
  std::array<mlir::Value, 4> loadA(mlir::Value tile, int headDim,
                                   mlir::Value lane, mlir::Value row0,
                                   int col0);
  /// B operand (x2) for out = A * tileᵀ: 8 tile rows [row0, row0 + 8) as
  /// columns n, tile columns [col0, col0 + 16) as k.
  std::array<mlir::Value, 2> loadBTransposed(mlir::Value tile, int headDim,
                                             mlir::Value lane, mlir::Value row0,
                                             int col0);
  /// B operand (x2, ldmatrix .trans) for out = A * tile: tile rows
  /// [row0, row0 + 16) as k, tile columns [col0, col0 + 8) as n.
  /// `swizzledRows`, where given, says the tile is in the swizzled layout
  /// with that many rows (here and in loadBPair and forEachB).
  std::array<mlir::Value, 2> loadB(mlir::Value tile, int headDim,
                                   mlir::Value lane, mlir::Value row0,
                                   mlir::Value col0, int swizzledRows = 0);
  /// Two B operands from one ldmatrix x4: loadBTransposed of rows
  /// [row0, row0 + 8) and of [row0 + 8, row0 + 16). Halves the ldmatrix
  /// instructions per product.
  std::array<std::array<mlir::Value, 2>, 2>
  loadBTransposedPair(mlir::Value tile, int headDim, mlir::Value lane,
                      mlir::Value row0, int col0);
  /// Two B operands from one ldmatrix x4 .trans: loadB of columns
  /// [col0, col0 + 8) and of [col0 + 8, col0 + 16).
  std::array<std::array<mlir::Value, 2>, 2>
  loadBPair(mlir::Value tile, int headDim, mlir::Value lane, mlir::Value row0,
            mlir::Value col0, int swizzledRows = 0);
  /// Hands `use(t, operand)` the B operands t = 0 .. count - 1 of
  /// loadBTransposed at rows row0 + 8 t, two per ldmatrix x4, in order.
  void forEachBTransposed(
      mlir::Value tile, int headDim, mlir::Value lane, int row0, int col0,
      int count,
      llvm::function_ref<void(int, const std::array<mlir::Value, 2> &)> use);
  /// Hands `use(t, operand)` the B operands t = 0 .. count - 1 of loadB at
  /// columns col0 + 8 t, two per ldmatrix x4, in order.
  void forEachB(
      mlir::Value tile, int headDim, mlir::Value lane, mlir::Value row0,
      mlir::Value col0, int count,
      llvm::function_ref<void(int, const std::array<mlir::Value, 2> &)> use,
      int swizzledRows = 0);
  /// A operand (x4, ldmatrix .trans) of a tile stored transposed: tile
  /// columns [m0, m0 + 16) as the rows m, tile rows [k0, k0 + 16) as k.
  /// `width` is the tile's unpadded row length.
  std::array<mlir::Value, 4> loadATransposed(mlir::Value tile, int width,
                                             mlir::Value lane, mlir::Value m0,
                                             int k0);
  /// d = a * b + c with m16n8k16, f32 accumulation.
  Accumulator mma(llvm::ArrayRef<mlir::Value> a, llvm::ArrayRef<mlir::Value> b,
                  const Accumulator &c);
  /// Packs two f32 into one i32 of two input elements; `lo` is the even one.
  mlir::Value pack(mlir::Value lo, mlir::Value hi);
  /// Butterfly shuffle across the 4 lanes that share a row.
  mlir::Value quadReduce(mlir::Value v, bool max);

private:
  mlir::Value shuffleXor(mlir::Value v, int offset);
  /// The address of element (row, col) of a [rows, headDim] tile: padded,
  /// or swizzled with `swizzledRows` rows; col a multiple of 8.
  mlir::Value tileAddress(mlir::Value tile, int headDim, int swizzledRows,
                          mlir::Value row, mlir::Value col);
};

} // namespace flashjit

#endif // FLASHJIT_COMPILER_LOWERING_KERNELBUILDER_H
