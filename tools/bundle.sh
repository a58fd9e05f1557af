#!/usr/bin/env bash
# Builds the self-contained binaries the GPU machine runs (it has no LLVM):
# LLVM and MLIR linked statically, libstdc++ too, stripped, in .bundle/.
#   tools/bundle.sh              -> .bundle/{flashjit-gpu-tests,flashjit-run,libflashjit.so}.xz
#                                   and .bundle/examples/ (built against the
#                                   installed package)
#   tools/bundle.sh --with-tools -> also flashjit-ptx and flashjit (the
#                                   checkout plus all five is over the
#                                   device call's 64 MiB)
# On the device: python3 tools/unbundle.py .bundle
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUNDLE_BUILD_DIR:-$root/build-bundle}
out=$root/.bundle
"$root/tools/build.sh" deps
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DFLASHJIT_LINK_DYLIB=OFF >/dev/null
targets=(flashjit-run flashjit-gpu-tests flashjit flashjit-launch-benchmark)
binaries=(flashjit-run flashjit-gpu-tests flashjit-launch-benchmark)
if [ "${1:-}" = --with-tools ]; then
  targets+=(flashjit-ptx flashjit-main)
  binaries+=(flashjit-ptx flashjit)
fi
cmake --build "$build" -j "${JOBS:-$(nproc)}" --target "${targets[@]}"
rm -rf "$out" && mkdir -p "$out"
for b in "${binaries[@]}"; do cp "$build/bin/$b" "$out/"; done
cp -L "$build/lib/libflashjit.so" "$out/"
strip "$out"/*
# The examples as a user builds them: against the installed package.
prefix=$(mktemp -d)
cmake --install "$build" --prefix "$prefix" --component library >/dev/null
cmake -S "$root/examples" -B "$build/examples" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$build/examples" >/dev/null
mkdir -p "$out/examples"
cp "$build/examples/gemma_local" "$build/examples/export_ptx" "$out/examples/"
strip "$out"/examples/*
rm -rf "$prefix"
# Nothing from LLVM or MLIR may be left to the dynamic loader.
if ldd "$out"/*.so "$out"/flashjit* | grep -E "libLLVM|libMLIR|libstdc\+\+"; then
  echo "bundle: a binary still needs a shared LLVM, MLIR or libstdc++" >&2
  exit 1
fi
# The device call carries at most 64 MiB: ship them compressed.
xz -T0 -6 "$out"/flashjit* "$out"/*.so
# What the binaries were built from: the device's copy of .git may be older.
(cd "$root" && git rev-parse --short HEAD 2>/dev/null &&
  git diff --quiet HEAD 2>/dev/null || echo "(with uncommitted changes)") >"$out/COMMIT" || true
du -sh "$out"/*
