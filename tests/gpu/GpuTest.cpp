//===- GpuTest.cpp - every built-in variant on the GPU, checked -----------===//
//
// Forward and backward through the C++ API against the CPU float64
// reference (shared/testing.md), for every built-in variant, head dims 64
// and 128, fp16 and bf16, and the shapes testing.md names. Skips, with the
// reason, where no driver or GPU is found.
//
//===----------------------------------------------------------------------===//

#include "runtime/driver/CudaContext.h"
#include "runtime/driver/CudaDriver.h"
#include "tools/runner/Runner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

using namespace flashjit;

namespace {

struct Shape {
  int batch, headsQ, headsKv, seqlenQ, seqlenKv;
  bool tokenMajor;
};

// Seqlens 1, 17, 1000, 4097 (not multiples of any block), q != kv both
// ways, B > 1, GQA 4:1 and 2:1, a [B, N, H, D] layout viewed as [B, H, N, D].
const Shape kShapes[] = {
    {1, 2, 2, 1, 1, false},       {2, 4, 1, 17, 17, true},
    {1, 4, 4, 1000, 1000, false}, {1, 2, 2, 257, 4097, false},
    {2, 8, 2, 300, 200, true},    {1, 2, 1, 4097, 300, false},
};

std::shared_ptr<Runtime> &gpu() {
  static std::shared_ptr<Runtime> runtime;
  static std::string why;
  if (!runtime && why.empty()) {
    Expected<std::shared_ptr<Runtime>> r = Runtime::create();
    if (r)
      runtime = *r;
    else
      why = r.error().message();
  }
  return runtime;
}

/// A runtime with the deterministic backward (RuntimeOptions), for the
/// tests that compare bits.
std::shared_ptr<Runtime> &deterministicGpu() {
  static std::shared_ptr<Runtime> runtime = [] {
    RuntimeOptions options;
    options.deterministic = true;
    Expected<std::shared_ptr<Runtime>> r = Runtime::create(options);
    return r ? *r : nullptr;
  }();
  return runtime;
}

/// A runtime that compiles for sm_80 on whatever device there is: on
/// Hopper, the mma.sync kernels an A100 runs (RuntimeOptions::target).
std::shared_ptr<Runtime> &sm80Gpu() {
  static std::shared_ptr<Runtime> runtime = [] {
    RuntimeOptions options;
    options.target = "sm_80";
    Expected<std::shared_ptr<Runtime>> r = Runtime::create(options);
    return r ? *r : nullptr;
  }();
  return runtime;
}

std::string whyNoGpu() {
  Expected<std::shared_ptr<Runtime>> r = Runtime::create();
  return r ? "" : r.error().message();
}

/// The report's lines, one per checked output, for a failure message.
std::string linesOf(const RunReport &report) {
  std::string lines;
  for (const std::string &line : report.lines)
    lines += "\n  " + line;
  return lines;
}

/// One untimed, checked run of `variant`: batch 1, `heads` query and key
/// heads of `seqlen` rows.
RunConfig checkedRun(const char *variant, int headDim, int heads, int seqlen) {
  RunConfig config;
  config.variant = variant;
  config.headDim = headDim;
  config.batch = 1;
  config.headsQ = config.headsKv = heads;
  config.seqlenQ = config.seqlenKv = seqlen;
  config.iterations = 0;
  return config;
}

/// The target kernels are compiled for: the device's own, or sm_80.
enum class Target { device, sm80 };
using Param = std::tuple<std::string, int, DType, Target>;

class GpuVariantTest : public ::testing::TestWithParam<Param> {};

TEST_P(GpuVariantTest, ForwardAndBackwardMatchTheReference) {
  if (!gpu())
    GTEST_SKIP() << "no GPU: " << whyNoGpu();
  auto [variant, headDim, dtype, target] = GetParam();
  std::shared_ptr<Runtime> runtime = target == Target::sm80 ? sm80Gpu() : gpu();
  ASSERT_TRUE(runtime) << "no runtime for sm_80 on " << gpu()->target();
  if (target == Target::sm80) {
    ASSERT_EQ(runtime->target(), "sm_80");
  }
  for (const Shape &s : kShapes) {
    RunConfig config;
    config.variant = variant;
    config.headDim = headDim;
    config.dtype = dtype;
    config.batch = s.batch;
    config.headsQ = s.headsQ;
    config.headsKv = s.headsKv;
    config.seqlenQ = s.seqlenQ;
    config.seqlenKv = s.seqlenKv;
    config.tokenMajor = s.tokenMajor;
    config.iterations = 0;
    Expected<RunReport> report = runVariant(runtime, config);
    ASSERT_TRUE(report) << report.error().message();
    EXPECT_TRUE(report->pass)
        << runtime->target() << " " << variant << " d=" << headDim
        << " B=" << s.batch << " H=" << s.headsQ << "/" << s.headsKv
        << " N=" << s.seqlenQ << "/" << s.seqlenKv
        << (s.tokenMajor ? " [B,N,H,D]" : "") << linesOf(*report);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Builtins, GpuVariantTest,
    ::testing::Combine(::testing::ValuesIn([] {
                         std::vector<std::string> names;
                         for (const BuiltinVariant &v : builtinVariants())
                           names.push_back(v.name);
                         return names;
                       }()),
                       ::testing::Values(64, 128),
                       ::testing::Values(DType::f16, DType::bf16),
                       ::testing::Values(Target::device, Target::sm80)),
    [](const ::testing::TestParamInfo<Param> &info) {
      return std::get<0>(info.param) + "_d" +
             std::to_string(std::get<1>(info.param)) +
             (std::get<2>(info.param) == DType::f16 ? "_fp16" : "_bf16") +
             (std::get<3>(info.param) == Target::sm80 ? "_sm80" : "");
    });

// Scores of about 1e4 (Q and K with std 100) in fp16 and bf16 inputs: the
// online softmax must stay finite and within the tolerance.
// An older target runs; one without the kernels' instructions, or one
// flashjit does not know, is refused when the runtime is made, naming
// where it came from.
TEST(GpuEdgeCases, TargetsWithoutTheKernelsAreRefused) {
  if (!gpu())
    GTEST_SKIP() << "no GPU: " << whyNoGpu();
  ASSERT_TRUE(sm80Gpu());
  RuntimeOptions turing;
  turing.target = "sm_75";
  Expected<std::shared_ptr<Runtime>> r = Runtime::create(turing);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "RuntimeOptions::target: target sm_75 has no m16n8k16 "
            "tensor-core products (sm_80 or newer needed)");
  ::setenv("FLASHJIT_TARGET", "sm_1", 1);
  r = Runtime::create();
  ::unsetenv("FLASHJIT_TARGET");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message().rfind("FLASHJIT_TARGET: unknown target "
                                      "'sm_1'; known: sm_75",
                                      0),
            0u)
      << r.error().message();
}

