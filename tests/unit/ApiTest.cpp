//===- ApiTest.cpp - bad input through the C++ API and the C ABI ----------===//
//
// An offline runtime (compiling for sm_90a, no device) runs every check a
// launch makes; inputs that pass get as far as "no device".
//
//===----------------------------------------------------------------------===//

#include "flashjit/flashjit.h"
#include "flashjit/flashjit_c.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include <cstddef>
#include <cstdlib>
#include <optional>
#include <unistd.h>

using namespace flashjit;

namespace {

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

/// A launch's inputs: fake, aligned device addresses and shapes.
struct Launch {
  std::string variant = "causal";
  TensorView q, k, v, o, lse, dO, dq, dk, dv;
  AttentionParams params;

  Launch(int64_t b = 2, int64_t hq = 8, int64_t hkv = 2, int64_t nq = 100,
         int64_t nkv = 120, int64_t d = 64, DType dtype = DType::bf16) {
    auto at = [](uintptr_t a) { return reinterpret_cast<void *>(a); };
    q = TensorView::contiguous(at(0x100000), dtype, b, hq, nq, d);
    k = TensorView::contiguous(at(0x200000), dtype, b, hkv, nkv, d);
    v = TensorView::contiguous(at(0x300000), dtype, b, hkv, nkv, d);
    o = TensorView::contiguous(at(0x400000), dtype, b, hq, nq, d);
    lse = TensorView::contiguous(at(0x500000), DType::f32, b, hq, nq, 1);
    dO = TensorView::contiguous(at(0x600000), dtype, b, hq, nq, d);
    dq = TensorView::contiguous(at(0x700000), dtype, b, hq, nq, d);
    dk = TensorView::contiguous(at(0x800000), dtype, b, hkv, nkv, d);
    dv = TensorView::contiguous(at(0x900000), dtype, b, hkv, nkv, d);
  }
};

flashjit_tensor toC(const TensorView &t) {
  flashjit_tensor c;
  c.data = t.data;
  c.dtype = flashjit_dtype(t.dtype);
  for (int i = 0; i < 4; ++i) {
    c.shape[i] = t.shape[i];
    c.strides[i] = t.strides[i];
  }
  return c;
}

std::shared_ptr<Runtime> offlineRuntime() {
  RuntimeOptions options;
  options.offlineTarget = "sm_90a";
  options.memoryCacheOnly = true;
  Expected<std::shared_ptr<Runtime>> runtime = Runtime::create(options);
  EXPECT_TRUE(runtime) << runtime.error().message();
  return *runtime;
}

/// The message of a forward and of a backward launch through the C++ API
/// ("" for success), and the same through the C ABI.
struct Outcome {
  std::string cppForward, cppBackward, cForward, cBackward;
};

Outcome run(const Launch &l) {
  Outcome out;
  std::shared_ptr<Runtime> runtime = offlineRuntime();
  Expected<Program> program = builtinVariant(l.variant);
  EXPECT_TRUE(program);
  Expected<Attention> attention = Attention::create(runtime, *program);
  EXPECT_TRUE(attention);
  Status f = attention->forward(l.q, l.k, l.v, l.o, l.lse, l.params);
  out.cppForward = f.ok() ? "" : f.error().message();
  Status b = attention->backward(l.q, l.k, l.v, l.o, l.lse, l.dO, l.dq, l.dk,
                                 l.dv, l.params);
  out.cppBackward = b.ok() ? "" : b.error().message();

  flashjit_runtime *rt = nullptr;
  EXPECT_EQ(flashjit_runtime_create(0, nullptr, "sm_90a", &rt), FLASHJIT_OK)
      << flashjit_last_error();
  flashjit_attention *att = nullptr;
  EXPECT_EQ(flashjit_attention_create_builtin(rt, l.variant.c_str(), &att),
            FLASHJIT_OK);
  std::vector<flashjit_scalar> scalars;
  for (const auto &[name, value] : l.params.scalars) {
    flashjit_scalar s{name.c_str(), FLASHJIT_F32, 0, 0};
    if (std::holds_alternative<float>(value))
      s.f32 = std::get<float>(value);
    else {
      s.dtype = FLASHJIT_I32;
      s.i32 = std::get<int32_t>(value);
    }
    scalars.push_back(s);
  }
  flashjit_params params{};
  params.scalars = scalars.data();
  params.num_scalars = int32_t(scalars.size());
  flashjit_tensor q = toC(l.q), k = toC(l.k), v = toC(l.v), o = toC(l.o),
                  lse = toC(l.lse), dO = toC(l.dO), dq = toC(l.dq),
                  dk = toC(l.dk), dv = toC(l.dv);
  out.cForward = flashjit_forward(att, &q, &k, &v, &o, &lse, &params,
                                  nullptr) == FLASHJIT_OK
                     ? ""
                     : flashjit_last_error();
  out.cBackward = flashjit_backward(att, &q, &k, &v, &o, &lse, &dO, &dq, &dk,
                                    &dv, &params, nullptr) == FLASHJIT_OK
                      ? ""
                      : flashjit_last_error();
  flashjit_attention_destroy(att);
  flashjit_runtime_destroy(rt);
  return out;
}

/// Expects both APIs to fail both passes with `message`.
void expectRejected(const Launch &l, const std::string &message) {
  Outcome out = run(l);
  EXPECT_TRUE(contains(out.cppForward, message)) << out.cppForward;
  EXPECT_TRUE(contains(out.cppBackward, message)) << out.cppBackward;
  EXPECT_TRUE(contains(out.cForward, message)) << out.cForward;
  EXPECT_TRUE(contains(out.cBackward, message)) << out.cBackward;
}

// offlineTarget compiles without a device, target for an older target
// than a device's: both at once is a contradiction, refused before any
// driver is looked for.
TEST(Api, OfflineTargetAndTargetTogetherAreRefused) {
  RuntimeOptions options;
  options.offlineTarget = "sm_90a";
  options.target = "sm_80";
  Expected<std::shared_ptr<Runtime>> runtime = Runtime::create(options);
  ASSERT_FALSE(runtime);
  EXPECT_EQ(runtime.error().message(),
            "RuntimeOptions: offlineTarget compiles without a device, target "
            "for an older target than the device's; give one");
}

TEST(Api, ValidInputsGetAsFarAsTheDevice) {
  Outcome out = run(Launch());
  for (const std::string &m :
       {out.cppForward, out.cppBackward, out.cForward, out.cBackward})
    EXPECT_TRUE(contains(m, "no device: this runtime compiles for sm_90a but "
                            "cannot launch"))
        << m;
}

TEST(Api, NullPointer) {
  Launch l;
  l.k.data = nullptr;
  expectRejected(l, "k is a null pointer");
}

TEST(Api, MisalignedPointer) {
  Launch l;
  l.v.data = reinterpret_cast<void *>(0x300002);
  expectRejected(l, "v is not 16-byte aligned");
}

TEST(Api, ShapeMismatch) {
  Launch l;
  l.o.shape[2] = 99;
  expectRejected(l, "o has shape [2, 8, 99, 64], expected [2, 8, 100, 64]");
}

TEST(Api, StrideNotRowAligned) {
  Launch l;
  l.q.strides[2] = 65;
  expectRejected(l, "q's stride 65 (dimension 2) is not a multiple of 8 "
                    "elements");
}

TEST(Api, StridesOfSingleEntryDimensionsAreIgnored) {
  // Index 0 only: torch leaves such strides as the view made them.
  Launch l(1, 8, 2, 100, 100, 64);
  l.q.strides[0] = 3;
  l.k.strides[0] = -5;
  Outcome out = run(l);
  for (const std::string &m :
       {out.cppForward, out.cppBackward, out.cForward, out.cBackward})
    EXPECT_TRUE(contains(m, "no device")) << m;
}

TEST(Api, HeadDimNotContiguous) {
  Launch l;
  l.k.strides[3] = 2;
  expectRejected(l, "k's head dim is not contiguous");
}

TEST(Api, HeadsNotAMultiple) {
  Launch l(2, 8, 3);
  expectRejected(l, "q has 8 heads, not a multiple of k's 3");
}

TEST(Api, UnsupportedHeadDim) {
  Launch l(1, 2, 2, 16, 16, 80);
  expectRejected(l, "head dim 80 is not supported; supported: 32, 64, 96, "
                    "128, 256");
}

TEST(Api, UnsupportedDtype) {
  Launch l(1, 2, 2, 16, 16, 64, DType::f32);
  expectRejected(l, "q is f32; the inputs must be f16 or bf16");
}

TEST(Api, MixedDtypes) {
  Launch l;
  l.v.dtype = DType::f16;
  expectRejected(l, "v is f16 but q is bf16");
}

TEST(Api, LseWrongType) {
  Launch l;
  l.lse.dtype = DType::bf16;
  expectRejected(l, "lse is bf16, expected f32");
}

TEST(Api, TooManyThreadBlockRows) {
  Launch l(1000, 80, 80, 16, 16, 64);
  expectRejected(l, "batch * heads = 80000 exceeds the 65535 thread-block "
                    "rows of one launch");
}

TEST(Api, SequenceTooLongForIndexMath) {
  Launch l(1, 1, 1, int64_t(1) << 31, 16, 64);
  expectRejected(l, "is too long for the kernels' 32-bit index math");
}

TEST(Api, MissingParameter) {
  Launch l;
  l.variant = "sliding_window";
  expectRejected(l, "variant 'sliding_window' needs the parameter 'window' "
                    "(i32)");
}

TEST(Api, ParameterOfTheWrongType) {
  Launch l;
  l.variant = "sliding_window";
  l.params.scalars["window"] = 3.0f;
  expectRejected(l, "parameter 'window' of variant 'sliding_window' is i32, "
                    "got f32");
}

TEST(Api, UnknownParameter) {
  Launch l;
  l.params.scalars["windw"] = int32_t(3);
  expectRejected(l, "'windw' is not a parameter of variant 'causal'");
}

TEST(Api, MissingBuffer) {
  Launch l;
  l.variant = "alibi";
  Outcome out = run(l);
  EXPECT_TRUE(contains(out.cppForward, "variant 'alibi' needs the buffer "
                                       "'slopes'"))
      << out.cppForward;
  EXPECT_TRUE(contains(out.cForward, "needs the buffer 'slopes'"))
      << out.cForward;
}

TEST(Api, BufferOfTheWrongSize) {
  std::shared_ptr<Runtime> runtime = offlineRuntime();
  Expected<Attention> alibi =
      Attention::create(runtime, *builtinVariant("alibi"));
  ASSERT_TRUE(alibi);
  Launch l;
  BufferView slopes;
  slopes.data = reinterpret_cast<void *>(0xa00000);
  slopes.shape = {4}; // one per query head: 8
  l.params.buffers["slopes"] = slopes;
  Status s = alibi->forward(l.q, l.k, l.v, l.o, l.lse, l.params);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(),
            "buffer 'slopes' dimension 0 ('head') has 4 entries, expected 8");
}

