//===- Compiler.cpp - a tile program to PTX -------------------------------===//

#include "compiler/Compiler.h"

#include "compiler/analysis/AttentionChain.h"
#include "compiler/frontend/ProgramState.h"
#include "compiler/lowering/BackwardKernels.h"
#include "compiler/lowering/ForwardKernel.h"

#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

using namespace mlir;
using namespace flashjit;

const char *flashjit::stringifyCompilePass(CompilePass pass) {
  return pass == CompilePass::forward ? "fwd" : "bwd";
}

namespace {

/// The registers a chain's own per-element code costs. The softmax scale
/// alone is the plain case; anything past it keeps more per score.
VariantCost variantCost(const AttentionChain &chain) {
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

std::string printed(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  op->print(os);
  return text;
}

} // namespace

Expected<std::vector<Schedule>>
flashjit::schedulePass(const CompileOptions &options,
                       const VariantCost &variant) {
  std::vector<KernelKind> kinds;
  if (options.pass == CompilePass::forward)
    kinds = {KernelKind::forward};
  else if (options.deterministic)
    kinds = {KernelKind::backwardDelta, KernelKind::backwardKeyValue,
             KernelKind::backwardQuery};
  else
    kinds = {KernelKind::backwardDelta, KernelKind::backwardKeyValueQuery,
             KernelKind::backwardQueryConvert};
  std::vector<Schedule> schedules;
  for (KernelKind kind : kinds) {
    Expected<Schedule> schedule =
        scheduleForTarget(options.target, kind, options.headDim,
                          {/*elementBytes=*/2, variant, options.rowTilesPerWarp,
                           options.blockM, options.blockN});
    if (!schedule)
      return schedule.error();
    schedules.push_back(*schedule);
  }
  return schedules;
}

Expected<CompiledPass> flashjit::compileProgram(const Program &program,
                                                const CompileOptions &options,
                                                const StageDumper &dump) {
  // A context of the compile's own: programs may be shared across threads.
  DialectRegistry registry;
  registry.insert<tile::TileDialect>();
  registerKernelDialects(registry);
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  context.loadAllAvailableDialects();
  DiagnosticCollector diagnostics(context);

  OwningOpRef<ModuleOp> source =
      parseSourceString<ModuleOp>(program.str(), &context);
  if (!source)
    return Error(diagnostics.message("cannot reparse the program"));
  auto programOp = cast<tile::ProgramOp>(source->getBody()->front());
  std::string variant = programOp.getSymName().str();
  if (dump)
    dump("tile", printed(*source));

  FailureOr<AttentionChain> chain = matchAttentionChain(programOp);
  if (failed(chain))
    return Error(diagnostics.message("the program is not a fusible chain"));

  Expected<std::vector<Schedule>> schedules =
      schedulePass(options, variantCost(*chain));
  if (!schedules)
    return schedules.error();
  if (!options.target.hasMmaM16N8K16())
    return Error("target " + options.target.arch +
                 " has no m16n8k16 tensor-core products (sm_80 or newer "
                 "needed)");

  OpBuilder builder(&context);
  OwningOpRef<ModuleOp> kernels = ModuleOp::create(builder.getUnknownLoc());
  CompiledPass result;
  for (const Schedule &schedule : *schedules) {
    std::string name =
        "flashjit_" + variant + "_" + stringifyKernelKind(schedule.kind);
    FailureOr<KernelInfo> info = failure();
    switch (schedule.kind) {
    case KernelKind::forward:
      info = buildForwardKernel(*kernels, *chain, schedule, options.inputType,
                                name);
      break;
    case KernelKind::backwardDelta:
      info = buildBackwardDeltaKernel(*kernels, *chain, schedule,
                                      options.inputType, name);
      break;
    case KernelKind::backwardKeyValue:
    case KernelKind::backwardKeyValueQuery:
      info = buildBackwardKeyValueKernel(*kernels, *chain, schedule,
                                         options.inputType, name);
      break;
    case KernelKind::backwardQueryConvert:
      info = buildBackwardQueryConvertKernel(*kernels, *chain, schedule,
                                             options.inputType, name);
      break;
    case KernelKind::backwardQuery:
      info = buildBackwardQueryKernel(*kernels, *chain, schedule,
                                      options.inputType, name);
      break;
    }
    if (failed(info))
      return Error(diagnostics.message("building " + name + " failed"));
    result.launch.kernels.push_back(*info);
  }
  result.launch.workspace = workspaceOf(*schedules);
  if (dump)
    dump("kernel", printed(*kernels));
  if (failed(verify(*kernels)))
    return Error("the generated kernels do not verify: " +
                 diagnostics.message("no diagnostic"));
  Expected<std::string> ptx = emitPtx(*kernels, options.target, dump);
  if (!ptx)
    return ptx.error();
  result.ptx = std::move(*ptx);
  return result;
}
