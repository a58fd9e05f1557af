//===- flashjit-ptx.cpp - a variant in, PTX (and every stage) out ---------===//
//
//   flashjit-ptx VARIANT_OR_FILE --target=sm_90a --head-dim=128 --dtype=bf16
//                --pass=fwd|bwd [--emit=tile|kernel|llvm|llvm-ir|ptx|cubin]
//                [-o FILE] [--signature=FILE] [--print-schedule]
//                [--dump-ir-after-all] [--mlir-print-ir-after-all]
//                [--mlir-timing]
//
// --emit picks the stage written to -o, as Toy's -emit levels do: the tile
// program, the fused kernels (scf/arith/llvm/nvvm), the LLVM dialect, LLVM
// IR after O3, PTX, or a cubin assembled by the CUDA toolkit's ptxas.
//
//===----------------------------------------------------------------------===//

#include "compiler/Compiler.h"
#include "compiler/kernel/KernelMetadata.h"
#include "flashjit/kernels.h"
#include "tools/ToolVersion.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
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
enum class Emit { tile, kernel, llvm, llvmIr, ptx, cubin };
static cl::opt<Emit> emit(
    "emit", cl::init(Emit::ptx), cl::desc("the stage written to -o"),
    cl::values(clEnumValN(Emit::tile, "tile", "the tile program"),
               clEnumValN(Emit::kernel, "kernel",
                          "the fused kernels (scf, arith, llvm, nvvm)"),
               clEnumValN(Emit::llvm, "llvm", "the LLVM dialect"),
               clEnumValN(Emit::llvmIr, "llvm-ir", "LLVM IR after O3"),
               clEnumValN(Emit::ptx, "ptx", "PTX (the default)"),
               clEnumValN(Emit::cubin, "cubin",
                          "a cubin, assembled by the CUDA toolkit's ptxas")),
    cl::cat(toolOptions));
static cl::opt<std::string>
    output("o", cl::init("-"),
           cl::desc("where the emitted stage goes (- for stdout)"),
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

/// The compiler's name for the stage `--emit` asks for.
static const char *stageOf(Emit level) {
  switch (level) {
  case Emit::tile:
    return "tile";
  case Emit::kernel:
    return "kernel";
  case Emit::llvm:
    return "llvm-dialect";
  case Emit::llvmIr:
    return "llvm-ir";
  case Emit::ptx:
  case Emit::cubin:
    return "ptx";
  }
  return "ptx";
}

/// `ptx` assembled for `arch` by ptxas (PATH, else /usr/local/cuda/bin).
static Expected<std::string> assembleCubin(const std::string &ptx,
                                           const std::string &arch) {
  llvm::ErrorOr<std::string> ptxas =
      llvm::sys::findProgramByName("ptxas", {"/usr/local/cuda/bin"});
  if (!ptxas)
    return Error("--emit=cubin needs ptxas from the CUDA toolkit, on PATH or "
                 "in /usr/local/cuda/bin");
  llvm::SmallString<128> in, out;
  int fd = -1;
  if (llvm::sys::fs::createTemporaryFile("flashjit", "ptx", fd, in) ||
      llvm::sys::fs::createTemporaryFile("flashjit", "cubin", out))
    return Error("cannot create temporary files for ptxas");
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << ptx;
  }
  std::string message;
  int status = llvm::sys::ExecuteAndWait(
      *ptxas, {*ptxas, "-arch=" + arch, in.str(), "-o", out.str()},
      std::nullopt, {}, 0, 0, &message);
  auto buffer = llvm::MemoryBuffer::getFile(out);
  llvm::sys::fs::remove(in);
  llvm::sys::fs::remove(out);
  if (status != 0 || !buffer)
    return Error("ptxas failed (exit " + std::to_string(status) + ")" +
                 (message.empty() ? "" : ": " + message));
  return (*buffer)->getBuffer().str();
}

int main(int argc, char **argv) {
  cl::HideUnrelatedOptions(toolOptions);
  setToolVersionPrinter("flashjit-ptx");
  // MLIR's own flags for the lowering's pass manager (not listed by
  // --help): --mlir-print-ir-after-all, --mlir-timing, ...
  registerPassManagerCLOptions();
  cl::ParseCommandLineOptions(
      argc, argv,
      "flashjit: a variant to PTX\n\n  MLIR's pass-manager flags apply to "
      "the lowering: --mlir-print-ir-after-all, --mlir-timing, ...\n");

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

  std::string emitted;
  StageDumper dumper = [&](const std::string &stage, const std::string &ir) {
    if (stage == stageOf(emit))
      emitted = ir;
    if (dumpIr)
      llvm::errs() << "// -----// IR after " << stage << " //----- //\n"
                   << ir << "\n";
  };
  Expected<CompiledPass> compiled = compileProgram(*program, options, dumper);
  // The schedules the kernels were built with; where the compile failed,
  // the target's plain schedules (they exist even where no kernel can).
  if (printSchedule) {
    std::vector<Schedule> schedules;
    if (compiled)
      for (const KernelInfo &kernel : compiled->launch.kernels)
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
    sig << kernelMetadataJson(compiled->launch, target->arch);
  }
  if (emit == Emit::cubin) {
    Expected<std::string> cubin = assembleCubin(compiled->ptx, target->arch);
    if (!cubin)
      return fail(cubin.error().message());
    emitted = std::move(*cubin);
  }
  llvm::raw_fd_ostream out(output, ec,
                           emit == Emit::cubin ? llvm::sys::fs::OF_None
                                               : llvm::sys::fs::OF_Text);
  if (ec)
    return fail("cannot write '" + output + "': " + ec.message());
  out << (emit == Emit::ptx ? compiled->ptx : emitted);
  return 0;
}
