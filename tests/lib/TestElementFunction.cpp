//===- TestElementFunction.cpp - expose ElementEmitter to lit -------------===//
//
// -tile-test-element-function rewrites each tile.program @v into
// @v_element (ElementFunction.h) returning (f32, i1): the modified score
// and whether the element is kept, so that lit can check the per-element
// code kernels will contain.
//
//===----------------------------------------------------------------------===//

#include "compiler/analysis/AttentionChain.h"
#include "compiler/lowering/ElementEmitter.h"
#include "tests/lib/ElementFunction.h"
#include "tests/lib/TestPasses.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

using namespace mlir;
using namespace flashjit;

namespace {

struct TestElementFunctionPass
    : PassWrapper<TestElementFunctionPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestElementFunctionPass)

  StringRef getArgument() const final { return "tile-test-element-function"; }
  StringRef getDescription() const final {
    return "Rewrite each tile.program into a scalar function of one element "
           "(test only)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, func::FuncDialect, math::MathDialect,
                    memref::MemRefDialect>();
  }

  void runOnOperation() override {
    for (auto program :
         llvm::make_early_inc_range(getOperation().getOps<tile::ProgramOp>()))
      if (failed(rewrite(program)))
        return signalPassFailure();
  }

  LogicalResult rewrite(tile::ProgramOp program) {
    FailureOr<AttentionChain> chain = matchAttentionChain(program);
    if (failed(chain))
      return failure();
    Builder types(program.getContext());
    test::ElementFunction fn(program, "_element",
                             {types.getF32Type(), types.getI1Type()});
    auto leaf = [&](OpBuilder &builder, Operation *op,
                    ArrayRef<Value> operands) {
      return fn.leaf(builder, op, operands);
    };
    ElementEmitter emitter(fn.builder, leaf);
    FailureOr<Value> score = emitter.emit(chain->modifiedScores);
    if (failed(score))
      return failure();
    Location loc = program.getLoc();
    Value keep = arith::ConstantIntOp::create(fn.builder, loc,
                                              fn.builder.getI1Type(), 1);
    for (tile::MaskOp mask : chain->masks) {
      FailureOr<Value> k = emitter.emit(mask.getKeep());
      if (failed(k))
        return failure();
      keep = arith::AndIOp::create(fn.builder, loc, keep, *k);
    }
    func::ReturnOp::create(fn.builder, loc, ValueRange{*score, keep});
    program.erase();
    return success();
  }
};

} // namespace

void flashjit::test::registerTestElementFunctionPass() {
  PassRegistration<TestElementFunctionPass>();
}