TEST(GpuEdgeCases, LargeLogitsStayFinite) {
  if (!gpu())
    GTEST_SKIP() << "no GPU: " << whyNoGpu();
  for (DType dtype : {DType::f16, DType::bf16})
    for (const char *variant : {"full", "causal", "softcap"}) {
      RunConfig config = checkedRun(variant, 64, 2, 300);
      config.dtype = dtype;
      config.qkStd = 100.0f;
      Expected<RunReport> report = runVariant(gpu(), config);
      ASSERT_TRUE(report) << report.error().message();
      // O and the log-sum-exp meet the usual tolerance. The gradients are
      // ill-conditioned here: a rounding of 1e-3 in a score of 1e4 (f32
      // summation order, which the low-precision reference does not model)
      // moves a near one-hot P, and that reference's own error reaches 10%
      // in dQ and dK. They must be finite, and within 3x the usual
      // tolerance or within 1% in L2 (bf16's own precision).
      for (const char *name : {"o", "lse"})
        EXPECT_TRUE(report->checks.at(name).pass)
            << variant << " " << name << linesOf(*report);
      for (const char *name : {"dq", "dk", "dv"}) {
        const reference::Comparison &c = report->checks.at(name);
        EXPECT_TRUE(!c.sawNaN && std::isfinite(c.maxError))
            << variant << " " << name << linesOf(*report);
        EXPECT_TRUE(c.maxError <= 3 * c.tolerance || c.relativeError <= 1e-2)
            << variant << " " << name << linesOf(*report);
      }
    }
}

