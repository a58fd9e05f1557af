//===- TestElementFunction.cpp - expose ElementEmitter to lit -------------===//
//
// -tile-test-element-function rewrites each tile.program @v into
//
//   func.func @v_element(%score: f32, %batch: i32, %head: i32, %q: i32,
//                        %kv: i32, %len_batch: i32, %len_head: i32,
//                        %len_q: i32, %len_kv: i32, %scale: f32,
//                        <params...>, <buffers as memrefs...>) -> (f32, i1)
//
// returning the modified score and whether the element is kept, so that lit
// can check the per-element code kernels will contain. Buffer gathers clamp
// their index into the buffer, as kernels do.
//
//===----------------------------------------------------------------------===//

#include "compiler/analysis/AttentionChain.h"
#include "compiler/lowering/ElementEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
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
    MLIRContext *ctx = &getContext();
    Type f32 = Float32Type::get(ctx), i32 = IntegerType::get(ctx, 32);

    // Fixed arguments, then parameters and buffers in program order.
    SmallVector<Type> inputs = {f32, i32, i32, i32, i32,
                                i32, i32, i32, i32, f32};
    DenseMap<Operation *, unsigned> argOf;
    for (Operation &op : program.getBody().front()) {
      if (auto param = dyn_cast<tile::ParamOp>(op)) {
        argOf[param] = inputs.size();
        inputs.push_back(param.getType().getElementType());
      } else if (auto buffer = dyn_cast<tile::BufferOp>(op)) {
        argOf[buffer] = inputs.size();
        SmallVector<int64_t> shape(buffer.getType().getRank(),
                                   ShapedType::kDynamic);
        inputs.push_back(
            MemRefType::get(shape, buffer.getType().getElementType()));
      }
    }
    OpBuilder b(program);
    auto func = func::FuncOp::create(
        b, program.getLoc(), (program.getSymName() + "_element").str(),
        b.getFunctionType(inputs, {f32, b.getI1Type()}));
    Block *entry = func.addEntryBlock();
    b.setInsertionPointToStart(entry);
    auto arg = [&](unsigned i) { return entry->getArgument(i); };

    auto leaf = [&](OpBuilder &builder, Operation *op,
                    ArrayRef<Value> operands) -> FailureOr<Value> {
      Location loc = op->getLoc();
      if (isa<tile::DotOp>(op))
        return arg(0);
      if (auto index = dyn_cast<tile::IndexOp>(op))
        return arg(1 + static_cast<unsigned>(index.getDim()));
      if (auto extent = dyn_cast<tile::ExtentOp>(op))
        return arg(5 + static_cast<unsigned>(extent.getDim()));
      if (isa<tile::SoftmaxScaleOp>(op))
        return arg(9);
      if (isa<tile::ParamOp>(op))
        return arg(argOf.lookup(op));
      auto load = cast<tile::LoadOp>(op);
      Value buffer = arg(argOf.lookup(load.getBuffer().getDefiningOp()));
      SmallVector<Value> indices;
      Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
      Value one = arith::ConstantIndexOp::create(builder, loc, 1);
      for (auto [dim, index] : llvm::enumerate(operands)) {
        Value i = arith::IndexCastOp::create(builder, loc,
                                             builder.getIndexType(), index);
        Value last = arith::SubIOp::create(
            builder, loc, memref::DimOp::create(builder, loc, buffer, dim),
            one);
        i = arith::MaxSIOp::create(builder, loc, i, zero);
        indices.push_back(arith::MinSIOp::create(builder, loc, i, last));
      }
      return memref::LoadOp::create(builder, loc, buffer, indices).getResult();
    };

    ElementEmitter emitter(b, leaf);
    FailureOr<Value> score = emitter.emit(chain->modifiedScores);
    if (failed(score))
      return failure();
    Value keep =
        arith::ConstantIntOp::create(b, program.getLoc(), b.getI1Type(), 1);
    for (tile::MaskOp mask : chain->masks) {
      FailureOr<Value> k = emitter.emit(mask.getKeep());
      if (failed(k))
        return failure();
      keep = arith::AndIOp::create(b, program.getLoc(), keep, *k);
    }
    func::ReturnOp::create(b, program.getLoc(), ValueRange{*score, keep});
    program.erase();
    return success();
  }
};

} // namespace

namespace flashjit::test {
void registerTestPasses() { PassRegistration<TestElementFunctionPass>(); }
} // namespace flashjit::test
