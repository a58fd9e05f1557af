//===- TestIntervalBounds.cpp - expose BlockClassifier to lit -------------===//
//
// -tile-test-interval-bounds rewrites each tile.program @v into
//
//   func.func @v_bounds(%q_lo: i32, %q_hi: i32, %kv_lo: i32, %kv_hi: i32,
//                       %batch: i32, %head: i32, %len_batch: i32,
//                       %len_head: i32, %len_q: i32, %len_kv: i32,
//                       %scale: f32, <params...>, <buffers...>)
//       -> (i1, i1, ...)
//
// returning, for each mask in order, whether it may keep and whether it may
// mask some element of the block [q_lo, q_hi] x [kv_lo, kv_hi]: the code
// BlockClassifier emits, which kernels run per block. A buffer is passed as
// kernels get it: !llvm.ptr<1>, an i32 extent per dimension, and an i64 row
// stride for rank 2.
//
//===----------------------------------------------------------------------===//

#include "compiler/analysis/AttentionChain.h"
#include "compiler/lowering/BlockClassifier.h"
#include "tests/lib/TestPasses.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

using namespace mlir;
using namespace flashjit;

namespace {

/// The function, before `program`, with the builder at its entry: the
/// block, the kernel's scalars, then parameters and buffers in program
/// order.
class BoundsFunction {
public:
  BoundsFunction(tile::ProgramOp program, unsigned numMasks);

  Value scalar(Operation *leaf);
  BufferBinding buffer(tile::BufferOp op);
  Value blockEnd(unsigned i) { return func.getArgument(i); }

  OpBuilder builder;
  func::FuncOp func;

private:
  DenseMap<Operation *, unsigned> argOf;
};

BoundsFunction::BoundsFunction(tile::ProgramOp program, unsigned numMasks)
    : builder(program) {
  MLIRContext *ctx = program.getContext();
  Type f32 = Float32Type::get(ctx), i32 = IntegerType::get(ctx, 32);
  Type i64 = IntegerType::get(ctx, 64);
  SmallVector<Type> inputs = {i32, i32, i32, i32, i32, i32,
                              i32, i32, i32, i32, f32};
  for (Operation &op : program.getBody().front()) {
    if (auto param = dyn_cast<tile::ParamOp>(op)) {
      argOf[param] = inputs.size();
      inputs.push_back(param.getType().getElementType());
    } else if (auto buffer = dyn_cast<tile::BufferOp>(op)) {
      argOf[buffer] = inputs.size();
      inputs.push_back(LLVM::LLVMPointerType::get(ctx, 1));
      inputs.append(buffer.getType().getRank(), i32);
      if (buffer.getType().getRank() == 2)
        inputs.push_back(i64);
    }
  }
  SmallVector<Type> results(2 * numMasks, builder.getI1Type());
  func = func::FuncOp::create(builder, program.getLoc(),
                              (program.getSymName() + "_bounds").str(),
                              builder.getFunctionType(inputs, results));
  builder.setInsertionPointToStart(func.addEntryBlock());
}

Value BoundsFunction::scalar(Operation *leaf) {
  if (auto index = dyn_cast<tile::IndexOp>(leaf))
    return func.getArgument(4 + static_cast<unsigned>(index.getDim()));
  if (auto extent = dyn_cast<tile::ExtentOp>(leaf))
    return func.getArgument(6 + static_cast<unsigned>(extent.getDim()));
  if (isa<tile::SoftmaxScaleOp>(leaf))
    return func.getArgument(10);
  return func.getArgument(argOf.lookup(leaf));
}

BufferBinding BoundsFunction::buffer(tile::BufferOp op) {
  unsigned first = argOf.lookup(op);
  int64_t rank = op.getType().getRank();
  BufferBinding binding;
  binding.base = func.getArgument(first);
  for (int64_t d = 0; d < rank; ++d)
    binding.extents.push_back(func.getArgument(first + 1 + d));
  if (rank == 2)
    binding.rowStride = func.getArgument(first + 3);
  return binding;
}

struct TestIntervalBoundsPass
    : PassWrapper<TestIntervalBoundsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestIntervalBoundsPass)

  StringRef getArgument() const final { return "tile-test-interval-bounds"; }
  StringRef getDescription() const final {
    return "Rewrite each tile.program into a function of a block returning "
           "each mask's classification of it (test only)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, func::FuncDialect, math::MathDialect,
                    scf::SCFDialect, LLVM::LLVMDialect>();
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
    BoundsFunction fn(program, chain->masks.size());
    KernelBuilder k(fn.builder, program.getLoc(), InputType::f16);
    auto scalar = [&](Operation *op) { return fn.scalar(op); };
    auto buffer = [&](tile::BufferOp op) { return fn.buffer(op); };
    BlockClassifier classifier(k,
                               {scalar, buffer, fn.blockEnd(0), fn.blockEnd(1),
                                fn.blockEnd(2), fn.blockEnd(3)});
    SmallVector<Value> classes;
    for (tile::MaskOp mask : chain->masks) {
      FailureOr<std::pair<Value, Value>> c =
          classifier.classify(mask.getKeep());
      if (failed(c))
        return failure();
      classes.append({c->first, c->second});
    }
    func::ReturnOp::create(fn.builder, program.getLoc(), classes);
    program.erase();
    return success();
  }
};

} // namespace

void flashjit::test::registerTestIntervalBoundsPass() {
  PassRegistration<TestIntervalBoundsPass>();
}
