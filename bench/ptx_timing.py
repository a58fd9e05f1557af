#!/usr/bin/env python3
"""First look at the kernels' speed on the GPU, before the runtime exists.

Times flashjit's forward and backward PTX (launched through the driver, as
tests/gpu/ptx_forward_check.py does) next to torch SDPA's flash backend on
the same tensors, in the same process: CUDA events, warm-up, the median of
20 runs. FLOPs: 4 B H N^2 D forward (halved when causal), 2.5x that for
the backward. Usage: ptx_timing.py FWD_DIR BWD_DIR
"""
import json
import math
import os
import statistics
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "gpu"))
import ptx_forward_check as fwd  # noqa: E402


def timed(fn, runs=20):
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def main():
    fdir, bdir = sys.argv[1], sys.argv[2]
    rows = []
    for D in (64, 128):
        for N in (1024, 4096, 16384):
            B, H = 16384 // N, 2048 // D
            for variant in ("full", "causal"):
                base = f"{variant}-{D}-bf16"
                fsig = json.load(open(os.path.join(fdir, base + ".json")))["kernels"][0]
                fk = fwd.Kernel(os.path.join(fdir, base + ".ptx"), fsig)
                bsigs = {s["kind"]: s for s in json.load(open(os.path.join(bdir, base + ".json")))["kernels"]}
                bk = {k: fwd.Kernel(os.path.join(bdir, base + ".ptx"), s) for k, s in bsigs.items()}
                dt = torch.bfloat16
                q, k, v, do = (torch.randn(B, H, N, D, device="cuda", dtype=dt) for _ in range(4))
                o = torch.empty_like(q)
                lse = torch.empty(B, H, N, device="cuda")
                delta = torch.empty_like(lse)
                dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
                vals = fwd.launch_values(
                    (B, H, H, N, N), 1 / math.sqrt(D),
                    {"q": q, "k": k, "v": v, "o": o, "do": do, "dq": dq, "dk": dk, "dv": dv},
                    {}, lse=lse, delta=delta)

                def ours_fwd():
                    fk.launch(((N + fsig["block_m"] - 1) // fsig["block_m"], B * H), vals)

                def ours_bwd():
                    s = bsigs["backward_delta"]
                    bk["backward_delta"].launch(((N + s["threads"] - 1) // s["threads"], B * H), vals)
                    s = bsigs["backward_dkdv"]
                    bk["backward_dkdv"].launch((((N + s["block_n"] - 1) // s["block_n"]) * s["head_dim_split"], B * H), vals)
                    s = bsigs["backward_dq"]
                    bk["backward_dq"].launch(((N + s["block_m"] - 1) // s["block_m"], B * H), vals)

                causal = variant == "causal"
                qr, kr, vr = (t.detach().requires_grad_() for t in (q, k, v))
                with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.FLASH_ATTENTION):
                    def fa2_fwd():
                        return F.scaled_dot_product_attention(qr, kr, vr, is_causal=causal)
                    out = fa2_fwd()
                    def fa2_bwd():
                        torch.autograd.grad(out, (qr, kr, vr), do, retain_graph=True)
                    t_fa2_f, t_fa2_b = timed(fa2_fwd), timed(fa2_bwd)
                t_f, t_b = timed(ours_fwd), timed(ours_bwd)
                flops = 4 * B * H * N * N * D / (2 if causal else 1)
                tf = lambda ms, mult=1.0: flops * mult / (ms * 1e-3) / 1e12
                rows.append((D, N, variant, tf(t_f), tf(t_fa2_f), tf(t_b, 2.5), tf(t_fa2_b, 2.5), t_f, t_b))
                print(f"d={D} N={N} {variant:6s} fwd {tf(t_f):6.1f} TFLOP/s (FA2 {tf(t_fa2_f):6.1f})  "
                      f"bwd {tf(t_b, 2.5):6.1f} (FA2 {tf(t_fa2_b, 2.5):6.1f})  [{t_f:.3f} ms / {t_b:.3f} ms]",
                      flush=True)


if __name__ == "__main__":
    main()
