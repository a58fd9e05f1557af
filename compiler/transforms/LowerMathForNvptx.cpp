//===- LowerMathForNvptx.cpp - score math on the GPU's fast units ---------===//

#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace flashjit {
#define GEN_PASS_DEF_LOWERMATHFORNVPTX
#include "compiler/transforms/Passes.h.inc"
} // namespace flashjit

using namespace mlir;

namespace {

constexpr float kLog2E = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

Value f32Constant(PatternRewriter &rewriter, Location loc, float v) {
  return arith::ConstantFloatOp::create(rewriter, loc, rewriter.getF32Type(),
                                        APFloat(v));
}

Value nvvmIntrinsic(PatternRewriter &rewriter, Location loc, StringRef name,
                    ValueRange operands) {
  return LLVM::CallIntrinsicOp::create(rewriter, loc, rewriter.getF32Type(),
                                       rewriter.getStringAttr(name), operands)
      .getResult(0);
}

struct ExpToExp2 : OpRewritePattern<math::ExpOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::ExpOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return rewriter.notifyMatchFailure(op, "not f32");
    Value scaled =
        arith::MulFOp::create(rewriter, op.getLoc(), op.getOperand(),
                              f32Constant(rewriter, op.getLoc(), kLog2E));
    rewriter.replaceOpWithNewOp<math::Exp2Op>(op, scaled);
    return success();
  }
};

struct LogToLg2 : OpRewritePattern<math::LogOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::LogOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return rewriter.notifyMatchFailure(op, "not f32");
    Location loc = op.getLoc();
    Value lg2 =
        nvvmIntrinsic(rewriter, loc, "llvm.nvvm.lg2.approx.f", op.getOperand());
    rewriter.replaceOpWithNewOp<arith::MulFOp>(
        op, lg2, f32Constant(rewriter, loc, kLn2));
    return success();
  }
};

struct Log2ToLg2 : OpRewritePattern<math::Log2Op> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::Log2Op op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return rewriter.notifyMatchFailure(op, "not f32");
    rewriter.replaceOp(op, nvvmIntrinsic(rewriter, op.getLoc(),
                                         "llvm.nvvm.lg2.approx.f",
                                         op.getOperand()));
    return success();
  }
};

/// tanh(x) = copysign(1 - 2 / (2^(2 log2(e) |x|) + 1), x). The reciprocal's
/// operand is at least 2, so flushing subnormals cannot touch it; |x| = inf
/// gives 2^inf = inf and 1 / inf = 0.
struct TanhToExp2 : OpRewritePattern<math::TanhOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::TanhOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return rewriter.notifyMatchFailure(op, "not f32");
    Location loc = op.getLoc();
    auto constant = [&](float v) { return f32Constant(rewriter, loc, v); };
    Value x = op.getOperand();
    Value magnitude = math::AbsFOp::create(rewriter, loc, x);
    Value power = math::Exp2Op::create(
        rewriter, loc,
        arith::MulFOp::create(rewriter, loc, magnitude, constant(2 * kLog2E)));
    Value reciprocal = nvvmIntrinsic(
        rewriter, loc, "llvm.nvvm.rcp.approx.ftz.f",
        arith::AddFOp::create(rewriter, loc, power, constant(1)).getResult());
    Value positive = arith::SubFOp::create(
        rewriter, loc, constant(1),
        arith::MulFOp::create(rewriter, loc, constant(2), reciprocal));
    rewriter.replaceOpWithNewOp<math::CopySignOp>(op, positive, x);
    return success();
  }
};

/// In a loop, x / y as x * (1 / y) when y is loop-invariant (error at most
/// 1 ulp from the IEEE reciprocal plus half an ulp from the product), else
/// as div.full.f32 (at most 2 ulp). The reciprocal is an llvm.fdiv, which
/// this pattern does not match, placed where y is defined so that it is
/// computed once. Outside loops a division runs once per thread and stays
/// IEEE (the forward's 1 / l).
struct DivFToFastDivision : OpRewritePattern<arith::DivFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::DivFOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return rewriter.notifyMatchFailure(op, "not f32");
    auto loop = op->getParentOfType<LoopLikeOpInterface>();
    if (!loop)
      return rewriter.notifyMatchFailure(op, "runs once: stays IEEE");
    Value divisor = op.getRhs();
    if (!loop.isDefinedOutsideOfLoop(divisor)) {
      rewriter.replaceOp(op, nvvmIntrinsic(rewriter, op.getLoc(),
                                           "llvm.nvvm.div.full",
                                           {op.getLhs(), divisor}));
      return success();
    }
    Value reciprocal;
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointAfterValue(divisor);
      Location loc = divisor.getLoc();
      reciprocal = LLVM::FDivOp::create(rewriter, loc,
                                        f32Constant(rewriter, loc, 1), divisor);
    }
    rewriter.replaceOpWithNewOp<arith::MulFOp>(op, op.getLhs(), reciprocal);
    return success();
  }
};

struct LowerMathForNvptxPass
    : flashjit::impl::LowerMathForNvptxBase<LowerMathForNvptxPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns
        .add<ExpToExp2, LogToLg2, Log2ToLg2, TanhToExp2, DivFToFastDivision>(
            &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
