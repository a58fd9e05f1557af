//===- AttentionChain.cpp - find the fusible chain in a program -----------===//

#include "compiler/analysis/AttentionChain.h"

#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace flashjit;
using namespace flashjit::tile;

bool flashjit::isScoreModOp(Operation *op) {
  return isa<AddOp, SubOp, MulOp, DivOp, RemOp, MaxOp, MinOp, AndOp, OrOp,
             XorOp, CmpOp, NegOp, AbsOp, ExpOp, LogOp, TanhOp, SqrtOp,
             SigmoidOp, NotOp, CastOp, SelectOp, ConstantOp>(op);
}

static InFlightDiagnostic breaks(Operation *op) {
  return op->emitOpError() << "breaks the attention chain: ";
}

/// Returns the single op of type OpT defining `value`, or emits why not.
template <typename OpT>
static OpT expectDefinedBy(Value value, Operation *user, StringRef what) {
  Operation *def = value.getDefiningOp();
  if (auto op = dyn_cast_if_present<OpT>(def))
    return op;
  Operation *culprit = def ? def : user;
  breaks(culprit) << what;
  return nullptr;
}

/// Checks that every user of `value` is one of `allowed`.
static LogicalResult
expectOnlyUsedBy(Value value, ArrayRef<Operation *> allowed, StringRef what) {
  for (Operation *user : value.getUsers())
    if (!llvm::is_contained(allowed, user))
      return breaks(user) << what;
  return success();
}

namespace {

/// o = dot(p, v), p (possibly through dropout) from the softmax whose lse
/// is stored; each feeds only its place in the chain.
LogicalResult matchOutputSide(AttentionChain &chain) {
  chain.outputDot = expectDefinedBy<DotOp>(
      chain.store.getO(), chain.store,
      "O must be the product of the probabilities and V (tile.dot)");
  if (!chain.outputDot)
    return failure();
  if (chain.outputDot.getTransposeRhs())
    return breaks(chain.outputDot) << "the output product takes V as it is, "
                                      "not transposed";
  chain.v = expectDefinedBy<LoadVOp>(chain.outputDot.getRhs(), chain.outputDot,
                                     "the output product's right side must be "
                                     "the V tile (tile.load_v)");
  if (!chain.v)
    return failure();

  // p, possibly through dropout, from the softmax.
  Value probs = chain.outputDot.getLhs();
  if (auto dropout = probs.getDefiningOp<DropoutOp>()) {
    chain.dropout = dropout;
    probs = dropout.getProbs();
  }
  chain.softmax = expectDefinedBy<SoftmaxOp>(
      probs,
      chain.dropout ? chain.dropout.getOperation()
                    : chain.outputDot.getOperation(),
      "the output product's left side must be the softmax probabilities, "
      "optionally through tile.dropout");
  if (!chain.softmax)
    return failure();
  if (chain.store.getLse() != chain.softmax.getLse())
    return breaks(chain.store)
           << "the stored log-sum-exp must be the one of the softmax that "
              "gives the probabilities";

  // The probabilities, lse and V feed only their places in the chain.
  Operation *probsUser = chain.dropout ? chain.dropout.getOperation()
                                       : chain.outputDot.getOperation();
  if (failed(expectOnlyUsedBy(chain.softmax.getProbs(), {probsUser},
                              "it reads the probabilities, which only "
                              "dropout and the output product may read")) ||
      failed(expectOnlyUsedBy(chain.softmax.getLse(), {chain.store},
                              "it reads the log-sum-exp, which only "
                              "tile.store may read")) ||
      (chain.dropout &&
       failed(expectOnlyUsedBy(chain.dropout.getResult(), {chain.outputDot},
                               "it reads the dropped probabilities, which "
                               "only the output product may read"))) ||
      failed(expectOnlyUsedBy(chain.v.getResult(), {chain.outputDot},
                              "it reads the V tile, which only the output "
                              "product may read")) ||
      failed(expectOnlyUsedBy(chain.outputDot.getResult(), {chain.store},
                              "it reads O, which only tile.store may read")))
    return failure();

  // Dropout of rate 0 keeps every probability and scales by 1: the chain
  // is the one without it, so its kernels (and their bits) are those of no
  // dropout.
  if (chain.dropout && chain.dropout.getRate().isZero())
    chain.dropout = nullptr;

  return success();
}

/// The masks between the modified scores and the softmax, innermost first.
void matchMasks(AttentionChain &chain) {
  Value scores = chain.softmax.getScores();
  while (auto mask = scores.getDefiningOp<MaskOp>()) {
    chain.masks.push_back(mask);
    scores = mask.getScores();
  }
  std::reverse(chain.masks.begin(), chain.masks.end());
  chain.modifiedScores = scores;
}

/// The score modification: walk back from the modified scores to q·kᵀ.
/// Every op on the way that depends on the scores must be elementwise; they
/// go into `slice`.
LogicalResult matchScoreModification(AttentionChain &chain,
                                     llvm::SetVector<Operation *> &slice) {
  Value scores = chain.modifiedScores;
  SmallVector<Value> worklist{scores};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    Operation *def = value.getDefiningOp();
    if (!def || slice.contains(def))
      continue;
    if (isa<DotOp>(def)) {
      if (chain.scoreDot && chain.scoreDot != def)
        return breaks(def) << "the scores come from a second product; only "
                              "one q·kᵀ may feed the softmax";
      chain.scoreDot = cast<DotOp>(def);
      continue;
    }
    if (isa<LoadQOp, LoadKOp, LoadVOp>(def))
      return breaks(def) << "the score modification reads an input tile "
                            "directly; only q·kᵀ may read Q and K";
    if (isa<MaskOp>(def))
      return breaks(def) << "a mask must come after the score modification, "
                            "directly before the softmax";
    if (isa<SoftmaxOp, DropoutOp>(def))
      return breaks(def) << "the scores pass through a second softmax or "
                            "dropout";
    if (isa<IndexOp, ExtentOp, ParamOp, BufferOp, LoadOp, SoftmaxScaleOp>(def))
      continue; // score-independent leaves
    if (!isScoreModOp(def))
      return breaks(def) << "it is not elementwise arithmetic";
    slice.insert(def);
    llvm::append_range(worklist, def->getOperands());
  }
  if (!chain.scoreDot)
    return breaks(chain.softmax) << "its scores do not come from q·kᵀ";
  if (!chain.scoreDot.getTransposeRhs())
    return breaks(chain.scoreDot) << "the scores are q·kᵀ: the product must "
                                     "transpose its right side";
  chain.q = expectDefinedBy<LoadQOp>(chain.scoreDot.getLhs(), chain.scoreDot,
                                     "the scores' left side must be the Q "
                                     "tile (tile.load_q)");
  chain.k = expectDefinedBy<LoadKOp>(chain.scoreDot.getRhs(), chain.scoreDot,
                                     "the scores' right side must be the K "
                                     "tile (tile.load_k)");
  if (!chain.q || !chain.k)
    return failure();

