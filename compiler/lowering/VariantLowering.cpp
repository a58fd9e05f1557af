//===- VariantLowering.cpp - a variant's pieces inside a kernel -----------===//

#include "compiler/lowering/VariantLowering.h"

#include "compiler/lowering/ElementEmitter.h"
#include "compiler/lowering/Philox.h"
#include "compiler/lowering/ScoreDerivative.h"

using namespace mlir;
using namespace flashjit;

unsigned KernelArgs::add(std::string name, KernelArg::Kind kind) {
  args.push_back({std::move(name), kind});
  return args.size() - 1;
}

LLVM::LLVMFuncOp KernelArgs::createKernel(ModuleOp module, StringRef name,
                                          int numThreads) {
  SmallVector<Type> types;
  for (const KernelArg &arg : args) {
    switch (arg.kind) {
    case KernelArg::Kind::pointer:
      types.push_back(k.globalPtr());
      break;
    case KernelArg::Kind::i32:
      types.push_back(k.i32());
      break;
    case KernelArg::Kind::i64:
      types.push_back(k.i64());
      break;
    case KernelArg::Kind::f32:
      types.push_back(k.f32());
      break;
    }
  }
  OpBuilder &b = k.b;
  b.setInsertionPointToEnd(module.getBody());
  func = LLVM::LLVMFuncOp::create(
      b, k.loc, name,
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(b.getContext()),
                                  types));
  func->setAttr(NVVM::NVVMDialect::getKernelFuncAttrName(), b.getUnitAttr());
  func->setAttr(NVVM::NVVMDialect::getReqntidAttrName(),
                b.getDenseI32ArrayAttr({numThreads, 1, 1}));
  // Inputs, outputs and buffers never overlap: lets loads use the
  // read-only path.
  for (auto [i, arg] : llvm::enumerate(args))
    if (arg.kind == KernelArg::Kind::pointer)
      func.setArgAttr(i, LLVM::LLVMDialect::getNoAliasAttrName(),
                      b.getUnitAttr());
  Block *entry = func.addEntryBlock(b);
  b.setInsertionPointToStart(entry);
  return func;
}

Value KernelArgs::get(unsigned index) const { return func.getArgument(index); }

double VariantLowering::dropoutRate() const {
  tile::DropoutOp dropout = chain.dropout;
  return dropout ? dropout.getRate().convertToDouble() : 0.0;
}

void VariantLowering::declareArgs(KernelArgs &argList) {
  using Kind = KernelArg::Kind;
  for (Operation &op : chain.store->getBlock()->getOperations()) {
    if (auto param = dyn_cast<tile::ParamOp>(op)) {
      Kind kind =
          param.getType().getElementType().isF32() ? Kind::f32 : Kind::i32;
      paramArg[param] = argList.add(param.getName().str(), kind);
    } else if (auto buffer = dyn_cast<tile::BufferOp>(op)) {
      std::string name = buffer.getName().str();
      std::vector<unsigned> slots{argList.add(name, Kind::pointer)};
      for (int64_t d = 0; d < buffer.getType().getRank(); ++d)
        slots.push_back(
            argList.add(name + ".extent" + std::to_string(d), Kind::i32));
      if (buffer.getType().getRank() == 2)
        slots.push_back(argList.add(name + ".row_stride", Kind::i64));
      bufferArgs[buffer] = slots;
    }
  }
  if (chain.dropout) {
    seedArg = argList.add("dropout.seed", Kind::i64);
    offsetArg = argList.add("dropout.offset", Kind::i64);
  }
}

void VariantLowering::bind(const KernelArgs &argList, Value batchValue,
                           Value headValue, Value batchSizeValue,
                           Value numHeadsValue, Value seqlenQValue,
                           Value seqlenKvValue, Value scaleValue) {
  args = &argList;
  batch = batchValue;
  head = headValue;
  batchSize = batchSizeValue;
  numHeads = numHeadsValue;
  seqlenQ = seqlenQValue;
  seqlenKv = seqlenKvValue;
  scale = scaleValue;
}

