//===- KernelPasses.h - configuring and building kernels --------*- C++ -*-===//
//
// What compileProgram needs of tile-select-kernel-configs and
// tile-build-kernels beyond their registered forms: the selection for a
// device's own facts, and the launch contract read back from the kernels.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_TRANSFORMS_KERNELPASSES_H
#define FLASHJIT_COMPILER_TRANSFORMS_KERNELPASSES_H

#include "compiler/kernel/LaunchContract.h"
#include "compiler/transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"

namespace flashjit {

/// tile-select-kernel-configs for `target`'s facts (a device the runtime
/// found, not only a known name); `options.target` is not read.
std::unique_ptr<mlir::Pass>
createSelectKernelConfigsPass(const TargetInfo &target,
                              const SelectKernelConfigsOptions &options);

/// The launch contract of the kernels tile-build-kernels left in `module`,
/// in their order, with the workspace they share.
Expected<LaunchContract> launchContractOf(mlir::ModuleOp module);

/// Drops the attributes launchContractOf reads, leaving the kernels as the
/// translation to LLVM IR takes them.
void dropLaunchContractAttributes(mlir::ModuleOp module);

} // namespace flashjit

#endif // FLASHJIT_COMPILER_TRANSFORMS_KERNELPASSES_H
