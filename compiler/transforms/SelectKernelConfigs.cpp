//===- SelectKernelConfigs.cpp - each kernel's configuration for a target -===//

#include "compiler/analysis/AttentionChain.h"
#include "compiler/kernel/KernelConfig.h"
#include "compiler/transforms/KernelPasses.h"

#include "mlir/IR/Builders.h"

namespace flashjit {
#define GEN_PASS_DEF_SELECTKERNELCONFIGS
#include "compiler/transforms/Passes.h.inc"
} // namespace flashjit

using namespace mlir;
using namespace flashjit;

namespace {

/// An error in the pass's options rather than in the program: it has no
/// place in the program's text, and compileProgram's callers see the
/// message alone.
InFlightDiagnostic optionError(tile::ProgramOp program, StringRef message) {
  return mlir::emitError(UnknownLoc::get(program.getContext()), message);
}

struct SelectKernelConfigsPass
    : flashjit::impl::SelectKernelConfigsBase<SelectKernelConfigsPass> {
  using Base::Base;
  SelectKernelConfigsPass(const TargetInfo &device,
                          const SelectKernelConfigsOptions &options)
      : Base(options), device(device) {}

  void runOnOperation() override {
    if (failed(selectConfigs(getOperation())))
      signalPassFailure();
  }

private:
  LogicalResult selectConfigs(tile::ProgramOp program);
  FailureOr<TargetInfo> targetOf(tile::ProgramOp program) const;
  FailureOr<Type> elementTypeOf(tile::ProgramOp program) const;
  FailureOr<CompilePass> compilePassOf(tile::ProgramOp program) const;

  /// The facts of the runtime's device; otherwise `target` names one.
  std::optional<TargetInfo> device;
};

FailureOr<TargetInfo>
SelectKernelConfigsPass::targetOf(tile::ProgramOp program) const {
  Expected<TargetInfo> target =
      device ? Expected<TargetInfo>(*device) : targetByName(this->target);
  if (!target)
    return optionError(program, target.error().message());
  if (!target->hasMmaM16N8K16())
    return optionError(program, "")
           << "target " << target->arch
           << " has no m16n8k16 tensor-core products (sm_80 or newer needed)";
  return *target;
}

FailureOr<Type>
SelectKernelConfigsPass::elementTypeOf(tile::ProgramOp program) const {
  Builder b(program.getContext());
  if (dtype == "bf16")
    return Type(b.getBF16Type());
  if (dtype == "f16")
    return Type(b.getF16Type());
  return optionError(program, "")
         << "dtype '" << dtype << "' is not an input type (bf16, f16)";
}

FailureOr<CompilePass>
SelectKernelConfigsPass::compilePassOf(tile::ProgramOp program) const {
  if (pass == "fwd")
    return CompilePass::forward;
  if (pass == "bwd")
    return CompilePass::backward;
  return optionError(program, "")
         << "pass '" << pass << "' is neither fwd nor bwd";
}

LogicalResult SelectKernelConfigsPass::selectConfigs(tile::ProgramOp program) {
  FailureOr<AttentionChain> chain = matchAttentionChain(program);
  FailureOr<TargetInfo> target = targetOf(program);
  FailureOr<Type> elementType = elementTypeOf(program);
  FailureOr<CompilePass> compilePass = compilePassOf(program);
  if (failed(chain) || failed(target) || failed(elementType) ||
      failed(compilePass))
    return failure();

  ScheduleHints hints{/*elementBytes=*/2, variantCostOf(*chain),
                      rowTilesPerWarp, blockM, blockN};
  Expected<std::vector<Schedule>> schedules =
      schedulePass(*target, *compilePass, deterministic, headDim, hints);
  if (!schedules)
    return optionError(program, schedules.error().message());

  SmallVector<Attribute> configs;
  for (const Schedule &schedule : *schedules)
    configs.push_back(kernelConfigOf(*elementType, schedule));
  program->setAttr(kKernelConfigsAttrName,
                   ArrayAttr::get(program.getContext(), configs));
  return success();
}

} // namespace

std::unique_ptr<Pass> flashjit::createSelectKernelConfigsPass(
    const TargetInfo &target, const SelectKernelConfigsOptions &options) {
  return std::make_unique<SelectKernelConfigsPass>(target, options);
}