Value VariantLowering::scalarOf(Operation *leaf) {
  if (auto index = dyn_cast<tile::IndexOp>(leaf))
    return index.getDim() == tile::IndexDim::batch ? batch : head;
  if (auto extent = dyn_cast<tile::ExtentOp>(leaf)) {
    switch (extent.getDim()) {
    case tile::IndexDim::batch:
      return batchSize;
    case tile::IndexDim::head:
      return numHeads;
    case tile::IndexDim::q:
      return seqlenQ;
    case tile::IndexDim::kv:
      return seqlenKv;
    }
  }
  if (isa<tile::SoftmaxScaleOp>(leaf))
    return scale;
  return args->get(paramArg.lookup(leaf));
}

BufferBinding VariantLowering::bufferOf(tile::BufferOp op) {
  const std::vector<unsigned> &slots = bufferArgs.lookup(op);
  BufferBinding binding;
  binding.base = args->get(slots[0]);
  int64_t rank = op.getType().getRank();
  for (int64_t d = 0; d < rank; ++d)
    binding.extents.push_back(args->get(slots[1 + d]));
  if (rank == 2)
    binding.rowStride = args->get(slots[3]);
  return binding;
}

/// The element-level leaves of a variant at (score, q, kv).
static FailureOr<Value>
leafAt(VariantLowering &variant, KernelBuilder &k, Operation *op,
       ArrayRef<Value> operands, Value score, Value q, Value kv,
       function_ref<Value(Operation *)> scalar,
       function_ref<BufferBinding(tile::BufferOp)> buf) {
  if (isa<tile::DotOp>(op))
    return score;
  if (auto index = dyn_cast<tile::IndexOp>(op)) {
    if (index.getDim() == tile::IndexDim::q)
      return q;
    if (index.getDim() == tile::IndexDim::kv)
      return kv;
  }
  if (auto load = dyn_cast<tile::LoadOp>(op))
    return BlockClassifier::gather(
        k, buf(load.getBuffer().getDefiningOp<tile::BufferOp>()),
        load.getType().getElementType(), operands);
  return scalar(op);
}

Value VariantLowering::log2ScoreAt(Value score, Value q, Value kv) {
  auto leaf = [&](OpBuilder &, Operation *op,
                  ArrayRef<Value> operands) -> FailureOr<Value> {
    return leafAt(
        *this, k, op, operands, score, q, kv,
        [&](Operation *o) { return scalarOf(o); },
        [&](tile::BufferOp b) { return bufferOf(b); });
  };
  ElementEmitter emitter(k.b, leaf);
  // The chain was matched and verified: every op on the way lowers. The
  // scalar's product with log2(e) does not vary per element, and LLVM
  // hoists it out of the loops.
  Value root = chain.modifiedScores;
  if (auto product = root.getDefiningOp<tile::MulOp>()) {
    auto isScalar = [](Value v) {
      return cast<tile::TileType>(v.getType()).isScalar();
    };
    Value lhs = product.getLhs(), rhs = product.getRhs();
    if (isScalar(rhs) != isScalar(lhs)) {
      Value scalar = isScalar(rhs) ? rhs : lhs;
      Value element = isScalar(rhs) ? lhs : rhs;
      return k.fmul(*emitter.emit(element),
                    k.fmul(*emitter.emit(scalar), k.cf(kLog2e)));
    }
  }
  return k.fmul(*emitter.emit(root), k.cf(kLog2e));
}

ScoreTangent VariantLowering::scoreDerivativeAt(Value score, Value q,
                                                Value kv) {
  auto leaf = [&](OpBuilder &, Operation *op,
                  ArrayRef<Value> operands) -> FailureOr<Value> {
    return leafAt(
        *this, k, op, operands, score, q, kv,
        [&](Operation *o) { return scalarOf(o); },
        [&](tile::BufferOp b) { return bufferOf(b); });
  };
  ElementEmitter emitter(k.b, leaf);
  // As log2ScoreAt: every op of a matched score modification has a rule.
  return *emitScoreTangent(emitter, k.b, chain.modifiedScores,
                           chain.scoreDot.getResult());
}

