//===- KernelCache.h - compiled kernels, in memory and on disk --*- C++ -*-===//
//
// A compiled pass (PTX, the cubin the driver made from it, and the kernels'
// launch metadata) is cached under a key that hashes everything the result
// depends on: the program text, the options, the target and the compiler's
// own version. In memory a second lookup costs a hash-map probe; on disk,
// under $FLASHJIT_CACHE_DIR (default ~/.cache/flashjit), an entry is written
// to a temporary file and renamed into place, so processes can share the
// directory and a reader never sees half an entry. Each entry carries a
// checksum: a truncated or corrupt one is logged, removed and rebuilt. A
// directory that cannot be written (read-only, full) degrades the cache to
// memory only, with one warning. Concurrent requests for one key build it
// once.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHJIT_RUNTIME_CACHE_KERNELCACHE_H
#define FLASHJIT_RUNTIME_CACHE_KERNELCACHE_H

#include "flashjit/status.h"

#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace flashjit {

struct CacheEntry {
  std::string ptx;
  std::string cubin;    ///< empty where no driver made one
  std::string metadata; ///< the kernels' signatures, serialised
};

class KernelCache {
public:
  /// `directory` empty: memory only.
  explicit KernelCache(std::string directory);

  enum class Source { memory, disk, built };
  struct Lookup {
    std::shared_ptr<const CacheEntry> entry;
    Source source;
  };

  /// The entry for `keyMaterial`, from memory, then disk, else from
  /// `build` (called once however many threads ask at the same time).
  Expected<Lookup>
  getOrBuild(const std::string &keyMaterial,
             const std::function<Expected<CacheEntry>()> &build);

  /// The file name an entry is stored under: a 128-bit hash of the
  /// compiler version and `keyMaterial`.
  static std::string keyOf(const std::string &keyMaterial);
  /// $FLASHJIT_CACHE_DIR, else $XDG_CACHE_HOME/flashjit (an absolute
  /// one), else $HOME/.cache/flashjit, else none (memory only).
  static std::string defaultDirectory();
  /// What keys include besides the caller's material: the entry format's
  /// version and the build ID of the binary the compiler is linked into.
  /// Tests may replace it to play a compiler upgrade.
  static std::string &compilerVersion();

  bool writesToDisk() const;
  const std::string &directory() const { return dir; }

  /// Serialisation of an entry, exposed for tests of the format.
  static std::string encode(const CacheEntry &entry);
  static std::optional<CacheEntry> decode(const std::string &bytes);

private:
  std::optional<CacheEntry> readDisk(const std::string &key);
  void writeDisk(const std::string &key, const CacheEntry &entry);
  void disableDisk(const std::string &why);

  std::string dir;
  mutable std::mutex mutex;
  bool diskWritable = true;
  std::unordered_map<
      std::string,
      std::shared_future<Expected<std::shared_ptr<const CacheEntry>>>>
      entries;
};

} // namespace flashjit

#endif // FLASHJIT_RUNTIME_CACHE_KERNELCACHE_H
