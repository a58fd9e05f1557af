#!/usr/bin/env python3
"""Walks the PTX matrix of the built-in variants; see ptx-matrix.test.

With --manifest, also compares each PTX's SHA-256 with the manifest's
(the generated code a refactor must keep byte for byte); --write-manifest
writes the manifest from this build instead:

    python3 tests/lit/compiler/ptx_matrix.py --kernels kernels \
        --flashjit-ptx build/bin/flashjit-ptx --ptxas ptxas --work /tmp/ptx \
        --manifest tests/lit/compiler/ptx-manifest.txt --write-manifest
"""
import argparse
import concurrent.futures
import hashlib
import os
import re
import subprocess
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--kernels", required=True)
parser.add_argument("--flashjit-ptx", required=True)
parser.add_argument("--ptxas", required=True)
parser.add_argument("--work", required=True)
parser.add_argument("--manifest", help="variant target pass head-dim dtype sha256, a line each")
parser.add_argument("--write-manifest", action="store_true",
                    help="write --manifest from this build instead of comparing")
args = parser.parse_args()
os.makedirs(args.work, exist_ok=True)

variants = sorted(f[:-5] for f in os.listdir(args.kernels) if f.endswith(".mlir"))
# The backward twice: its default (dQ by atomics inside dK/dV) and its
# deterministic kernels.
cases = [(v, t, p, d, dt) for v in variants for t in ("sm_80", "sm_90a")
         for p in ("fwd", "bwd", "bwd-deterministic") for d in (64, 128)
         for dt in ("fp16", "bf16")]


hashes = {}  # case -> the SHA-256 of its PTX


def check(case):
    v, t, p, d, dt = case
    ptx = os.path.join(args.work, f"{v}-{t}-{p}-{d}-{dt}.ptx")
    deterministic = ["--deterministic"] if p == "bwd-deterministic" else []
    run = subprocess.run([args.flashjit_ptx, v, f"--target={t}", f"--pass={p[:3]}",
                          f"--head-dim={d}", f"--dtype={dt}", "--print-schedule", "-o", ptx]
                         + deterministic, capture_output=True, text=True)
    if run.returncode != 0:
        return f"{case}: flashjit-ptx failed: {run.stderr.strip()}"
    for line in run.stderr.splitlines():
        smem, limit = re.search(r"smem=(\d+).*allows (\d+) bytes", line).groups()
        if int(smem) > int(limit):
            return f"{case}: schedule needs {smem} bytes of {limit}: {line}"
    text = open(ptx).read()
    hashes[case] = hashlib.sha256(text.encode()).hexdigest()
    # The forward on sm_90a multiplies with warpgroup MMAs (the schedule
    # says "wgmma"), elsewhere with mma.sync.
    product = ("wgmma.mma_async" if " wgmma " in run.stderr
               else "mma.sync.aligned.m16n8k16")
    if p == "fwd" and product not in text:
        return f"{case}: no {product} in the PTX"
    if p == "fwd" and t == "sm_90a" and d in (64, 128) and product != "wgmma.mma_async":
        return f"{case}: the sm_90a forward does not use the warpgroup MMA"
    if p != "fwd" and text.count("mma.sync.aligned.m16n8k16") == 0:
        return f"{case}: no mma.sync in the backward PTX"
    asm = subprocess.run([args.ptxas, f"-arch={t}", "-v", ptx, "-o", os.devnull],
                         capture_output=True, text=True)
    if asm.returncode != 0:
        return f"{case}: ptxas rejected the PTX: {asm.stderr.strip()[:500]}"
    # ptxas serialises warpgroup MMAs whose registers it cannot prove
    # untouched in flight, and says so: that would be a silent slowdown.
    if "Performance Loss" in asm.stderr or "serialized" in asm.stderr:
        return f"{case}: ptxas serialised the warpgroup MMAs: {asm.stderr.strip()[:500]}"
    spills = [int(n) for n in re.findall(r"(\d+) bytes spill stores", asm.stderr)]
    registers = [int(n) for n in re.findall(r"Used (\d+) registers", asm.stderr)]
    # Two row tiles per warp run at the register limit: a small spill there
    # was measured to cost less than the tiling gains (bench/NOTES.md).
    # Elsewhere at most 16 bytes (four registers): ptxas trades that much
    # for one more thread block per SM (stopping at 168 registers for three
    # of 128 threads), and the dK/dV kernels at 255 registers tip over by a
    # register or two with any change of instruction order.
    two_tiles = "tiles/warp=2" in run.stderr
    # sm_90a's dK/dV of 64 x 128 spills 36-48 bytes at d 128, measured as
    # still 11-14% ahead of the 32 x 128 that does not (bench/NOTES.md).
    wide_backward = re.search(r"dkdv\S* d=128 BLOCK_M=64 BLOCK_N=128 .*wgmma", run.stderr)
    # The deterministic backward of the combined variant (window, ALiBi,
    # dropout) holds its loop's kept block range (KeptBlockRange.h) in
    # registers a parameter-derived bound did not need: 20 bytes at sm_80's
    # 168-register cap (dQ), 36 at 255 on sm_90a (dK/dV at d 128).
    deterministic = p == "bwd-deterministic"
    if not spills or len(spills) != len(registers):
        return f"{case}: no ptxas report: {asm.stderr.strip()[:500]}"
    for n, regs in zip(spills, registers):
        allowed = 160 if two_tiles else 64 if wide_backward else 40 if deterministic else 16
        if n > allowed:
            return f"{case}: spills {spills} at {registers} registers: {asm.stderr.strip()[:500]}"
    os.remove(ptx)
    return None


def key(case):
    v, t, p, d, dt = case
    return f"{v} {t} {p} {d} {dt}"


def compare_with_manifest():
    """The cases whose PTX differs from the manifest's, or is missing from
    it, and the manifest's cases this matrix no longer has."""
    with open(args.manifest) as f:
        expected = dict(line.rsplit(" ", 1) for line in f.read().splitlines()
                        if line and not line.startswith("#"))
    differ = [f"{key(c)}: PTX differs from the manifest" for c in cases
              if c in hashes and expected.get(key(c)) not in (None, hashes[c])]
    missing = [f"{key(c)}: not in the manifest" for c in cases if key(c) not in expected]
    gone = [f"{k}: in the manifest, not in the matrix" for k in expected
            if k not in {key(c) for c in cases}]
    return differ + missing + gone


def write_manifest():
    with open(args.manifest, "w") as f:
        f.write("# SHA-256 of the PTX of every built-in x target x pass x head dim x dtype\n"
                "# (tests/lit/compiler/ptx_matrix.py --write-manifest). A change of the\n"
                "# generated code updates it in the same commit and says why.\n")
        for c in cases:
            f.write(f"{key(c)} {hashes[c]}\n")


with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
    failures = [f for f in pool.map(check, cases) if f]
print(f"{len(cases) - len(failures)} of {len(cases)} combinations assemble within their spill budget")
if args.manifest and args.write_manifest:
    if len(hashes) != len(cases):
        failures.append("not every case compiled: the manifest is not written")
    else:
        write_manifest()
        print(f"wrote {len(cases)} hashes to {args.manifest}")
elif args.manifest:
    mismatches = compare_with_manifest()
    failures += mismatches
    unlike = sum(1 for m in mismatches if not m.endswith("not in the matrix"))
    print(f"{len(cases) - unlike} of {len(cases)} PTX files are the manifest's, byte for byte")
for f in failures:
    print(f)
sys.exit(1 if failures else 0)
