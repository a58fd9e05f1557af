//===- flashjit-run.cpp - one variant on the GPU: checked and timed -------===//
//
//   flashjit-run VARIANT [--head-dim=128] [--dtype=bf16] [--batch=2]
//                [--heads=8] [--kv-heads=8] [--seqlen=512] [--seqlen-kv=N]
//                [--iterations=10] [--forward-only] [--no-check]
//
// Random inputs, the CPU float64 reference, time and TFLOP/s. Without a GPU
// it says so and exits 1.
//
//===----------------------------------------------------------------------===//

#include "tools/runner/Runner.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

using namespace flashjit;
namespace cl = llvm::cl;

// --help lists these alone, not the options LLVM's libraries register.
static cl::OptionCategory toolOptions("flashjit-run options");

static cl::opt<std::string> variant(cl::Positional, cl::Required,
                                    cl::desc("<built-in variant>"),
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

int main(int argc, char **argv) {
  cl::HideUnrelatedOptions(toolOptions);
  cl::ParseCommandLineOptions(argc, argv,
                              "flashjit: run a variant on the GPU\n");
  RunConfig config;
  config.variant = variant;
  config.headDim = headDim;
  if (dtype != "bf16" && dtype != "fp16") {
    llvm::errs() << "flashjit-run: unknown dtype '" << dtype
                 << "'; known: bf16, fp16\n";
    return 1;
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

  RuntimeOptions options;
  options.blockM = blockM;
  options.blockN = blockN;
  options.rowTilesPerWarp = rowTilesPerWarp;
  Expected<std::shared_ptr<Runtime>> runtime = Runtime::create(options);
  if (!runtime) {
    llvm::errs() << "flashjit-run: no GPU to run on: "
                 << runtime.error().message() << "\n";
    return 1;
  }
  Expected<RunReport> report = runVariant(*runtime, config);
  if (!report) {
    llvm::errs() << "flashjit-run: " << report.error().message() << "\n";
    return 1;
  }
  llvm::outs() << variant << " on " << (*runtime)->target() << ", d=" << headDim
               << " " << dtype << " B=" << config.batch
               << " H=" << config.headsQ << "/" << config.headsKv
               << " N=" << config.seqlenQ << "/" << config.seqlenKv << "\n";
  for (const std::string &line : report->lines)
    llvm::outs() << "  " << line << "\n";
  return report->pass ? 0 : 1;
}
