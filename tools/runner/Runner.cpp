//===- Runner.cpp - one variant on the GPU, checked and timed -------------===//

#include "tools/runner/Runner.h"

#include "runtime/driver/CudaContext.h"
#include "runtime/driver/CudaDriver.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>

using namespace flashjit;

namespace {

/// Device memory that frees itself.
struct DeviceBuffer {
  const CudaDriver *d = nullptr;
  CUdeviceptr ptr = 0;
  ~DeviceBuffer() {
    if (ptr)
      d->cuMemFree(ptr);
  }
};

uint16_t toBits(float x, DType type) {
  if (type == DType::f16) {
    _Float16 h = _Float16(x);
    uint16_t bits;
    std::memcpy(&bits, &h, 2);
    return bits;
  }
  float r = reference::round(x, reference::InputType::bf16);
  uint32_t bits;
  std::memcpy(&bits, &r, 4);
  return uint16_t(bits >> 16);
}

float fromBits(uint16_t bits, DType type) {
  if (type == DType::f16) {
    _Float16 h;
    std::memcpy(&h, &bits, 2);
    return float(h);
  }
  uint32_t wide = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &wide, 4);
  return f;
}

reference::InputType referenceType(DType type) {
  return type == DType::f16 ? reference::InputType::f16
                            : reference::InputType::bf16;
}

/// What a run launches and what it checks the outputs against.
struct RunPlan {
  std::optional<Program> program;
  reference::LaunchArguments arguments;
  /// Exactly one: the hand-written reference's problem of a built-in
  /// variant, or the program reference.
  std::optional<reference::Problem> problem;
  std::optional<reference::ProgramReference> programReference;

  Expected<reference::Outputs> expected(const std::vector<float> &q,
                                        const std::vector<float> &k,
                                        const std::vector<float> &v,
                                        const std::vector<float> &dO,
                                        reference::Precision precision) const {
    if (problem)
      return reference::backward(*problem, q, k, v, dO, precision);
    return programReference->backward(q, k, v, dO, precision);
  }
};

/// The arguments `program` declares, of those the built-in reference fills:
/// a program text given for a built-in may read fewer.
reference::LaunchArguments declaredOnly(reference::LaunchArguments args,
                                        const Program &program) {
  std::vector<ParamInfo> params = program.params();
  std::vector<BufferInfo> buffers = program.buffers();
  std::erase_if(args.params, [&](const auto &entry) {
    return std::none_of(params.begin(), params.end(), [&](const ParamInfo &p) {
      return p.name == entry.first;
    });
  });
  std::erase_if(args.buffers, [&](const auto &entry) {
    return std::none_of(
        buffers.begin(), buffers.end(),
        [&](const BufferInfo &b) { return b.name == entry.first; });
  });
  return args;
}

Expected<RunPlan> planBuiltinRun(const RunConfig &c) {
  if (!c.params.empty() || !c.buffers.empty())
    return Error("parameters and buffers go with RunConfig::program; the "
                 "reference of the built-in '" +
                 c.variant + "' brings its own");
  Expected<Program> program = c.programText.empty()
                                  ? builtinVariant(c.variant)
                                  : Program::parse(c.programText);
  if (!program)
    return program.error();
  Expected<reference::Problem> problem =
      reference::problemFor(c.variant, c.batch, c.headsQ, c.headsKv, c.seqlenQ,
                            c.seqlenKv, c.headDim, referenceType(c.dtype));
  if (!problem)
    return problem.error();
  RunPlan plan;
  plan.arguments =
      declaredOnly(reference::launchArgumentsFor(*problem), *program);
  plan.program = std::move(program).value();
  plan.problem = std::move(problem).value();
  return plan;
}

Expected<RunPlan> planProgramRun(const RunConfig &c) {
  reference::ProblemShape shape;
  shape.batch = c.batch;
  shape.headsQ = c.headsQ;
  shape.headsKv = c.headsKv;
  shape.seqlenQ = c.seqlenQ;
  shape.seqlenKv = c.seqlenKv;
  shape.headDim = c.headDim;
  shape.type = referenceType(c.dtype);
  shape.scale = 1.0 / std::sqrt(double(c.headDim)); // the launch's default
  RunPlan plan;
  plan.arguments = {c.params, c.buffers, c.dropoutSeed, c.dropoutOffset};
  Expected<reference::ProgramReference> checker =
      reference::ProgramReference::create(*c.program, shape, plan.arguments);
  if (!checker)
    return checker.error();
  plan.program = *c.program;
  plan.programReference = std::move(checker).value();
  return plan;
}

