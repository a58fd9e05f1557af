//===- KernelCacheTest.cpp - the compiled-kernel cache, without a GPU -----===//

#include "runtime/cache/KernelCache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

using namespace flashjit;
namespace fs = std::filesystem;

namespace {

class KernelCacheTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir = fs::path(::testing::TempDir()) /
          ("flashjit-cache-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  /// A build that counts its calls and returns a recognisable entry.
  std::function<Expected<CacheEntry>()> counted(const std::string &ptx) {
    return [this, ptx]() -> Expected<CacheEntry> {
      ++builds;
      return CacheEntry{ptx, "cubin-bytes", "metadata"};
    };
  }

  std::vector<fs::path> files() const {
    std::vector<fs::path> out;
    if (fs::exists(dir))
      for (const auto &e : fs::directory_iterator(dir))
        out.push_back(e.path());
    return out;
  }

  fs::path dir;
  std::atomic<int> builds{0};
};

TEST_F(KernelCacheTest, MissThenMemoryHit) {
  KernelCache cache(dir.string());
  auto first = cache.getOrBuild("program A", counted("ptx A"));
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->source, KernelCache::Source::built);
  auto second = cache.getOrBuild("program A", counted("ptx A"));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->source, KernelCache::Source::memory);
  EXPECT_EQ(second->entry.get(), first->entry.get());
  EXPECT_EQ(builds, 1);
  auto other = cache.getOrBuild("program B", counted("ptx B"));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->entry->ptx, "ptx B");
  EXPECT_EQ(builds, 2);
}

TEST_F(KernelCacheTest, NewProcessLoadsFromDisk) {
  {
    KernelCache cache(dir.string());
    ASSERT_TRUE(cache.getOrBuild("program", counted("the ptx")));
  }
  KernelCache fresh(dir.string()); // as a second process would
  auto hit = fresh.getOrBuild("program", counted("never built"));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->source, KernelCache::Source::disk);
  EXPECT_EQ(hit->entry->ptx, "the ptx");
  EXPECT_EQ(hit->entry->cubin, "cubin-bytes");
  EXPECT_EQ(hit->entry->metadata, "metadata");
  EXPECT_EQ(builds, 1);
}

TEST_F(KernelCacheTest, CorruptEntryIsRebuilt) {
  {
    KernelCache cache(dir.string());
    ASSERT_TRUE(cache.getOrBuild("program", counted("good")));
  }
  ASSERT_EQ(files().size(), 1u);
  fs::path entry = files()[0];
  {
    // Flip one byte of the payload: the checksum no longer matches.
    std::fstream f(entry, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-3, std::ios::end);
    f.put('#');
  }
  KernelCache fresh(dir.string());
  auto rebuilt = fresh.getOrBuild("program", counted("good"));
  ASSERT_TRUE(rebuilt);
  EXPECT_EQ(rebuilt->source, KernelCache::Source::built);
  EXPECT_EQ(builds, 2);
  KernelCache again(dir.string());
  auto fromDisk = again.getOrBuild("program", counted("x"));
  ASSERT_TRUE(fromDisk);
  EXPECT_EQ(fromDisk->source, KernelCache::Source::disk);
  EXPECT_EQ(fromDisk->entry->ptx, "good");
}

TEST_F(KernelCacheTest, TruncatedEntryIsRebuilt) {
  {
    KernelCache cache(dir.string());
    ASSERT_TRUE(cache.getOrBuild("program", counted("good")));
  }
  fs::resize_file(files()[0], fs::file_size(files()[0]) / 2);
  KernelCache fresh(dir.string());
  auto rebuilt = fresh.getOrBuild("program", counted("good"));
  ASSERT_TRUE(rebuilt);
  EXPECT_EQ(rebuilt->source, KernelCache::Source::built);
}

