//===- gemma_local.cpp - a variant of one's own, from C++ -----------------===//
//
// Gemma-2's local attention layers: scores soft-capped by
// cap * tanh(s / cap), causal, and only the last `window` keys visible.
// Written in flashjit's C++ DSL, compiled ahead of time for a target (no
// GPU needed), then, where there is a GPU, run on it and checked against a
// direct CPU computation.
//
//   gemma_local [TARGET]      TARGET: sm_80, sm_90a, ... (default: the GPU,
//                             else sm_90a offline)
//
//===----------------------------------------------------------------------===//

#include "flashjit/dsl.h"
#include "flashjit/flashjit.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#ifdef FLASHJIT_EXAMPLE_CUDART
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#endif

using namespace flashjit;

namespace {

constexpr float kSoftcap = 50.0f;
constexpr int kWindow = 96;

Expected<Program> gemmaLocal() {
  using namespace flashjit::dsl;
  return attention("gemma_local",
                   {.scoreMod =
                        [](Builder &b, Tile s) {
                          Tile cap = b.param("softcap");
                          return cap * tanh(s / cap);
                        },
                    .maskMod =
                        [](Builder &b) {
                          Tile distance = b.qIdx() - b.kvIdx();
                          return distance >= 0 &&
                                 distance < b.param("window", ScalarType::i32);
                        }});
}

int fail(const std::string &what) {
  std::fprintf(stderr, "gemma_local: %s\n", what.c_str());
  return 1;
}

#ifdef FLASHJIT_EXAMPLE_CUDART
/// O of one head by the definition, in double.
std::vector<double> expected(const std::vector<float> &q,
                             const std::vector<float> &k,
                             const std::vector<float> &v, int n, int d) {
  std::vector<double> o(size_t(n) * d, 0.0);
  for (int i = 0; i < n; ++i) {
    std::vector<double> p(n, 0.0);
    double max = -INFINITY, sum = 0;
    for (int j = 0; j < n; ++j) {
      if (i - j < 0 || i - j >= kWindow)
        continue;
      double s = 0;
      for (int c = 0; c < d; ++c)
        s += double(q[i * d + c]) * k[j * d + c];
      s /= std::sqrt(double(d));
      p[j] = kSoftcap * std::tanh(s / kSoftcap);
      max = std::max(max, p[j]);
    }
    for (int j = 0; j < n; ++j)
      sum +=
          (i - j >= 0 && i - j < kWindow) ? (p[j] = std::exp(p[j] - max)) : 0;
    for (int j = 0; j < n; ++j)
      for (int c = 0; c < d; ++c)
        if (i - j >= 0 && i - j < kWindow)
          o[i * d + c] += p[j] / sum * v[j * d + c];
  }
  return o;
}

/// fp16 bits of a float (round to nearest even, normal range).
uint16_t toHalf(float x) {
  __half h = __float2half(x);
  return *reinterpret_cast<uint16_t *>(&h);
}
float fromHalf(uint16_t bits) {
  __half h;
  *reinterpret_cast<uint16_t *>(&h) = bits;
  return __half2float(h);
}

/// One head of N = 300 queries on the GPU; the largest error against the
/// definition.
Expected<double> runOnGpu(const Attention &attention) {
  constexpr int n = 300, d = 64;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<uint16_t> host[3];
  std::vector<float> rounded[3];
  for (int t = 0; t < 3; ++t)
    for (int i = 0; i < n * d; ++i) {
      host[t].push_back(toHalf(normal(rng)));
      rounded[t].push_back(fromHalf(host[t].back()));
    }
  void *q, *k, *v, *o, *lse;
  size_t bytes = size_t(n) * d * 2;
  if (cudaMalloc(&q, bytes) || cudaMalloc(&k, bytes) || cudaMalloc(&v, bytes) ||
      cudaMalloc(&o, bytes) || cudaMalloc(&lse, n * 4))
    return Error("cudaMalloc failed");
  cudaMemcpy(q, host[0].data(), bytes, cudaMemcpyHostToDevice);
  cudaMemcpy(k, host[1].data(), bytes, cudaMemcpyHostToDevice);
  cudaMemcpy(v, host[2].data(), bytes, cudaMemcpyHostToDevice);
  AttentionParams params;
  params.scalars = {{"softcap", kSoftcap}, {"window", int32_t(kWindow)}};
  Status status = attention.forward(
      TensorView::contiguous(q, DType::f16, 1, 1, n, d),
      TensorView::contiguous(k, DType::f16, 1, 1, n, d),
      TensorView::contiguous(v, DType::f16, 1, 1, n, d),
      TensorView::contiguous(o, DType::f16, 1, 1, n, d),
      TensorView::contiguous(lse, DType::f32, 1, 1, n, 1), params);
  if (!status.ok())
    return status.error();
  std::vector<uint16_t> out(size_t(n) * d);
  if (cudaMemcpy(out.data(), o, bytes, cudaMemcpyDeviceToHost) != cudaSuccess)
    return Error("the forward failed on the GPU");
  std::vector<double> want = expected(rounded[0], rounded[1], rounded[2], n, d);
  double worst = 0;
  for (size_t i = 0; i < out.size(); ++i)
    worst = std::max(worst, std::abs(fromHalf(out[i]) - want[i]));
  for (void *p : {q, k, v, o, lse})
    cudaFree(p);
  return worst;
}
#endif

} // namespace

int main(int argc, char **argv) {
  std::printf("flashjit %s\n", flashjit::version());
  Expected<Program> variant = gemmaLocal();
  if (!variant)
    return fail(variant.error().message());

  RuntimeOptions options;
  options.memoryCacheOnly = true;
  if (argc > 1)
    options.offlineTarget = argv[1];
  Expected<std::shared_ptr<Runtime>> runtime = Runtime::create(options);
  if (!runtime && argc == 1) { // no GPU here: compile for Hopper
    std::printf("no GPU (%s): compiling for sm_90a\n",
                runtime.error().message().c_str());
    options.offlineTarget = "sm_90a";
    runtime = Runtime::create(options);
  }
  if (!runtime)
    return fail(runtime.error().message());
  Expected<Attention> attention = Attention::create(*runtime, *variant);
  if (!attention)
    return fail(attention.error().message());

  for (Pass pass : {Pass::forward, Pass::backward}) {
    Expected<CompiledKernels> compiled =
        attention->compile(pass, 64, DType::f16);
    if (!compiled)
      return fail(compiled.error().message());
    for (const KernelSignature &k : compiled->kernels)
      std::printf("%s: %s, %d threads, %d bytes of shared memory, %zu "
                  "parameters\n",
                  compiled->target.c_str(), k.name.c_str(), k.threads,
                  k.sharedMemoryBytes, k.params.size());
  }
  if (!(*runtime)->hasDevice())
    return 0;
#ifdef FLASHJIT_EXAMPLE_CUDART
  Expected<double> error = runOnGpu(*attention);
  if (!error)
    return fail(error.error().message());
  std::printf("GPU forward: max |O - definition| = %.2e\n", *error);
  return *error < 2e-3 ? 0 : fail("the GPU's O is off");
#else
  std::printf("built without the CUDA runtime: not run on the GPU\n");
  return 0;
#endif
}
