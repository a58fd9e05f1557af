//===- OnlineSoftmax.cpp - the streaming softmax of a score row -----------===//

#include "compiler/attention/OnlineSoftmax.h"

#include "compiler/kernel/FragmentLayout.h"

#include "compiler/lowering/VariantLowering.h"

#include <limits>

using namespace mlir;
using namespace flashjit;
using arith::CmpFPredicate;

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
} // namespace

std::pair<RowStatistics, std::array<Value, 2>>
flashjit::softmaxStep(KernelBuilder &k, MutableArrayRef<Value> x, int blockN,
                      const RowStatistics &before) {
  RowStatistics after;
  std::array<Value, 2> alpha;
  for (int r = 0; r < 2; ++r) {
    // Two independent chains per row, not one of BLOCK_N / 4 dependent
    // steps.
    Value partMax[2] = {x[r * 2], x[r * 2 + 1]};
    for (int nt = 1; nt < blockN / 8; ++nt)
      for (int i = 0; i < 2; ++i)
        partMax[i] = k.fmax(partMax[i], x[nt * 4 + r * 2 + i]);
    Value rowMax = quadReduce(k, k.fmax(partMax[0], partMax[1]), /*max=*/true);
    Value mOld = before.max[r];
    Value mNew = k.fmax(mOld, rowMax);
    // A row with nothing kept yet keeps m = -inf; subtract 0 instead so
    // that exp2 gives 0, not NaN.
    Value mUse = k.select(k.cmpf(CmpFPredicate::OEQ, mNew, k.cf(kNegInf)),
                          k.cf(0), mNew);
    alpha[r] = k.exp2(k.fsub(mOld, mUse));
    Value partSum[2];
    for (int nt = 0; nt < blockN / 8; ++nt)
      for (int i = 0; i < 2; ++i) {
        Value &xi = x[nt * 4 + r * 2 + i];
        xi = k.exp2(k.fsub(xi, mUse));
        partSum[i] = nt == 0 ? xi : k.fadd(partSum[i], xi);
      }
    after.max[r] = mNew;
    after.sum[r] =
        k.fadd(k.fmul(before.sum[r], alpha[r]), k.fadd(partSum[0], partSum[1]));
  }
  return {after, alpha};
}

SmallVector<Value> flashjit::rescaleRows(KernelBuilder &k, ArrayRef<Value> acc,
                                         std::array<Value, 2> alpha) {
  SmallVector<Value> scaled;
  for (auto [i, value] : llvm::enumerate(acc))
    scaled.push_back(k.fmul(value, alpha[i % 4 / 2]));
  return scaled;
}

FinishedRow flashjit::finishRow(KernelBuilder &k, Value partialSum, Value max) {
  Value l = quadReduce(k, partialSum, /*max=*/false);
  Value empty = k.cmpf(CmpFPredicate::OEQ, l, k.cf(0));
  // A row the mask removes entirely: O = 0, lse = -inf.
  Value inv = k.select(empty, k.cf(0), k.fdiv(k.cf(1), l));
  Value lse = k.select(empty, k.cf(kNegInf),
                       k.fmul(k.fadd(max, k.log2(l)), k.cf(kLn2)));
  return {inv, lse};
}