TEST(Api, EmptyProblemReturnsAtOnce) {
  Launch l(2, 8, 2, 0, 120, 64); // seqlen_q = 0: nothing to do, no launch
  Outcome out = run(l);
  EXPECT_EQ(out.cppForward, "");
  EXPECT_EQ(out.cppBackward, "");
  EXPECT_EQ(out.cForward, "");
  EXPECT_EQ(out.cBackward, "");
}

TEST(Api, RuntimeStaysUsableAfterErrors) {
  std::shared_ptr<Runtime> runtime = offlineRuntime();
  Expected<Attention> causal =
      Attention::create(runtime, *builtinVariant("causal"));
  ASSERT_TRUE(causal);
  Launch bad;
  bad.q.data = nullptr;
  EXPECT_FALSE(causal->forward(bad.q, bad.k, bad.v, bad.o, bad.lse, {}).ok());
  Launch good;
  Status s = causal->forward(good.q, good.k, good.v, good.o, good.lse, {});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(contains(s.error().message(), "no device"))
      << s.error().message();
}

TEST(CApi, NullArguments) {
  EXPECT_EQ(flashjit_runtime_create(0, nullptr, "sm_90a", nullptr),
            FLASHJIT_ERROR);
  EXPECT_TRUE(contains(flashjit_last_error(), "out is NULL"));
  EXPECT_EQ(flashjit_forward(nullptr, nullptr, nullptr, nullptr, nullptr,
                             nullptr, nullptr, nullptr),
            FLASHJIT_ERROR);
  EXPECT_STREQ(flashjit_last_error(), "attention is NULL");
  flashjit_runtime *rt = nullptr;
  ASSERT_EQ(flashjit_runtime_create(0, nullptr, "sm_90a", &rt), FLASHJIT_OK);
  flashjit_attention *att = nullptr;
  EXPECT_EQ(flashjit_attention_create_builtin(rt, "nope", &att),
            FLASHJIT_ERROR);
  EXPECT_TRUE(contains(flashjit_last_error(), "unknown variant 'nope'"));
  EXPECT_EQ(att, nullptr);
  EXPECT_EQ(flashjit_attention_create_from_text(rt, "tile.program @x {", &att),
            FLASHJIT_ERROR);
  EXPECT_TRUE(contains(flashjit_last_error(), "<program>:1"))
      << flashjit_last_error();
  ASSERT_EQ(flashjit_attention_create_builtin(rt, "full", &att), FLASHJIT_OK);
  flashjit_tensor t{};
  EXPECT_EQ(flashjit_forward(att, &t, &t, &t, &t, nullptr, nullptr, nullptr),
            FLASHJIT_ERROR);
  EXPECT_STREQ(flashjit_last_error(), "lse is a null flashjit_tensor");
  flashjit_attention_destroy(att);
  flashjit_runtime_destroy(rt);
  flashjit_runtime_destroy(nullptr);
  flashjit_attention_destroy(nullptr);
}

