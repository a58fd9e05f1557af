//===- KernelCache.cpp - compiled kernels, in memory and on disk ----------===//

#include "runtime/cache/KernelCache.h"

#include "runtime/Logging.h"

#include "flashjit/version.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <cstdlib>
#include <cstring>
#include <elf.h>
#include <link.h>

using namespace flashjit;

namespace {
constexpr char kMagic[] = "FLASHJIT-KERNEL-1\n";
constexpr size_t kMagicSize = sizeof(kMagic) - 1;
constexpr size_t kHeaderSize = kMagicSize + 4 * sizeof(uint64_t);
constexpr const char *kSuffix = ".fjk";

void putU64(std::string &out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(char((v >> (8 * i)) & 0xff));
}
uint64_t getU64(const char *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= uint64_t(uint8_t(p[i])) << (8 * i);
  return v;
}
} // namespace

/// The GNU build ID (a hash the linker takes of the linked bytes) of the
/// binary this code is part of, libflashjit.so or an executable linking the
/// runtime statically; empty if it has none.
static std::string ownBuildId() {
  struct Search {
    uintptr_t address;
    std::string id;
  } search{reinterpret_cast<uintptr_t>(&ownBuildId), {}};
  dl_iterate_phdr(
      [](dl_phdr_info *info, size_t, void *data) -> int {
        auto *s = static_cast<Search *>(data);
        llvm::ArrayRef<ElfW(Phdr)> headers(info->dlpi_phdr, info->dlpi_phnum);
        if (llvm::none_of(headers, [&](const ElfW(Phdr) & h) {
              uintptr_t start = info->dlpi_addr + h.p_vaddr;
              return h.p_type == PT_LOAD && s->address >= start &&
                     s->address < start + h.p_memsz;
            }))
          return 0; // another object: keep looking
        for (const ElfW(Phdr) & h : headers) {
          if (h.p_type != PT_NOTE)
            continue;
          const char *p =
              reinterpret_cast<const char *>(info->dlpi_addr + h.p_vaddr);
          const char *end = p + h.p_memsz;
          while (size_t(end - p) >= sizeof(ElfW(Nhdr))) {
            auto *note = reinterpret_cast<const ElfW(Nhdr) *>(p);
            const char *name = p + sizeof(ElfW(Nhdr));
            const char *desc = name + llvm::alignTo(note->n_namesz, 4);
            if (desc > end || note->n_descsz > size_t(end - desc))
              break;
            if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 &&
                std::memcmp(name, "GNU", 4) == 0) {
              s->id = llvm::toHex(llvm::StringRef(desc, note->n_descsz),
                                  /*LowerCase=*/true);
              return 1;
            }
            p = desc + llvm::alignTo(note->n_descsz, 4);
          }
        }
        return 1;
      },
      &search);
  return search.id;
}

std::string &KernelCache::compilerVersion() {
  // The version names the entry format; the build ID makes each build of
  // the compiler its own key space, so a changed compiler never loads what
  // an older one wrote, whether or not the version was bumped.
  static std::string version = [] {
    std::string id = ownBuildId();
    return std::string("flashjit-compiler-") + FLASHJIT_VERSION_STRING +
           (id.empty() ? "" : "+" + id);
  }();
  return version;
}

std::string KernelCache::keyOf(const std::string &material) {
  std::string all = compilerVersion() + '\0' + material;
  llvm::XXH128_hash_t h = llvm::xxh3_128bits(llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(all.data()), all.size()));
  std::string hex;
  llvm::raw_string_ostream os(hex);
  os << llvm::format_hex_no_prefix(h.high64, 16)
     << llvm::format_hex_no_prefix(h.low64, 16);
  return hex;
}

std::string KernelCache::defaultDirectory() {
  if (const char *dir = std::getenv("FLASHJIT_CACHE_DIR"))
    return dir;
  // The XDG base directory rule: a relative XDG_CACHE_HOME is ignored.
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && xdg[0] == '/')
    return std::string(xdg) + "/flashjit";
  if (const char *home = std::getenv("HOME"))
    return std::string(home) + "/.cache/flashjit";
  return "";
}

std::string KernelCache::encode(const CacheEntry &e) {
  std::string payload = e.ptx + e.cubin + e.metadata;
  std::string out(kMagic, kMagicSize);
  putU64(out, e.ptx.size());
  putU64(out, e.cubin.size());
  putU64(out, e.metadata.size());
  putU64(out, llvm::xxh3_64bits(payload));
  return out + payload;
}

