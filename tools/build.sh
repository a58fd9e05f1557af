#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine:
#   tools/build.sh run    install what is missing, build, run the main job
#   tools/build.sh test   install what is missing, build, run every test, then
#                         the whole CPU suite again under AddressSanitizer +
#                         UndefinedBehaviorSanitizer (leaks too) in build-asan,
#                         then each fuzz target for FUZZ_SECONDS
#   tools/build.sh fuzz   build the libFuzzer targets with clang in build-fuzz
#                         and run each for FUZZ_SECONDS (default 60)
#   tools/build.sh deps | build
# BUILD_DIR (default: build) and JOBS (default: nproc) may be set.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# ASan with MLIR uninstrumented: leaks on, manual poisoning off (sanitized()).
asan_options=detect_leaks=1:allow_user_poisoning=0
build_dir=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}

packages=(
  cmake ninja-build g++ ccache python3
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
  libspdlog-dev libgtest-dev libgmock-dev libbenchmark-dev libzstd-dev
  pkgconf clang-format
)

deps() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "== installing: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}"
}

build() {
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build_dir" -j "$jobs"
}

sanitized() {
  local dir=${ASAN_BUILD_DIR:-$root/build-asan}
  local flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
  cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" -DFLASHJIT_SANITIZED=ON >/dev/null
  cmake --build "$dir" -j "$jobs"
  # Not the tests that load libflashjit.so (a C program, Python, the
  # examples): its MLIR is not instrumented (tests/unit/CMakeLists.txt).
  # For the same reason, no manual poisoning: our instrumented copies of
  # LLVM's BumpPtrAllocator (inlined when an attribute's storage is built)
  # poison the rest of a new slab, and libMLIR's own uninstrumented copy
  # then hands out that memory without unpoisoning it.
  ASAN_OPTIONS=$asan_options UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$dir" --output-on-failure -j "$jobs" -LE '^shared-library$'
}

fuzz() {
  local missing=()
  for p in clang-22 libclang-rt-22-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}"
  fi
  local dir=${FUZZ_BUILD_DIR:-$root/build-fuzz}
  local flags="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
  cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 -DFLASHJIT_FUZZ=ON \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
  cmake --build "$dir" -j "$jobs" --target flashjit-fuzz-program flashjit-fuzz-dsl
  # libFuzzer adds what it finds to the first corpus folder: a scratch one,
  # seeded from the folders after it. Findings land in $dir/findings.
  mkdir -p "$dir/findings"
  local status=0
  for target in program dsl; do
    local seeds=$root/kernels
    [ $target = dsl ] && seeds=$root/tests/fuzz/corpus-dsl
    local work
    work=$(mktemp -d)
    echo "== flashjit-fuzz-$target for ${FUZZ_SECONDS:-60} s"
    ASAN_OPTIONS=$asan_options "$dir/bin/flashjit-fuzz-$target" -max_total_time="${FUZZ_SECONDS:-60}" \
      -timeout=60 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="$dir/findings/$target-" "$work" "$seeds" 2>&1 | tail -15 || status=1
    rm -rf "$work"
  done
  return $status
}

case "${1:-}" in
  deps) deps ;;
  build) deps && build ;;
  test)
    deps && build
    ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"
    echo "== the same suite under AddressSanitizer and UndefinedBehaviorSanitizer"
    sanitized
    echo "== fuzzing, ${FUZZ_SECONDS:-60} s per target"
    fuzz
    ;;
  fuzz)
    deps && fuzz
    ;;
  run)
    deps && build
    "$build_dir/bin/flashjit"
    ;;
  *)
    echo "usage: $0 run|test|fuzz|deps|build" >&2
    exit 2
    ;;
esac