TEST(Api, UnfusableProgramIsRejectedAtCreation) {
  const char *text = R"(
tile.program @twice {
  %q = tile.load_q : !tile.tile<[q, d], input>
  %k = tile.load_k : !tile.tile<[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  %p, %lse = tile.softmax %s : !tile.tile<[q, kv], f32>
  %e = tile.exp %p : !tile.tile<[q, kv], f32>
  %v = tile.load_v : !tile.tile<[kv, d], input>
  %o = tile.dot %p, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  tile.store %o, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
})";
  Expected<Program> program = Program::parse(text, "twice.mlir");
  ASSERT_TRUE(program) << program.error().message();
  Expected<Attention> attention = Attention::create(offlineRuntime(), *program);
  ASSERT_FALSE(attention);
  EXPECT_TRUE(contains(attention.error().message(),
                       "twice.mlir:7:8: error: 'tile.exp' op breaks the "
                       "attention chain: it reads the probabilities"))
      << attention.error().message();
}

TEST(CApi, UnknownOfflineTarget) {
  flashjit_runtime *rt = nullptr;
  EXPECT_EQ(flashjit_runtime_create(0, nullptr, "sm_99", &rt), FLASHJIT_ERROR);
  EXPECT_TRUE(contains(flashjit_last_error(), "unknown target 'sm_99'"));
}

