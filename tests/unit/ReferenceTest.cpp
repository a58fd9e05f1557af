//===- ReferenceTest.cpp - the CPU reference checks itself ----------------===//

#include "tools/reference/Reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace flashjit::reference;

namespace {

std::vector<float> randomTensor(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist;
  std::vector<float> t(n);
  for (float &x : t)
    x = round(dist(gen), InputType::bf16);
  return t;
}

TEST(Reference, PhiloxKnownAnswers) {
  // Random123's kat_vectors for philox4x32-10.
  EXPECT_EQ(philox({0, 0, 0, 0}, {0, 0}),
            (std::array<uint32_t, 4>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c,
                                     0x9b00dbd8}));
  EXPECT_EQ(philox({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
                   {0xffffffff, 0xffffffff}),
            (std::array<uint32_t, 4>{0x408f276d, 0x41c83b0e, 0xa20bc7c6,
                                     0x6d5451fd}));
  EXPECT_EQ(philox({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                   {0xa4093822, 0x299f31d0}),
            (std::array<uint32_t, 4>{0xd16cfe09, 0x94fdcceb, 0x5001e420,
                                     0x24126ea1}));
}

TEST(Reference, RoundsToTheInputType) {
  EXPECT_EQ(round(1.0f, InputType::bf16), 1.0f);
  EXPECT_EQ(round(1.00390625f, InputType::bf16), 1.0f); // ties to even
  EXPECT_EQ(round(1.01171875f, InputType::bf16), 1.015625f);
  EXPECT_EQ(round(1.0f + 1.0f / 2048, InputType::f16), 1.0f);
  EXPECT_EQ(round(65504.0f, InputType::f16), 65504.0f);
}

TEST(Reference, TwoKeysByHand) {
  auto p = *problemFor("full", 1, 1, 1, 1, 2, 32, InputType::bf16);
  std::vector<float> q(32, 0.0f), k(64, 0.0f), v(64, 0.0f);
  q[0] = 1;
  k[0] = 2;      // score 2 * scale
  k[32] = 0;     // score 0
  v[0] = 1;      // v0 = e0
  v[32 + 1] = 1; // v1 = e1
  Outputs out = forward(p, q, k, v, Precision::exact);
  double s0 = 2 * p.scale, e0 = std::exp(s0), e1 = 1.0;
  EXPECT_NEAR(out.o[0], e0 / (e0 + e1), 1e-12);
  EXPECT_NEAR(out.o[1], e1 / (e0 + e1), 1e-12);
  EXPECT_NEAR(out.lse[0], std::log(e0 + e1), 1e-12);
}

TEST(Reference, EmptyRowsGiveZeroAndMinusInfinity) {
  // Bottom-right causal with more queries than keys: the first queries see
  // no key.
  auto p =
      *problemFor("causal_bottom_right", 1, 1, 1, 5, 2, 32, InputType::bf16);
  Outputs out = forward(p, randomTensor(5 * 32, 1), randomTensor(2 * 32, 2),
                        randomTensor(2 * 32, 3), Precision::exact);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(std::isinf(out.lse[i]) && out.lse[i] < 0) << i;
    for (int d = 0; d < 32; ++d)
      EXPECT_EQ(out.o[i * 32 + d], 0.0);
  }
  EXPECT_TRUE(std::isfinite(out.lse[3]));
}

/// d(sum(O * dO)) / d(q[index]) by central differences.
double numericGradient(const Problem &p, std::vector<float> q,
                       const std::vector<float> &k, const std::vector<float> &v,
                       const std::vector<float> &dO, size_t index) {
  auto loss = [&](float delta) {
    std::vector<float> shifted = q;
    shifted[index] += delta;
    Outputs o = forward(p, shifted, k, v, Precision::exact);
    double sum = 0;
    for (size_t i = 0; i < o.o.size(); ++i)
      sum += o.o[i] * dO[i];
    return sum;
  };
  const float h = 1e-3f;
  return (loss(h) - loss(-h)) / (2 * double(h));
}

class GradientTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GradientTest, MatchesFiniteDifferences) {
  auto p = *problemFor(GetParam(), 1, 2, 1, 7, 9, 32, InputType::bf16);
  auto q = randomTensor(2 * 7 * 32, 4), k = randomTensor(9 * 32, 5),
       v = randomTensor(9 * 32, 6), dO = randomTensor(2 * 7 * 32, 7);
  Outputs g = backward(p, q, k, v, dO, Precision::exact);
  for (size_t index : {size_t(0), size_t(40), size_t(200), size_t(447)}) {
    double numeric = numericGradient(p, q, k, v, dO, index);
    EXPECT_NEAR(g.dq[index], numeric, 2e-4 + 1e-3 * std::abs(numeric))
        << GetParam() << " dq[" << index << "]";
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, GradientTest,
                         ::testing::Values("full", "causal", "alibi", "softcap",
                                           "relative_bias", "document",
                                           "sliding_window"));

TEST(Reference, LowPrecisionIsCloseButNotEqual) {
  auto p = *problemFor("causal", 1, 1, 1, 33, 33, 64, InputType::bf16);
  auto q = randomTensor(33 * 64, 8), k = randomTensor(33 * 64, 9),
       v = randomTensor(33 * 64, 10);
  Outputs exact = forward(p, q, k, v, Precision::exact);
  Outputs low = forward(p, q, k, v, Precision::lowPrecision);
  std::vector<float> lowAsFloat(low.o.begin(), low.o.end());
  Comparison c = compare(lowAsFloat, exact.o, low.o);
  EXPECT_TRUE(c.pass);
  EXPECT_GT(c.maxError, 0);
  EXPECT_LT(c.relativeError, 1e-2);
}

TEST(Reference, DropoutKeepsAboutOneMinusRate) {
  auto p = *problemFor("dropout", 1, 1, 1, 64, 256, 32, InputType::bf16);
  // With v = 1 in every row, O's first column is the dropped-and-rescaled
  // row sum of P: 1 in expectation.
  std::vector<float> q = randomTensor(64 * 32, 11), k(256 * 32, 0.0f),
                     v(256 * 32, 1.0f);
  Outputs out = forward(p, q, k, v, Precision::exact);
  double mean = 0;
  for (int i = 0; i < 64; ++i)
    mean += out.o[i * 32];
  mean /= 64;
  // P is uniform (k = 0): each row keeps Binomial(256, 0.9) of 256.
  double sigma = std::sqrt(0.9 * 0.1 / (256.0 * 64)) / 0.9;
  EXPECT_NEAR(mean, 1.0, 4 * sigma);
}

} // namespace
