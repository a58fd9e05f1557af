//===- LowerWarpgroupMma.cpp - nvvm.wgmma.mma_async to PTX ----------------===//

#include "compiler/transforms/Passes.h"

#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Transforms/DialectConversion.h"

namespace flashjit {
#define GEN_PASS_DEF_LOWERWARPGROUPMMA
#include "compiler/transforms/Passes.h.inc"
} // namespace flashjit

using namespace mlir;

namespace {

struct LowerWarpgroupMma
    : flashjit::impl::LowerWarpgroupMmaBase<LowerWarpgroupMma> {
  void runOnOperation() override {
    // MLIR's PTX-builder patterns, with only the warpgroup MMA illegal:
    // the conversion leaves every legal op as it is.
    ConversionTarget target(getContext());
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    target.addIllegalOp<NVVM::WgmmaMmaAsyncOp>();
    RewritePatternSet patterns(&getContext());
    populateNVVMToLLVMConversionPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
