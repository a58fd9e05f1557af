//===- KernelBuilder.cpp - building blocks of the fused kernels -----------===//

#include "compiler/lowering/KernelBuilder.h"

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

void KernelBuilder::copyTileAsync(Value sharedTile, int rows, int headDim,
                                  Value thread, int numThreads,
                                  function_ref<Value(Value)> rowPtr,
                                  function_ref<Value(Value)> rowValid,
                                  SharedLayout layout) {
  int chunksPerRow = headDim / 8;
  int chunks = rows * chunksPerRow;
  for (int first = 0; first < chunks; first += numThreads) {
    // Chunk `first + thread` of the tile, row-major over 16-byte chunks.
    Value chunk = add(thread, c32(first));
    Value inRange = cmpi(arith::CmpIPredicate::slt, chunk, c32(chunks));
    auto copy = [&] {
      Value row = divsi(chunk, c32(chunksPerRow));
      Value col = mul(remsi(chunk, c32(chunksPerRow)), c32(8));
      Value src = gep(rowPtr(row), element(), col);
      Value offset;
      if (layout == SharedLayout::padded) {
        offset = add(mul(row, c32(sharedRowElements(headDim))), col);
      } else {
        // Panel of 64 columns, then the row's 8 chunks XOR-swizzled.
        Value inRow = remsi(chunk, c32(chunksPerRow));
        Value panel = divsi(inRow, c32(8));
        Value swizzled = xori(remsi(inRow, c32(8)), remsi(row, c32(8)));
        offset = add(add(mul(panel, c32(rows * 64)), mul(row, c32(64))),
                     mul(swizzled, c32(8)));
      }
      Value dst = gep(sharedTile, element(), offset);
      Value bytes = select(rowValid(row), c32(16), c32(0));
      NVVM::CpAsyncOp::create(b, loc, dst, src, 16u,
                              NVVM::LoadCacheModifierKind::CG, bytes);
    };
    if (first + numThreads <= chunks) {
      copy();
    } else {
      scf::IfOp::create(b, loc, inRange, [&](OpBuilder &, Location) {
        copy();
        scf::YieldOp::create(b, loc);
      });
    }
  }
}

void KernelBuilder::commitGroup() {
  NVVM::CpAsyncCommitGroupOp::create(b, loc);
}
void KernelBuilder::waitGroup(int pending) {
  NVVM::CpAsyncWaitGroupOp::create(b, loc, static_cast<uint32_t>(pending));
}
void KernelBuilder::barrier() { NVVM::BarrierOp::create(b, loc); }

template <size_t N>
static std::array<Value, N> unpack(KernelBuilder &k, Value structValue) {
  std::array<Value, N> regs;
  for (size_t i = 0; i < N; ++i)
    regs[i] = LLVM::ExtractValueOp::create(k.b, k.loc, structValue,
                                           ArrayRef<int64_t>{int64_t(i)});
  return regs;
}

static Type i32Struct(KernelBuilder &k, int n) {
  SmallVector<Type> fields(n, k.i32());
  return LLVM::LLVMStructType::getLiteral(k.b.getContext(), fields);
}

/// ldmatrix of N 8x8 b16 matrices at this lane's row address `ptr`.
template <size_t N>
static std::array<Value, N> ldmatrix(KernelBuilder &k, Value ptr,
                                     NVVM::MMALayout layout) {
  Value regs = NVVM::LdMatrixOp::create(
      k.b, k.loc, i32Struct(k, N), ptr, uint32_t(N), layout,
      NVVM::LdStMatrixShapeAttr::get(k.b.getContext(), 8, 8),
      NVVM::LdStMatrixEltType::B16);
  return unpack<N>(k, regs);
}

