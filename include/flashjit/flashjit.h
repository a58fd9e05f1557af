//===- flashjit/flashjit.h - run attention variants on the GPU --*- C++ -*-===//
//
//   auto runtime = flashjit::Runtime::create();           // device 0
//   auto causal = flashjit::Attention::create(*runtime,
//   *flashjit::builtinVariant("causal")); causal->forward(q, k, v, o, lse,
//   params, stream);
//
// Tensors are views of device memory shaped [B, H, N, D] with strides in
// elements; the head dim must be contiguous and every row 16-byte aligned.
// Q, K, V, O, dO, dQ, dK, dV share one dtype (f16 or bf16); the
// log-sum-exp is f32 [B, Hq, Nq], contiguous. K and V may have fewer heads
// than Q (grouped-query attention) as long as Hq is a multiple of Hkv.
// Kernels are compiled on first use for (variant, head dim, dtype, pass,
// device) and cached in memory and under $FLASHJIT_CACHE_DIR. Launches go on
// the caller's stream and never synchronise. Every failure is an Error that
// says what was wrong; nothing is launched after a failed check.
//
// A row the variant's mask removes entirely gets O = 0 and lse = -inf.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_FLASHJIT_H
#define FLASHJIT_FLASHJIT_H

#include "flashjit/kernels.h"
#include "flashjit/program.h"
#include "flashjit/status.h"
#include "flashjit/version.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace flashjit {

/// The library's version, "0.4.0": FLASHJIT_VERSION_STRING of the headers
/// it was built with.
const char *version();

enum class DType { f16, bf16, f32, i32 };
const char *stringifyDType(DType type);

/// A [B, H, N, D] view of device memory; strides in elements.
struct TensorView {
  void *data = nullptr;
  DType dtype = DType::bf16;
  int64_t shape[4] = {0, 0, 0, 0};
  int64_t strides[4] = {0, 0, 0, 0};

  /// A contiguous [B, H, N, D] view.
  static TensorView contiguous(void *data, DType dtype, int64_t b, int64_t h,
                               int64_t n, int64_t d);
};

/// An auxiliary buffer of rank 1 or 2 in device memory (f32 or i32),
/// rows contiguous; `rowStride` (elements) matters for rank 2.
struct BufferView {
  const void *data = nullptr;
  DType dtype = DType::f32;
  std::vector<int64_t> shape;
  int64_t rowStride = 0;
};

/// What a launch takes besides the tensors.
struct AttentionParams {
  /// Defaults to 1 / sqrt(head dim).
  std::optional<float> softmaxScale;
  /// The Philox stream of dropout: the same (seed, offset) regenerate the
  /// same mask, in the backward too.
  uint64_t dropoutSeed = 0;
  uint64_t dropoutOffset = 0;
  /// The variant's scalar parameters by name (f32 or i32, as declared).
  std::map<std::string, std::variant<float, int32_t>> scalars;
  /// The variant's buffers by name.
  std::map<std::string, BufferView> buffers;
};

struct RuntimeOptions {
  /// The CUDA device ordinal.
  int device = 0;
  /// Cache directory; empty: $FLASHJIT_CACHE_DIR, else
  /// $XDG_CACHE_HOME/flashjit, else ~/.cache/flashjit.
  std::string cacheDirectory;
  /// Do not cache on disk at all.
  bool memoryCacheOnly = false;
  /// Compile for this target instead of a device (sm_80, sm_90a, ...):
  /// no driver is needed; everything but launching works.
  std::string offlineTarget;
  /// Compile for this target instead of the device's own: an older one the
  /// device runs, with that architecture's schedules (sm_80 on an H200
  /// runs the A100's mma.sync kernels). Empty: $FLASHJIT_TARGET, else the
  /// device's. Not with offlineTarget.
  std::string target;
  /// For A/B measurements: 16-row tiles per forward warp (1 to 4). 0:
  /// $FLASHJIT_ROW_TILES_PER_WARP, else the compiler's choice per head dim
  /// and variant.
  int rowTilesPerWarp = 0;
  /// For tuning and tests: force every kernel's block shape (BLOCK_M query
  /// rows, BLOCK_N key rows; 0: chosen from the device's shared memory). A
  /// shape that does not fit the device is an error when a kernel is
  /// compiled, naming the bytes it needs and the device's limit.
  int blockM = 0, blockN = 0;
  /// The backward without atomics, so that two runs give the same bits
  /// (as torch.use_deterministic_algorithms asks). Slower: P and dS are
  /// computed twice, in a dK/dV kernel and a dQ kernel. Also set by
  /// FLASHJIT_DETERMINISTIC=1.
  bool deterministic = false;
};