Value VariantLowering::keepAt(Value q, Value kv) {
  if (chain.masks.empty())
    return {};
  auto leaf = [&](OpBuilder &, Operation *op,
                  ArrayRef<Value> operands) -> FailureOr<Value> {
    return leafAt(
        *this, k, op, operands, Value(), q, kv,
        [&](Operation *o) { return scalarOf(o); },
        [&](tile::BufferOp b) { return bufferOf(b); });
  };
  ElementEmitter emitter(k.b, leaf);
  Value keep;
  for (tile::MaskOp mask : chain.masks) {
    Value one = *emitter.emit(mask.getKeep());
    keep = keep ? k.andi(keep, one) : one;
  }
  return keep;
}

bool VariantLowering::masksReadBuffers() const {
  SmallVector<Value> work;
  for (tile::MaskOp mask : chain.masks)
    work.push_back(mask.getKeep());
  DenseSet<Operation *> seen;
  while (!work.empty()) {
    Operation *op = work.pop_back_val().getDefiningOp();
    if (!op || !seen.insert(op).second)
      continue;
    if (isa<tile::LoadOp>(op))
      return true;
    llvm::append_range(work, op->getOperands());
  }
  return false;
}

std::pair<Value, Value> VariantLowering::classifyBlock(Value qLo, Value qHi,
                                                       Value kvLo, Value kvHi) {
  if (chain.masks.empty())
    return {k.cbool(true), k.cbool(false)};
  // Named: Inputs holds function_refs, which must not outlive these.
  auto scalar = [&](Operation *o) { return scalarOf(o); };
  auto buffer = [&](tile::BufferOp b) { return bufferOf(b); };
  BlockClassifier::Inputs inputs{scalar, buffer, qLo, qHi, kvLo, kvHi};
  BlockClassifier classifier(k, inputs);
  Value mayKeep, mayMask;
  for (tile::MaskOp mask : chain.masks) {
    // As keepAt, relies on every op of a mask having its rule.
    auto [t, f] = *classifier.classify(mask.getKeep());
    // A conjunction may be kept if every part may; it may be masked if any
    // part may.
    mayKeep = mayKeep ? k.andi(mayKeep, t) : t;
    mayMask = mayMask ? k.ori(mayMask, f) : f;
  }
  return {mayKeep, mayMask};
}

std::array<Value, 4> VariantLowering::philoxWords(Value q, Value kv) {
  Value seed = args->get(seedArg), offset = args->get(offsetArg);
  Value bh = k.add(k.mul(batch, numHeads), head);
  Value offsetHi =
      k.trunc32(arith::ShRUIOp::create(k.b, k.loc, offset, k.c64(32)));
  std::array<Value, 4> counter = {
      arith::ShRUIOp::create(k.b, k.loc, kv, k.c32(2)), q,
      arith::XOrIOp::create(k.b, k.loc, bh, offsetHi), k.trunc32(offset)};
  std::array<Value, 2> key = {
      k.trunc32(seed),
      k.trunc32(arith::ShRUIOp::create(k.b, k.loc, seed, k.c64(32)))};
  return emitPhilox(k, counter, key);
}

std::pair<Value, Value> VariantLowering::dropoutKeepPair(Value q, Value kv) {
  std::array<Value, 4> words = philoxWords(q, kv);
  // kv is even: its words are 0,1 or 2,3 of the group.
  Value upper =
      k.cmpi(arith::CmpIPredicate::ne,
             arith::AndIOp::create(k.b, k.loc, kv, k.c32(2)), k.c32(0));
  Value first = k.select(upper, words[2], words[0]);
  Value second = k.select(upper, words[3], words[1]);
  Value threshold =
      k.c32(static_cast<int32_t>(dropoutThreshold(dropoutRate())));
  return {k.cmpi(arith::CmpIPredicate::uge, first, threshold),
          k.cmpi(arith::CmpIPredicate::uge, second, threshold)};
}

Value VariantLowering::dropoutKeepAt(Value q, Value kv) {
  std::array<Value, 4> words = philoxWords(q, kv);
  Value which = arith::AndIOp::create(k.b, k.loc, kv, k.c32(3));
  auto is = [&](int w) {
    return k.cmpi(arith::CmpIPredicate::eq, which, k.c32(w));
  };
  Value word =
      k.select(is(0), words[0],
               k.select(is(1), words[1], k.select(is(2), words[2], words[3])));
  Value threshold =
      k.c32(static_cast<int32_t>(dropoutThreshold(dropoutRate())));
  return k.cmpi(arith::CmpIPredicate::uge, word, threshold);
}