// The deterministic backward (delta, dK/dV, dQ: no atomics) meets the
// same tolerance as the default one, over the shapes that stress it most:
// ragged seqlens both ways, GQA, the token-major layout.
TEST(GpuEdgeCases, DeterministicBackwardMatchesTheReference) {
  if (!gpu())
    GTEST_SKIP() << "no GPU: " << whyNoGpu();
  ASSERT_TRUE(deterministicGpu());
  for (const BuiltinVariant &v : builtinVariants())
    for (int headDim : {64, 128})
      for (const Shape &s : {kShapes[3], kShapes[4]}) {
        RunConfig config;
        config.variant = v.name;
        config.headDim = headDim;
        config.batch = s.batch;
        config.headsQ = s.headsQ;
        config.headsKv = s.headsKv;
        config.seqlenQ = s.seqlenQ;
        config.seqlenKv = s.seqlenKv;
        config.tokenMajor = s.tokenMajor;
        config.iterations = 0;
        Expected<RunReport> report = runVariant(deterministicGpu(), config);
        ASSERT_TRUE(report) << report.error().message();
        EXPECT_TRUE(report->pass)
            << v.name << " d=" << headDim << " N=" << s.seqlenQ << "/"
            << s.seqlenKv << linesOf(*report);
      }
}

// The deterministic backward has no atomics: two runs give the same bits,
// dropout included.
TEST(GpuEdgeCases, TwoRunsGiveTheSameBits) {
  if (!gpu())
    GTEST_SKIP() << "no GPU: " << whyNoGpu();
  ASSERT_TRUE(deterministicGpu());
  for (const char *variant : {"causal", "dropout", "document"}) {
    RunConfig config;
    config.variant = variant;
    config.headDim = 128;
    config.batch = 2;
    config.headsQ = 8;
    config.headsKv = 2;
    config.seqlenQ = config.seqlenKv = 1000;
    config.iterations = 0;
    config.check = false;
    config.keepOutputs = true;
    Expected<RunReport> first = runVariant(deterministicGpu(), config);
    Expected<RunReport> second = runVariant(deterministicGpu(), config);
    ASSERT_TRUE(first && second);
    auto same = [](const std::vector<float> &a, const std::vector<float> &b) {
      return a.size() == b.size() &&
             std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
    };
    EXPECT_FALSE(first->o.empty());
    EXPECT_TRUE(same(first->o, second->o)) << variant << ": O differs";
    EXPECT_TRUE(same(first->lse, second->lse)) << variant << ": lse differs";
    EXPECT_TRUE(same(first->dq, second->dq)) << variant << ": dQ differs";
    EXPECT_TRUE(same(first->dk, second->dk)) << variant << ": dK differs";
    EXPECT_TRUE(same(first->dv, second->dv)) << variant << ": dV differs";
  }
}