class Runtime {
public:
  /// Opens the device (its primary context) or, with offlineTarget, none.
  static Expected<std::shared_ptr<Runtime>> create(RuntimeOptions options = {});
  ~Runtime();

  /// The target kernels are compiled for (sm_90a, ...).
  std::string target() const;
  bool hasDevice() const;
  /// The CUDA device ordinal; -1 offline. Launches happen in this device's
  /// primary context (the CUDA runtime's and torch's): pointers and streams
  /// passed in must belong to it.
  int device() const;

  struct State;
  explicit Runtime(std::unique_ptr<State> state);
  State &state() const { return *state_; }

private:
  std::unique_ptr<State> state_;
};

/// Success, or the Error that stopped an operation.
class [[nodiscard]] Status {
public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}
  bool ok() const { return !error_; }
  explicit operator bool() const { return ok(); }
  const Error &error() const { return *error_; }

private:
  std::optional<Error> error_;
};

/// The two passes of attention: O and the log-sum-exp, and the gradients.
enum class Pass { forward, backward };

/// What launching one compiled kernel takes.
struct KernelSignature {
  std::string name; ///< the PTX entry
  std::string kind; ///< forward, backward_delta, backward_dkdvdq, ...
  int threads = 0;
  int sharedMemoryBytes = 0; ///< dynamic shared memory
  /// The parameters in order: (name, kind), kind one of ptr, i32, i64, f32.
  std::vector<std::pair<std::string, std::string>> params;
};

/// One pass of a variant compiled ahead of time.
struct CompiledKernels {
  std::string target; ///< sm_90a, ...
  std::string ptx;    ///< one module holding every kernel of the pass
  /// Each kernel's signature, grid rule and whole schedule as JSON: the
  /// format the kernel cache and `flashjit-ptx --signature` use.
  std::string metadata;
  std::vector<KernelSignature> kernels;
};

/// One variant, ready to launch.
class Attention {
public:
  static Expected<Attention> create(std::shared_ptr<Runtime> runtime,
                                    Program variant);

  /// O and lse from Q, K, V. `stream` is a CUstream (null: the default).
  Status forward(const TensorView &q, const TensorView &k, const TensorView &v,
                 const TensorView &o, const TensorView &lse,
                 const AttentionParams &params, void *stream = nullptr) const;

  /// dQ, dK, dV from the forward's inputs and outputs and dO.
  Status backward(const TensorView &q, const TensorView &k, const TensorView &v,
                  const TensorView &o, const TensorView &lse,
                  const TensorView &dO, const TensorView &dq,
                  const TensorView &dk, const TensorView &dv,
                  const AttentionParams &params, void *stream = nullptr) const;

  /// The kernels of `pass` for the runtime's target, head dim and dtype
  /// (f16 or bf16), without launching anything: ahead-of-time export, and
  /// the way to warm the cache. Works offline (RuntimeOptions::
  /// offlineTarget).
  Expected<CompiledKernels> compile(Pass pass, int headDim, DType dtype) const;

  const Program &program() const;

  struct State;
  explicit Attention(std::shared_ptr<State> state);

private:
  std::shared_ptr<State> state_;
};

} // namespace flashjit

#endif // FLASHJIT_FLASHJIT_H
