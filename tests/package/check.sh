#!/usr/bin/env bash
# flashjit as another project gets it: installed into a fresh prefix, the
# examples built against the CMake package and run (offline where there is
# no GPU), the C example built again through pkg-config alone, and flashjit
# configured as a subproject with add_subdirectory.
#   tests/package/check.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
step() { echo "== $*"; }

step "install into $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in lib/libflashjit.so lib/libflashjit.so.0.4 include/flashjit/flashjit.h \
  include/flashjit/flashjit_c.h include/flashjit/version.h \
  lib/cmake/flashjit/flashjitConfig.cmake lib/pkgconfig/flashjit.pc; do
  [ -e "$prefix/$f" ] || { echo "missing from the install: $f" >&2; exit 1; }
done
# Only the library's own dependencies: no LLVM, no MLIR.
if ldd "$prefix/lib/libflashjit.so" | grep -E "libLLVM|libMLIR"; then
  echo "the installed libflashjit.so needs a shared LLVM or MLIR" >&2
  exit 1
fi

step "examples against the CMake package"
cmake -S "$root/examples" -B "$work/examples" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/examples" >/dev/null
"$work/examples/gemma_local"
"$work/examples/export_ptx" "$root/kernels/causal.mlir" sm_80 64 "$work/causal"
if command -v ptxas >/dev/null || [ -x /usr/local/cuda/bin/ptxas ]; then
  ptxas=$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)
  for pass in fwd bwd; do
    "$ptxas" -arch=sm_80 "$work/causal.$pass.ptx" -o /dev/null
  done
  echo "ptxas accepts the exported PTX"
fi
# The launch contract (format 2): the backward's workspace with it.
grep -q '"format": 2' "$work/causal.fwd.json"
grep -q '"name": "dq_accum"' "$work/causal.bwd.json"

step "the C example through pkg-config"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror "$root/examples/c/export_ptx.c" -o "$work/export_pc" \
  $(pkg-config --cflags --libs flashjit) -Wl,-rpath,"$prefix/lib"
"$work/export_pc" sliding_window sm_90a 128 "$work/window" >/dev/null
[ -s "$work/window.bwd.ptx" ]
[ "$(pkg-config --modversion flashjit)" = "$(grep -o '"[0-9.]*"' \
  "$prefix/include/flashjit/version.h" | tr -d '"')" ]

step "flashjit as a subproject (add_subdirectory), configured"
cmake -S "$root/tests/package/subproject" -B "$work/subproject" -G Ninja \
  -DFLASHJIT_SOURCE_DIR="$root" >"$work/subproject.log" 2>&1 ||
  { cat "$work/subproject.log"; exit 1; }
if grep -q "flashjit-unittests" "$work/subproject/build.ninja"; then
  echo "a subproject build includes flashjit's tests" >&2
  exit 1
fi
echo "package: pass"
