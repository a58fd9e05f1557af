//===- flashjit-run.cpp - one variant on the GPU: checked and timed -------===//
//
//   flashjit-run VARIANT|FILE.mlir [--param NAME=VALUE]... [--buffer
//                NAME=SPEC]... [--head-dim=128] [--dtype=bf16] [--batch=2]
//                [--heads=8] [--kv-heads=8] [--seqlen=512] [--seqlen-kv=N]
//                [--iterations=10] [--forward-only] [--no-check]
//
// Random inputs, the CPU float64 reference, time and TFLOP/s. A built-in
// variant runs with its reference's test values and is checked against the
// hand-written reference; a program file (a path: it ends with .mlir or
// holds a '/') takes its parameters and buffers from --param and --buffer
// (LaunchArguments.h) and is checked against the program reference. Every
// argument is checked before the GPU is looked for. Exit status: 0 checked
// and passed, 1 an output off the reference, 2 a wrong command line or
// program, 3 a compile or launch failure, 77 no GPU.
//
//===----------------------------------------------------------------------===//

#include "tools/ToolVersion.h"
#include "tools/flashjit-run/LaunchArguments.h"
#include "tools/runner/Runner.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

using namespace flashjit;
namespace cl = llvm::cl;

// --help lists these alone, not the options LLVM's libraries register.
static cl::OptionCategory toolOptions("flashjit-run options");

static cl::opt<std::string> variant(cl::Positional, cl::Required,
                                    cl::desc("<built-in variant or FILE.mlir>"),
                                    cl::cat(toolOptions));
static cl::list<std::string>
    paramArgs("param", cl::value_desc("NAME=VALUE"),
              cl::desc("a scalar parameter of a program file (repeatable)"),
              cl::cat(toolOptions));
static cl::list<std::string> bufferArgs(
    "buffer", cl::value_desc("NAME=SPEC"),
    cl::desc("a buffer of a program file (repeatable); SPEC: [N: or "
             "ROWSxCOLS:] then 1,2,3 or @FILE or randn or randint:LO:HI"),
    cl::cat(toolOptions));
static cl::opt<uint64_t> dropoutSeed("dropout-seed",
                                     cl::init(0x123456789abcULL),
                                     cl::desc("Philox seed of a program "
                                              "file's dropout"),
                                     cl::cat(toolOptions));
static cl::opt<uint64_t> dropoutOffset("dropout-offset", cl::init(42),
                                       cl::desc("Philox offset of a program "
                                                "file's dropout"),
                                       cl::cat(toolOptions));
static cl::opt<int> headDim("head-dim", cl::init(128),
                            cl::desc("head dimension"), cl::cat(toolOptions));
static cl::opt<std::string> dtype("dtype", cl::init("bf16"),
                                  cl::desc("bf16 or fp16"),
                                  cl::cat(toolOptions));
static cl::opt<int> batch("batch", cl::init(2), cl::desc("batch size"),
                          cl::cat(toolOptions));
static cl::opt<int> heads("heads", cl::init(8), cl::desc("query heads"),
                          cl::cat(toolOptions));
static cl::opt<int> kvHeads("kv-heads", cl::init(0),
                            cl::desc("key/value heads (default: --heads)"),
                            cl::cat(toolOptions));
static cl::opt<int> seqlen("seqlen", cl::init(512), cl::desc("query length"),
                           cl::cat(toolOptions));
static cl::opt<int> seqlenKv("seqlen-kv", cl::init(0),
                             cl::desc("key length (default: --seqlen)"),
                             cl::cat(toolOptions));
static cl::opt<int> iterations("iterations", cl::init(10),
                               cl::desc("timed launches (0: check only)"),
                               cl::cat(toolOptions));
static cl::opt<bool> forwardOnly("forward-only", cl::desc("skip the backward"),
                                 cl::cat(toolOptions));
static cl::opt<bool> noCheck("no-check", cl::desc("skip the CPU reference"),
                             cl::cat(toolOptions));
static cl::opt<int> blockM("block-m", cl::init(0),
                           cl::desc("force BLOCK_M query rows (tuning)"),
                           cl::cat(toolOptions));
static cl::opt<int> blockN("block-n", cl::init(0),
                           cl::desc("force BLOCK_N key rows (tuning)"),
                           cl::cat(toolOptions));
