//===- ProgramReferenceTest.cpp - the generic reference, cross-checked ----===//
//
// The program reference must agree with the hand-written one on every
// built-in variant, and with brute force written here on variants that are
// not built in (tests/variants/).
//
//===----------------------------------------------------------------------===//

#include "tools/reference/ProgramReference.h"

#include "flashjit/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>

using namespace flashjit;
using namespace flashjit::reference;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string sourcePath(const std::string &relative) {
  return std::string(FLASHJIT_KERNELS_DIR) + "/../" + relative;
}

Program loadVariant(const std::string &file) {
  Expected<Program> program =
      Program::load(sourcePath("tests/variants/" + file));
  EXPECT_TRUE(program) << program.error().message();
  return std::move(program).value();
}

/// The small odd shapes: GQA with two query heads per key head, lengths that
/// are no multiple of anything.
ProblemShape smallShape(int seqlenQ, int seqlenKv, InputType type) {
  ProblemShape s;
  s.batch = 2;
  s.headsQ = 4;
  s.headsKv = 2;
  s.seqlenQ = seqlenQ;
  s.seqlenKv = seqlenKv;
  s.headDim = 16;
  s.type = type;
  s.scale = 1.0 / std::sqrt(16.0);
  return s;
}

std::vector<float> randomTensor(size_t n, unsigned seed, InputType type) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist;
  std::vector<float> t(n);
  for (float &x : t)
    x = round(dist(gen), type);
  return t;
}

struct Inputs {
  std::vector<float> q, k, v, dO;
};

Inputs randomInputs(const ProblemShape &s, unsigned seed) {
  size_t nq = size_t(s.batch) * s.headsQ * s.seqlenQ * s.headDim;
  size_t nkv = size_t(s.batch) * s.headsKv * s.seqlenKv * s.headDim;
  return {randomTensor(nq, seed, s.type), randomTensor(nkv, seed + 1, s.type),
          randomTensor(nkv, seed + 2, s.type),
          randomTensor(nq, seed + 3, s.type)};
}

