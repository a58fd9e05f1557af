//===- MmaSync.cpp - mma.sync's operands and products ---------------------===//

#include "compiler/kernel/MmaSync.h"

using namespace mlir;
using namespace flashjit;

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

std::array<Value, 4> flashjit::loadA(KernelBuilder &k, Value tile, int headDim,
                                     Value lane, Value row0, int col0) {
  // Lane l addresses row (l % 16) and column col0 + 8 * (l / 16).
  Value row = k.add(row0, k.remsi(lane, k.c32(16)));
  Value col = k.add(k.c32(col0), k.mul(k.divsi(lane, k.c32(16)), k.c32(8)));
  Value ptr = k.gep(tile, k.element(),
                    k.add(k.mul(row, k.c32(sharedRowElements(headDim))), col));
  return ldmatrix<4>(k, ptr, NVVM::MMALayout::row);
}

std::array<Value, 2> flashjit::loadBTransposed(KernelBuilder &k, Value tile,
                                               int headDim, Value lane,
                                               Value row0, int col0) {
  // Lanes 0-7 address rows 0-7 at col0, lanes 8-15 the same rows at
  // col0 + 8; the other lanes' addresses are ignored but kept in bounds.
  Value row = k.add(row0, k.remsi(lane, k.c32(8)));
  Value col = k.add(
      k.c32(col0), k.mul(k.remsi(k.divsi(lane, k.c32(8)), k.c32(2)), k.c32(8)));
  Value ptr = k.gep(tile, k.element(),
                    k.add(k.mul(row, k.c32(sharedRowElements(headDim))), col));
  return ldmatrix<2>(k, ptr, NVVM::MMALayout::row);
}

/// The address of element (row, col) of a [rows, headDim] tile: padded,
/// or swizzled with `swizzledRows` rows; col a multiple of 8.
static Value tileAddress(KernelBuilder &k, Value tile, int headDim,
                         int swizzledRows, Value row, Value col) {
  if (!swizzledRows)
    return k.gep(tile, k.element(),
                 k.add(k.mul(row, k.c32(sharedRowElements(headDim))), col));
  // 64-column panels of swizzledRows rows; chunk col / 8 of the row's 8
  // stored at (col / 8) ^ (row % 8).
  Value panel = k.divsi(col, k.c32(64));
  Value chunk =
      k.xori(k.remsi(k.divsi(col, k.c32(8)), k.c32(8)), k.remsi(row, k.c32(8)));
  return k.gep(tile, k.element(),
               k.add(k.add(k.mul(panel, k.c32(swizzledRows * 64)),
                           k.mul(row, k.c32(64))),
                     k.mul(chunk, k.c32(8))));
}

std::array<Value, 2> flashjit::loadB(KernelBuilder &k, Value tile, int headDim,
                                     Value lane, Value row0, Value col0,
                                     int swizzledRows) {
  // Lanes 0-15 address rows 0-15 (k) at col0; .trans hands each thread the
  // column-major fragment.
  Value row = k.add(row0, k.remsi(lane, k.c32(16)));
  Value ptr = tileAddress(k, tile, headDim, swizzledRows, row, col0);
  return ldmatrix<2>(k, ptr, NVVM::MMALayout::col);
}

std::array<std::array<Value, 2>, 2>
flashjit::loadBTransposedPair(KernelBuilder &k, Value tile, int headDim,
                              Value lane, Value row0, int col0) {
  // Matrix j = lane / 8 is rows row0 + 8 * (j / 2) + lane % 8 at column
  // col0 + 8 * (j % 2): matrices 0, 1 are the first operand's k halves.
  Value j = k.divsi(lane, k.c32(8));
  Value row = k.add(row0, k.add(k.mul(k.divsi(j, k.c32(2)), k.c32(8)),
                                k.remsi(lane, k.c32(8))));
  Value col = k.add(k.c32(col0), k.mul(k.remsi(j, k.c32(2)), k.c32(8)));
  Value ptr = k.gep(tile, k.element(),
                    k.add(k.mul(row, k.c32(sharedRowElements(headDim))), col));
  auto r = ldmatrix<4>(k, ptr, NVVM::MMALayout::row);
  return {{{r[0], r[1]}, {r[2], r[3]}}};
}

std::array<std::array<Value, 2>, 2>
flashjit::loadBPair(KernelBuilder &k, Value tile, int headDim, Value lane,
                    Value row0, Value col0, int swizzledRows) {
  // Matrix j = lane / 8 is rows row0 + 8 * (j % 2) + lane % 8 (k) at
  // column col0 + 8 * (j / 2): matrices 0, 1 are the first operand.
  Value j = k.divsi(lane, k.c32(8));
  Value row = k.add(row0, k.add(k.mul(k.remsi(j, k.c32(2)), k.c32(8)),
                                k.remsi(lane, k.c32(8))));
  Value col = k.add(col0, k.mul(k.divsi(j, k.c32(2)), k.c32(8)));
  Value ptr = tileAddress(k, tile, headDim, swizzledRows, row, col);
  auto r = ldmatrix<4>(k, ptr, NVVM::MMALayout::col);
  return {{{r[0], r[1]}, {r[2], r[3]}}};
}

void flashjit::forEachBTransposed(
    KernelBuilder &k, Value tile, int headDim, Value lane, int row0, int col0,
    int count, function_ref<void(int, const std::array<Value, 2> &)> use) {
  for (int t = 0; t < count; t += 2) {
    if (t + 1 == count) {
      use(t,
          loadBTransposed(k, tile, headDim, lane, k.c32(row0 + 8 * t), col0));
      break;
    }
    auto pair =
        loadBTransposedPair(k, tile, headDim, lane, k.c32(row0 + 8 * t), col0);
    use(t, pair[0]);
    use(t + 1, pair[1]);
  }
}

