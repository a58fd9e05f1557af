//===- PtxEmitter.h - LLVM/NVVM-dialect kernels to PTX ----------*- C++ -*-===//
//
// The last stage of the compiler: a module whose kernels are llvm.func ops
// (bodies in scf, arith, math, llvm and nvvm) becomes PTX text for one
// target, through LLVM's NVPTX backend at O3.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_CODEGEN_PTXEMITTER_H
#define FLASHJIT_COMPILER_CODEGEN_PTXEMITTER_H

#include "compiler/target/TargetInfo.h"
#include "flashjit/status.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"

#include <functional>
#include <string>

namespace flashjit {

/// Adds the dialects kernel modules are built from, with their translations
/// to LLVM IR.
void registerKernelDialects(mlir::DialectRegistry &registry);

/// Called with a stage's name and its IR, for --dump-ir-after-all.
using StageDumper =
    std::function<void(const std::string &stage, const std::string &ir)>;

/// Registers MLIR's pass-manager and timing flags (--mlir-print-ir-after-all,
/// --mlir-timing, ...) for a tool's command line; emitPtx applies them to
/// its pass manager from then on. A library never calls it.
void registerPassManagerCLOptions();
bool passManagerCLOptionsRegistered();

/// Lowers `module` in place to the LLVM dialect, translates it and emits PTX
/// for `target`. Errors name the stage that failed.
Expected<std::string> emitPtx(mlir::ModuleOp module, const TargetInfo &target,
                              const StageDumper &dump = {});

} // namespace flashjit

#endif // FLASHJIT_COMPILER_CODEGEN_PTXEMITTER_H
