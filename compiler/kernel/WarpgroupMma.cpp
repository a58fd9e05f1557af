//===- WarpgroupMma.cpp - Hopper's warpgroup MMA (wgmma) ------------------===//

#include "compiler/kernel/WarpgroupMma.h"

#include "compiler/schedule/Schedule.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace flashjit;

namespace {
// The 128-byte swizzle: its atoms are 8 rows of 128 bytes.
constexpr int64_t kRowBytes = 128;
constexpr int64_t kAtomBytes = 8 * kRowBytes;
// Bytes of one 16-element step of the reduction along a 128-byte row.
constexpr int64_t kStepBytes = 32;
constexpr int kStepsPerPanel = kRowBytes / kStepBytes;
// Descriptor fields: 14-bit start address, leading and stride byte
// offsets, all in units of 16 bytes; bits 62-63 the swizzle (1: 128 bytes).
constexpr int64_t kSwizzle128 = int64_t(1) << 62;
int64_t encode(int64_t bytes) { return (bytes & 0x3FFFF) >> 4; }
} // namespace

Value WarpgroupMma::descriptor(Value tile, int64_t leadingBytes,
                               int64_t strideBytes, int64_t offsetBytes) {
  Value address = LLVM::PtrToIntOp::create(k.b, k.loc, k.i64(), tile);
  Value start = arith::ShRUIOp::create(
      k.b, k.loc,
      arith::AndIOp::create(k.b, k.loc, address, k.c64(0x3FFFF)).getResult(),
      k.c64(4));
  int64_t fields =
      kSwizzle128 | encode(strideBytes) << 32 | encode(leadingBytes) << 16;
  return k.add(start, k.c64(fields + (offsetBytes >> 4)));
}

Value WarpgroupMma::kMajor(Value tile, int tileRows, Value rowOffsetBytes,
                           int kStep) {
  // Panel kStep / 4, 32 bytes per step within its rows; the leading byte
  // offset is unused by swizzled K-major operands, the stride steps 8 rows.
  int64_t offset = kStep / kStepsPerPanel * tileRows * kRowBytes +
                   kStep % kStepsPerPanel * kStepBytes;
  Value d = descriptor(tile, /*leadingBytes=*/16, kAtomBytes, offset);
  if (!rowOffsetBytes)
    return d;
  Value rows =
      arith::ShRUIOp::create(k.b, k.loc, k.ext64(rowOffsetBytes), k.c64(4));
  return k.add(d, rows);
}

Value WarpgroupMma::mnMajor(Value tile, int tileRows, int kStep) {
  // 16 rows of the reduction are two atoms; the leading byte offset steps
  // from one 64-column panel to the next, the stride from 8 rows to the next.
  return descriptor(tile, /*leadingBytes=*/tileRows * kRowBytes, kAtomBytes,
                    kStep * 2 * kAtomBytes);
}

SmallVector<Value> WarpgroupMma::multiply(int n, Value aDescriptor,
                                          Value bDescriptor, bool bMnMajor,
                                          ArrayRef<Value> acc) {
  const int numAcc = n / 2;
  assert(acc.empty() || int(acc.size()) == numAcc);
  MLIRContext *context = k.b.getContext();
  Type f32 = k.f32();
  auto accType =
      LLVM::LLVMStructType::getLiteral(context, SmallVector<Type>(numAcc, f32));
  // The first product overwrites (scale-d 0): its accumulators in are
  // never read.
  Value in = LLVM::PoisonOp::create(k.b, k.loc, accType);
  for (size_t i = 0; i < acc.size(); ++i)
    in = LLVM::InsertValueOp::create(k.b, k.loc, in, acc[i],
                                     ArrayRef<int64_t>{int64_t(i)});
  auto type = k.inputType == InputType::f16 ? NVVM::WGMMATypes::f16
                                            : NVVM::WGMMATypes::bf16;
  // A is K-major (row); B K-major is col, MN-major (transposed) row.
  Value out = NVVM::WgmmaMmaAsyncOp::create(
      k.b, k.loc, accType, in, aDescriptor, bDescriptor,
      NVVM::MMAShapeAttr::get(context, 64, n, 16), type, type,
      NVVM::WGMMATypes::f32,
      acc.empty() ? NVVM::WGMMAScaleOut::zero : NVVM::WGMMAScaleOut::one,
      NVVM::WGMMAScaleIn::one, NVVM::WGMMAScaleIn::one, NVVM::MMALayout::row,
      bMnMajor ? NVVM::MMALayout::row : NVVM::MMALayout::col,
      /*satfinite=*/NVVM::MMAIntOverflowAttr());
  SmallVector<Value> values;
  for (int i = 0; i < numAcc; ++i)
    values.push_back(
        LLVM::ExtractValueOp::create(k.b, k.loc, out, ArrayRef<int64_t>{i}));
  return values;
}