Expected<RunPlan> planRun(const RunConfig &c) {
  return c.program ? planProgramRun(c) : planBuiltinRun(c);
}

} // namespace

Status flashjit::validateRunConfig(const RunConfig &config) {
  Expected<RunPlan> plan = planRun(config);
  if (!plan)
    return plan.error();
  return Status();
}

Expected<RunReport> flashjit::runVariant(std::shared_ptr<Runtime> runtime,
                                         const RunConfig &c) {
  Expected<RunPlan> plan = planRun(c);
  if (!plan)
    return plan.error();
  Expected<const CudaDriver *> driverOr = CudaDriver::get();
  if (!driverOr)
    return driverOr.error();
  const CudaDriver &d = **driverOr;
  if (!runtime->hasDevice())
    return Error("the runner needs a runtime with a device");
  // The runner allocates with the Driver API, so it makes the device's
  // primary context (the one flashjit launches in) current itself.
  Expected<std::unique_ptr<PrimaryContext>> primary =
      PrimaryContext::retain(d, runtime->device());
  if (!primary)
    return primary.error();
  Expected<ScopedContext> current =
      ScopedContext::enter(d, (*primary)->context());
  if (!current)
    return current.error();
  Expected<Attention> attention = Attention::create(runtime, *plan->program);
  if (!attention)
    return attention.error();
  const reference::InputType refType = referenceType(c.dtype);

  std::mt19937 gen(1234);
  std::normal_distribution<float> normal;
  auto random = [&](size_t n, float std = 1.0f) {
    std::vector<float> t(n);
    for (float &x : t)
      x = reference::round(std * normal(gen), refType);
    return t;
  };
  size_t nq = size_t(c.batch) * c.headsQ * c.seqlenQ * c.headDim;
  size_t nkv = size_t(c.batch) * c.headsKv * c.seqlenKv * c.headDim;
  std::vector<float> q = random(nq, c.qkStd), k = random(nkv, c.qkStd),
                     v = random(nkv), dO = random(nq);

  std::vector<DeviceBuffer> buffers;
  buffers.reserve(16);
  auto alloc = [&](size_t bytes) -> Expected<CUdeviceptr> {
    buffers.push_back({&d, 0});
    if (auto e =
            d.check("cuMemAlloc", d.cuMemAlloc(&buffers.back().ptr,
                                               std::max<size_t>(bytes, 16))))
      return *e;
    return buffers.back().ptr;
  };
  auto upload = [&](const void *host, size_t bytes) -> Expected<CUdeviceptr> {
    Expected<CUdeviceptr> ptr = alloc(bytes);
    if (!ptr)
      return ptr;
    if (auto e = d.check("cuMemcpyHtoD", d.cuMemcpyHtoD(*ptr, host, bytes)))
      return *e;
    return ptr;
  };
  auto uploadInput = [&](const std::vector<float> &t) {
    std::vector<uint16_t> bits(t.size());
    for (size_t i = 0; i < t.size(); ++i)
      bits[i] = toBits(t[i], c.dtype);
    return upload(bits.data(), bits.size() * 2);
  };
  // Host tensors are [B, H, N, D]; token-major device tensors are
  // [B, N, H, D], so uploads and downloads permute.
  auto permute = [&](const std::vector<float> &t, int h, int n, bool toDevice) {
    if (!c.tokenMajor)
      return t;
    std::vector<float> out(t.size());
    int D = c.headDim;
    for (int b = 0; b < c.batch; ++b)
      for (int hh = 0; hh < h; ++hh)
        for (int i = 0; i < n; ++i)
          for (int x = 0; x < D; ++x) {
            size_t bhnd = ((size_t(b) * h + hh) * n + i) * D + x;
            size_t bnhd = ((size_t(b) * n + i) * h + hh) * D + x;
            if (toDevice)
              out[bnhd] = t[bhnd];
            else
              out[bhnd] = t[bnhd];
          }
    return out;
  };
  auto view = [&](CUdeviceptr p, int h, int n, DType type, int dim) {
    TensorView t = TensorView::contiguous(reinterpret_cast<void *>(p), type,
                                          c.batch, h, n, dim);
    if (c.tokenMajor && dim > 1) {
      t.strides[2] = int64_t(h) * dim; // next token
      t.strides[1] = dim;              // next head
      t.strides[0] = int64_t(n) * h * dim;
    }
    return t;
  };
  Expected<CUdeviceptr> dq_ =
                            uploadInput(permute(q, c.headsQ, c.seqlenQ, true)),
                        dk_ = uploadInput(
                            permute(k, c.headsKv, c.seqlenKv, true)),
                        dv_ = uploadInput(
                            permute(v, c.headsKv, c.seqlenKv, true)),
                        ddo =
                            uploadInput(permute(dO, c.headsQ, c.seqlenQ, true));
  size_t lseCount = size_t(c.batch) * c.headsQ * c.seqlenQ;
  Expected<CUdeviceptr> dout = alloc(nq * 2), dlse = alloc(lseCount * 4),
                        gq = alloc(nq * 2), gk = alloc(nkv * 2),
                        gv = alloc(nkv * 2);
  for (auto *e : {&dq_, &dk_, &dv_, &ddo, &dout, &dlse, &gq, &gk, &gv})
    if (!*e)
      return e->error();
  // NaN everywhere an output goes: an element the kernel forgets fails.
  for (auto [ptr, bytes] :
       {std::pair{*dout, nq * 2}, std::pair{*dlse, lseCount * 4},
        std::pair{*gq, nq * 2}, std::pair{*gk, nkv * 2},
        std::pair{*gv, nkv * 2}})
    d.cuMemsetD8(ptr, 0xff, bytes);

  AttentionParams params;
  params.dropoutSeed = plan->arguments.seed;
  params.dropoutOffset = plan->arguments.offset;
  params.scalars = plan->arguments.params;
  for (const auto &[name, host] : plan->arguments.buffers) {
    Expected<CUdeviceptr> ptr = std::visit(
        [&](const auto &values) {
          return upload(values.data(), values.size() * sizeof(values[0]));
        },
        host.data);
    if (!ptr)
      return ptr.error();
    BufferView b;
    b.data = reinterpret_cast<void *>(*ptr);
    b.dtype = host.type() == ScalarType::f32 ? DType::f32 : DType::i32;
    b.shape = host.shape;
    b.rowStride = host.shape.size() == 2 ? host.shape[1] : 0;
    params.buffers[name] = b;
  }

  TensorView tq = view(*dq_, c.headsQ, c.seqlenQ, c.dtype, c.headDim),
             tk = view(*dk_, c.headsKv, c.seqlenKv, c.dtype, c.headDim),
             tv = view(*dv_, c.headsKv, c.seqlenKv, c.dtype, c.headDim),
             to = view(*dout, c.headsQ, c.seqlenQ, c.dtype, c.headDim),
             tl = view(*dlse, c.headsQ, c.seqlenQ, DType::f32, 1),
             tdo = view(*ddo, c.headsQ, c.seqlenQ, c.dtype, c.headDim),
             tgq = view(*gq, c.headsQ, c.seqlenQ, c.dtype, c.headDim),
             tgk = view(*gk, c.headsKv, c.seqlenKv, c.dtype, c.headDim),
             tgv = view(*gv, c.headsKv, c.seqlenKv, c.dtype, c.headDim);

  auto timed = [&](auto launch) -> Expected<double> {
    Status s = launch(); // compiles on first use; also the warm-up
    if (!s.ok())
      return s.error();
    d.cuStreamSynchronize(static_cast<CUstream>(c.stream));
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < c.iterations; ++i)
      if (Status r = launch(); !r.ok())
        return r.error();
    if (auto e =
            d.check("cuStreamSynchronize",
                    d.cuStreamSynchronize(static_cast<CUstream>(c.stream))))
      return *e;
    std::chrono::duration<double, std::milli> ms =
        std::chrono::steady_clock::now() - start;
    return ms.count() / std::max(1, c.iterations);
  };
  RunReport report;
  Expected<double> fwd = timed(
      [&] { return attention->forward(tq, tk, tv, to, tl, params, c.stream); });
  if (!fwd)
    return fwd.error();
  report.forwardMs = *fwd;
  if (c.backward) {
    if (c.beforeBackward)
      c.beforeBackward();
    Expected<double> bwd = timed([&] {
      return attention->backward(tq, tk, tv, to, tl, tdo, tgq, tgk, tgv, params,
                                 c.stream);
    });
    if (!bwd)
      return bwd.error();
    report.backwardMs = *bwd;
  }
  double flops =
      4.0 * c.batch * c.headsQ * double(c.seqlenQ) * c.seqlenKv * c.headDim;
  report.forwardTflops = flops / (report.forwardMs * 1e-3) / 1e12;
  report.backwardTflops =
      c.backward ? 2.5 * flops / (report.backwardMs * 1e-3) / 1e12 : 0;
  report.lines.push_back("forward " + std::to_string(report.forwardMs) +
                         " ms, " + std::to_string(report.forwardTflops) +
                         " TFLOP/s (dense FLOPs)");
  if (c.backward)
    report.lines.push_back("backward " + std::to_string(report.backwardMs) +
                           " ms, " + std::to_string(report.backwardTflops) +
                           " TFLOP/s (2.5x dense FLOPs)");
  auto download = [&](CUdeviceptr ptr, size_t n, DType type) {
    std::vector<float> out(n);
    if (type == DType::f32) {
      d.cuMemcpyDtoH(out.data(), ptr, n * 4);
      return out;
    }
    std::vector<uint16_t> bits(n);
    d.cuMemcpyDtoH(bits.data(), ptr, n * 2);
    for (size_t i = 0; i < n; ++i)
      out[i] = fromBits(bits[i], type);
    return out;
  };
  if (c.keepOutputs) {
    report.o =
        permute(download(*dout, nq, c.dtype), c.headsQ, c.seqlenQ, false);
    report.lse = download(*dlse, lseCount, DType::f32);
    if (c.backward) {
      report.dq =
          permute(download(*gq, nq, c.dtype), c.headsQ, c.seqlenQ, false);
      report.dk =
          permute(download(*gk, nkv, c.dtype), c.headsKv, c.seqlenKv, false);
      report.dv =
          permute(download(*gv, nkv, c.dtype), c.headsKv, c.seqlenKv, false);
    }
  }
  if (!c.check)
    return report;
  Expected<reference::Outputs> exactOr =
      plan->expected(q, k, v, dO, reference::Precision::exact);
  if (!exactOr)
    return exactOr.error();
  Expected<reference::Outputs> lowOr =
      plan->expected(q, k, v, dO, reference::Precision::lowPrecision);
  if (!lowOr)
    return lowOr.error();
  const reference::Outputs &exact = *exactOr, &low = *lowOr;
  auto check = [&](const char *name, const std::vector<float> &got,
                   const std::vector<double> &e, const std::vector<double> &l,
                   double floor) {
    reference::Comparison cmp = reference::compare(got, e, l);
    bool pass = !cmp.sawNaN && cmp.maxError <= std::max(cmp.tolerance, floor);
    report.pass &= pass;
    report.checks[name] = cmp;
    char line[256];
    std::snprintf(line, sizeof line,
                  "%-4s %s max|err| %.2e (tolerance %.2e), relative %.1e%s",
                  name, pass ? "pass" : "FAIL", cmp.maxError,
                  std::max(cmp.tolerance, floor), cmp.relativeError,
                  cmp.sawNaN ? ", NaN left" : "");
    report.lines.push_back(line);
  };
  check("o", permute(download(*dout, nq, c.dtype), c.headsQ, c.seqlenQ, false),
        exact.o, low.o, 0);
  // exp2/lg2 approximations put ~1e-6 relative on the log-sum-exp.
  check("lse", download(*dlse, lseCount, DType::f32), exact.lse, low.lse, 1e-4);
  if (c.backward) {
    check("dq", permute(download(*gq, nq, c.dtype), c.headsQ, c.seqlenQ, false),
          exact.dq, low.dq, 0);
    check("dk",
          permute(download(*gk, nkv, c.dtype), c.headsKv, c.seqlenKv, false),
          exact.dk, low.dk, 0);
    check("dv",
          permute(download(*gv, nkv, c.dtype), c.headsKv, c.seqlenKv, false),
          exact.dv, low.dv, 0);
  }
  return report;
}