TEST(Api, NoDriverIsAClearError) {
  Expected<std::shared_ptr<Runtime>> runtime = Runtime::create();
  if (runtime)
    GTEST_SKIP() << "a GPU is present";
  EXPECT_TRUE(contains(runtime.error().message(), "no CUDA driver"))
      << runtime.error().message();
}

} // namespace

TEST(Api, ForcedBlocksPastSharedMemoryAreAClearError) {
  RuntimeOptions options;
  options.offlineTarget = "sm_90a";
  options.memoryCacheOnly = true;
  // The mma.sync forward (the warpgroup MMA's shapes stop at 256 x 256,
  // which fits).
  options.rowTilesPerWarp = 1;
  options.blockM = 256;
  options.blockN = 1024;
  Expected<std::shared_ptr<Runtime>> forced = Runtime::create(options);
  ASSERT_TRUE(forced) << forced.error().message();
  Expected<Attention> causal =
      Attention::create(*forced, *builtinVariant("causal"));
  ASSERT_TRUE(causal) << causal.error().message();
  Launch l;
  Status s = causal->forward(l.q, l.k, l.v, l.o, l.lse, {});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(contains(s.error().message(), "bytes of shared memory"))
      << s.error().message();
  EXPECT_TRUE(contains(s.error().message(), "sm_90a allows 232448"))
      << s.error().message();
  // A shape that fits compiles (the launch then stops at the missing
  // device).
  options.blockM = 64;
  options.blockN = 32;
  Expected<std::shared_ptr<Runtime>> fits = Runtime::create(options);
  ASSERT_TRUE(fits);
  Expected<Attention> again =
      Attention::create(*fits, *builtinVariant("causal"));
  ASSERT_TRUE(again);
  Status ok = again->forward(l.q, l.k, l.v, l.o, l.lse, {});
  ASSERT_FALSE(ok.ok());
  EXPECT_TRUE(contains(ok.error().message(), "no device"))
      << ok.error().message();
}

