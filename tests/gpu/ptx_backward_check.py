#!/usr/bin/env python3
"""Checks flashjit's backward PTX on a GPU before the C++ runtime exists.

For each <variant>-<d>-<dtype> it runs the forward kernel (for O and the
log-sum-exp), then the backward's kernels (backward_delta, then either
backward_dkdvdq with dQ summed in an f32 workspace and backward_dq_convert,
or, from flashjit-ptx --deterministic, backward_dkdv and backward_dq), and
compares dQ, dK and dV with autograd through the float64 reference of
ptx_forward_check.py, by the rule FlashAttention's tests use:
    max|grad - ref64| <= 2 * max|grad_lowp - ref64| + 1e-5
with grad_lowp from the same reference run in the input dtype. Usage:
    ptx_backward_check.py FWD_DIR BWD_DIR
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import ptx_forward_check as fwd  # noqa: E402


def reference_grads(variant, q, k, v, do, scale, extra, prec, dtype):
    """dQ, dK, dV by autograd through the reference run in `prec`: float64,
    or the input dtype for the low-precision implementation the tolerance is
    measured against."""
    qq, kk, vv = (t.detach().to(prec).requires_grad_() for t in (q, k, v))
    o, _, _, _ = fwd.reference(variant, qq, kk, vv, scale, extra, dtype, prec=prec)
    o.backward(do.to(prec))
    return qq.grad, kk.grad, vv.grad


def flash_delta_correction(variant, q, k, v, do, scale, extra, dtype):
    """What FlashAttention's delta adds to the low-precision gradients.

    FlashAttention takes delta = rowsum(dO * O) from O as stored (from
    rounded P, rounded to the input dtype), where exact arithmetic has
    rowsum(P * dP). The difference eps_i = rowsum(dO * (O_stored - O))
    shifts dS by -eps_i P_ij,
    which is the gradient of -sum_i eps_i lse_i: evaluated here in float64.
    Where the exact gradient is 0 (one key) this is all the error there is.
    """
    qq, kk, vv = (t.detach().double().requires_grad_() for t in (q, k, v))
    o, lse, _, _ = fwd.reference(variant, qq, kk, vv, scale, extra, dtype, prec=torch.float64)
    # O as the low-precision forward stores it: P rounded before P V, the
    # result rounded to the input dtype.
    _, _, o_stored, _ = fwd.reference(variant, q, k, v, scale, extra, dtype)
    eps = (do.double() * (o_stored.double() - o.detach())).sum(-1)
    lse = torch.where(torch.isfinite(lse), lse, torch.zeros_like(lse))
    (-(eps * lse).sum()).backward()
    # V does not reach the log-sum-exp: its correction is 0.
    return tuple(t.grad if t.grad is not None else torch.zeros_like(t) for t in (qq, kk, vv))


def main():
    fwd.philox_known_answers()
    fdir, bdir = sys.argv[1], sys.argv[2]
    shapes = [(1, 2, 2, 1, 1), (2, 4, 2, 17, 17), (1, 4, 4, 1000, 1000), (1, 2, 2, 257, 4097),
              (2, 8, 2, 300, 200), (1, 2, 1, 4097, 300)]
    failures = 0
    for fname in sorted(os.listdir(bdir)):
        if not fname.endswith(".json"):
            continue
        base = fname[:-5]
        variant, D, dt = base.rsplit("-", 2)
        D = int(D)
        dtype = torch.bfloat16 if dt == "bf16" else torch.float16
        fsig = json.load(open(os.path.join(fdir, base + ".json")))["kernels"][0]
        fk = fwd.Kernel(os.path.join(fdir, base + ".ptx"), fsig)
        bsigs = {s["kind"]: s for s in json.load(open(os.path.join(bdir, fname)))["kernels"]}
        bk = {kind: fwd.Kernel(os.path.join(bdir, base + ".ptx"), s) for kind, s in bsigs.items()}
        for (B, H, Hkv, Nq, Nkv) in shapes:
            dev = "cuda"
            g = torch.Generator(device=dev).manual_seed(B * 1000 + Nq * 7 + Nkv + 1)
            q = torch.randn(B, H, Nq, D, device=dev, generator=g).to(dtype)
            k = torch.randn(B, Hkv, Nkv, D, device=dev, generator=g).to(dtype)
            v = torch.randn(B, Hkv, Nkv, D, device=dev, generator=g).to(dtype)
            do = torch.randn(B, H, Nq, D, device=dev, generator=g).to(dtype)
            o = torch.full((B, H, Nq, D), float("nan"), device=dev, dtype=dtype)
            lse = torch.full((B, H, Nq), float("nan"), device=dev, dtype=torch.float32)
            delta = torch.full((B, H, Nq), float("nan"), device=dev, dtype=torch.float32)
            lse_log2 = torch.full((B, H, Nq), float("nan"), device=dev, dtype=torch.float32)
            dq = torch.full_like(q, float("nan"))
            dk = torch.full_like(k, float("nan"))
            dv = torch.full_like(v, float("nan"))
            scale = 1.0 / math.sqrt(D)
            extra = fwd.extras_for(variant, B, H, max(Nq, Nkv), dev)
            dq_accum = torch.zeros((B, H, Nq, D), device=dev, dtype=torch.float32)
            values = fwd.launch_values(
                (B, H, Hkv, Nq, Nkv), scale,
                {"q": q, "k": k, "v": v, "o": o, "do": do, "dq": dq, "dk": dk, "dv": dv},
                extra, lse=lse, delta=delta, lse_log2=lse_log2, dq_accum=dq_accum)
            fk.launch(((Nq + fsig["schedule"]["block_m"] - 1) // fsig["schedule"]["block_m"], B * H), values)
            s = bsigs["backward_delta"]
            bk["backward_delta"].launch(((Nq + s["threads"] - 1) // s["threads"], B * H), values)
            kv = "backward_dkdvdq" if "backward_dkdvdq" in bsigs else "backward_dkdv"
            s = bsigs[kv]
            bk[kv].launch((((Nkv + s["schedule"]["block_n"] - 1) // s["schedule"]["block_n"]) * s["schedule"]["head_dim_split"],
                           B * Hkv), values)
            if kv == "backward_dkdvdq":
                s = bsigs["backward_dq_convert"]
                bk["backward_dq_convert"].launch(
                    ((Nq * D // 8 + s["threads"] - 1) // s["threads"], B * H), values)
            else:
                s = bsigs["backward_dq"]
                bk["backward_dq"].launch(((Nq + s["schedule"]["block_m"] - 1) // s["schedule"]["block_m"], B * H), values)
            torch.cuda.synchronize()
            ref64 = reference_grads(variant, q, k, v, do, scale, extra, torch.float64, dtype)
            reflp = reference_grads(variant, q, k, v, do, scale, extra, dtype, dtype)
            ok = True
            parts = []
            for name, got, r64, rlp in zip(("dq", "dk", "dv"), (dq, dk, dv), ref64, reflp):
                nan = torch.isnan(got).any().item()
                err = (got.double() - r64).abs().max().item()
                tol = 2 * (rlp.double() - r64).abs().max().item() + 1e-5
                rel = ((got.double() - r64).norm() / r64.norm().clamp_min(1e-30)).item()
                good = (not nan) and err <= tol
                ok &= good
                parts.append(f"{name} {err:.1e}/{tol:.1e} rel {rel:.1e}{' NaN' if nan else ''}{'' if good else ' <--'}")
            failures += not ok
            print(f"{'PASS' if ok else 'FAIL'} {variant:28s} d={D} {dt} B={B} H={H}/{Hkv} Nq={Nq} Nkv={Nkv}: "
                  + "; ".join(parts), flush=True)
    print(f"{failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
