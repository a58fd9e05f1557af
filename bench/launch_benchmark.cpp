//===- launch_benchmark.cpp - what one forward launch costs the host ------===//
//
// The per-call cost of Attention::forward and flashjit_forward at a size
// where the kernel is short (B 1, H 8, N 128, D 64, bf16, causal), beside
// the driver calls a launch makes, each timed alone: cuCtxGetCurrent,
// cuPointerGetAttributes (the pointer checks, one per tensor) and
// cuLaunchKernel of an empty kernel with as many parameters as the real
// one. The difference is flashjit's own C++. Loops are short (200 calls)
// so that the launch queue never fills: "issue" is the host's time alone,
// "total" until the GPU finished. Needs a GPU; prints a table and writes
// JSON.
//
//   flashjit-launch-benchmark OUT.json [--calls 200] [--repeats 101]
//
//===----------------------------------------------------------------------===//

#include "flashjit/flashjit.h"
#include "flashjit/flashjit_c.h"
#include "flashjit/kernels.h"
#include "runtime/driver/CudaContext.h"
#include "runtime/driver/CudaDriver.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

using namespace flashjit;

namespace {

constexpr int64_t kBatch = 1, kHeads = 8, kSeqlen = 128, kHeadDim = 64;

struct Row {
  std::string name;
  double issueUs; ///< the calls alone
  double totalUs; ///< until the device has finished them
};

/// The median over `repeats` loops of `calls` calls: per call, the time to
/// issue them and the time until the device finished (they differ when
/// the device, not the host, is the bound).
Row time(const char *name, const std::function<void()> &call,
         const CudaDriver &d, int calls, int repeats) {
  for (int i = 0; i < calls / 10 + 10; ++i)
    call();
  d.cuStreamSynchronize(nullptr);
  std::vector<double> issue, total;
  for (int r = 0; r < repeats; ++r) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i)
      call();
    auto issued = std::chrono::steady_clock::now();
    d.cuStreamSynchronize(nullptr);
    auto done = std::chrono::steady_clock::now();
    issue.push_back(
        std::chrono::duration<double, std::micro>(issued - start).count() /
        calls);
    total.push_back(
        std::chrono::duration<double, std::micro>(done - start).count() /
        calls);
  }
  auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  return {name, median(issue), median(total)};
}

/// An empty kernel taking `params` u64 parameters, for the bare cost of
/// cuLaunchKernel.
std::string emptyKernelPtx(const std::string &target, size_t params) {
  std::string ptx = ".version 8.0\n.target " + target +
                    "\n.address_size 64\n.visible .entry empty(";
  for (size_t i = 0; i < params; ++i)
    ptx += (i ? ", " : "") + std::string(".param .u64 p") + std::to_string(i);
  return ptx + ")\n{\n  ret;\n}\n";
}

[[noreturn]] void die(const std::string &what) {
  std::fprintf(stderr, "flashjit-launch-benchmark: %s\n", what.c_str());
  std::exit(1);
}

template <typename T> T orDie(Expected<T> value) {
  if (!value)
    die(value.error().message());
  return std::move(*value);
}

void ok(const CudaDriver &d, const char *call, CUresult result) {
  if (auto e = d.check(call, result))
    die(e->message());
}

