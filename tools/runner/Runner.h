//===- Runner.h - one variant on the GPU, checked and timed -----*- C++ -*-===//
//
// What flashjit-run and the main job share: random inputs (normal, rounded
// to the input type) for a variant, the forward (and backward) through the
// C++ API on device memory, the outputs checked against the CPU reference
// by the testing.md rule, and the time of the launches. A built-in variant
// is checked against the hand-written reference (Reference.h), any other
// program against the program reference (ProgramReference.h).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_TOOLS_RUNNER_RUNNER_H
#define FLASHJIT_TOOLS_RUNNER_RUNNER_H

#include "flashjit/flashjit.h"
#include "tools/reference/ProgramReference.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace flashjit {

struct RunConfig {
  std::string variant = "causal";
  int batch = 2, headsQ = 8, headsKv = 8, seqlenQ = 512, seqlenKv = 512,
      headDim = 128;
  DType dtype = DType::bf16;
  bool backward = true;
  int iterations = 10; ///< timed launches after one warm-up
  bool check = true;   ///< compare with the CPU reference
  /// Store Q, K, V, O and the gradients as [B, N, H, D] and hand flashjit
  /// [B, H, N, D] views of them (strides not contiguous).
  bool tokenMajor = false;
  /// Standard deviation of Q and K (V and dO keep 1): 100 gives scores of
  /// about 1e4 after the 1/sqrt(d) scale.
  float qkStd = 1.0f;
  /// Keep the outputs (as floats, [B, H, N, D]) in the report.
  bool keepOutputs = false;
  /// Run this program (tile dialect text) instead of the built-in
  /// `variant`; `variant` still names the reference it is checked against.
  std::string programText;
  /// Run this program instead of a built-in, checked against the program
  /// reference, which reads the program itself. `params` and `buffers`
  /// bind exactly what it declares; dropout's stream is (seed, offset).
  std::optional<Program> program;
  std::map<std::string, reference::ParamValue> params;
  std::map<std::string, reference::HostBuffer> buffers;
  uint64_t dropoutSeed = 0x123456789abcULL, dropoutOffset = 42;
  /// The stream flashjit launches on (null: the legacy default stream).
  void *stream = nullptr;
  /// Called after the forward, just before the backward (fault tests).
  std::function<void()> beforeBackward;
};

struct RunReport {
  bool pass = true;
  std::vector<std::string> lines; ///< one per output checked, and timings
  double forwardMs = 0, backwardMs = 0;
  double forwardTflops = 0, backwardTflops = 0;
  /// With RunConfig::keepOutputs: what the kernels wrote.
  std::vector<float> o, lse, dq, dk, dv;
  /// With RunConfig::check: each output's comparison, by name (o, lse,
  /// dq, dk, dv).
  std::map<std::string, reference::Comparison> checks;
};

/// Checks what a run needs short of a device: the program, the reference
/// it is checked against and the launch arguments.
Status validateRunConfig(const RunConfig &config);

/// Runs `config` on `runtime`'s device.
Expected<RunReport> runVariant(std::shared_ptr<Runtime> runtime,
                               const RunConfig &config);

} // namespace flashjit

#endif // FLASHJIT_TOOLS_RUNNER_RUNNER_H