std::array<Value, 4> KernelBuilder::loadA(Value tile, int headDim, Value lane,
                                          Value row0, int col0) {
  // Lane l addresses row (l % 16) and column col0 + 8 * (l / 16).
  Value row = add(row0, remsi(lane, c32(16)));
  Value col = add(c32(col0), mul(divsi(lane, c32(16)), c32(8)));
  Value ptr =
      gep(tile, element(), add(mul(row, c32(sharedRowElements(headDim))), col));
  return ldmatrix<4>(*this, ptr, NVVM::MMALayout::row);
}

std::array<Value, 2> KernelBuilder::loadBTransposed(Value tile, int headDim,
                                                    Value lane, Value row0,
                                                    int col0) {
  // Lanes 0-7 address rows 0-7 at col0, lanes 8-15 the same rows at
  // col0 + 8; the other lanes' addresses are ignored but kept in bounds.
  Value row = add(row0, remsi(lane, c32(8)));
  Value col = add(c32(col0), mul(remsi(divsi(lane, c32(8)), c32(2)), c32(8)));
  Value ptr =
      gep(tile, element(), add(mul(row, c32(sharedRowElements(headDim))), col));
  return ldmatrix<2>(*this, ptr, NVVM::MMALayout::row);
}

Value KernelBuilder::tileAddress(Value tile, int headDim, int swizzledRows,
                                 Value row, Value col) {
  if (!swizzledRows)
    return gep(tile, element(),
               add(mul(row, c32(sharedRowElements(headDim))), col));
  // 64-column panels of swizzledRows rows; chunk col / 8 of the row's 8
  // stored at (col / 8) ^ (row % 8).
  Value panel = divsi(col, c32(64));
  Value chunk = xori(remsi(divsi(col, c32(8)), c32(8)), remsi(row, c32(8)));
  return gep(tile, element(),
             add(add(mul(panel, c32(swizzledRows * 64)), mul(row, c32(64))),
                 mul(chunk, c32(8))));
}

std::array<Value, 2> KernelBuilder::loadB(Value tile, int headDim, Value lane,
                                          Value row0, Value col0,
                                          int swizzledRows) {
  // Lanes 0-15 address rows 0-15 (k) at col0; .trans hands each thread the
  // column-major fragment.
  Value row = add(row0, remsi(lane, c32(16)));
  Value ptr = tileAddress(tile, headDim, swizzledRows, row, col0);
  return ldmatrix<2>(*this, ptr, NVVM::MMALayout::col);
}

std::array<std::array<Value, 2>, 2>
KernelBuilder::loadBTransposedPair(Value tile, int headDim, Value lane,
                                   Value row0, int col0) {
  // Matrix j = lane / 8 is rows row0 + 8 * (j / 2) + lane % 8 at column
  // col0 + 8 * (j % 2): matrices 0, 1 are the first operand's k halves.
  Value j = divsi(lane, c32(8));
  Value row =
      add(row0, add(mul(divsi(j, c32(2)), c32(8)), remsi(lane, c32(8))));
  Value col = add(c32(col0), mul(remsi(j, c32(2)), c32(8)));
  Value ptr =
      gep(tile, element(), add(mul(row, c32(sharedRowElements(headDim))), col));
  auto r = ldmatrix<4>(*this, ptr, NVVM::MMALayout::row);
  return {{{r[0], r[1]}, {r[2], r[3]}}};
}

std::array<std::array<Value, 2>, 2>
KernelBuilder::loadBPair(Value tile, int headDim, Value lane, Value row0,
                         Value col0, int swizzledRows) {
  // Matrix j = lane / 8 is rows row0 + 8 * (j % 2) + lane % 8 (k) at
  // column col0 + 8 * (j / 2): matrices 0, 1 are the first operand.
  Value j = divsi(lane, c32(8));
  Value row =
      add(row0, add(mul(remsi(j, c32(2)), c32(8)), remsi(lane, c32(8))));
  Value col = add(col0, mul(divsi(j, c32(2)), c32(8)));
  Value ptr = tileAddress(tile, headDim, swizzledRows, row, col);
  auto r = ldmatrix<4>(*this, ptr, NVVM::MMALayout::col);
  return {{{r[0], r[1]}, {r[2], r[3]}}};
}