TEST_F(KernelCacheTest, DecodeRejectsDamage) {
  CacheEntry e{"ptx", "cubin", "meta"};
  std::string bytes = KernelCache::encode(e);
  ASSERT_TRUE(KernelCache::decode(bytes));
  EXPECT_FALSE(KernelCache::decode(""));
  EXPECT_FALSE(KernelCache::decode(bytes.substr(0, bytes.size() - 1)));
  EXPECT_FALSE(KernelCache::decode(bytes + "x"));
  std::string badMagic = bytes;
  badMagic[0] = 'G';
  EXPECT_FALSE(KernelCache::decode(badMagic));
  std::string hugeSize = bytes;
  hugeSize[KernelCache::encode({}).size() - 32 + 7] = char(0x7f);
  EXPECT_FALSE(KernelCache::decode(hugeSize));
}

TEST_F(KernelCacheTest, UnwritableDirectoryDegradesToMemory) {
  // Under /proc nothing can be created, even by root.
  KernelCache cache("/proc/flashjit-cache-test");
  EXPECT_FALSE(cache.writesToDisk());
  auto a = cache.getOrBuild("program", counted("ptx"));
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->source, KernelCache::Source::built);
  auto b = cache.getOrBuild("program", counted("ptx"));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->source, KernelCache::Source::memory);
  EXPECT_EQ(builds, 1);
}

TEST_F(KernelCacheTest, ConcurrentRequestsBuildOnce) {
  KernelCache cache(dir.string());
  auto slow = [this]() -> Expected<CacheEntry> {
    ++builds;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return CacheEntry{"ptx", "", ""};
  };
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      if (auto r = cache.getOrBuild("same key", slow); r && r->entry->ptx == "ptx")
        ++ok;
    });
  for (auto &t : threads)
    t.join();
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(builds, 1);
}

TEST_F(KernelCacheTest, TwoProcessesWriteTheSameKey) {
  std::vector<pid_t> children;
  for (int i = 0; i < 2; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      KernelCache cache(dir.string());
      auto r = cache.getOrBuild("shared", [] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return Expected<CacheEntry>(CacheEntry{"same ptx", "c", "m"});
      });
      _exit(r ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  // One complete entry, no temporary files left behind.
  auto entries = files();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].extension(), ".fjk");
  KernelCache reader(dir.string());
  auto r = reader.getOrBuild("shared", counted("rebuilt"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->source, KernelCache::Source::disk);
  EXPECT_EQ(r->entry->ptx, "same ptx");
}

TEST_F(KernelCacheTest, CompilerVersionIsPartOfTheKey) {
  std::string saved = KernelCache::compilerVersion();
  {
    KernelCache cache(dir.string());
    ASSERT_TRUE(cache.getOrBuild("program", counted("old")));
  }
  KernelCache::compilerVersion() = saved + "-next";
  KernelCache fresh(dir.string());
  auto r = fresh.getOrBuild("program", counted("new"));
  KernelCache::compilerVersion() = saved;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->source, KernelCache::Source::built);
  EXPECT_EQ(r->entry->ptx, "new");
}

TEST_F(KernelCacheTest, FailedBuildIsReportedAndRetried) {
  KernelCache cache(dir.string());
  auto failed = cache.getOrBuild("program", [] {
    return Expected<CacheEntry>(Error("the compiler said no"));
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message(), "the compiler said no");
  auto retried = cache.getOrBuild("program", counted("ptx"));
  ASSERT_TRUE(retried);
  EXPECT_EQ(retried->source, KernelCache::Source::built);
  EXPECT_TRUE(files().size() == 1u);
}

TEST(KernelCacheKey, DependsOnEverythingGiven) {
  EXPECT_EQ(KernelCache::keyOf("a"), KernelCache::keyOf("a"));
  EXPECT_NE(KernelCache::keyOf("a"), KernelCache::keyOf("b"));
  EXPECT_EQ(KernelCache::keyOf("a").size(), 32u);
}

} // namespace
