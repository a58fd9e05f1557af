//===- KernelBuilder.cpp - building blocks of the fused kernels -----------===//

#include "compiler/kernel/KernelBuilder.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace flashjit;

const char *flashjit::stringifyInputType(InputType type) {
  return type == InputType::f16 ? "f16" : "bf16";
}

Type KernelBuilder::element() {
  return inputType == InputType::f16 ? Type(b.getF16Type())
                                     : Type(b.getBF16Type());
}
Type KernelBuilder::globalPtr() {
  return LLVM::LLVMPointerType::get(b.getContext(), 1);
}
Type KernelBuilder::sharedPtr() {
  return LLVM::LLVMPointerType::get(b.getContext(), 3);
}

Value KernelBuilder::c32(int64_t v) {
  return arith::ConstantIntOp::create(b, loc, i32(), v);
}
Value KernelBuilder::c64(int64_t v) {
  return arith::ConstantIntOp::create(b, loc, i64(), v);
}
Value KernelBuilder::cf(float v) {
  return arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(v));
}
Value KernelBuilder::cbool(bool v) {
  return arith::ConstantIntOp::create(b, loc, i1(), v);
}
Value KernelBuilder::add(Value x, Value y) {
  return arith::AddIOp::create(b, loc, x, y);
}
Value KernelBuilder::sub(Value x, Value y) {
  return arith::SubIOp::create(b, loc, x, y);
}
Value KernelBuilder::mul(Value x, Value y) {
  return arith::MulIOp::create(b, loc, x, y);
}
Value KernelBuilder::divsi(Value x, Value y) {
  return arith::DivSIOp::create(b, loc, x, y);
}
Value KernelBuilder::remsi(Value x, Value y) {
  return arith::RemSIOp::create(b, loc, x, y);
}
Value KernelBuilder::minsi(Value x, Value y) {
  return arith::MinSIOp::create(b, loc, x, y);
}
Value KernelBuilder::maxsi(Value x, Value y) {
  return arith::MaxSIOp::create(b, loc, x, y);
}
Value KernelBuilder::cmpi(arith::CmpIPredicate p, Value x, Value y) {
  return arith::CmpIOp::create(b, loc, p, x, y);
}
Value KernelBuilder::cmpf(arith::CmpFPredicate p, Value x, Value y) {
  return arith::CmpFOp::create(b, loc, p, x, y);
}
Value KernelBuilder::select(Value c, Value x, Value y) {
  return arith::SelectOp::create(b, loc, c, x, y);
}
Value KernelBuilder::andi(Value x, Value y) {
  return arith::AndIOp::create(b, loc, x, y);
}
Value KernelBuilder::ori(Value x, Value y) {
  return arith::OrIOp::create(b, loc, x, y);
}
Value KernelBuilder::xori(Value x, Value y) {
  return arith::XOrIOp::create(b, loc, x, y);
}
Value KernelBuilder::noti(Value x) {
  return arith::XOrIOp::create(b, loc, x, cbool(true));
}
Value KernelBuilder::ext64(Value x) {
  return arith::ExtSIOp::create(b, loc, i64(), x);
}
Value KernelBuilder::trunc32(Value x) {
  return arith::TruncIOp::create(b, loc, i32(), x);
}
Value KernelBuilder::fadd(Value x, Value y) {
  return arith::AddFOp::create(b, loc, x, y);
}
Value KernelBuilder::fsub(Value x, Value y) {
  return arith::SubFOp::create(b, loc, x, y);
}
Value KernelBuilder::fmul(Value x, Value y) {
  return arith::MulFOp::create(b, loc, x, y);
}
Value KernelBuilder::fdiv(Value x, Value y) {
  return arith::DivFOp::create(b, loc, x, y);
}
Value KernelBuilder::fmax(Value x, Value y) {
  return arith::MaxNumFOp::create(b, loc, x, y);
}
Value KernelBuilder::exp2(Value x) { return math::Exp2Op::create(b, loc, x); }
Value KernelBuilder::log2(Value x) { return math::Log2Op::create(b, loc, x); }

