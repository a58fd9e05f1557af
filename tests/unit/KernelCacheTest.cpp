//===- KernelCacheTest.cpp - the compiled-kernel cache, without a GPU -----===//

#include "runtime/cache/KernelCache.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <csignal>
#include <sys/resource.h>

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
      if (auto r = cache.getOrBuild("same key", slow);
          r && r->entry->ptx == "ptx")
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

// Every build of the compiler keys its own entries: the key names the
// binary's build ID, which the linker takes of the linked bytes.
TEST(KernelCacheKey, CompilerVersionNamesTheBuild) {
  const std::string &version = KernelCache::compilerVersion();
  size_t plus = version.find('+');
  ASSERT_NE(plus, std::string::npos) << version;
  std::string id = version.substr(plus + 1);
  EXPECT_GE(id.size(), 16u) << version;
  EXPECT_TRUE(llvm::all_of(id, llvm::isHexDigit)) << version;
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

/// What a build of `material` must give, large enough that truncating a
/// file cuts into the payload.
CacheEntry entryFor(const std::string &material) {
  std::string ptx = "// ptx of " + material + "\n";
  while (ptx.size() < 4096)
    ptx += material;
  return {ptx, "cubin of " + material, "metadata of " + material};
}

bool isEntryFor(const CacheEntry &e, const std::string &material) {
  CacheEntry want = entryFor(material);
  return e.ptx == want.ptx && e.cubin == want.cubin &&
         e.metadata == want.metadata;
}

TEST_F(KernelCacheTest, FullDiskDegradesToMemoryAndLeavesNoTemporaryFile) {
  // A child whose files may not exceed 1 KiB plays the full disk: the
  // write of a 4 KiB entry fails part-way (EFBIG instead of ENOSPC).
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{1024, 1024};
    setrlimit(RLIMIT_FSIZE, &limit);
    KernelCache cache(dir.string());
    auto built = cache.getOrBuild(
        "big", [] { return Expected<CacheEntry>(entryFor("big")); });
    bool ok =
        built && isEntryFor(*built->entry, "big") && !cache.writesToDisk();
    auto again = cache.getOrBuild(
        "big", [] { return Expected<CacheEntry>(Error("rebuilt")); });
    ok = ok && again && again->source == KernelCache::Source::memory;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(files().empty()) << files().size() << " files left";
}

TEST_F(KernelCacheTest, UnreadableEntryIsRebuilt) {
  // Root reads any file whatever its mode, so the entry's path is made a
  // directory instead: it can neither be read nor replaced.
  std::string key = KernelCache::keyOf("program");
  fs::create_directories(dir / (key + ".fjk"));
  KernelCache cache(dir.string());
  auto r = cache.getOrBuild("program", counted("ptx"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->source, KernelCache::Source::built);
  EXPECT_EQ(r->entry->ptx, "ptx");
  for (const fs::path &f : files())
    EXPECT_EQ(f.string().find(".tmp-"), std::string::npos) << f;
}

TEST_F(KernelCacheTest, DeletedEntryIsRebuilt) {
  {
    KernelCache cache(dir.string());
    ASSERT_TRUE(cache.getOrBuild("program", counted("ptx")));
  }
  fs::remove(files().at(0));
  KernelCache fresh(dir.string());
  auto r = fresh.getOrBuild("program", counted("ptx"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->source, KernelCache::Source::built);
  EXPECT_EQ(files().size(), 1u);
}

// 8 processes x 8 threads look up overlapping key sets in one directory
// while this process deletes, truncates and corrupts entries under them.
// Every lookup must give the right entry; afterwards no temporary file is
// left, and every entry that the vandal did not touch last is whole.
TEST_F(KernelCacheTest, ProcessesAndThreadsShareOneDirectoryUnderFaults) {
  constexpr int kProcesses = 8, kThreads = 8, kKeys = 24, kRounds = 16;
  fs::create_directories(dir);
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::atomic<int> wrong{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
          for (int round = 0; round < kRounds; ++round) {
            // A fresh cache each round, as a new process would have, so
            // that entries come from disk as well as from builds.
            KernelCache cache(dir.string());
            for (int i = 0; i < kKeys; ++i) {
              std::string material =
                  "kernel " + std::to_string((i + p * 3 + t * 5) % kKeys);
              auto r = cache.getOrBuild(material, [&] {
                return Expected<CacheEntry>(entryFor(material));
              });
              if (!r || !isEntryFor(*r->entry, material))
                ++wrong;
            }
          }
        });
      for (std::thread &t : threads)
        t.join();
      _exit(wrong == 0 ? 0 : 1);
    }
    children.push_back(pid);
  }
  // The vandal, until the children are done.
  std::mt19937 gen(7);
  int alive = kProcesses, faults = 0;
  std::vector<int> statuses;
  while (alive > 0) {
    std::vector<fs::path> entries;
    for (const fs::path &f : files())
      if (f.extension() == ".fjk")
        entries.push_back(f);
    if (!entries.empty()) {
      const fs::path &victim = entries[gen() % entries.size()];
      std::error_code ec;
      switch (gen() % 3) {
      case 0:
        fs::remove(victim, ec);
        break;
      case 1:
        fs::resize_file(victim, 100, ec);
        break;
      default: {
        std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(200);
        f.put('#');
      }
      }
      ++faults;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    int status;
    while (pid_t done = waitpid(-1, &status, WNOHANG)) {
      if (done < 0)
        break;
      statuses.push_back(status);
      --alive;
    }
  }
  ASSERT_EQ(statuses.size(), size_t(kProcesses));
  for (int status : statuses)
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_GT(faults, 0);
  for (const fs::path &f : files())
    EXPECT_EQ(f.extension(), ".fjk") << "left behind: " << f;
  // Damaged entries are found and replaced: one more pass is all right.
  KernelCache reader(dir.string());
  for (int i = 0; i < kKeys; ++i) {
    std::string material = "kernel " + std::to_string(i);
    auto r = reader.getOrBuild(
        material, [&] { return Expected<CacheEntry>(entryFor(material)); });
    ASSERT_TRUE(r);
    EXPECT_TRUE(isEntryFor(*r->entry, material)) << material;
  }
}

TEST(KernelCacheKey, DependsOnEverythingGiven) {
  EXPECT_EQ(KernelCache::keyOf("a"), KernelCache::keyOf("a"));
  EXPECT_NE(KernelCache::keyOf("a"), KernelCache::keyOf("b"));
  EXPECT_EQ(KernelCache::keyOf("a").size(), 32u);
}

} // namespace
