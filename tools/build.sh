#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine:
#   tools/build.sh run    install what is missing, build, run the main job
#   tools/build.sh test   install what is missing, build, run every test, then
#                         the whole CPU suite again under AddressSanitizer +
#                         UndefinedBehaviorSanitizer (leaks too) in build-asan
#   tools/build.sh deps | build
# BUILD_DIR (default: build) and JOBS (default: nproc) may be set.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}

packages=(
  cmake ninja-build g++ ccache python3
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
  libspdlog-dev libgtest-dev libgmock-dev libbenchmark-dev libzstd-dev
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
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
  cmake --build "$dir" -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$dir" --output-on-failure -j "$jobs"
}

case "${1:-}" in
  deps) deps ;;
  build) deps && build ;;
  test)
    deps && build
    ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"
    echo "== the same suite under AddressSanitizer and UndefinedBehaviorSanitizer"
    sanitized
    ;;
  run)
    deps && build
    "$build_dir/bin/flashjit"
    ;;
  *)
    echo "usage: $0 run|test|deps|build" >&2
    exit 2
    ;;
esac
