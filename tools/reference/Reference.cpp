//===- Reference.cpp - attention on the CPU, in float64 -------------------===//

#include "tools/reference/Reference.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>

using namespace flashjit;
using namespace flashjit::reference;

float reference::round(float x, InputType type) {
  if (type == InputType::f16)
    return float(_Float16(x));
  // bf16: round to nearest even on the upper 16 bits.
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  if ((bits & 0x7fffffff) > 0x7f800000) // NaN stays NaN
    return x;
  bits += 0x7fff + ((bits >> 16) & 1);
  bits &= 0xffff0000u;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

std::array<uint32_t, 4> reference::philox(std::array<uint32_t, 4> c,
                                          std::array<uint32_t, 2> key) {
  for (int round = 0; round < 10; ++round) {
    if (round) {
      key[0] += 0x9E3779B9u;
      key[1] += 0xBB67AE85u;
    }
    uint64_t p0 = uint64_t(0xD2511F53u) * c[0];
    uint64_t p1 = uint64_t(0xCD9E8D57u) * c[2];
    c = {uint32_t(p1 >> 32) ^ c[1] ^ key[0], uint32_t(p1),
         uint32_t(p0 >> 32) ^ c[3] ^ key[1], uint32_t(p0)};
  }
  return c;
}

bool reference::dropoutKeeps(uint64_t seed, uint64_t offset, uint32_t bh, int q,
                             int kv, double rate) {
  auto words = philox({uint32_t(kv) >> 2, uint32_t(q),
                       bh ^ uint32_t(offset >> 32), uint32_t(offset)},
                      {uint32_t(seed), uint32_t(seed >> 32)});
  double threshold = std::floor(rate * 4294967296.0);
  threshold = std::min(threshold, 4294967295.0);
  return double(words[kv & 3]) >= threshold;
}

Expected<Problem> reference::problemFor(const std::string &variant, int batch,
                                        int headsQ, int headsKv, int seqlenQ,
                                        int seqlenKv, int headDim,
                                        InputType type) {
  Problem p;
  p.variant = variant;
  p.batch = batch;
  p.headsQ = headsQ;
  p.headsKv = headsKv;
  p.seqlenQ = seqlenQ;
  p.seqlenKv = seqlenKv;
  p.headDim = headDim;
  p.type = type;
  p.scale = 1.0 / std::sqrt(double(headDim));
  static const char *known[] = {"full",
                                "causal",
                                "causal_bottom_right",
                                "sliding_window",
                                "alibi",
                                "softcap",
                                "prefix_lm",
                                "document",
                                "relative_bias",
                                "dropout",
                                "causal_window_alibi_dropout"};
  if (std::find(std::begin(known), std::end(known), variant) == std::end(known))
    return Error("the reference knows no variant '" + variant + "'");
  if (variant == "alibi" || variant == "causal_window_alibi_dropout")
    for (int h = 0; h < headsQ; ++h)
      p.slopes.push_back(float(std::pow(2.0, -8.0 * (h + 1) / headsQ)));
  if (variant == "sliding_window")
    p.window = 45;
  if (variant == "causal_window_alibi_dropout")
    p.window = 37;
  if (variant == "prefix_lm")
    p.prefix = 23;
  if (variant == "softcap")
    p.softcap = 5.0;
  if (variant == "relative_bias") {
    p.maxDistance = 16;
    p.biasColumns = 2 * p.maxDistance + 1;
    for (int i = 0; i < headsQ * p.biasColumns; ++i)
      p.bias.push_back(float(std::sin(0.37 * i)));
  }
  if (variant == "document") {
    p.docColumns = std::max(seqlenQ, seqlenKv);
    const int lengths[] = {5, 30, 1, 70, 400};
    for (int b = 0; b < batch; ++b) {
      int doc = 0, left = lengths[0];
      for (int t = 0; t < p.docColumns; ++t) {
        while (left == 0 && doc < 4)
          left = lengths[++doc];
        p.docIds.push_back(left > 0 ? doc : 99);
        if (left > 0)
          --left;
      }
    }
  }
  if (variant == "dropout" || variant == "causal_window_alibi_dropout") {
    p.dropoutRate = 0.1;
    p.seed = 0x123456789abcULL;
    p.offset = 42;
  }
  return p;
}

LaunchArguments reference::launchArgumentsFor(const Problem &p) {
  // problemFor fills exactly the fields the variant's program reads.
  LaunchArguments args;
  args.seed = p.seed;
  args.offset = p.offset;
  if (p.window)
    args.params["window"] = int32_t(p.window);
  if (p.prefix)
    args.params["prefix"] = int32_t(p.prefix);
  if (p.maxDistance)
    args.params["max_distance"] = int32_t(p.maxDistance);
  if (p.softcap != 0)
    args.params["softcap"] = float(p.softcap);
  if (!p.slopes.empty())
    args.buffers["slopes"] = {{int64_t(p.slopes.size())}, p.slopes};
  if (!p.docIds.empty())
    args.buffers["doc_ids"] = {{p.batch, p.docColumns}, p.docIds};
  if (!p.bias.empty())
    args.buffers["bias"] = {{p.headsQ, p.biasColumns}, p.bias};
  return args;
}

namespace {

/// The variant's definitions, one element at a time.
struct Variant {
  const Problem &p;

  double modify(double raw, int b, int h, int i, int j) const {
    double s = raw * p.scale;
    const std::string &v = p.variant;
    if (v == "alibi" || v == "causal_window_alibi_dropout")
      s += double(p.slopes[h]) * double(j - i);
    else if (v == "softcap")
      s = p.softcap * std::tanh(s / p.softcap);
    else if (v == "relative_bias") {
      int r = p.maxDistance;
      int index = std::clamp(j - i, -r, r) + r;
      index = std::clamp(index, 0, p.biasColumns - 1);
      s += double(p.bias[size_t(h) * p.biasColumns + index]);
    }
    return s;
  }

  /// d(modified score) / d(raw score).
  double derivative(double raw) const {
    if (p.variant == "softcap") {
      double t = std::tanh(raw * p.scale / p.softcap);
      return p.scale * (1 - t * t);
    }
    return p.scale;
  }

  bool keep(int b, int i, int j) const {
    const std::string &v = p.variant;
    if (v == "causal")
      return j <= i;
    if (v == "causal_bottom_right")
      return j <= i + (p.seqlenKv - p.seqlenQ);
    if (v == "sliding_window" || v == "causal_window_alibi_dropout")
      return j <= i && i - j < p.window;
    if (v == "prefix_lm")
      return j <= i || j < p.prefix;
    if (v == "document") {
      auto doc = [&](int t) {
        return p.docIds[size_t(b) * p.docColumns +
                        std::clamp(t, 0, p.docColumns - 1)];
      };
      return doc(i) == doc(j);
    }
    return true;
  }

  bool dropoutKeeps(int b, int h, int i, int j) const {
    if (p.dropoutRate == 0)
      return true;
    return reference::dropoutKeeps(p.seed, p.offset, uint32_t(b * p.headsQ + h),
                                   i, j, p.dropoutRate);
  }
};

} // namespace

Outputs reference::backward(const Problem &p, const std::vector<float> &q,
                            const std::vector<float> &k,
                            const std::vector<float> &v,
                            const std::vector<float> &dO, Precision precision) {
  const bool low = precision == Precision::lowPrecision;
  const int B = p.batch, H = p.headsQ, Hkv = p.headsKv, Nq = p.seqlenQ,
            Nk = p.seqlenKv, D = p.headDim;
  const bool withGrads = !dO.empty();
  Variant var{p};
  // Low precision: values the kernels keep in the input type are rounded.
  auto rnd = [&](double x) {
    return low ? double(round(float(x), p.type)) : x;
  };
  // Low precision accumulates in f32.
  auto acc = [&](double x) { return low ? double(float(x)) : x; };
  Outputs out;
  out.o.assign(size_t(B) * H * Nq * D, 0.0);
  out.lse.assign(size_t(B) * H * Nq, 0.0);
  if (withGrads) {
    out.dq.assign(size_t(B) * H * Nq * D, 0.0);
    out.dk.assign(size_t(B) * Hkv * Nk * D, 0.0);
    out.dv.assign(size_t(B) * Hkv * Nk * D, 0.0);
  }
  const double rescale = 1.0 / (1.0 - p.dropoutRate);
  // A task is a range of query rows of one (batch, key head) over the
  // query heads of its GQA group. Tasks of one key head add into dK and dV
  // partials of their own, summed in task order afterwards: the result
  // does not depend on the number of threads.
  struct Task {
    int b, hk, rowBegin, rowEnd;
    std::vector<double> dk, dv;
  };
  auto task = [&](Task &t) {
    const int b = t.b, hk = t.hk;
    std::vector<double> raw(Nk), s(Nk), prob(Nk), dropped(Nk);
    for (int h = hk * (H / Hkv); h < (hk + 1) * (H / Hkv); ++h) {
      auto Q = [&](int i, int d) {
        return double(q[((size_t(b) * H + h) * Nq + i) * D + d]);
      };
      auto K = [&](int j, int d) {
        return double(k[((size_t(b) * Hkv + hk) * Nk + j) * D + d]);
      };
      auto V = [&](int j, int d) {
        return double(v[((size_t(b) * Hkv + hk) * Nk + j) * D + d]);
      };
      for (int i = t.rowBegin; i < t.rowEnd; ++i) {
        double m = -std::numeric_limits<double>::infinity();
        for (int j = 0; j < Nk; ++j) {
          double dot = 0;
          for (int d = 0; d < D; ++d)
            dot = acc(dot + Q(i, d) * K(j, d));
          raw[j] = dot;
          s[j] = var.keep(b, i, j) ? acc(var.modify(dot, b, h, i, j))
                                   : -std::numeric_limits<double>::infinity();
          m = std::max(m, s[j]);
        }
        size_t row = (size_t(b) * H + h) * Nq + i;
        double *o = &out.o[row * D];
        if (m == -std::numeric_limits<double>::infinity()) {
          out.lse[row] = m; // a row the mask removes: O = 0, lse = -inf
          continue;
        }
        double l = 0;
        for (int j = 0; j < Nk; ++j)
          l += std::exp(s[j] - m);
        double lse = m + std::log(l);
        out.lse[row] = lse;
        for (int j = 0; j < Nk; ++j) {
          prob[j] = std::exp(s[j] - lse);
          dropped[j] = var.dropoutKeeps(b, h, i, j) ? prob[j] * rescale : 0.0;
          double pv = rnd(dropped[j]);
          for (int d = 0; d < D; ++d)
            o[d] = acc(o[d] + pv * V(j, d));
        }
        for (int d = 0; d < D; ++d)
          o[d] = rnd(o[d]);
        if (!withGrads)
          continue;
        auto dOut = [&](int d) { return double(dO[row * D + d]); };
        double delta = 0;
        for (int d = 0; d < D; ++d)
          delta = acc(delta + dOut(d) * o[d]);
        for (int j = 0; j < Nk; ++j) {
          if (prob[j] == 0)
            continue;
          double dp = 0;
          for (int d = 0; d < D; ++d)
            dp = acc(dp + dOut(d) * V(j, d));
          if (p.dropoutRate != 0)
            dp = var.dropoutKeeps(b, h, i, j) ? dp * rescale : 0.0;
          double ds = rnd(prob[j] * (dp - delta) * var.derivative(raw[j]));
          double pd = rnd(dropped[j]);
          for (int d = 0; d < D; ++d) {
            double &dv = t.dv[size_t(j) * D + d], &dk = t.dk[size_t(j) * D + d];
            dv = acc(dv + pd * dOut(d));
            dk = acc(dk + ds * Q(i, d));
            out.dq[row * D + d] = acc(out.dq[row * D + d] + ds * K(j, d));
          }
        }
      }
    }
  };
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  // Enough row ranges to keep every core busy when B * Hkv is small.
  int chunks =
      std::clamp(int(cores) / std::max(1, B * Hkv), 1, std::max(1, Nq / 16));
  std::vector<Task> tasks;
  for (int b = 0; b < B; ++b)
    for (int hk = 0; hk < Hkv; ++hk)
      for (int c = 0; c < chunks; ++c) {
        Task t{b,
               hk,
               int(int64_t(Nq) * c / chunks),
               int(int64_t(Nq) * (c + 1) / chunks),
               {},
               {}};
        if (withGrads) {
          t.dk.assign(size_t(Nk) * D, 0.0);
          t.dv.assign(size_t(Nk) * D, 0.0);
        }
        tasks.push_back(std::move(t));
      }
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < tasks.size();)
      task(tasks[i]);
  };
  unsigned n = std::min<unsigned>(cores, unsigned(tasks.size()));
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < n; ++i)
    threads.emplace_back(worker);
  worker();
  for (std::thread &t : threads)
    t.join();
  if (withGrads)
    for (const Task &t : tasks) {
      size_t base = (size_t(t.b) * Hkv + t.hk) * Nk * D;
      for (size_t x = 0; x < t.dk.size(); ++x) {
        out.dk[base + x] = acc(out.dk[base + x] + t.dk[x]);
        out.dv[base + x] = acc(out.dv[base + x] + t.dv[x]);
      }
    }
  if (withGrads && low)
    for (std::vector<double> *g : {&out.dq, &out.dk, &out.dv})
      for (double &x : *g)
        x = rnd(x);
  return out;
}

Outputs reference::forward(const Problem &p, const std::vector<float> &q,
                           const std::vector<float> &k,
                           const std::vector<float> &v, Precision precision) {
  return backward(p, q, k, v, {}, precision);
}

Comparison reference::compare(const std::vector<float> &got,
                              const std::vector<double> &exact,
                              const std::vector<double> &low) {
  Comparison c{true, 0, 0, 0, false};
  double lowError = 0, diff2 = 0, ref2 = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double e = exact[i];
    if (std::isnan(got[i])) {
      c.sawNaN = true;
      continue;
    }
    if (std::isinf(e) || std::isinf(got[i])) {
      // -inf log-sum-exp of empty rows must match exactly.
      if (double(got[i]) != e)
        c.maxError = std::numeric_limits<double>::infinity();
      continue;
    }
    c.maxError = std::max(c.maxError, std::abs(got[i] - e));
    lowError = std::max(lowError, std::abs(low[i] - e));
    diff2 += (got[i] - e) * (got[i] - e);
    ref2 += e * e;
  }
  c.tolerance = 2 * lowError + 1e-5;
  c.relativeError = ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2);
  c.pass = !c.sawNaN && c.maxError <= c.tolerance;
  return c;
}
