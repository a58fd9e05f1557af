//===- TestScoreTangent.cpp - expose the score's derivative to lit --------===//
//
// -tile-test-score-tangent rewrites each tile.program @v into @v_tangent
// (ElementFunction.h) returning (f32, f32): the modified score and its
// derivative with respect to the raw score at one element, emitted in that
// order, so that the derivative's code reads the score's values. The
// function's attributes say what kernels see of the derivative:
// `tangent_kind` ("zero", "one" or "value": zero and one emit no code) and
// `tangent_uniform` (the same at every element).
//
//===----------------------------------------------------------------------===//

#include "compiler/analysis/AttentionChain.h"
#include "compiler/lowering/ScoreDerivative.h"
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

StringRef kindName(ScoreTangent::Kind kind) {
  switch (kind) {
  case ScoreTangent::Kind::zero:
    return "zero";
  case ScoreTangent::Kind::one:
    return "one";
  case ScoreTangent::Kind::value:
    return "value";
  }
  llvm_unreachable("unknown tangent kind");
}

/// The derivative as an f32; kernels emit nothing for zero and one.
Value materialized(OpBuilder &b, Location loc, const ScoreTangent &t) {
  if (t.kind == ScoreTangent::Kind::value)
    return t.value;
  float v = t.kind == ScoreTangent::Kind::one ? 1.0f : 0.0f;
  return arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(v));
}

struct TestScoreTangentPass
    : PassWrapper<TestScoreTangentPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestScoreTangentPass)

  StringRef getArgument() const final { return "tile-test-score-tangent"; }
  StringRef getDescription() const final {
    return "Rewrite each tile.program into a scalar function of one element "
           "returning the modified score and its derivative (test only)";
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
    test::ElementFunction fn(program, "_tangent",
                             {types.getF32Type(), types.getF32Type()});
    auto leaf = [&](OpBuilder &builder, Operation *op,
                    ArrayRef<Value> operands) {
      return fn.leaf(builder, op, operands);
    };
    ElementEmitter emitter(fn.builder, leaf);
    FailureOr<Value> score = emitter.emit(chain->modifiedScores);
    if (failed(score))
      return failure();
    FailureOr<ScoreTangent> tangent =
        emitScoreTangent(emitter, fn.builder, chain->modifiedScores,
                         chain->scoreDot.getResult());
    if (failed(tangent))
      return failure();
    Value derivative = materialized(fn.builder, program.getLoc(), *tangent);
    fn.func->setAttr("tangent_kind",
                     types.getStringAttr(kindName(tangent->kind)));
    fn.func->setAttr("tangent_uniform", types.getBoolAttr(tangent->uniform));
    func::ReturnOp::create(fn.builder, program.getLoc(),
                           ValueRange{*score, derivative});
    program.erase();
    return success();
  }
};

} // namespace

void flashjit::test::registerTestScoreTangentPass() {
  PassRegistration<TestScoreTangentPass>();
}