TEST(Api, RowTilesPerWarpOutOfRangeIsAClearError) {
  RuntimeOptions options;
  options.offlineTarget = "sm_90a";
  options.memoryCacheOnly = true;
  options.rowTilesPerWarp = 7;
  Expected<std::shared_ptr<Runtime>> r = Runtime::create(options);
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message(), "row tiles per warp"))
      << r.error().message();
  // 2 compiles (the launch then stops at the missing device).
  options.rowTilesPerWarp = 2;
  Expected<std::shared_ptr<Runtime>> two = Runtime::create(options);
  ASSERT_TRUE(two) << two.error().message();
  Expected<Attention> causal =
      Attention::create(*two, *builtinVariant("causal"));
  ASSERT_TRUE(causal);
  Launch l;
  Status s = causal->forward(l.q, l.k, l.v, l.o, l.lse, {});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(contains(s.error().message(), "no device"))
      << s.error().message();
}

// The default backward adds dQ with atomics inside dK/dV; the deterministic
// one keeps the dQ kernel. Each is its own cache entry, so that switching
// never loads the other's kernels.
TEST(Api, DeterministicBackwardIsItsOwnKernelSet) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("flashjit-api-det-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  auto backwardKernels = [&](bool deterministic) {
    RuntimeOptions options;
    options.offlineTarget = "sm_90a";
    options.cacheDirectory = dir.string();
    options.deterministic = deterministic;
    Expected<std::shared_ptr<Runtime>> r = Runtime::create(options);
    EXPECT_TRUE(r) << r.error().message();
    Expected<Attention> causal =
        Attention::create(*r, *builtinVariant("causal"));
    EXPECT_TRUE(causal);
    Launch l;
    Status s =
        causal->backward(l.q, l.k, l.v, l.o, l.lse, l.dO, l.dq, l.dk, l.dv, {});
    EXPECT_TRUE(!s.ok() && contains(s.error().message(), "no device"))
        << (s.ok() ? "launched" : s.error().message());
  };
  auto entries = [&] {
    std::vector<std::string> texts;
    for (const auto &entry : std::filesystem::directory_iterator(dir)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      texts.push_back(text.str());
    }
    return texts;
  };
  backwardKernels(false);
  std::vector<std::string> atomic = entries();
  ASSERT_EQ(atomic.size(), 1u);
  EXPECT_TRUE(contains(atomic[0], ".entry flashjit_causal_backward_dkdvdq("));
  EXPECT_TRUE(contains(atomic[0], "red.relaxed.gpu.global.add.v2.f32"));
  EXPECT_FALSE(contains(atomic[0], ".entry flashjit_causal_backward_dq("));

  backwardKernels(true);
  std::vector<std::string> both = entries();
  ASSERT_EQ(both.size(), 2u);
  const std::string &det = both[0] == atomic[0] ? both[1] : both[0];
  EXPECT_TRUE(contains(det, ".entry flashjit_causal_backward_dq("));
  EXPECT_TRUE(contains(det, ".entry flashjit_causal_backward_dkdv("));
  EXPECT_FALSE(contains(det, "atom.global") || contains(det, "red.relaxed"));
  std::filesystem::remove_all(dir);
}

