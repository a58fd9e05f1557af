//===- Compiler.h - a tile program to PTX -----------------------*- C++ -*-===//
//
// The whole compiler behind one call, a pass pipeline: choose each kernel's
// configuration for the target (tile-select-kernel-configs), build the
// kernels of the requested pass (tile-build-kernels), lower them and emit
// PTX. It needs no GPU.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_COMPILER_COMPILER_H
#define FLASHJIT_COMPILER_COMPILER_H

#include "compiler/codegen/PtxEmitter.h"
#include "compiler/kernel/KernelBuilder.h"
#include "compiler/kernel/LaunchContract.h"
#include "compiler/schedule/Schedule.h"
#include "flashjit/program.h"

namespace flashjit {

struct CompileOptions {
  TargetInfo target;
  int headDim = 128;
  InputType inputType = InputType::bf16;
  CompilePass pass = CompilePass::forward;
  /// The forward's 16-row tiles per warp (Schedule::rowTilesPerWarp); 0:
  /// the schedule's choice.
  int rowTilesPerWarp = 0;
  /// A forced block shape for every kernel that streams (ScheduleHints).
  int blockM = 0, blockN = 0;
  /// The backward as delta, dK/dV, dQ: no atomics, the same bits on every
  /// run. Otherwise dQ is added up with atomics inside dK/dV (faster).
  bool deterministic = false;
};

/// The PTX of one pass of one variant and what its kernels take.
struct CompiledPass {
  std::string ptx;
  LaunchContract launch;
};

/// The kernels of a pass and their schedules for the options' target;
/// `variant` is what the variant's own code costs (VariantCost).
Expected<std::vector<Schedule>> schedulePass(const CompileOptions &options,
                                             const VariantCost &variant = {});

/// Compiles `program`. Every stage's IR goes to `dump` when given: "tile",
/// "kernel", then the stages of emitPtx.
Expected<CompiledPass> compileProgram(const Program &program,
                                      const CompileOptions &options,
                                      const StageDumper &dump = {});

} // namespace flashjit

#endif // FLASHJIT_COMPILER_COMPILER_H