/// max |got - want| over max |want|; an infinity must match exactly.
double relativeDifference(const std::vector<double> &got,
                          const std::vector<double> &want) {
  if (got.size() != want.size())
    return kInf;
  double scale = 0, diff = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isinf(want[i]) || std::isinf(got[i])) {
      if (got[i] != want[i])
        return kInf;
      continue;
    }
    scale = std::max(scale, std::abs(want[i]));
    diff = std::max(diff, std::abs(got[i] - want[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

void expectClose(const Outputs &got, const Outputs &want, double tolerance,
                 const std::string &what) {
  EXPECT_LE(relativeDifference(got.o, want.o), tolerance) << what << " o";
  EXPECT_LE(relativeDifference(got.lse, want.lse), tolerance) << what << " lse";
  EXPECT_LE(relativeDifference(got.dq, want.dq), tolerance) << what << " dq";
  EXPECT_LE(relativeDifference(got.dk, want.dk), tolerance) << what << " dk";
  EXPECT_LE(relativeDifference(got.dv, want.dv), tolerance) << what << " dv";
}

//===----------------------------------------------------------------------===//
// Every built-in variant against the hand-written reference
//===----------------------------------------------------------------------===//

class BuiltinCrossCheck : public ::testing::TestWithParam<std::string> {};

TEST_P(BuiltinCrossCheck, AgreesWithTheHandWrittenReference) {
  Expected<Program> program = builtinVariant(GetParam());
  ASSERT_TRUE(program) << program.error().message();
  // 17 x 33 and 33 x 17: the second leaves bottom-right causal rows empty.
  for (auto [nq, nkv] : {std::pair{17, 33}, std::pair{33, 17}})
    for (InputType type : {InputType::bf16, InputType::f16}) {
      Expected<Problem> problem =
          problemFor(GetParam(), 2, 4, 2, nq, nkv, 16, type);
      ASSERT_TRUE(problem) << problem.error().message();
      // The program's rate is the f32 nearest 0.1, as the kernels use it.
      problem->dropoutRate = double(float(problem->dropoutRate));
      Expected<ProgramReference> generic = ProgramReference::create(
          *program, *problem, launchArgumentsFor(*problem));
      ASSERT_TRUE(generic) << generic.error().message();
      Inputs in = randomInputs(*problem, 100 + nq);
      for (Precision precision : {Precision::exact, Precision::lowPrecision}) {
        std::string what = GetParam() + " " + std::to_string(nq) + "x" +
                           std::to_string(nkv) +
                           (type == InputType::f16 ? " f16" : " bf16") +
                           (precision == Precision::exact ? " exact" : " low");
        // Both round the same values in the same order in low precision;
        // only the score modification's float64 operations may come in
        // another order.
        const double tolerance = 1e-9;
        Outputs hand =
            reference::forward(*problem, in.q, in.k, in.v, precision);
        Expected<Outputs> fwd = generic->forward(in.q, in.k, in.v, precision);
        ASSERT_TRUE(fwd) << fwd.error().message();
        expectClose(*fwd, hand, tolerance, what + " forward");
        hand =
            reference::backward(*problem, in.q, in.k, in.v, in.dO, precision);
        Expected<Outputs> bwd =
            generic->backward(in.q, in.k, in.v, in.dO, precision);
        ASSERT_TRUE(bwd) << bwd.error().message();
        expectClose(*bwd, hand, tolerance, what + " backward");
      }
    }
}

INSTANTIATE_TEST_SUITE_P(Builtins, BuiltinCrossCheck, ::testing::ValuesIn([] {
                           std::vector<std::string> names;
                           for (const BuiltinVariant &v : builtinVariants())
                             names.push_back(v.name);
                           return names;
                         }()),
                         [](const ::testing::TestParamInfo<std::string> &info) {
                           return info.param;
                         });

TEST(ProgramReference, EmptyRowsGiveZeroAndMinusInfinity) {
  Expected<Program> program = builtinVariant("causal_bottom_right");
  ASSERT_TRUE(program);
  ProblemShape s = smallShape(33, 17, InputType::bf16);
  Expected<ProgramReference> ref = ProgramReference::create(*program, s, {});
  ASSERT_TRUE(ref) << ref.error().message();
  Inputs in = randomInputs(s, 7);
  Expected<Outputs> out =
      ref->backward(in.q, in.k, in.v, in.dO, Precision::exact);
  ASSERT_TRUE(out) << out.error().message();
  // Queries 0..15 of every (batch, head) see no key.
  for (int bh = 0; bh < s.batch * s.headsQ; ++bh)
    for (int i = 0; i < 33; ++i) {
      double lse = out->lse[size_t(bh) * 33 + i];
      EXPECT_EQ(i < 16, lse == -kInf) << "row " << i;
      if (i < 16)
        for (int d = 0; d < s.headDim; ++d) {
          EXPECT_EQ(out->o[(size_t(bh) * 33 + i) * 16 + d], 0.0);
          EXPECT_EQ(out->dq[(size_t(bh) * 33 + i) * 16 + d], 0.0);
        }
    }
}

//===----------------------------------------------------------------------===//
// Variants that are not built in, against brute force
//===----------------------------------------------------------------------===//

/// The modified score at (b, h, i, j) given the raw score, -inf where masked.
using ScoreFn = std::function<double(int b, int h, int i, int j, double raw)>;

/// Attention written out directly in float64: O and lse.
Outputs bruteForce(const ProblemShape &s, const std::vector<double> &q,
                   const std::vector<double> &k, const std::vector<double> &v,
                   const ScoreFn &score) {
  const int D = s.headDim, group = s.headsQ / s.headsKv;
  Outputs out;
  out.o.assign(q.size(), 0.0);
  out.lse.assign(size_t(s.batch) * s.headsQ * s.seqlenQ, -kInf);
  std::vector<double> row(size_t(s.seqlenKv));
  for (int b = 0; b < s.batch; ++b)
    for (int h = 0; h < s.headsQ; ++h)
      for (int i = 0; i < s.seqlenQ; ++i) {
        size_t qi = (size_t(b) * s.headsQ + h) * s.seqlenQ + i;
        double m = -kInf;
        for (int j = 0; j < s.seqlenKv; ++j) {
          size_t kj = (size_t(b) * s.headsKv + h / group) * s.seqlenKv + j;
          double raw = 0;
          for (int d = 0; d < D; ++d)
            raw += q[qi * D + d] * k[kj * D + d];
          row[size_t(j)] = score(b, h, i, j, raw);
          m = std::max(m, row[size_t(j)]);
        }
        if (m == -kInf)
          continue;
        double l = 0;
        for (double x : row)
          l += std::exp(x - m);
        out.lse[qi] = m + std::log(l);
        for (int j = 0; j < s.seqlenKv; ++j) {
          size_t kj = (size_t(b) * s.headsKv + h / group) * s.seqlenKv + j;
          double p = std::exp(row[size_t(j)] - out.lse[qi]);
          for (int d = 0; d < D; ++d)
            out.o[qi * D + d] += p * v[kj * D + d];
        }
      }
  return out;
}

std::vector<double> widen(const std::vector<float> &t) {
  return std::vector<double>(t.begin(), t.end());
}

/// d(sum(O * dO)) / d(x[index]) of the brute force, by central differences
/// in float64; `which` is 0, 1, 2 for q, k, v.
double numericGradient(const ProblemShape &s, const Inputs &in,
                       const ScoreFn &score, int which, size_t index) {
  auto loss = [&](double delta) {
    std::vector<double> t[3] = {widen(in.q), widen(in.k), widen(in.v)};
    t[which][index] += delta;
    Outputs o = bruteForce(s, t[0], t[1], t[2], score);
    double sum = 0;
    for (size_t i = 0; i < o.o.size(); ++i)
      sum += o.o[i] * double(in.dO[i]);
    return sum;
  };
  const double h = 1e-5;
  return (loss(h) - loss(-h)) / (2 * h);
}

/// Checks the program reference against brute force: O and lse exactly, a
/// sample of dQ, dK and dV against central differences, and the low
/// precision within bf16's reach.
void checkAgainstBruteForce(const Program &program, const ProblemShape &s,
                            const LaunchArguments &args, const ScoreFn &score) {
  Expected<ProgramReference> ref = ProgramReference::create(program, s, args);
  ASSERT_TRUE(ref) << ref.error().message();
  Inputs in = randomInputs(s, 21);
  Expected<Outputs> got =
      ref->backward(in.q, in.k, in.v, in.dO, Precision::exact);
  ASSERT_TRUE(got) << got.error().message();
  Outputs want = bruteForce(s, widen(in.q), widen(in.k), widen(in.v), score);
  EXPECT_LE(relativeDifference(got->o, want.o), 1e-9);
  EXPECT_LE(relativeDifference(got->lse, want.lse), 1e-9);
  const std::vector<double> *grads[3] = {&got->dq, &got->dk, &got->dv};
  for (int which = 0; which < 3; ++which) {
    size_t n = grads[which]->size();
    for (size_t index : {size_t(0), n / 7, n / 3, n / 2 + 5, n - 1}) {
      double numeric = numericGradient(s, in, score, which, index);
      EXPECT_NEAR((*grads[which])[index], numeric,
                  1e-6 + 1e-5 * std::abs(numeric))
          << "gradient "
          << "qkv"[which] << "[" << index << "]";
    }
  }
  Expected<Outputs> low =
      ref->backward(in.q, in.k, in.v, in.dO, Precision::lowPrecision);
  ASSERT_TRUE(low) << low.error().message();
  EXPECT_LT(relativeDifference(low->o, got->o), 2e-2);
  EXPECT_LT(relativeDifference(low->dq, got->dq), 5e-2);
}

TEST(ProgramReference, Neighbourhood2dAgreesWithBruteForce) {
  Program program = loadVariant("neighbourhood_2d.mlir");
  ProblemShape s = smallShape(17, 33, InputType::bf16);
  const int width = 5, radius = 1;
  LaunchArguments args;
  args.params = {{"width", int32_t(width)}, {"radius", int32_t(radius)}};
  checkAgainstBruteForce(
      program, s, args, [&](int, int, int i, int j, double raw) {
        bool near = std::abs(i / width - j / width) <= radius &&
                    std::abs(i % width - j % width) <= radius;
        return near ? raw * s.scale : -kInf;
      });
}

TEST(ProgramReference, HeadBiasTableClampsItsIndex) {
  Program program = loadVariant("head_bias_softcap.mlir");
  ProblemShape s = smallShape(17, 33, InputType::bf16);
  const int center = 6, columns = 2 * center + 1;
  const float softcap = 3.5f;
  std::vector<float> table;
  for (int x = 0; x < s.headsQ * columns; ++x)
    table.push_back(float(std::cos(0.7 * x)));
  LaunchArguments args;
  args.params = {{"center", int32_t(center)}, {"softcap", softcap}};
  args.buffers["bias"] = {{s.headsQ, columns}, table};
  checkAgainstBruteForce(
      program, s, args, [&](int, int h, int i, int j, double raw) {
        int column = std::clamp(j - i + center, 0, columns - 1);
        double biased =
            raw * s.scale + double(table[size_t(h) * columns + column]);
        return softcap * std::tanh(biased / softcap);
      });
}

TEST(ProgramReference, LogBucketsAgreeWithBruteForce) {
  Program program = loadVariant("log_buckets.mlir");
  ProblemShape s = smallShape(17, 33, InputType::bf16);
  const int first = 6;
  std::vector<float> buckets = {0.5f,  -0.25f, 1.0f,  0.0f, -1.0f,
                                0.75f, 0.125f, -0.5f, 2.0f, 0.25f};
  LaunchArguments args;
  args.params = {{"first", int32_t(first)}};
  args.buffers["buckets"] = {{int64_t(buckets.size())}, buckets};
  checkAgainstBruteForce(
      program, s, args, [&](int, int, int i, int j, double raw) {
        if (j % 3 == 2 && i < first)
          return -kInf;
        int distance = std::abs(i - j);
        int bucket = int(std::log(double(float(distance)) + 1) * 4);
        bucket = std::clamp(bucket, 0, int(buckets.size()) - 1);
        double x = raw * s.scale;
        double modified = distance < 4 ? x : x / (1 + std::exp(-x));
        return modified + double(buckets[size_t(bucket)]);
      });
}

//===----------------------------------------------------------------------===//
// What the dialect allows evaluates; what the reference cannot is an Error
//===----------------------------------------------------------------------===//

TEST(ProgramReference, EvaluatesEveryOpOfTheDialect) {
  Expected<Program> program =
      Program::load(sourcePath("tests/lit/dialect/roundtrip.mlir"));
  ASSERT_TRUE(program) << program.error().message();
  ProblemShape s = smallShape(17, 33, InputType::f16);
  const int tokens = 33;
  LaunchArguments args;
  args.params = {{"cap", 4.0f}, {"window", int32_t(5)}};
  args.buffers["slopes"] = {{s.headsQ},
                            std::vector<float>{0.5f, 0.25f, 0.125f, 0.0625f}};
  std::vector<int32_t> docs;
  for (int t = 0; t < s.batch * tokens; ++t)
    docs.push_back(t / 10);
  args.buffers["docs"] = {{s.batch, tokens}, docs};
  args.buffers["table"] = {{s.headsQ, 9}, std::vector<float>(36, 0.25f)};
  args.buffers["fixed"] = {{s.seqlenQ, 127},
                           std::vector<float>(size_t(s.seqlenQ) * 127, -0.5f)};
  std::vector<int32_t> perKv;
  for (int j = 0; j < s.seqlenKv; ++j)
    perKv.push_back(j % 9);
  args.buffers["per_kv"] = {{s.seqlenKv}, perKv};
  args.seed = 99;
  args.offset = 3;
  Expected<ProgramReference> ref = ProgramReference::create(*program, s, args);
  ASSERT_TRUE(ref) << ref.error().message();
  Inputs in = randomInputs(s, 5);
  for (Precision precision : {Precision::exact, Precision::lowPrecision}) {
    Expected<Outputs> out = ref->backward(in.q, in.k, in.v, in.dO, precision);
    ASSERT_TRUE(out) << out.error().message();
    size_t kept = 0;
    for (double lse : out->lse)
      kept += std::isfinite(lse);
    EXPECT_GT(kept, 0u);
    for (const std::vector<double> *t : {&out->o, &out->dq, &out->dk, &out->dv})
      for (double x : *t)
        ASSERT_TRUE(std::isfinite(x));
  }
}

/// `full` with `modification` spliced in between the scaled scores %1 and
/// the softmax, which reads %s.
Expected<Program> fullWith(const std::string &modification,
                           const std::string &declarations = "") {
  return Program::parse(R"(module {
  tile.program @edited {
)" + declarations + R"(
    %q = tile.load_q : <[q, d], input>
    %k = tile.load_k : <[kv, d], input>
    %0 = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
    %scale = tile.softmax_scale : <[], f32>
    %1 = tile.mul %0, %scale : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
)" + modification + R"(
    %probs, %lse = tile.softmax %s : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %o = tile.dot %probs, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    tile.store %o, %lse : <[q, d], f32>, <[q], f32>
  }
})",
                        "edited.mlir");
}

TEST(ProgramReference, IntegerOpsAndCastsFollowC) {
  // Over negative distances: i32 division rounds toward zero, the remainder
  // takes the dividend's sign, f32 to i32 rounds toward zero, i1 casts to 0
  // or 1.
  Expected<Program> program = fullWith(R"(
    %kv_idx = tile.index kv : <[kv], i32>
    %q_idx = tile.index q : <[q], i32>
    %three = tile.constant 3 : i32
    %2 = tile.sub %kv_idx, %q_idx : <[kv], i32>, <[q], i32> -> <[q, kv], i32>
    %3 = tile.div %2, %three : <[q, kv], i32>, <[], i32> -> <[q, kv], i32>
    %4 = tile.rem %2, %three : <[q, kv], i32>, <[], i32> -> <[q, kv], i32>
    %5 = tile.cast %3 : <[q, kv], i32> -> <[q, kv], f32>
    %6 = tile.cast %4 : <[q, kv], i32> -> <[q, kv], f32>
    %c = tile.constant -7.500000e-01 : f32
    %7 = tile.mul %5, %c : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %8 = tile.cast %7 : <[q, kv], f32> -> <[q, kv], i32>
    %zero = tile.constant 0 : i32
    %9 = tile.cmp gt, %4, %zero : <[q, kv], i32>, <[], i32> -> <[q, kv], i1>
    %10 = tile.cmp lt, %3, %zero : <[q, kv], i32>, <[], i32> -> <[q, kv], i1>
    %11 = tile.xor %9, %10 : <[q, kv], i1>, <[q, kv], i1> -> <[q, kv], i1>
    %12 = tile.cast %11 : <[q, kv], i1> -> <[q, kv], i32>
    %13 = tile.mul %8, %three : <[q, kv], i32>, <[], i32> -> <[q, kv], i32>
    %14 = tile.add %13, %12 : <[q, kv], i32>, <[q, kv], i32> -> <[q, kv], i32>
    %15 = tile.cast %14 : <[q, kv], i32> -> <[q, kv], f32>
    %16 = tile.cast %9 : <[q, kv], i1> -> <[q, kv], f32>
    %tenth = tile.constant 1.000000e-01 : f32
    %17 = tile.add %15, %6 : <[q, kv], f32>, <[q, kv], f32> -> <[q, kv], f32>
    %18 = tile.add %17, %16 : <[q, kv], f32>, <[q, kv], f32> -> <[q, kv], f32>
    %19 = tile.mul %18, %tenth : <[q, kv], f32>, <[], f32> -> <[q, kv], f32>
    %s = tile.add %1, %19 : <[q, kv], f32>, <[q, kv], f32> -> <[q, kv], f32>)");
  ASSERT_TRUE(program) << program.error().message();
  ProblemShape s = smallShape(17, 33, InputType::bf16);
  Expected<ProgramReference> ref = ProgramReference::create(*program, s, {});
  ASSERT_TRUE(ref) << ref.error().message();
  Inputs in = randomInputs(s, 9);
  Expected<Outputs> got = ref->forward(in.q, in.k, in.v, Precision::exact);
  ASSERT_TRUE(got) << got.error().message();
  Outputs want = bruteForce(
      s, widen(in.q), widen(in.k), widen(in.v),
      [&](int, int, int i, int j, double raw) {
        int distance = j - i, quotient = distance / 3, remainder = distance % 3;
        int truncated = int(std::trunc(double(float(quotient)) * -0.75));
        int flag = (remainder > 0) != (quotient < 0);
        double sum =
            double(float(truncated * 3 + flag)) + remainder + (remainder > 0);
        return raw * s.scale + sum * double(0.1f);
      });
  EXPECT_LE(relativeDifference(got->o, want.o), 1e-9);
  EXPECT_LE(relativeDifference(got->lse, want.lse), 1e-9);
}

TEST(ProgramReference, IntegerDivisionByZeroIsAnError) {
  Expected<Program> program = fullWith(R"(
    %n = tile.param "n" : <[], i32>
    %kv_idx = tile.index kv : <[kv], i32>
    %2 = tile.div %kv_idx, %n : <[kv], i32>, <[], i32> -> <[kv], i32>
    %3 = tile.cast %2 : <[kv], i32> -> <[kv], f32>
    %s = tile.add %1, %3 : <[q, kv], f32>, <[kv], f32> -> <[q, kv], f32>)");
  ASSERT_TRUE(program) << program.error().message();
  ProblemShape s = smallShape(3, 5, InputType::bf16);
  LaunchArguments args;
  args.params["n"] = int32_t(0);
  Expected<ProgramReference> ref = ProgramReference::create(*program, s, args);
  ASSERT_TRUE(ref) << ref.error().message();
  Inputs in = randomInputs(s, 1);
  Expected<Outputs> out = ref->forward(in.q, in.k, in.v, Precision::exact);
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message().find("'tile.div' at edited.mlir:"),
            std::string::npos)
      << out.error().message();
  EXPECT_NE(out.error().message().find("division by zero"), std::string::npos);
}