SmallVector<Value> WarpgroupMma::multiply(int n, ArrayRef<Value> a,
                                          Value bDescriptor, bool bMnMajor,
                                          ArrayRef<Value> acc) {
  const int numAcc = n / 2;
  assert(acc.empty() || int(acc.size()) == numAcc);
  const bool accumulate = !acc.empty();
  // Operands: the accumulators out, tied to themselves in when adding,
  // then A, then B.
  SmallVector<Value> operands(acc.begin(), acc.end());
  SmallVector<std::string> constraints(numAcc, "=f");
  if (accumulate)
    for (int i = 0; i < numAcc; ++i)
      constraints.push_back(std::to_string(i));
  int aFirst = numAcc + (accumulate ? numAcc : 0);
  for (Value v : a) {
    operands.push_back(v);
    constraints.push_back("r");
  }
  operands.push_back(bDescriptor);
  constraints.push_back("l");
  int bIndex = aFirst + int(a.size());

  std::string text;
  llvm::raw_string_ostream os(text);
  const char *type = stringifyInputType(k.inputType);
  os << "wgmma.mma_async.sync.aligned.m64n" << n << "k16.f32." << type << "."
     << type << " {";
  for (int i = 0; i < numAcc; ++i)
    os << (i ? ", $" : "$") << i;
  os << "}, ";
  os << "{$" << aFirst << ", $" << aFirst + 1 << ", $" << aFirst + 2 << ", $"
     << aFirst + 3 << "}";
  // scale-d (0: D = A B), the scales of A and B, B's transpose.
  os << ", $" << bIndex << ", " << (accumulate ? 1 : 0) << ", 1, 1, "
     << (bMnMajor ? 1 : 0) << ";";

  Type f32 = k.f32();
  auto resultType = LLVM::LLVMStructType::getLiteral(
      k.b.getContext(), SmallVector<Type>(numAcc, f32));
  auto op = LLVM::InlineAsmOp::create(
      k.b, k.loc, resultType, operands, text, llvm::join(constraints, ","),
      /*has_side_effects=*/true, /*is_align_stack=*/false,
      LLVM::tailcallkind::TailCallKind::None, LLVM::AsmDialectAttr(),
      ArrayAttr());
  SmallVector<Value> out;
  for (int i = 0; i < numAcc; ++i)
    out.push_back(LLVM::ExtractValueOp::create(k.b, k.loc, op.getRes(),
                                               ArrayRef<int64_t>{i}));
  return out;
}

void WarpgroupMma::fence() { NVVM::WgmmaFenceAlignedOp::create(k.b, k.loc); }
void WarpgroupMma::commit() {
  NVVM::WgmmaGroupSyncAlignedOp::create(k.b, k.loc);
}
void WarpgroupMma::wait(int pending) {
  NVVM::WgmmaWaitGroupSyncOp::create(k.b, k.loc, uint64_t(pending));
}

