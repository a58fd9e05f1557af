#!/usr/bin/env python3
"""Per-call cost of flashjit's Python entry points at a size where the
kernel is short and the host's work shows: B 1, H 8, N 128, D 64, bf16,
causal. Rows: the plain binding's forward (torch tensors; prebuilt
TensorViews and stream), the operator's forward (flashjit.torch.attention,
without and with autograd), and SDPA's forward for scale.

Timing: CUDA-synchronised wall time of a loop of calls, divided by the
calls, the median of the repeats (warm-up first). The binding's target is
10 us a call; a benchmark asserts nothing, it reports. Writes the table as
JSON to OUT.

    bench/overhead.py OUT.json [--library PATH] [--calls 2000] [--repeats 21]
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings",
                                "python"))
import flashjit  # noqa: E402
import flashjit.torch as fjt  # noqa: E402

B, H, N, D = 1, 8, 128, 64
TARGET_US = 10.0
OP_RATIO_TARGET = 1.5  # the autograd op against SDPA's forward with autograd


def per_call_us(fn, calls, repeats):
    """The median over `repeats` of a synchronised loop of `calls` calls."""
    for _ in range(calls // 10 + 10):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(times)


def view(t):
    return flashjit.TensorView(t.data_ptr(), flashjit.BF16 if t.dtype == torch.bfloat16
                               else flashjit.F32, tuple(t.shape), t.stride())


def providers():
    """(name, callable) for each row."""
    q, k, v = (torch.randn(B, H, N, D, device="cuda", dtype=torch.bfloat16) for _ in range(3))
    o = torch.empty_like(q)
    lse = torch.empty(B, H, N, device="cuda", dtype=torch.float32)
    causal = flashjit.Runtime().builtin("causal")
    views = [view(t) for t in (q, k, v, o, lse)]
    stream = torch.cuda.current_stream().cuda_stream
    qg, kg, vg = (t.clone().requires_grad_() for t in (q, k, v))

    def operator_no_grad():
        with torch.no_grad():
            fjt.attention(q, k, v, "causal")

    def sdpa():
        with torch.no_grad():
            F.scaled_dot_product_attention(q, k, v, is_causal=True)
    return [("binding forward, torch tensors", lambda: causal.forward(q, k, v, o, lse)),
            ("binding forward, TensorViews", lambda: causal.forward(*views, stream=stream)),
            ("flashjit.torch.attention, no grad", operator_no_grad),
            ("flashjit.torch.attention, autograd", lambda: fjt.attention(qg, kg, vg, "causal")),
            ("SDPA forward, no grad", sdpa),
            ("SDPA forward, autograd",
             lambda: F.scaled_dot_product_attention(qg, kg, vg, is_causal=True))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="the JSON to write")
    ap.add_argument("--library", help="libflashjit.so (default: flashjit's search)")
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=21)
    args = ap.parse_args()
    if args.library:
        os.environ["FLASHJIT_LIBRARY"] = args.library
    rows = [{"name": name, "us_per_call": per_call_us(fn, args.calls, args.repeats)}
            for name, fn in providers()]
    print(f"B {B}, H {H}, N {N}, D {D}, bf16, causal; {torch.cuda.get_device_name()}")
    print(f"{'':36s} {'us/call':>8}")
    for row in rows:
        print(f"{row['name']:36s} {row['us_per_call']:8.2f}")
    binding = rows[0]["us_per_call"]
    print(f"binding forward: {binding:.2f} us a call, target {TARGET_US:g} us: "
          f"{'met' if binding <= TARGET_US else 'missed'}")
    by_name = {row["name"]: row["us_per_call"] for row in rows}
    ratio = by_name["flashjit.torch.attention, autograd"] / by_name["SDPA forward, autograd"]
    print(f"autograd op / SDPA with autograd: {ratio:.2f}x, target {OP_RATIO_TARGET:g}x: "
          f"{'met' if ratio <= OP_RATIO_TARGET else 'missed'}")
    with open(args.out, "w") as f:
        json.dump({"shape": {"B": B, "H": H, "N": N, "D": D, "dtype": "bf16"},
                   "device": torch.cuda.get_device_name(), "calls": args.calls,
                   "repeats": args.repeats, "target_us": TARGET_US, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