flashjit_tensor cTensor(const TensorView &t) {
  flashjit_tensor c{};
  c.data = t.data;
  c.dtype = t.dtype == DType::bf16 ? FLASHJIT_BF16 : FLASHJIT_F32;
  std::memcpy(c.shape, t.shape, sizeof c.shape);
  std::memcpy(c.strides, t.strides, sizeof c.strides);
  return c;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help")) {
    std::printf("usage: flashjit-launch-benchmark OUT.json [--calls N] "
                "[--repeats N]\n");
    return argc < 2 ? 2 : 0;
  }
  int calls = 200, repeats = 101;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--calls"))
      calls = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--repeats"))
      repeats = std::atoi(argv[i + 1]);
    else
      die(std::string("unknown option ") + argv[i]);
  }
  const CudaDriver &d = *orDie(CudaDriver::get());
  std::shared_ptr<Runtime> runtime = orDie(Runtime::create());
  auto primary = orDie(PrimaryContext::retain(d, runtime->device()));
  ok(d, "cuCtxSetCurrent", d.cuCtxSetCurrent(primary->context()));

  Attention causal =
      orDie(Attention::create(runtime, orDie(builtinVariant("causal"))));
  CompiledKernels compiled =
      orDie(causal.compile(Pass::forward, kHeadDim, DType::bf16));
  size_t elements = kBatch * kHeads * kSeqlen * kHeadDim;
  std::vector<CUdeviceptr> memory(5);
  for (size_t i = 0; i < memory.size(); ++i)
    ok(d, "cuMemAlloc",
       d.cuMemAlloc(&memory[i], i < 4 ? elements * 2 : elements));
  for (size_t i = 0; i < 4; ++i)
    ok(d, "cuMemsetD8", d.cuMemsetD8(memory[i], 0, elements * 2));
  auto view = [&](int i) {
    return TensorView::contiguous(reinterpret_cast<void *>(memory[i]),
                                  DType::bf16, kBatch, kHeads, kSeqlen,
                                  kHeadDim);
  };
  TensorView q = view(0), k = view(1), v = view(2), o = view(3);
  TensorView lse =
      TensorView::contiguous(reinterpret_cast<void *>(memory[4]), DType::f32,
                             kBatch, kHeads, kSeqlen, 1);
  flashjit_tensor cq = cTensor(q), ck = cTensor(k), cv = cTensor(v),
                  co = cTensor(o), clse = cTensor(lse);
  flashjit_runtime *cRuntime = nullptr;
  flashjit_attention *cCausal = nullptr;
  if (flashjit_runtime_create(0, nullptr, nullptr, &cRuntime) ||
      flashjit_attention_create_builtin(cRuntime, "causal", &cCausal))
    die(flashjit_last_error());

  size_t params = compiled.kernels.front().params.size();
  CUmodule module, module1;
  CUfunction empty, empty1;
  std::string ptx = emptyKernelPtx(compiled.target, params);
  ok(d, "cuModuleLoadData", d.cuModuleLoadData(&module, ptx.c_str()));
  ok(d, "cuModuleGetFunction", d.cuModuleGetFunction(&empty, module, "empty"));
  std::string ptx1 = emptyKernelPtx(compiled.target, 1);
  ok(d, "cuModuleLoadData", d.cuModuleLoadData(&module1, ptx1.c_str()));
  ok(d, "cuModuleGetFunction",
     d.cuModuleGetFunction(&empty1, module1, "empty"));
  std::vector<uint64_t> values(params, memory[0]);
  std::vector<void *> pointers;
  for (uint64_t &value : values)
    pointers.push_back(&value);

  std::vector<Row> rows;
  auto add = [&](const char *name, const std::function<void()> &call) {
    rows.push_back(time(name, call, d, calls, repeats));
  };
  add("Attention::forward (C++ API)", [&] {
    if (Status s = causal.forward(q, k, v, o, lse, {}); !s.ok())
      die(s.error().message());
  });
  add("flashjit_forward (C ABI)", [&] {
    if (flashjit_forward(cCausal, &cq, &ck, &cv, &co, &clse, nullptr, nullptr))
      die(flashjit_last_error());
  });
  add("cuLaunchKernel, empty kernel, same grid and params", [&] {
    ok(d, "cuLaunchKernel",
       d.cuLaunchKernel(empty, 1, kBatch * kHeads, 1, 128, 1, 1, 0, nullptr,
                        pointers.data(), nullptr));
  });
  size_t bufferBytes = values.size() * sizeof(uint64_t);
  void *extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, values.data(),
                   CU_LAUNCH_PARAM_BUFFER_SIZE, &bufferBytes,
                   CU_LAUNCH_PARAM_END};
  add("cuLaunchKernel, empty kernel, params as one buffer", [&] {
    ok(d, "cuLaunchKernel",
       d.cuLaunchKernel(empty, 1, kBatch * kHeads, 1, 128, 1, 1, 0, nullptr,
                        nullptr, extra));
  });
  int smem = compiled.kernels.front().sharedMemoryBytes;
  CUfunction emptyBig;
  ok(d, "cuModuleGetFunction",
     d.cuModuleGetFunction(&emptyBig, module, "empty"));
  ok(d, "cuFuncSetAttribute",
     d.cuFuncSetAttribute(
         emptyBig, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem));
  std::string bigName = "cuLaunchKernel, empty kernel, the real one's " +
                        std::to_string(smem) + " B of shared memory";
  add(bigName.c_str(), [&] {
    ok(d, "cuLaunchKernel",
       d.cuLaunchKernel(emptyBig, 1, kBatch * kHeads, 1, 128, 1, 1, smem,
                        nullptr, pointers.data(), nullptr));
  });
  add("cuLaunchKernel, empty kernel, one param", [&] {
    ok(d, "cuLaunchKernel",
       d.cuLaunchKernel(empty1, 1, kBatch * kHeads, 1, 128, 1, 1, 0, nullptr,
                        pointers.data(), nullptr));
  });
  add("cuPointerGetAttributes x 5 (3 attributes)", [&] {
    for (CUdeviceptr p : memory) {
      unsigned memoryType = 0, managed = 0;
      int device = -1;
      CUpointer_attribute attributes[] = {CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
                                          CU_POINTER_ATTRIBUTE_IS_MANAGED,
                                          CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL};
      void *out[] = {&memoryType, &managed, &device};
      ok(d, "cuPointerGetAttributes",
         d.cuPointerGetAttributes(3, attributes, out, p));
    }
  });
  add("cuCtxGetCurrent", [&] {
    CUcontext current;
    ok(d, "cuCtxGetCurrent", d.cuCtxGetCurrent(&current));
  });

  std::printf("B %lld, H %lld, N %lld, D %lld, bf16, causal, %s, %zu kernel "
              "parameters; median of %d x %d calls\n",
              (long long)kBatch, (long long)kHeads, (long long)kSeqlen,
              (long long)kHeadDim, compiled.target.c_str(), params, repeats,
              calls);
  std::printf("%-52s %10s %10s\n", "", "issue us", "total us");
  for (const Row &row : rows)
    std::printf("%-52s %10.2f %10.2f\n", row.name.c_str(), row.issueUs,
                row.totalUs);
  if (FILE *f = std::fopen(argv[1], "w")) {
    std::fprintf(f, "{\"calls\": %d, \"repeats\": %d, \"rows\": [", calls,
                 repeats);
    for (size_t i = 0; i < rows.size(); ++i)
      std::fprintf(f,
                   "%s{\"name\": \"%s\", \"issue_us\": %.3f, "
                   "\"total_us\": %.3f}",
                   i ? ", " : "", rows[i].name.c_str(), rows[i].issueUs,
                   rows[i].totalUs);
    std::fprintf(f, "]}\n");
    std::fclose(f);
  }
  flashjit_attention_destroy(cCausal);
  flashjit_runtime_destroy(cRuntime);
  d.cuModuleUnload(module);
  d.cuModuleUnload(module1);
  for (CUdeviceptr p : memory)
    d.cuMemFree(p);
  return 0;
}
