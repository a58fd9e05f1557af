//===- flashjit-ptx.cpp - a variant in, PTX (and every stage) out ---------===//
//
//   flashjit-ptx VARIANT_OR_FILE --target=sm_90a --head-dim=128 --dtype=bf16
//                --pass=fwd|bwd [-o FILE] [--print-schedule]
//                [--dump-ir-after-all]
//
//===----------------------------------------------------------------------===//

#include "compiler/Compiler.h"
#include "compiler/lowering/KernelMetadata.h"
#include "flashjit/kernels.h"
#include "tools/ToolVersion.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

using namespace flashjit;
namespace cl = llvm::cl;

// --help lists these alone, not the options LLVM's libraries register.
static cl::OptionCategory toolOptions("flashjit-ptx options");

static cl::opt<std::string> input(cl::Positional, cl::Required,
                                  cl::desc("<built-in variant or .mlir file>"),
                                  cl::cat(toolOptions));
static cl::opt<std::string>
    targetName("target", cl::init("sm_90a"),
               cl::desc("GPU target (sm_80, sm_90a, ...)"),
               cl::cat(toolOptions));
static cl::opt<int> headDim("head-dim", cl::init(128),
                            cl::desc("head dimension (32, 64, 96, 128, 256)"),
                            cl::cat(toolOptions));
static cl::opt<std::string> dtype("dtype", cl::init("bf16"),
                                  cl::desc("input type: bf16 or fp16"),
                                  cl::cat(toolOptions));
static cl::opt<std::string> passName("pass", cl::init("fwd"),
                                     cl::desc("fwd or bwd"),
                                     cl::cat(toolOptions));
static cl::opt<std::string>
    output("o", cl::init("-"), cl::desc("where the PTX goes (- for stdout)"),
           cl::cat(toolOptions));
static cl::opt<bool> printSchedule("print-schedule",
                                   cl::desc("print each kernel's schedule"),
                                   cl::cat(toolOptions));
static cl::opt<std::string> signatureFile(
    "signature", cl::init(""),
    cl::desc("write each kernel's launch signature there as JSON"),
    cl::cat(toolOptions));
static cl::opt<bool> dumpIr("dump-ir-after-all",
                            cl::desc("print the IR after each stage to stderr"),
                            cl::cat(toolOptions));
static cl::opt<int> blockM("block-m", cl::init(0),
                           cl::desc("force BLOCK_M, the query rows of a block "
                                    "(0: chosen from the target)"),
                           cl::cat(toolOptions));
static cl::opt<int> blockN("block-n", cl::init(0),
                           cl::desc("force BLOCK_N, the key rows of a block "
                                    "(0: chosen from the target)"),
                           cl::cat(toolOptions));
static cl::opt<int> rowTilesPerWarp(
    "row-tiles-per-warp", cl::init(0),
    cl::desc("16-row tiles each forward warp owns (0: the schedule's choice)"),
    cl::cat(toolOptions));
static cl::opt<bool> deterministic(
    "deterministic",
    cl::desc("the backward without atomics: delta, dK/dV and dQ kernels"),
    cl::cat(toolOptions));

static int fail(const std::string &message) {
  llvm::errs() << "flashjit-ptx: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  cl::HideUnrelatedOptions(toolOptions);
  setToolVersionPrinter("flashjit-ptx");
  cl::ParseCommandLineOptions(argc, argv, "flashjit: a variant to PTX\n");

  bool isFile = llvm::StringRef(input).ends_with(".mlir") ||
                llvm::StringRef(input).contains('/');
  Expected<Program> program =
      isFile ? Program::load(input) : builtinVariant(input);
  if (!program)
    return fail(program.error().message());

  Expected<TargetInfo> target = targetByName(targetName);
  if (!target)
    return fail(target.error().message());
  CompileOptions options;
  options.target = *target;
  options.headDim = headDim;
  if (dtype == "bf16")
    options.inputType = InputType::bf16;
  else if (dtype == "fp16" || dtype == "f16")
    options.inputType = InputType::f16;
  else
    return fail("unknown dtype '" + dtype + "'; known: bf16, fp16");
  if (passName == "fwd")
    options.pass = CompilePass::forward;
  else if (passName == "bwd")
    options.pass = CompilePass::backward;
  else
    return fail("unknown pass '" + passName + "'; known: fwd, bwd");
  options.rowTilesPerWarp = rowTilesPerWarp;
  options.blockM = blockM;
  options.blockN = blockN;
  options.deterministic = deterministic;

  StageDumper dumper;
  if (dumpIr)
    dumper = [](const std::string &stage, const std::string &ir) {
      llvm::errs() << "// -----// IR after " << stage << " //----- //\n"
                   << ir << "\n";
    };
  Expected<CompiledPass> compiled = compileProgram(*program, options, dumper);
  // The schedules the kernels were built with; where the compile failed,
  // the target's plain schedules (they exist even where no kernel can).
  if (printSchedule) {
    std::vector<Schedule> schedules;
    if (compiled)
      for (const KernelInfo &kernel : compiled->kernels)
        schedules.push_back(kernel.schedule);
    else if (Expected<std::vector<Schedule>> plain = schedulePass(options))
      schedules = *plain;
    else
      return fail(plain.error().message());
    for (const Schedule &schedule : schedules)
      llvm::errs() << schedule.str() << " (" << target->arch << " allows "
                   << target->sharedMemoryPerBlockOptin << " bytes)\n";
  }
  if (!compiled)
    return fail(compiled.error().message());

  std::error_code ec;
  if (!signatureFile.empty()) {
    llvm::raw_fd_ostream sig(signatureFile, ec, llvm::sys::fs::OF_Text);
    if (ec)
      return fail("cannot write '" + signatureFile + "': " + ec.message());
    sig << kernelMetadataJson(compiled->kernels, target->arch);
  }
  llvm::raw_fd_ostream out(output, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return fail("cannot write '" + output + "': " + ec.message());
  out << compiled->ptx;
  return 0;
}
