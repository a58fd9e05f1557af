//===- CudaDriverTest.cpp - the driver loader's failures, without a GPU ---===//

#include "runtime/driver/CudaDriver.h"

#include <gtest/gtest.h>

using namespace flashjit;

namespace {

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

TEST(CudaDriver, MissingLibraryIsAClearError) {
  Expected<const CudaDriver *> driver =
      CudaDriver::loadForTesting("libcuda-does-not-exist.so.1");
  ASSERT_FALSE(driver);
  EXPECT_TRUE(
      contains(driver.error().message(),
               "no CUDA driver: cannot load libcuda-does-not-exist.so.1"))
      << driver.error().message();
}

TEST(CudaDriver, LibraryWithoutTheEntryPointsIsAClearError) {
  Expected<const CudaDriver *> driver = CudaDriver::loadForTesting("libc.so.6");
  ASSERT_FALSE(driver);
  EXPECT_TRUE(
      contains(driver.error().message(),
               "the CUDA driver in libc.so.6 has no entry point cuInit"))
      << driver.error().message();
}

TEST(CudaDriver, GetReportsTheSameOutcomeEveryTime) {
  Expected<const CudaDriver *> first = CudaDriver::get();
  Expected<const CudaDriver *> second = CudaDriver::get();
  EXPECT_EQ(bool(first), bool(second));
  if (!first) {
    EXPECT_EQ(first.error().message(), second.error().message());
    GTEST_SKIP() << "no driver on this machine: " << first.error().message();
  }
  EXPECT_EQ(*first, *second);
  EXPECT_GT((*first)->version(), 0);
  Expected<TargetInfo> target = (*first)->queryTarget(0);
  if (target) {
    EXPECT_GE(target->computeCapability(), 80);
  }
  Expected<TargetInfo> none = (*first)->queryTarget(4096);
  ASSERT_FALSE(none);
  EXPECT_TRUE(contains(none.error().message(), "no GPU 4096"));
}

} // namespace