static cl::opt<int> rowTilesPerWarp(
    "row-tiles-per-warp", cl::init(0),
    cl::desc("force the mma.sync forward's 16-row tiles per warp (tuning)"),
    cl::cat(toolOptions));

/// A path rather than a built-in's name.
static bool isProgramFile(const std::string &arg) {
  return llvm::StringRef(arg).ends_with(".mlir") ||
         arg.find('/') != std::string::npos;
}

/// Loads the program file `path` and binds --param and --buffer to it.
static Status bindProgramFile(const std::string &path, RunConfig &config) {
  Expected<Program> program = Program::load(path);
  if (!program)
    return program.error();
  reference::ProblemShape shape;
  shape.batch = config.batch;
  shape.headsQ = config.headsQ;
  shape.headsKv = config.headsKv;
  shape.seqlenQ = config.seqlenQ;
  shape.seqlenKv = config.seqlenKv;
  auto params = run::parseParams(paramArgs, *program);
  if (!params)
    return params.error();
  // A fixed seed: random buffers are the same on every run.
  auto buffers = run::parseBuffers(bufferArgs, *program, shape, 4321);
  if (!buffers)
    return buffers.error();
  config.params = std::move(*params);
  config.buffers = std::move(*buffers);
  config.dropoutSeed = dropoutSeed;
  config.dropoutOffset = dropoutOffset;
  config.program = std::move(program).value();
  return Status();
}

// Exit statuses, so that scripts tell a wrong result from a missing GPU.
constexpr int kCheckFailed = 1; ///< an output is off the reference
constexpr int kBadInput = 2;    ///< the command line or the program is wrong
constexpr int kRunFailed = 3;   ///< compiling or launching failed
constexpr int kNoGpu = 77;      ///< nothing to run on (automake's "skipped")

int main(int argc, char **argv) {
  cl::HideUnrelatedOptions(toolOptions);
  setToolVersionPrinter("flashjit-run");
  cl::ParseCommandLineOptions(argc, argv,
                              "flashjit: run a variant on the GPU\n");
  RunConfig config;
  config.variant = variant;
  config.headDim = headDim;
  if (dtype != "bf16" && dtype != "fp16") {
    llvm::errs() << "flashjit-run: unknown dtype '" << dtype
                 << "'; known: bf16, fp16\n";
    return kBadInput;
  }
  config.dtype = dtype == "bf16" ? DType::bf16 : DType::f16;
  config.batch = batch;
  config.headsQ = heads;
  config.headsKv = kvHeads ? int(kvHeads) : int(heads);
  config.seqlenQ = seqlen;
  config.seqlenKv = seqlenKv ? int(seqlenKv) : int(seqlen);
  config.iterations = iterations;
  config.backward = !forwardOnly;
  config.check = !noCheck;
  if (isProgramFile(variant)) {
    if (Status s = bindProgramFile(variant, config); !s.ok()) {
      llvm::errs() << "flashjit-run: " << s.error().message() << "\n";
      return kBadInput;
    }
  } else if (!paramArgs.empty() || !bufferArgs.empty()) {
    llvm::errs() << "flashjit-run: --param and --buffer go with a program "
                    "file; the built-in '"
                 << variant << "' runs with its reference's test values\n";
    return kBadInput;
  }
  if (Status s = validateRunConfig(config); !s.ok()) {
    llvm::errs() << "flashjit-run: " << s.error().message() << "\n";
    return kBadInput;
  }

  RuntimeOptions options;
  options.blockM = blockM;
  options.blockN = blockN;
  options.rowTilesPerWarp = rowTilesPerWarp;
  Expected<std::shared_ptr<Runtime>> runtime = Runtime::create(options);
  if (!runtime) {
    llvm::errs() << "flashjit-run: no GPU to run on: "
                 << runtime.error().message() << "\n";
    return kNoGpu;
  }
  Expected<RunReport> report = runVariant(*runtime, config);
  if (!report) {
    llvm::errs() << "flashjit-run: " << report.error().message() << "\n";
    return kRunFailed;
  }
  llvm::outs() << variant << " on " << (*runtime)->target() << ", d=" << headDim
               << " " << dtype << " B=" << config.batch
               << " H=" << config.headsQ << "/" << config.headsKv
               << " N=" << config.seqlenQ << "/" << config.seqlenKv << "\n";
  for (const std::string &line : report->lines)
    llvm::outs() << "  " << line << "\n";
  return report->pass ? 0 : kCheckFailed;
}