// Dropout of rate 0 is no dropout: the same kernels, so the same bits
// (with the deterministic backward, whose dQ has no atomics).
TEST(GpuEdgeCases, DropoutRateZeroEqualsNoDropoutBitForBit) {
  if (!gpu())
    GTEST_SKIP() << "no GPU: " << whyNoGpu();
  ASSERT_TRUE(deterministicGpu());
  const std::string text = R"(module {
  tile.program @full_dropout_zero {
    %q = tile.load_q : <[q, d], input>
    %k = tile.load_k : <[kv, d], input>
    %0 = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
    %scale = tile.softmax_scale : <[], f32>
    %1 = tile.mul %0, %scale : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %probs, %lse = tile.softmax %1 : <[q, kv], f32>
    %2 = tile.dropout %probs rate = 0.0 : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %3 = tile.dot %2, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    tile.store %3, %lse : <[q, d], f32>, <[q], f32>
  }
})";
  for (int d : {64, 128}) {
    RunConfig config = checkedRun("full", d, 4, 1000);
    config.keepOutputs = true;
    Expected<RunReport> plain = runVariant(deterministicGpu(), config);
    config.programText = text;
    Expected<RunReport> dropped = runVariant(deterministicGpu(), config);
    ASSERT_TRUE(plain) << plain.error().message();
    ASSERT_TRUE(dropped) << dropped.error().message() << "\n" << text;
    EXPECT_TRUE(dropped->pass) << linesOf(*dropped);
    auto same = [](const std::vector<float> &a, const std::vector<float> &b) {
      return !a.empty() && a.size() == b.size() &&
             std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
    };
    EXPECT_TRUE(same(plain->o, dropped->o)) << "d " << d << ": O differs";
    EXPECT_TRUE(same(plain->lse, dropped->lse)) << "d " << d;
    EXPECT_TRUE(same(plain->dq, dropped->dq)) << "d " << d;
    EXPECT_TRUE(same(plain->dk, dropped->dk)) << "d " << d;
    EXPECT_TRUE(same(plain->dv, dropped->dv)) << "d " << d;
  }
}

// A backward whose workspace does not fit in device memory fails with the
// driver's out-of-memory error, naming the call, and the runtime works
// again once memory is free.
TEST(GpuFaults, BackwardWorkspaceOutOfMemoryIsAClearErrorAndRecovers) {
  if (!gpu())
    GTEST_SKIP() << "no GPU: " << whyNoGpu();
  Expected<const CudaDriver *> driver = CudaDriver::get();
  ASSERT_TRUE(driver);
  const CudaDriver &d = **driver;
  std::vector<CUdeviceptr> hog;
  // The workspace (row statistics, 2 x B * H * N f32) is 2 MiB: more than
  // what the 1 MiB-grained fill below leaves.
  RunConfig config = checkedRun("full", 64, 16, 16384);
  config.check = false;
  config.beforeBackward = [&] {
    for (size_t chunk : {size_t(1) << 30, size_t(64) << 20, size_t(1) << 20}) {
      CUdeviceptr p;
      while (d.cuMemAlloc(&p, chunk) == CUDA_SUCCESS)
        hog.push_back(p);
    }
  };
  Expected<RunReport> starved = runVariant(gpu(), config);
  {
    Expected<std::unique_ptr<PrimaryContext>> primary =
        PrimaryContext::retain(d, gpu()->device());
    ASSERT_TRUE(primary);
    Expected<ScopedContext> current =
        ScopedContext::enter(d, (*primary)->context());
    ASSERT_TRUE(current);
    for (CUdeviceptr p : hog)
      d.cuMemFree(p);
  }
  EXPECT_FALSE(hog.empty());
  ASSERT_FALSE(starved) << "the backward ran with no memory left";
  const std::string &message = starved.error().message();
  EXPECT_NE(message.find("cuMemAllocAsync"), std::string::npos) << message;
  EXPECT_NE(message.find("CUDA_ERROR_OUT_OF_MEMORY"), std::string::npos)
      << message;
  config.beforeBackward = nullptr;
  config.seqlenQ = config.seqlenKv = 300;
  config.check = true;
  Expected<RunReport> again = runVariant(gpu(), config);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_TRUE(again->pass) << linesOf(*again);
}