  return success();
}

/// The ops that read the scores, directly or through other such ops, feed
/// only the chain; what they compute from indices and parameters alone may
/// be shared with the masks.
LogicalResult checkScoreUses(ProgramOp program, AttentionChain &chain,
                             const llvm::SetVector<Operation *> &slice) {
  llvm::SmallPtrSet<Operation *, 16> dependent;
  for (Operation &op : program.getBody().front()) {
    if (!slice.contains(&op))
      continue;
    for (Value operand : op.getOperands()) {
      Operation *def = operand.getDefiningOp();
      if (def == chain.scoreDot || dependent.contains(def)) {
        dependent.insert(&op);
        break;
      }
    }
  }
  SmallVector<Operation *> scoreUsers(dependent.begin(), dependent.end());
  scoreUsers.push_back(chain.masks.empty()
                           ? chain.softmax.getOperation()
                           : chain.masks.front().getOperation());
  if (failed(expectOnlyUsedBy(chain.scoreDot.getResult(), scoreUsers,
                              "it reads the scores outside the score "
                              "modification")) ||
      failed(expectOnlyUsedBy(chain.q.getResult(), {chain.scoreDot},
                              "it reads the Q tile, which only q·kᵀ may "
                              "read")) ||
      failed(expectOnlyUsedBy(chain.k.getResult(), {chain.scoreDot},
                              "it reads the K tile, which only q·kᵀ may "
                              "read")))
    return failure();
  for (Operation *op : dependent)
    for (Value result : op->getResults())
      if (failed(expectOnlyUsedBy(result, scoreUsers,
                                  "it reads the scores outside the score "
                                  "modification")))
        return failure();

  return success();
}

} // namespace

FailureOr<AttentionChain> flashjit::matchAttentionChain(ProgramOp program) {
  AttentionChain chain;
  chain.store = program.getStore();
  if (!chain.store)
    return program.emitOpError() << "has no tile.store";
  if (failed(matchOutputSide(chain)))
    return failure();
  matchMasks(chain);
  llvm::SetVector<Operation *> slice;
  if (failed(matchScoreModification(chain, slice)) ||
      failed(checkScoreUses(program, chain, slice)))
    return failure();
  // Keep the score modification in program order.
  for (Operation &op : program.getBody().front())
    if (slice.contains(&op))
      chain.scoreMod.push_back(&op);
  return chain;
}

VariantCost flashjit::variantCostOf(const AttentionChain &chain) {
  bool modifies = chain.scoreMod.size() > 1;
  VariantCost cost;
  if (!chain.dropout) {
    if (modifies)
      cost = VariantCost::scoreModifying();
    cost.masked = !chain.masks.empty();
    return cost;
  }
  cost = VariantCost::dropout();
  cost.masked = !chain.masks.empty();
  // Dropout's backward count already covers a modified score's values
  // (calibrated on the combined built-in); its forward does not: ptxas
  // spilled 76 bytes at d 64 on sm_80 with dropout's registers alone.
  if (modifies)
    cost.forwardRegisters += VariantCost::kModifiedScoreForwardRegisters;
  return cost;
}