TEST(Api, DeterministicEnvironmentValueIsChecked) {
  setenv("FLASHJIT_DETERMINISTIC", "yes", 1);
  RuntimeOptions options;
  options.offlineTarget = "sm_90a";
  options.memoryCacheOnly = true;
  Expected<std::shared_ptr<Runtime>> r = Runtime::create(options);
  unsetenv("FLASHJIT_DETERMINISTIC");
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message(),
                       "FLASHJIT_DETERMINISTIC must be 0 or 1, not 'yes'"))
      << r.error().message();
}

TEST(Api, VersionMatchesTheHeaders) {
  EXPECT_STREQ(flashjit::version(), FLASHJIT_VERSION_STRING);
  EXPECT_STREQ(flashjit_version(), FLASHJIT_VERSION_STRING);
}

TEST(Api, CompileAheadOfTimeGivesPtxAndSignatures) {
  Expected<Attention> causal =
      Attention::create(offlineRuntime(), *builtinVariant("causal"));
  ASSERT_TRUE(causal);
  Expected<CompiledKernels> forward =
      causal->compile(Pass::forward, 128, DType::bf16);
  ASSERT_TRUE(forward) << forward.error().message();
  EXPECT_EQ(forward->target, "sm_90a");
  ASSERT_EQ(forward->kernels.size(), 1u);
  const KernelSignature &kernel = forward->kernels[0];
  EXPECT_EQ(kernel.name, "flashjit_causal_forward");
  EXPECT_EQ(kernel.kind, "forward");
  EXPECT_TRUE(contains(forward->ptx, ".entry flashjit_causal_forward("));
  EXPECT_GT(kernel.threads, 0);
  EXPECT_GT(kernel.sharedMemoryBytes, 0);
  ASSERT_FALSE(kernel.params.empty());
  EXPECT_EQ(kernel.params[0],
            std::make_pair(std::string("q"), std::string("ptr")));
  EXPECT_TRUE(contains(forward->metadata, "\"rows\": \"seqlen_q\""))
      << forward->metadata;

  Expected<CompiledKernels> backward =
      causal->compile(Pass::backward, 64, DType::f16);
  ASSERT_TRUE(backward) << backward.error().message();
  std::vector<std::string> kinds;
  for (const KernelSignature &k : backward->kernels)
    kinds.push_back(k.kind);
  EXPECT_EQ(kinds,
            (std::vector<std::string>{"backward_delta", "backward_dkdvdq",
                                      "backward_dq_convert"}));

  Expected<CompiledKernels> d80 =
      causal->compile(Pass::forward, 80, DType::bf16);
  ASSERT_FALSE(d80);
  EXPECT_TRUE(contains(d80.error().message(), "80")) << d80.error().message();
  Expected<CompiledKernels> f32 =
      causal->compile(Pass::forward, 64, DType::f32);
  ASSERT_FALSE(f32);
  EXPECT_TRUE(contains(f32.error().message(), "f16 or bf16"))
      << f32.error().message();
}

/// Sets an environment variable for one scope, then restores it.
class ScopedEnv {
public:
  ScopedEnv(const char *name, const char *value) : name_(name) {
    if (const char *old = std::getenv(name))
      old_ = old;
    value ? setenv(name, value, 1) : unsetenv(name);
  }
  ~ScopedEnv() { old_ ? setenv(name_, old_->c_str(), 1) : unsetenv(name_); }

private:
  const char *name_;
  std::optional<std::string> old_;
};

TEST(Api, CacheDirectoryFollowsXdgCacheHome) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("flashjit-xdg-" + std::to_string(getpid()));
  ScopedEnv cacheDir("FLASHJIT_CACHE_DIR", nullptr);
  ScopedEnv xdg("XDG_CACHE_HOME", dir.c_str());
  RuntimeOptions options;
  options.offlineTarget = "sm_80";
  Expected<std::shared_ptr<Runtime>> runtime = Runtime::create(options);
  ASSERT_TRUE(runtime) << runtime.error().message();
  Expected<Attention> full =
      Attention::create(*runtime, *builtinVariant("full"));
  ASSERT_TRUE(full);
  ASSERT_TRUE(full->compile(Pass::forward, 64, DType::bf16));
  EXPECT_TRUE(std::filesystem::exists(dir / "flashjit"));
  EXPECT_FALSE(std::filesystem::is_empty(dir / "flashjit"));
  std::filesystem::remove_all(dir);
}