TEST(ProgramReference, SoftmaxOfSoftmaxIsAnErrorNamingIt) {
  Expected<Program> program = fullWith(R"(
    %p0, %l0 = tile.softmax %1 : <[q, kv], f32>
    %s = tile.add %1, %p0 : <[q, kv], f32>, <[q, kv], f32> -> <[q, kv], f32>)");
  ASSERT_TRUE(program) << program.error().message();
  Expected<ProgramReference> ref =
      ProgramReference::create(*program, smallShape(3, 5, InputType::bf16), {});
  ASSERT_FALSE(ref);
  EXPECT_NE(ref.error().message().find("cannot evaluate 'tile.softmax'"),
            std::string::npos)
      << ref.error().message();
}

TEST(ProgramReference, OutputNotOfTheAttentionFormIsAnError) {
  Expected<Program> program = Program::parse(R"(module {
  tile.program @scaled_output {
    %q = tile.load_q : <[q, d], input>
    %k = tile.load_k : <[kv, d], input>
    %0 = tile.dot %q, %k transpose_rhs : <[q, d], input>, <[kv, d], input> -> <[q, kv], f32>
    %probs, %lse = tile.softmax %0 : <[q, kv], f32>
    %v = tile.load_v : <[kv, d], input>
    %1 = tile.dot %probs, %v : <[q, kv], f32>, <[kv, d], input> -> <[q, d], f32>
    %two = tile.constant 2.000000e+00 : f32
    %2 = tile.mul %1, %two : <[q, d], f32>, <[], f32> -> <[q, d], f32>
    tile.store %2, %lse : <[q, d], f32>, <[q], f32>
  }
})");
  ASSERT_TRUE(program) << program.error().message();
  Expected<ProgramReference> ref =
      ProgramReference::create(*program, smallShape(3, 5, InputType::bf16), {});
  ASSERT_FALSE(ref);
  EXPECT_NE(ref.error().message().find("O comes from 'tile.mul'"),
            std::string::npos)
      << ref.error().message();
}