void KernelBuilder::forEachBTransposed(
    Value tile, int headDim, Value lane, int row0, int col0, int count,
    function_ref<void(int, const std::array<Value, 2> &)> use) {
  for (int t = 0; t < count; t += 2) {
    if (t + 1 == count) {
      use(t, loadBTransposed(tile, headDim, lane, c32(row0 + 8 * t), col0));
      break;
    }
    auto pair =
        loadBTransposedPair(tile, headDim, lane, c32(row0 + 8 * t), col0);
    use(t, pair[0]);
    use(t + 1, pair[1]);
  }
}

void KernelBuilder::forEachB(
    Value tile, int headDim, Value lane, Value row0, Value col0, int count,
    function_ref<void(int, const std::array<Value, 2> &)> use,
    int swizzledRows) {
  for (int t = 0; t < count; t += 2) {
    Value col = t == 0 ? col0 : add(col0, c32(8 * t));
    if (t + 1 == count) {
      use(t, loadB(tile, headDim, lane, row0, col, swizzledRows));
      break;
    }
    auto pair = loadBPair(tile, headDim, lane, row0, col, swizzledRows);
    use(t, pair[0]);
    use(t + 1, pair[1]);
  }
}

std::array<Value, 4> KernelBuilder::loadATransposed(Value tile, int width,
                                                    Value lane, Value m0,
                                                    int k0) {
  // The fragment's four 8x8 matrices are (m, k) = (0, 0), (8, 0), (0, 8),
  // (8, 8); matrix j = lane / 8 is stored as tile rows k0 + 8 * (j / 2) + r
  // at columns m0 + 8 * (j % 2), and .trans turns its rows into columns.
  Value j = divsi(lane, c32(8));
  Value row =
      add(c32(k0), add(mul(divsi(j, c32(2)), c32(8)), remsi(lane, c32(8))));
  Value col = add(m0, mul(remsi(j, c32(2)), c32(8)));
  Value ptr =
      gep(tile, element(), add(mul(row, c32(sharedRowElements(width))), col));
  return ldmatrix<4>(*this, ptr, NVVM::MMALayout::col);
}

Accumulator KernelBuilder::mma(ArrayRef<Value> a, ArrayRef<Value> bOps,
                               const Accumulator &c) {
  // f16 operands are typed vector<2xf16>; bf16 ones stay i32 with the
  // multiplicand types given.
  auto operands = [&](ArrayRef<Value> regs) {
    SmallVector<Value> out;
    for (Value r : regs)
      out.push_back(inputType == InputType::f16
                        ? Value(LLVM::BitcastOp::create(
                              b, loc, VectorType::get({2}, b.getF16Type()), r))
                        : r);
    return out;
  };
  auto types =
      inputType == InputType::f16 ? NVVM::MMATypes::f16 : NVVM::MMATypes::bf16;
  Type result = LLVM::LLVMStructType::getLiteral(b.getContext(),
                                                 {f32(), f32(), f32(), f32()});
  Value d = NVVM::MmaOp::create(
      b, loc, result, operands(a), operands(bOps), ValueRange(c),
      ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
      std::array<NVVM::MMATypes, 2>{types, types},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  Accumulator out;
  for (int i = 0; i < 4; ++i)
    out[i] = LLVM::ExtractValueOp::create(b, loc, d, ArrayRef<int64_t>{i});
  return out;
}

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

Value KernelBuilder::shuffleXor(Value v, int offset) {
  return NVVM::ShflOp::create(b, loc, v.getType(), c32(-1), v, c32(offset),
                              c32(0x1f), NVVM::ShflKind::bfly, UnitAttr());
}

Value KernelBuilder::quadReduce(Value v, bool max) {
  for (int offset : {1, 2}) {
    Value other = shuffleXor(v, offset);
    v = max ? fmax(v, other) : fadd(v, other);
  }
  return v;
}