void WarpgroupMma::fenceOperands(MutableArrayRef<Value> values) {
  if (values.empty())
    return;
  SmallVector<std::string> constraints;
  SmallVector<Type> types;
  for (Value v : values) {
    types.push_back(v.getType());
    constraints.push_back(v.getType().isF32() ? "=f" : "=r");
  }
  for (size_t i = 0; i < values.size(); ++i)
    constraints.push_back(std::to_string(i));
  auto resultType = LLVM::LLVMStructType::getLiteral(k.b.getContext(), types);
  auto op = LLVM::InlineAsmOp::create(
      k.b, k.loc, resultType, ValueRange(values), "",
      llvm::join(constraints, ","), /*has_side_effects=*/true,
      /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
      LLVM::AsmDialectAttr(), ArrayAttr());
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = LLVM::ExtractValueOp::create(k.b, k.loc, op.getRes(),
                                             ArrayRef<int64_t>{int64_t(i)});
}

void flashjit::fenceSharedForAsyncProxy(KernelBuilder &k) {
  NVVM::FenceProxyOp::create(
      k.b, k.loc, NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(k.b.getContext(),
                                 NVVM::SharedSpace::shared_cta));
}

SmallVector<Value> flashjit::issueWarpgroupScores(KernelBuilder &k, Value aTile,
                                                  int aRows, Value warp,
                                                  Value bTile, int bRows,
                                                  int d) {
  WarpgroupMma mma(k);
  Value rowOffset =
      k.mul(k.divsi(warp, k.c32(4)), k.c32(kWarpgroupRows * kRowBytes));
  SmallVector<Value> acc;
  mma.fence();
  for (int step = 0; step < d / 16; ++step)
    acc = mma.multiply(bRows, mma.kMajor(aTile, aRows, rowOffset, step),
                       mma.kMajor(bTile, bRows, Value(), step),
                       /*bMnMajor=*/false, acc);
  mma.commit();
  return acc;
}

SmallVector<Value> flashjit::issueWarpgroupAccumulate(
    KernelBuilder &k, ArrayRef<std::array<Value, 4>> aFragments, Value bTile,
    int bRows, int n, SmallVector<Value> acc) {
  WarpgroupMma mma(k);
  SmallVector<Value> a;
  for (const std::array<Value, 4> &fragment : aFragments)
    a.append(fragment.begin(), fragment.end());
  // The accumulators' and A's values are ordinary register writes: they
  // land before the fence.
  mma.fenceOperands(acc);
  mma.fenceOperands(a);
  mma.fence();
  for (size_t c = 0; c < aFragments.size(); ++c)
    acc =
        mma.multiply(n, ArrayRef<Value>(a).slice(4 * c, 4),
                     mma.mnMajor(bTile, bRows, int(c)), /*bMnMajor=*/true, acc);
  mma.commit();
  return acc;
}

void flashjit::awaitWarpgroupProducts(
    KernelBuilder &k, int pending, ArrayRef<MutableArrayRef<Value>> completed) {
  WarpgroupMma mma(k);
  mma.wait(pending);
  for (MutableArrayRef<Value> values : completed)
    mma.fenceOperands(values);
}

SmallVector<Accumulator> flashjit::asAccumulatorTiles(ArrayRef<Value> acc) {
  SmallVector<Accumulator> tiles;
  for (size_t t = 0; t + 4 <= acc.size(); t += 4)
    tiles.push_back({acc[t], acc[t + 1], acc[t + 2], acc[t + 3]});
  return tiles;
}

SmallVector<Accumulator> flashjit::warpgroupScores(KernelBuilder &k,
                                                   Value aTile, int aRows,
                                                   Value warp, Value bTile,
                                                   int bRows, int d) {
  SmallVector<Value> acc =
      issueWarpgroupScores(k, aTile, aRows, warp, bTile, bRows, d);
  awaitWarpgroupProducts(k, 0, {acc});
  return asAccumulatorTiles(acc);
}

SmallVector<Value> flashjit::warpgroupAccumulate(
    KernelBuilder &k, ArrayRef<std::array<Value, 4>> aFragments, Value bTile,
    int bRows, int n, SmallVector<Value> acc) {
  acc =
      issueWarpgroupAccumulate(k, aFragments, bTile, bRows, n, std::move(acc));
  awaitWarpgroupProducts(k, 0, {acc});
  return acc;
}