// A stream of another CUDA context is refused by name before anything is
// launched, and the runtime works afterwards.
TEST(GpuFaults, StreamOfAnotherContextIsRefused) {
  if (!gpu())
    GTEST_SKIP() << "no GPU: " << whyNoGpu();
  Expected<const CudaDriver *> driver = CudaDriver::get();
  ASSERT_TRUE(driver);
  const CudaDriver &d = **driver;
  if (!d.cuCtxCreate || !d.cuCtxDestroy || !d.cuStreamCreate ||
      !d.cuStreamDestroy)
    GTEST_SKIP() << "this driver lacks cuCtxCreate_v4 or the stream calls";
  CUdevice device;
  ASSERT_EQ(d.cuDeviceGet(&device, gpu()->device()), CUDA_SUCCESS);
  // cuCtxCreate makes the new context current: the stream is made in it,
  // then the context is popped so that the caller's state is as before.
  CUcontext other = nullptr, popped = nullptr;
  ASSERT_EQ(d.cuCtxCreate(&other, nullptr, 0, device), CUDA_SUCCESS);
  CUstream stream = nullptr;
  CUresult made = d.cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING);
  d.cuCtxPopCurrent(&popped);
  ASSERT_EQ(made, CUDA_SUCCESS);

  RunConfig config = checkedRun("causal", 64, 2, 100);
  config.stream = stream;
  Expected<RunReport> refused = runVariant(gpu(), config);

  d.cuCtxPushCurrent(other);
  d.cuStreamDestroy(stream);
  d.cuCtxDestroy(other);

  ASSERT_FALSE(refused) << "a forward ran on a stream of another context";
  EXPECT_NE(refused.error().message().find(
                "the stream belongs to another CUDA context"),
            std::string::npos)
      << refused.error().message();
  config.stream = nullptr;
  Expected<RunReport> again = runVariant(gpu(), config);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_TRUE(again->pass) << linesOf(*again);
}

// Host memory and freed device memory are refused by name before the
// launch (a kernel would fault and take the context with it), and the
// next good launch in the same process succeeds.
TEST(GpuFaults, HostAndFreedPointersAreRefused) {
  if (!gpu())
    GTEST_SKIP() << "no GPU: " << whyNoGpu();
  Expected<const CudaDriver *> driver = CudaDriver::get();
  ASSERT_TRUE(driver);
  const CudaDriver &d = **driver;
  Expected<std::unique_ptr<PrimaryContext>> primary =
      PrimaryContext::retain(d, gpu()->device());
  ASSERT_TRUE(primary);
  Expected<ScopedContext> current =
      ScopedContext::enter(d, (*primary)->context());
  ASSERT_TRUE(current);
  constexpr int64_t n = 64, dim = 64, bytes = n * dim * 2;
  CUdeviceptr q, k, v, o, lse, freed;
  for (CUdeviceptr *p : {&q, &k, &v, &o, &lse, &freed})
    ASSERT_EQ(d.cuMemAlloc(p, bytes), CUDA_SUCCESS);
  ASSERT_EQ(d.cuMemFree(freed), CUDA_SUCCESS);
  alignas(16) static uint16_t host[n * dim];
  auto view = [&](CUdeviceptr p) {
    return TensorView::contiguous(reinterpret_cast<void *>(p), DType::bf16, 1,
                                  1, n, dim);
  };
  TensorView lseView = TensorView::contiguous(reinterpret_cast<void *>(lse),
                                              DType::f32, 1, 1, n, 1);
  Expected<Attention> causal =
      Attention::create(gpu(), *builtinVariant("causal"));
  ASSERT_TRUE(causal);
  TensorView hostQ = view(q);
  hostQ.data = host;
  Status onHost =
      causal->forward(hostQ, view(k), view(v), view(o), lseView, {});
  ASSERT_FALSE(onHost.ok());
  EXPECT_NE(onHost.error().message().find("q is not memory CUDA knows"),
            std::string::npos)
      << onHost.error().message();
  Status onFreed =
      causal->forward(view(q), view(k), view(v), view(freed), lseView, {});
  ASSERT_FALSE(onFreed.ok());
  EXPECT_NE(onFreed.error().message().find("o is not memory CUDA knows"),
            std::string::npos)
      << onFreed.error().message();
  EXPECT_TRUE(
      causal->forward(view(q), view(k), view(v), view(o), lseView, {}).ok());
  for (CUdeviceptr p : {q, k, v, o, lse})
    d.cuMemFree(p);

  Expected<RunReport> again =
      runVariant(gpu(), checkedRun("causal", 64, 2, 100));
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_TRUE(again->pass) << linesOf(*again);
}

} // namespace