Value KernelBuilder::threadId(int numThreads) {
  return NVVM::ThreadIdXOp::create(
      b, loc, i32(),
      LLVM::ConstantRangeAttr::get(b.getContext(), 32, 0, numThreads));
}
Value KernelBuilder::blockIdX() {
  return NVVM::BlockIdXOp::create(b, loc, i32());
}
Value KernelBuilder::blockIdY() {
  return NVVM::BlockIdYOp::create(b, loc, i32());
}

Value KernelBuilder::dynamicSharedMemory(ModuleOp module) {
  constexpr StringLiteral name = "flashjit_shared";
  auto global = module.lookupSymbol<LLVM::GlobalOp>(name);
  if (!global) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    global = LLVM::GlobalOp::create(
        b, loc, LLVM::LLVMArrayType::get(b.getI8Type(), 0),
        /*isConstant=*/false, LLVM::Linkage::External, name, Attribute(),
        /*alignment=*/1024, /*addrSpace=*/3); // the 128-byte swizzle's atom
  }
  return LLVM::AddressOfOp::create(b, loc, global);
}

Value KernelBuilder::gep(Value base, Type elementType, Value index) {
  return LLVM::GEPOp::create(b, loc, base.getType(), elementType, base,
                             ArrayRef<LLVM::GEPArg>{index},
                             LLVM::GEPNoWrapFlags::inbounds);
}
Value KernelBuilder::load(Type type, Value ptr, unsigned align) {
  return LLVM::LoadOp::create(b, loc, type, ptr, align);
}
void KernelBuilder::store(Value value, Value ptr, unsigned align) {
  LLVM::StoreOp::create(b, loc, value, ptr, align);
}

void KernelBuilder::atomicAdd(Value ptr, Value value) {
  LLVM::AtomicRMWOp::create(b, loc, LLVM::AtomicBinOp::fadd, ptr, value,
                            LLVM::AtomicOrdering::monotonic,
                            /*syncscope=*/"device", /*alignment=*/4);
}

void KernelBuilder::atomicAddPair(Value ptr, Value lo, Value hi, bool vector) {
  if (!vector) {
    atomicAdd(ptr, lo);
    atomicAdd(gep(ptr, f32(), c32(1)), hi);
    return;
  }
  // No LLVM IR form lowers to the vector red, hence inline PTX.
  Value address = LLVM::PtrToIntOp::create(b, loc, i64(), ptr);
  LLVM::InlineAsmOp::create(
      b, loc, TypeRange{}, ValueRange{address, lo, hi},
      "red.relaxed.gpu.global.add.v2.f32 [$0], {$1, $2};", "l,f,f",
      /*has_side_effects=*/true, /*is_align_stack=*/false,
      LLVM::tailcallkind::TailCallKind::None, /*asm_dialect=*/{},
      /*operand_attrs=*/{});
}

void KernelBuilder::commitGroup() {
  NVVM::CpAsyncCommitGroupOp::create(b, loc);
}
void KernelBuilder::waitGroup(int pending) {
  NVVM::CpAsyncWaitGroupOp::create(b, loc, static_cast<uint32_t>(pending));
}
void KernelBuilder::barrier() { NVVM::BarrierOp::create(b, loc); }

Value KernelBuilder::pack(Value lo, Value hi) {
  Value packed;
  if (inputType == InputType::f16)
    packed = NVVM::ConvertF32x2ToF16x2Op::create(
        b, loc, VectorType::get({2}, b.getF16Type()), hi, lo, Value(),
        NVVM::FPRoundingMode::RN);
  else
    packed = NVVM::ConvertF32x2ToBF16x2Op::create(
        b, loc, VectorType::get({2}, b.getBF16Type()), hi, lo, Value(),
        NVVM::FPRoundingMode::RN);
  return LLVM::BitcastOp::create(b, loc, i32(), packed);
}
