//===- Compiler.cpp - a tile program to PTX -------------------------------===//

#include "compiler/Compiler.h"

#include "compiler/frontend/ProgramState.h"
#include "compiler/rules/TileOpRules.h"
#include "compiler/transforms/KernelPasses.h"

#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;
using namespace flashjit;

namespace {

std::string printed(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  op->print(os);
  return text;
}

SelectKernelConfigsOptions selectionOf(const CompileOptions &options) {
  SelectKernelConfigsOptions selection;
  selection.headDim = options.headDim;
  selection.dtype = options.inputType == InputType::bf16 ? "bf16" : "f16";
  selection.pass = stringifyCompilePass(options.pass);
  selection.deterministic = options.deterministic;
  selection.rowTilesPerWarp = options.rowTilesPerWarp;
  selection.blockM = options.blockM;
  selection.blockN = options.blockN;
  return selection;
}

/// Configures and builds the kernels of `module`'s program in place.
LogicalResult buildKernels(ModuleOp module, const CompileOptions &options) {
  PassManager pm(module.getContext());
  pm.addNestedPass<tile::ProgramOp>(
      createSelectKernelConfigsPass(options.target, selectionOf(options)));
  pm.addPass(createBuildKernels());
  if (passManagerCLOptionsRegistered() && failed(applyPassManagerCLOptions(pm)))
    return failure();
  return pm.run(module);
}

} // namespace

Expected<std::vector<Schedule>>
flashjit::schedulePass(const CompileOptions &options,
                       const VariantCost &variant) {
  return schedulePass(options.target, options.pass, options.deterministic,
                      options.headDim,
                      {/*elementBytes=*/2, variant, options.rowTilesPerWarp,
                       options.blockM, options.blockN});
}

Expected<CompiledPass> flashjit::compileProgram(const Program &program,
                                                const CompileOptions &options,
                                                const StageDumper &dump) {
  // A context of the compile's own: programs may be shared across threads.
  DialectRegistry registry;
  registry.insert<tile::TileDialect>();
  registerTileOpRuleModels(registry);
  registerKernelDialects(registry);
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  context.loadAllAvailableDialects();
  DiagnosticCollector diagnostics(context);

  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(program.str(), &context);
  if (!module)
    return Error(diagnostics.message("cannot reparse the program"));
  if (dump)
    dump("tile", printed(*module));

  if (failed(buildKernels(*module, options)))
    return Error(diagnostics.message("building the kernels failed"));
  if (dump)
    dump("kernel", printed(*module));
  Expected<LaunchContract> launch = launchContractOf(*module);
  if (!launch)
    return launch.error();
  dropLaunchContractAttributes(*module);

  Expected<std::string> ptx = emitPtx(*module, options.target, dump);
  if (!ptx)
    return ptx.error();
  return CompiledPass{std::move(*ptx), std::move(*launch)};
}
