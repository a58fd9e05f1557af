//===- KernelBuilder.h - building blocks of the fused kernels ---*- C++ -*-===//
//
// The kernels are llvm.func ops whose bodies mix scf/arith/math with llvm
// pointer arithmetic and nvvm ops. KernelBuilder wraps an OpBuilder with
// one-line forms of the ops every kernel emits: constants, integer and
// float arithmetic, thread and block ids, dynamic shared memory, loads,
// stores and atomics, cp.async groups and barriers, and packing f32 pairs
// into f16x2 / bf16x2. What is built from them lives in compiler/kernel:
// the copy pipeline, mma.sync's and wgmma's operands, the fragment layout.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_KERNEL_KERNELBUILDER_H
#define FLASHJIT_COMPILER_KERNEL_KERNELBUILDER_H

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

  void commitGroup();
  void waitGroup(int pending);
  void barrier();

  /// Packs two f32 into one i32 of two input elements; `lo` is the even one.
  mlir::Value pack(mlir::Value lo, mlir::Value hi);
};

} // namespace flashjit

#endif // FLASHJIT_COMPILER_KERNEL_KERNELBUILDER_H
