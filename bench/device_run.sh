#!/usr/bin/env bash
# The one command the GPU machine runs (it builds nothing: tools/bundle.sh
# made the binaries here). Steps, all by default, or those named:
#   tests     flashjit-gpu-tests (C++ API) and tests/gpu/runtime_check.py (C ABI)
#   cache     two processes on one fresh cache: the second loads from disk
#   sanitize  compute-sanitizer memcheck and racecheck over one small
#             forward + backward of every built-in variant
#   package   the examples built against the installed package (gemma_local
#             runs and checks a DSL variant; export_ptx), flashjit-run on a
#             program file outside kernels/
#   torch     tests/gpu/torch_check.py (opcheck, torch.compile, exactness) and
#             examples/python/train.py (transformers through the hook vs SDPA)
#   overhead  bench/overhead.py: per-call cost beside SDPA's, and a profile
#   launch    flashjit-launch-benchmark: the host's cost of one launch beside
#             the driver calls it makes
#   bench     bench/side_by_side.py against SDPA flash/cuDNN, Flex, naive
#   profile   ncu over one forward + backward of flashjit and FA2 (not run
#             by default; PROFILE="provider variant d n; ..." picks them)
# Logs and results go to $OUT (the device tool brings back 8 files at most:
# gpu-tests, runtime-check, cache, sanitize, bench .txt; results.json/md/png).
#   device:  bench/device_run.sh [tests] [cache] [sanitize] [bench]
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/flashjit-out}
mkdir -p "$out"
steps=${*:-tests cache sanitize bench}
status=0
step() { echo "== $1 ($(date +%T))"; }

[ -x .bundle/flashjit-run ] || python3 tools/unbundle.py .bundle >/dev/null
# What the examples and the launch benchmark were linked against: the SONAME.
(cd .bundle && ln -sf libflashjit.so libflashjit.so.0.4)
export FLASHJIT_CACHE_DIR=${FLASHJIT_CACHE_DIR:-/tmp/flashjit-cache}
# The commit the bundle was built from (tools/bundle.sh), for the results.
export FLASHJIT_COMMIT=${FLASHJIT_COMMIT:-$(head -1 .bundle/COMMIT 2>/dev/null || echo unknown)}
echo "bundle of commit $FLASHJIT_COMMIT $(sed -n 2p .bundle/COMMIT 2>/dev/null)"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
variants=$(.bundle/flashjit list 2>/dev/null || ls kernels | sed -n 's/\.mlir$//p')

for s in $steps; do
  case $s in
  tests)
    step "flashjit-gpu-tests"
    .bundle/flashjit-gpu-tests --gtest_brief=1 >"$out/gpu-tests.txt" 2>&1 || status=1
    tail -5 "$out/gpu-tests.txt"
    step "runtime_check.py (C ABI)"
    python3 tests/gpu/runtime_check.py .bundle/libflashjit.so >"$out/runtime-check.txt" 2>&1 || status=1
    grep -E "FAIL|pass$" "$out/runtime-check.txt" | tail -20
    ;;
  cache)
    step "disk cache across processes"
    dir=$(mktemp -d)
    for run in first second; do
      echo "-- $run process"
      FLASHJIT_CACHE_DIR=$dir FLASHJIT_LOG_LEVEL=debug .bundle/flashjit-run causal --seqlen 256 \
        --iterations 3 2>&1 || status=1
    done >"$out/cache.txt"
    cat "$out/cache.txt"
    ;;
  package)
    step "examples against the installed package"
    {
      LD_LIBRARY_PATH=$PWD/.bundle .bundle/examples/gemma_local || status=1
      LD_LIBRARY_PATH=$PWD/.bundle .bundle/examples/export_ptx sliding_window sm_90a 128 \
        /tmp/flashjit-window || status=1
      echo "-- flashjit-run on tests/variants/neighbourhood_2d.mlir"
      .bundle/flashjit-run tests/variants/neighbourhood_2d.mlir --param width=5 \
        --param radius=1 --heads 4 --kv-heads 2 --seqlen 300 --iterations 3 || status=1
    } 2>&1 | tee "$out/package.txt"
    ;;
  torch)
    step "the PyTorch op"
    python3 tests/gpu/torch_check.py .bundle/libflashjit.so >"$out/torch-check.txt" 2>&1 || status=1
    grep -E "PASS|FAIL" "$out/torch-check.txt" | tail -25
    step "transformers training through the hook"
    python3 examples/python/train.py --library .bundle/libflashjit.so >"$out/train.txt" 2>&1 || status=1
    tail -8 "$out/train.txt"
    ;;
  launch)
    step "the host's cost of a launch"
    LD_LIBRARY_PATH=$PWD/.bundle .bundle/flashjit-launch-benchmark "$out/launch.json" 2>&1 |
      tee "$out/launch.txt" || status=1
    ;;
  overhead)
    step "per-call overhead"
    python3 bench/overhead.py "$out/overhead.json" --parts --library .bundle/libflashjit.so 2>&1 |
      tee "$out/overhead.txt" || status=1
    ;;
  sanitize)
    for tool in memcheck racecheck; do
      step "compute-sanitizer $tool"
      for v in $variants; do
        log=$(compute-sanitizer --tool $tool --error-exitcode 3 .bundle/flashjit-run "$v" --batch 1 \
          --heads 2 --seqlen 200 --seqlen-kv 200 --head-dim 64 --iterations 1 2>&1)
        rc=$?
        echo "$tool $v: $([ $rc = 0 ] && echo clean || echo "FAILED (exit $rc)")"
        [ $rc = 0 ] || echo "$log" | tail -40
      done
    done 2>&1 | tee "$out/sanitize.txt"
    grep -q FAILED "$out/sanitize.txt" && status=1
    ;;
  bench)
    step "side-by-side benchmark"
    python3 bench/side_by_side.py .bundle/libflashjit.so "$out" ${BENCH_ARGS:-} 2>&1 | tee "$out/bench.txt" | tail -80
    ;;
  profile)
    step "ncu"
    IFS=';' read -ra cases <<<"${PROFILE:-flashjit full 128 4096; fa2 full 128 4096}"
    for c in "${cases[@]}"; do
      read -r provider variant d n <<<"$c"
      echo "#### $provider $variant d=$d N=$n"
      ncu --clock-control none --profile-from-start off --section SpeedOfLight \
        --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis \
        --section WarpStateStats --section SchedulerStats --section Occupancy \
        --section LaunchStats --section InstructionStats \
        python3 bench/profile_one.py .bundle/libflashjit.so $provider $variant $d $n 2>&1 || status=1
    done >"$out/profile.txt"
    grep -E "^####|Duration|Compute \(SM\) Throughput|Registers Per|Achieved Occupancy" "$out/profile.txt"
    ;;
  *) echo "unknown step '$s'"; status=2 ;;
  esac
done
step "done, status $status"
exit $status
