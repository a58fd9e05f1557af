#!/usr/bin/env bash
# Fails, listing them, when C or C++ sources differ from clang-format's
# layout (.clang-format: LLVM style). The sources are the checkout's own:
# every .c, .cpp and .h outside build folders.
#   tools/check_format.sh [clang-format binary]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
format=${1:-clang-format}
cd "$root"
unformatted=()
while IFS= read -r -d '' f; do
  "$format" --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done < <(find bench bindings compiler dialects examples include kernels runtime tests tools \
  -type f \( -name '*.c' -o -name '*.cpp' -o -name '*.h' \) -print0 | sort -z)
if [ ${#unformatted[@]} -gt 0 ]; then
  echo "not clang-formatted (run: $format -i FILE):" >&2
  printf '  %s\n' "${unformatted[@]}" >&2
  exit 1
fi
echo "every C and C++ source is clang-formatted"
