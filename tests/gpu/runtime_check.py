#!/usr/bin/env python3
"""Checks the runtime end to end on a GPU through the C ABI (libflashjit.so).

For every built-in variant, head dims 64 and 128, bf16 and fp16, and the
shapes of shared/testing.md (seqlens 1, 17, 1000, 4097, seqlen_q !=
seqlen_kv, GQA, B > 1, a [B, N, H, D] layout viewed as [B, H, N, D]): the
forward and backward through flashjit_forward / flashjit_backward, compared
with the float64 reference of ptx_forward_check.py by the testing.md rule.
Outputs are filled with NaN first. Usage:
    runtime_check.py LIBFLASHJIT [--quick]
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
import flashjit  # noqa: E402
import ptx_forward_check as ref  # noqa: E402
import ptx_backward_check as bref  # noqa: E402

def run(fj, attentions, variant, dtype, B, H, Hkv, Nq, Nkv, D, std, bnhd):
    dev = "cuda"
    g = torch.Generator(device=dev).manual_seed(B * 1000 + Nq * 7 + Nkv + D)

    def make(h, n, s=1.0):
        if bnhd:  # a [B, N, H, D] layout viewed as [B, H, N, D]
            return (torch.randn(B, n, h, D, device=dev, generator=g) * s).to(dtype).transpose(1, 2)
        return (torch.randn(B, h, n, D, device=dev, generator=g) * s).to(dtype)

    q, k, v, do = make(H, Nq, std), make(Hkv, Nkv, std), make(Hkv, Nkv), make(H, Nq)
    o = torch.full((B, H, Nq, D), float("nan"), device=dev, dtype=dtype)
    lse = torch.full((B, H, Nq, 1), float("nan"), device=dev, dtype=torch.float32)
    dq, dk, dv = (torch.full(t.shape, float("nan"), device=dev, dtype=dtype) for t in (q, k, v))
    scale = 1.0 / math.sqrt(D)
    extra = ref.extras_for(variant, B, H, max(Nq, Nkv), dev)
    named = {n: val for n, val in extra.items() if n not in ("seed", "offset", "dropout_rate")}
    params = flashjit.Params(seed=extra.get("seed", 0), offset=extra.get("offset", 0), **named)
    if variant not in attentions:
        attentions[variant] = fj.builtin(variant)
    att = attentions[variant]
    att.forward(q, k, v, o, lse, params)
    att.backward(q, k, v, o, lse, do, dq, dk, dv, params)
    torch.cuda.synchronize()

    o64, lse64, olp, lselp = ref.reference(variant, q, k, v, scale, extra, dtype)
    results = {}
    lse = lse.squeeze(-1)
    results["o"] = (o, o64, olp)
    finite = torch.isfinite(lse64)
    ok = torch.equal(torch.isinf(lse), ~finite) and not torch.isnan(lse).any().item()
    msgs = []
    if finite.any():
        lerr = (lse.double() - lse64)[finite].abs().max().item()
        ltol = max(2 * (lselp.double() - lse64)[finite].abs().max().item() + 1e-5, 1e-4)
        ok &= lerr <= ltol
        msgs.append(f"lse {lerr:.1e}/{ltol:.1e}")
    g64 = bref.reference_grads(variant, q, k, v, do, scale, extra, torch.float64, dtype)
    glp = bref.reference_grads(variant, q, k, v, do, scale, extra, dtype, dtype)
    corr = bref.flash_delta_correction(variant, q, k, v, do, scale, extra, dtype)
    glp = [g.double() + c for g, c in zip(glp, corr)]
    for name, got, r64, rlp in (("o", o, o64, olp), ("dq", dq, g64[0], glp[0]),
                                ("dk", dk, g64[1], glp[1]), ("dv", dv, g64[2], glp[2])):
        nan = torch.isnan(got).any().item()
        err = (got.double() - r64).abs().max().item()
        tol = 2 * (rlp.double() - r64).abs().max().item() + 1e-5
        good = not nan and err <= tol
        ok &= good
        msgs.append(f"{name} {err:.1e}/{tol:.1e}{' NaN' if nan else ''}{'' if good else ' <--'}")
    return ok, "; ".join(msgs)


def main():
    ref.philox_known_answers()
    fj = flashjit.Runtime(sys.argv[1], cache_dir=os.environ.get("FLASHJIT_CACHE_DIR"))
    attentions = {}
    quick = "--quick" in sys.argv
    variants = ["full", "causal", "causal_bottom_right", "sliding_window", "alibi", "softcap",
                "prefix_lm", "document", "relative_bias", "dropout", "causal_window_alibi_dropout"]
    shapes = [(1, 2, 2, 1, 1, 1.0, False), (2, 4, 2, 17, 17, 1.0, True), (1, 4, 4, 1000, 1000, 10.0, False),
              (1, 2, 2, 257, 4097, 1.0, False), (2, 8, 2, 300, 200, 1.0, True), (1, 2, 1, 4097, 300, 1.0, False)]
    if quick:
        variants, shapes = variants[:2], shapes[1:2]
    failures = total = 0
    for variant in variants:
        for D in (64, 128):
            for dtype in (torch.bfloat16, torch.float16):
                for (B, H, Hkv, Nq, Nkv, std, bnhd) in shapes:
                    total += 1
                    try:
                        ok, msg = run(fj, attentions, variant, dtype, B, H, Hkv, Nq, Nkv, D, std, bnhd)
                    except flashjit.FlashjitError as e:
                        ok, msg = False, f"error: {e}"
                    failures += not ok
                    print(f"{'PASS' if ok else 'FAIL'} {variant:28s} d={D} {str(dtype)[6:]} B={B} H={H}/{Hkv} "
                          f"Nq={Nq} Nkv={Nkv} std={std}{' BNHD' if bnhd else ''}: {msg}", flush=True)
    print(f"{total - failures} of {total} pass")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