std::optional<CacheEntry> KernelCache::decode(const std::string &bytes) {
  if (bytes.size() < kHeaderSize ||
      std::memcmp(bytes.data(), kMagic, kMagicSize) != 0)
    return std::nullopt;
  const char *h = bytes.data() + kMagicSize;
  uint64_t sizes[3] = {getU64(h), getU64(h + 8), getU64(h + 16)};
  uint64_t checksum = getU64(h + 24);
  uint64_t total = sizes[0] + sizes[1] + sizes[2];
  // Compare without overflow: sizes come from the file.
  if (sizes[0] > bytes.size() || sizes[1] > bytes.size() ||
      sizes[2] > bytes.size() || total != bytes.size() - kHeaderSize)
    return std::nullopt;
  llvm::StringRef payload(bytes.data() + kHeaderSize, total);
  if (llvm::xxh3_64bits(payload) != checksum)
    return std::nullopt;
  CacheEntry e;
  e.ptx = payload.substr(0, sizes[0]).str();
  e.cubin = payload.substr(sizes[0], sizes[1]).str();
  e.metadata = payload.substr(sizes[0] + sizes[1], sizes[2]).str();
  return e;
}

KernelCache::KernelCache(std::string directory) : dir(std::move(directory)) {
  if (dir.empty()) {
    diskWritable = false;
    return;
  }
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    disableDisk("cannot create " + dir + ": " + ec.message());
}

bool KernelCache::writesToDisk() const {
  std::lock_guard<std::mutex> lock(mutex);
  return diskWritable;
}

void KernelCache::disableDisk(const std::string &why) {
  if (diskWritable)
    logger().warn("kernel cache: {}; caching in memory only", why);
  diskWritable = false;
}

std::optional<CacheEntry> KernelCache::readDisk(const std::string &key) {
  if (dir.empty())
    return std::nullopt;
  std::string path = dir + "/" + key + kSuffix;
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return std::nullopt;
  std::optional<CacheEntry> entry = decode((*buffer)->getBuffer().str());
  if (!entry) {
    logger().warn("kernel cache: {} is truncated or corrupt; rebuilding it",
                  path);
    llvm::sys::fs::remove(path);
  }
  return entry;
}

void KernelCache::writeDisk(const std::string &key, const CacheEntry &entry) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!diskWritable)
      return;
  }
  std::string path = dir + "/" + key + kSuffix;
  llvm::SmallString<256> temp;
  int fd;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueFile(path + ".tmp-%%%%%%%%", fd, temp)) {
    std::lock_guard<std::mutex> lock(mutex);
    disableDisk("cannot write to " + dir + ": " + ec.message());
    return;
  }
  std::string bytes = encode(entry);
  bool ok;
  std::string why;
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << bytes;
    os.flush();
    ok = !os.has_error();
    if (!ok) {
      why = os.error().message();
      os.clear_error();
    }
  }
  // Rename last: readers see the whole entry or none.
  if (ok) {
    if (std::error_code ec = llvm::sys::fs::rename(temp, path)) {
      ok = false;
      why = ec.message();
    }
  }
  if (!ok) {
    llvm::sys::fs::remove(temp);
    std::lock_guard<std::mutex> lock(mutex);
    disableDisk("cannot write " + path + ": " + why);
  }
}

Expected<KernelCache::Lookup>
KernelCache::getOrBuild(const std::string &material,
                        const std::function<Expected<CacheEntry>()> &build) {
  using Result = Expected<std::shared_ptr<const CacheEntry>>;
  std::string key = keyOf(material);
  std::shared_future<Result> future;
  std::optional<std::promise<Result>> promise;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = entries.find(key);
    if (it != entries.end()) {
      future = it->second;
    } else {
      promise.emplace();
      future = promise->get_future().share();
      entries.emplace(key, future);
    }
  }
  if (!promise) {
    // In memory, or being built by another thread: wait for it.
    const Result &result = future.get();
    if (!result)
      return result.error();
    return Lookup{*result, Source::memory};
  }

  // This call owns the key: disk, else build.
  Source source = Source::disk;
  Result result = [&]() -> Result {
    if (std::optional<CacheEntry> cached = readDisk(key))
      return std::make_shared<const CacheEntry>(std::move(*cached));
    source = Source::built;
    Expected<CacheEntry> built = build();
    if (!built)
      return built.error();
    auto entry = std::make_shared<const CacheEntry>(std::move(*built));
    writeDisk(key, *entry);
    return entry;
  }();
  promise->set_value(result);
  if (!result) {
    // Let a later call try again.
    std::lock_guard<std::mutex> lock(mutex);
    entries.erase(key);
    return result.error();
  }
  return Lookup{*result, source};
}