void flashjit::forEachB(
    KernelBuilder &k, Value tile, int headDim, Value lane, Value row0,
    Value col0, int count,
    function_ref<void(int, const std::array<Value, 2> &)> use,
    int swizzledRows) {
  for (int t = 0; t < count; t += 2) {
    Value col = t == 0 ? col0 : k.add(col0, k.c32(8 * t));
    if (t + 1 == count) {
      use(t, loadB(k, tile, headDim, lane, row0, col, swizzledRows));
      break;
    }
    auto pair = loadBPair(k, tile, headDim, lane, row0, col, swizzledRows);
    use(t, pair[0]);
    use(t + 1, pair[1]);
  }
}

std::array<Value, 4> flashjit::loadATransposed(KernelBuilder &k, Value tile,
                                               int width, Value lane, Value m0,
                                               int k0) {
  // The fragment's four 8x8 matrices are (m, k) = (0, 0), (8, 0), (0, 8),
  // (8, 8); matrix j = lane / 8 is stored as tile rows k0 + 8 * (j / 2) + r
  // at columns m0 + 8 * (j % 2), and .trans turns its rows into columns.
  Value j = k.divsi(lane, k.c32(8));
  Value row = k.add(k.c32(k0), k.add(k.mul(k.divsi(j, k.c32(2)), k.c32(8)),
                                     k.remsi(lane, k.c32(8))));
  Value col = k.add(m0, k.mul(k.remsi(j, k.c32(2)), k.c32(8)));
  Value ptr = k.gep(tile, k.element(),
                    k.add(k.mul(row, k.c32(sharedRowElements(width))), col));
  return ldmatrix<4>(k, ptr, NVVM::MMALayout::col);
}

Accumulator flashjit::mmaSync(KernelBuilder &k, ArrayRef<Value> a,
                              ArrayRef<Value> bOps, const Accumulator &c) {
  // f16 operands are typed vector<2xf16>; bf16 ones stay i32 with the
  // multiplicand types given.
  auto operands = [&](ArrayRef<Value> regs) {
    SmallVector<Value> out;
    for (Value r : regs)
      out.push_back(
          k.inputType == InputType::f16
              ? Value(LLVM::BitcastOp::create(
                    k.b, k.loc, VectorType::get({2}, k.b.getF16Type()), r))
              : r);
    return out;
  };
  auto types = k.inputType == InputType::f16 ? NVVM::MMATypes::f16
                                             : NVVM::MMATypes::bf16;
  Type result = LLVM::LLVMStructType::getLiteral(
      k.b.getContext(), {k.f32(), k.f32(), k.f32(), k.f32()});
  Value d = NVVM::MmaOp::create(
      k.b, k.loc, result, operands(a), operands(bOps), ValueRange(c),
      ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
      std::array<NVVM::MMATypes, 2>{types, types},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  Accumulator out;
  for (int i = 0; i < 4; ++i)
    out[i] = LLVM::ExtractValueOp::create(k.b, k.loc, d, ArrayRef<int64_t>{i});
  return out;
}

SmallVector<Accumulator> flashjit::warpScores(KernelBuilder &k, Value aTile,
                                              Value row0, Value bTile,
                                              int numCols, int headDim,
                                              Value lane) {
  return warpScoreTiles(k, aTile, {row0}, bTile, numCols, headDim, lane)[0];
}

SmallVector<SmallVector<Accumulator>>
flashjit::warpScoreTiles(KernelBuilder &k, Value aTile, ArrayRef<Value> rows,
                         Value bTile, int numCols, int headDim, Value lane) {
  // A's fragments are read per 16 columns of the head dim and used against
  // every B tile: registers for one A fragment per tile at a time.
  SmallVector<SmallVector<Accumulator>> acc;
  for (size_t m = 0; m < rows.size(); ++m)
    acc.emplace_back(numCols / 8,
                     Accumulator{k.cf(0), k.cf(0), k.cf(0), k.cf(0)});
  for (int c = 0; c < headDim / 16; ++c) {
    SmallVector<std::array<Value, 4>> aFrag;
    for (Value row : rows)
      aFrag.push_back(loadA(k, aTile, headDim, lane, row, c * 16));
    forEachBTransposed(k, bTile, headDim, lane, 0, c * 16, numCols / 8,
                       [&](int n, const std::array<Value, 2> &bFrag) {
                         for (size_t m = 0; m < rows.size(); ++m)
                           acc[m][n] = mmaSync(k, aFrag[m], bFrag, acc[m][n]);
                       });
  }
  return acc;
}

void flashjit::accumulateTransposedA(KernelBuilder &k, Value aTile, int aWidth,
                                     Value m0, Value bTile, int headDim,
                                     SharedLayout bLayout, int reduceRows,
                                     Value col0, Value lane,
                                     MutableArrayRef<Accumulator> acc) {
  for (int c = 0; c < reduceRows / 16; ++c) {
    auto frag = loadATransposed(k, aTile, aWidth, lane, m0, c * 16);
    forEachB(
        k, bTile, headDim, lane, k.c32(c * 16), col0, int(acc.size()),
        [&](int t, const std::array<Value, 2> &bFrag) {
          acc[t] = mmaSync(k, frag, bFrag, acc[t]);
        },
        /*swizzledRows=*/bLayout == SharedLayout::swizzled ? reduceRows : 0);
  }
}
