//===- PtxEmitter.cpp - LLVM/NVVM-dialect kernels to PTX ------------------===//

#include "compiler/codegen/PtxEmitter.h"

#include "compiler/frontend/ProgramState.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Pass/Pass.h"
// The conversion headers after Pass.h: they only declare mlir::Pass.
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"

#include <mutex>

using namespace mlir;
using namespace flashjit;

void flashjit::registerKernelDialects(DialectRegistry &registry) {
  registry.insert<LLVM::LLVMDialect, NVVM::NVVMDialect, arith::ArithDialect,
                  math::MathDialect, scf::SCFDialect, cf::ControlFlowDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
}

static void initializeNvptx() {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
  });
}

static std::string printed(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  op->print(os);
  return text;
}

static bool &passManagerOptionsFlag() {
  static bool registered = false;
  return registered;
}

bool flashjit::passManagerCLOptionsRegistered() {
  return passManagerOptionsFlag();
}

void flashjit::registerPassManagerCLOptions() {
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  passManagerOptionsFlag() = true;
}

Expected<std::string> flashjit::emitPtx(ModuleOp module,
                                        const TargetInfo &target,
                                        const StageDumper &dump) {
  MLIRContext *context = module.getContext();
  DiagnosticCollector diagnostics(*context);

  PassManager pm(context);
  pm.addPass(createLowerWarpgroupMma());
  pm.addPass(createLowerMathForNvptx());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  if (passManagerCLOptionsRegistered()) {
    if (failed(applyPassManagerCLOptions(pm)))
      return Error("invalid pass-manager options");
    applyDefaultTimingPassManagerCLOptions(pm);
  }
  if (failed(pm.run(module)))
    return Error("lowering to the LLVM dialect failed: " +
                 diagnostics.message("no diagnostic"));
  if (dump)
    dump("llvm-dialect", printed(module));

  initializeNvptx();
  llvm::Triple triple("nvptx64-nvidia-cuda");
  std::string lookupError;
  const llvm::Target *nvptx =
      llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!nvptx)
    return Error("the NVPTX backend is missing: " + lookupError);
  std::string features = "+ptx" + std::to_string(target.ptxVersion);
  std::unique_ptr<llvm::TargetMachine> machine(nvptx->createTargetMachine(
      triple, target.arch, features, llvm::TargetOptions(), std::nullopt,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return Error("cannot create an NVPTX target machine for " + target.arch);

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "flashjit");
  if (!llvmModule)
    return Error("translation to LLVM IR failed: " +
                 diagnostics.message("no diagnostic"));
  llvmModule->setTargetTriple(machine->getTargetTriple());
  llvmModule->setDataLayout(machine->createDataLayout());

  // O3 with the NVPTX target's own passes: it unrolls the fragment loops
  // and turns read-only loads into ld.global.nc.
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(machine.get());
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3)
      .run(*llvmModule, mam);
  if (dump) {
    std::string ir;
    llvm::raw_string_ostream os(ir);
    llvmModule->print(os, nullptr);
    dump("llvm-ir", ir);
  }

  std::string ptx;
  {
    llvm::raw_string_ostream os(ptx);
    llvm::buffer_ostream buffered(os);
    llvm::legacy::PassManager codegen;
    if (machine->addPassesToEmitFile(codegen, buffered, nullptr,
                                     llvm::CodeGenFileType::AssemblyFile))
      return Error("the NVPTX backend cannot emit assembly for " + target.arch);
    codegen.run(*llvmModule);
  }
  if (dump)
    dump("ptx", ptx);
  return ptx;
}