TEST(ProgramReference, ArgumentsMustMatchTheDeclarations) {
  Program program = loadVariant("head_bias_softcap.mlir");
  ProblemShape s = smallShape(3, 5, InputType::bf16);
  LaunchArguments good;
  good.params = {{"center", int32_t(2)}, {"softcap", 2.0f}};
  good.buffers["bias"] = {{s.headsQ, 5}, std::vector<float>(20, 0.0f)};
  ASSERT_TRUE(ProgramReference::create(program, s, good));
  auto errorOf = [&](const LaunchArguments &args) {
    Expected<ProgramReference> ref = ProgramReference::create(program, s, args);
    return ref ? std::string("no error") : ref.error().message();
  };
  LaunchArguments missing = good;
  missing.params.erase("softcap");
  EXPECT_EQ(errorOf(missing), "program 'head_bias_softcap' needs the "
                              "parameter 'softcap' (f32)");
  LaunchArguments mistyped = good;
  mistyped.params["center"] = 2.0f;
  EXPECT_EQ(errorOf(mistyped), "parameter 'center' of program "
                               "'head_bias_softcap' is i32, got f32");
  LaunchArguments unknown = good;
  unknown.params["window"] = int32_t(3);
  EXPECT_EQ(errorOf(unknown), "'window' is not a parameter of program "
                              "'head_bias_softcap'; it declares: center, "
                              "softcap");
  LaunchArguments noBuffer = good;
  noBuffer.buffers.clear();
  EXPECT_EQ(errorOf(noBuffer),
            "program 'head_bias_softcap' needs the buffer 'bias'");
  LaunchArguments wrongHeads = good;
  wrongHeads.buffers["bias"] = {{3, 5}, std::vector<float>(15, 0.0f)};
  EXPECT_EQ(errorOf(wrongHeads), "buffer 'bias' dimension 0 ('head') has 3 "
                                 "entries, expected 4");
  LaunchArguments wrongType = good;
  wrongType.buffers["bias"] = {{s.headsQ, 5}, std::vector<int32_t>(20, 0)};
  EXPECT_EQ(errorOf(wrongType), "buffer 'bias' is i32, declared f32");
}

} // namespace