TEST(CApi, RuntimeOptionsAreSized) {
  flashjit_runtime_options options;
  flashjit_runtime_options_init(&options);
  EXPECT_EQ(options.size, sizeof(flashjit_runtime_options));
  options.offline_target = "sm_90a";
  options.memory_cache_only = 1;
  flashjit_runtime *rt = nullptr;
  // Older headers: a prefix of today's struct, the rest defaulted.
  options.size = offsetof(flashjit_runtime_options, deterministic);
  ASSERT_EQ(flashjit_runtime_create_with_options(&options, &rt), FLASHJIT_OK)
      << flashjit_last_error();
  flashjit_runtime_destroy(rt);
  options.size = sizeof(options) + 4;
  EXPECT_EQ(flashjit_runtime_create_with_options(&options, &rt),
            FLASHJIT_ERROR);
  EXPECT_TRUE(contains(flashjit_last_error(), "flashjit_runtime_options.size"))
      << flashjit_last_error();
  EXPECT_EQ(rt, nullptr);
  EXPECT_EQ(flashjit_runtime_create_with_options(nullptr, &rt), FLASHJIT_ERROR);
  EXPECT_TRUE(contains(flashjit_last_error(), "options is NULL"));
}

TEST(CApi, CompileAheadOfTime) {
  flashjit_runtime *rt = nullptr;
  ASSERT_EQ(flashjit_runtime_create(0, nullptr, "sm_80", &rt), FLASHJIT_OK);
  flashjit_attention *att = nullptr;
  ASSERT_EQ(flashjit_attention_create_builtin(rt, "alibi", &att), FLASHJIT_OK);
  flashjit_compiled *compiled = nullptr;
  ASSERT_EQ(flashjit_attention_compile(att, FLASHJIT_FORWARD, 64, FLASHJIT_F16,
                                       &compiled),
            FLASHJIT_OK)
      << flashjit_last_error();
  EXPECT_STREQ(flashjit_compiled_target(compiled), "sm_80");
  EXPECT_TRUE(contains(flashjit_compiled_ptx(compiled), ".target sm_80"));
  EXPECT_TRUE(contains(flashjit_compiled_metadata(compiled), "\"slopes\""));
  flashjit_compiled_destroy(compiled);
  EXPECT_EQ(flashjit_attention_compile(att, flashjit_pass(7), 64, FLASHJIT_F16,
                                       &compiled),
            FLASHJIT_ERROR);
  EXPECT_TRUE(contains(flashjit_last_error(), "unknown pass 7"));
  EXPECT_EQ(compiled, nullptr);
  flashjit_compiled_destroy(nullptr);
  flashjit_attention_destroy(att);
  flashjit_runtime_destroy(rt);
}

TEST(Api, UnknownLogLevelIsAClearError) {
  ScopedEnv level("FLASHJIT_LOG_LEVEL", "verbose");
  RuntimeOptions options;
  options.offlineTarget = "sm_90a";
  Expected<std::shared_ptr<Runtime>> runtime = Runtime::create(options);
  ASSERT_FALSE(runtime);
  EXPECT_TRUE(contains(runtime.error().message(),
                       "FLASHJIT_LOG_LEVEL must be one of trace, debug, info, "
                       "warn, error, critical, off; not 'verbose'"))
      << runtime.error().message();
}

TEST(Api, EmptyProblemsTakeTorchsStrides) {
  // torch.empty(1, 4, 0, 64) and torch.empty(1, 4, 0) as flashjit views:
  // strides (0 * 64 ...) are whatever torch chose; nothing is launched.
  Launch l(1, 4, 4, 0, 16, 64);
  l.q.strides[0] = l.q.strides[1] = 64;
  l.o.strides[0] = l.o.strides[1] = 64;
  l.lse.strides[0] = 4;
  l.lse.strides[1] = l.lse.strides[2] = l.lse.strides[3] = 1;
  l.q.data = l.o.data = l.lse.data = nullptr;
  Outcome out = run(l);
  EXPECT_EQ(out.cppForward, "");
  EXPECT_EQ(out.cForward, "");
}
