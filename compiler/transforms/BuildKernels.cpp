//===- BuildKernels.cpp - a configured program to its kernels -------------===//

#include "compiler/analysis/AttentionChain.h"
#include "compiler/attention/BackwardKernels.h"
#include "compiler/attention/ForwardKernel.h"
#include "compiler/kernel/KernelConfig.h"
#include "compiler/kernel/TileScheduler.h"
#include "compiler/transforms/KernelPasses.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace flashjit {
#define GEN_PASS_DEF_BUILDKERNELS
#include "compiler/transforms/Passes.h.inc"
} // namespace flashjit

using namespace mlir;
using namespace flashjit;

namespace {

/// Adds the kernel `config` describes to `module`.
FailureOr<KernelInfo> buildKernel(ModuleOp module, const AttentionChain &chain,
                                  tile::KernelConfigAttr config,
                                  StringRef name) {
  Schedule schedule = scheduleOf(config);
  InputType inputType =
      config.getElementType().isBF16() ? InputType::bf16 : InputType::f16;
  switch (schedule.kind) {
  case KernelKind::forward:
    return buildForwardKernel(module, chain, schedule, inputType, name);
  case KernelKind::backwardDelta:
    return buildBackwardDeltaKernel(module, chain, schedule, inputType, name);
  case KernelKind::backwardKeyValue:
  case KernelKind::backwardKeyValueQuery:
    return buildBackwardKeyValueKernel(module, chain, schedule, inputType,
                                       name);
  case KernelKind::backwardQueryConvert:
    return buildBackwardQueryConvertKernel(module, chain, schedule, inputType,
                                           name);
  case KernelKind::backwardQuery:
    return buildBackwardQueryKernel(module, chain, schedule, inputType, name);
  }
  llvm_unreachable("a kernel kind without a builder");
}

/// Records what the runtime needs to launch `info` on its function: the
/// schedule the builder describes, for inputs of `elementType`.
void annotateKernel(ModuleOp module, const KernelInfo &info, Type elementType) {
  auto func = module.lookupSymbol<LLVM::LLVMFuncOp>(info.name);
  Builder b(module.getContext());
  SmallVector<StringRef> names;
  for (const KernelArg &arg : info.args)
    names.push_back(arg.name);
  func->setAttr(kKernelConfigAttrName,
                kernelConfigOf(elementType, info.schedule));
  func->setAttr(kKernelArgsAttrName, b.getStrArrayAttr(names));
}

LogicalResult buildProgramKernels(ModuleOp module, tile::ProgramOp program) {
  auto configs = program->getAttrOfType<ArrayAttr>(kKernelConfigsAttrName);
  if (!configs)
    return program.emitOpError() << "has no " << kKernelConfigsAttrName
                                 << ": run tile-select-kernel-configs first";
  FailureOr<AttentionChain> chain = matchAttentionChain(program);
  if (failed(chain))
    return failure();
  for (auto config : configs.getAsRange<tile::KernelConfigAttr>()) {
    std::string name = ("flashjit_" + program.getSymName() + "_" +
                        stringifyKernelKind(scheduleOf(config).kind))
                           .str();
    FailureOr<KernelInfo> info = buildKernel(module, *chain, config, name);
    if (failed(info))
      return program.emitOpError() << "could not build " << name;
    annotateKernel(module, *info, config.getElementType());
  }
  program.erase();
  return success();
}

struct BuildKernelsPass : flashjit::impl::BuildKernelsBase<BuildKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto program :
         llvm::make_early_inc_range(module.getOps<tile::ProgramOp>()))
      if (failed(buildProgramKernels(module, program)))
        return signalPassFailure();
  }
};

KernelArg::Kind argKindOf(Type type) {
  if (isa<LLVM::LLVMPointerType>(type))
    return KernelArg::Kind::pointer;
  if (type.isInteger(64))
    return KernelArg::Kind::i64;
  if (type.isF32())
    return KernelArg::Kind::f32;
  return KernelArg::Kind::i32;
}

} // namespace

Expected<LaunchContract> flashjit::launchContractOf(ModuleOp module) {
  LaunchContract contract;
  std::vector<Schedule> schedules;
  for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
    auto config =
        func->getAttrOfType<tile::KernelConfigAttr>(kKernelConfigAttrName);
    auto names = func->getAttrOfType<ArrayAttr>(kKernelArgsAttrName);
    if (!config || !names)
      continue; // a declaration or helper, not a kernel
    std::vector<KernelArg> args;
    for (auto [name, type] :
         llvm::zip_equal(names.getAsValueRange<StringAttr>(),
                         func.getFunctionType().getParams()))
      args.push_back({name.str(), argKindOf(type)});
    Schedule schedule = scheduleOf(config);
    contract.kernels.push_back(
        describeKernel(func.getSymName().str(), schedule, std::move(args)));
    schedules.push_back(schedule);
  }
  if (contract.kernels.empty())
    return Error("the module holds no kernels built by tile-build-kernels");
  contract.workspace = workspaceOf(schedules);
  return contract;
}

void flashjit::dropLaunchContractAttributes(ModuleOp module) {
  for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
    func->removeAttr(kKernelConfigAttrName);
    func->removeAttr(kKernelArgsAttrName);
  }
}
