#!/usr/bin/env python3
"""Checks flashjit's forward PTX on a GPU before the C++ runtime exists.

Loads the PTX that flashjit-ptx wrote (with its --signature JSON) through
the CUDA driver (ctypes), launches it on torch tensors, and compares O and
the log-sum-exp with a float64 reference written independently of the
compiler, by the rule in shared/testing.md:
    max|out - ref64| <= 2 * max|ref_lowp - ref64| + 1e-5
where ref_lowp rounds P to the input dtype before P V. Usage:
    ptx_forward_check.py DIR   (DIR holds <variant>-<d>-<dtype>.ptx/.json)
"""
import ctypes
import json
import math
import os
import sys

import numpy as np
import torch

# ---------------------------------------------------------------- driver --
cuda = ctypes.CDLL("libcuda.so.1")


def check(result, what):
    if result != 0:
        name = ctypes.c_char_p()
        cuda.cuGetErrorName(result, ctypes.byref(name))
        raise RuntimeError(f"{what} failed: {name.value.decode()}")


class Kernel:
    def __init__(self, ptx_path, sig):
        torch.cuda.init()
        torch.zeros(1, device="cuda")  # make the primary context current
        self.module = ctypes.c_void_p()
        data = open(ptx_path, "rb").read() + b"\0"
        check(cuda.cuModuleLoadData(ctypes.byref(self.module), data), "cuModuleLoadData")
        self.fn = ctypes.c_void_p()
        check(cuda.cuModuleGetFunction(ctypes.byref(self.fn), self.module,
                                       sig["name"].encode()), "cuModuleGetFunction")
        self.sig = sig
        check(cuda.cuFuncSetAttribute(self.fn, 8, sig["shared_memory_bytes"]),
              "cuFuncSetAttribute(max dynamic shared memory)")

    def launch(self, grid, values):
        holders = []
        for arg in self.sig["args"]:
            v = values[arg["name"]]
            kind = arg["kind"]
            if kind == "ptr":
                holders.append(ctypes.c_uint64(v.data_ptr() if torch.is_tensor(v) else v))
            elif kind == "i64":
                holders.append(ctypes.c_int64(int(v)))
            elif kind == "i32":
                holders.append(ctypes.c_int32(int(v)))
            else:
                holders.append(ctypes.c_float(float(v)))
        params = (ctypes.c_void_p * len(holders))(
            *[ctypes.cast(ctypes.byref(h), ctypes.c_void_p) for h in holders])
        stream = torch.cuda.current_stream().cuda_stream
        check(cuda.cuLaunchKernel(self.fn, grid[0], grid[1], 1, self.sig["threads"], 1, 1,
                                  self.sig["shared_memory_bytes"], ctypes.c_void_p(stream),
                                  params, None), "cuLaunchKernel")


# ---------------------------------------------------------------- Philox --
M32 = np.uint64(0xFFFFFFFF)


def philox(c0, c1, c2, c3, k0, k1):
    c = [np.asarray(x, dtype=np.uint64) & M32 for x in (c0, c1, c2, c3)]
    k0, k1 = np.uint64(k0) & M32, np.uint64(k1) & M32
    for r in range(10):
        if r:
            k0 = (k0 + np.uint64(0x9E3779B9)) & M32
            k1 = (k1 + np.uint64(0xBB67AE85)) & M32
        p0 = c[0] * np.uint64(0xD2511F53)
        p1 = c[2] * np.uint64(0xCD9E8D57)
        c = [((p1 >> np.uint64(32)) ^ c[1] ^ k0) & M32, p1 & M32,
             ((p0 >> np.uint64(32)) ^ c[3] ^ k1) & M32, p0 & M32]
    return c


def philox_known_answers():
    # Random123's kat_vectors for philox4x32-10.
    cases = [((0, 0, 0, 0), (0, 0), (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
             ((0xffffffff,) * 4, (0xffffffff,) * 2, (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
             ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
              (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1))]
    for ctr, key, want in cases:
        got = tuple(int(x) for x in philox(*ctr, *key))
        assert got == want, f"Philox KAT {ctr}: {[hex(g) for g in got]} != {[hex(w) for w in want]}"


def dropout_keep(rate, seed, offset, B, H, Nq, Nkv):
    b, h, q, kv = np.meshgrid(np.arange(B), np.arange(H), np.arange(Nq), np.arange(Nkv), indexing="ij")
    bh = (b * H + h).astype(np.uint64)
    words = philox(kv >> 2, q, bh ^ np.uint64(offset >> 32), np.uint64(offset & 0xFFFFFFFF),
                   seed & 0xFFFFFFFF, seed >> 32)
    sel = kv & 3
    word = np.choose(sel, words)
    threshold = min(int(math.floor(rate * 2.0 ** 32)), 0xFFFFFFFF)
    return torch.from_numpy(word >= np.uint64(threshold))


# ------------------------------------------------------------- reference --
def reference(variant, q, k, v, scale, extra, dtype, prec=None):
    """float64 and low-precision references of O and lse, written from the
    variants' definitions (kernels/*.mlir), not from the compiler. With
    `prec`, one differentiable run in that precision instead."""
    B, H, Nq, D = q.shape
    Hkv = k.shape[1]
    rep = H // Hkv
    k = k.repeat_interleave(rep, dim=1)
    v = v.repeat_interleave(rep, dim=1)
    qi = torch.arange(Nq, device=q.device).view(Nq, 1)
    ki = torch.arange(k.shape[2], device=q.device).view(1, -1)
    Nkv = k.shape[2]
    hi = torch.arange(H, device=q.device).view(1, H, 1, 1)

    def run(prec, lowp):
        s = torch.matmul(q.to(prec), k.to(prec).transpose(-1, -2)) * scale
        keep = torch.ones(Nq, Nkv, dtype=torch.bool, device=q.device)
        if variant == "causal":
            keep = ki <= qi
        elif variant == "causal_bottom_right":
            keep = ki <= qi + (Nkv - Nq)
        elif variant == "sliding_window":
            keep = (ki <= qi) & (qi - ki < extra["window"])
        elif variant == "prefix_lm":
            keep = (ki <= qi) | (ki < extra["prefix"])
        elif variant == "alibi":
            s = s + extra["slopes"].to(prec).view(1, H, 1, 1) * (ki - qi).to(prec)
        elif variant == "softcap":
            cap = extra["softcap"]
            s = cap * torch.tanh(s / cap)
        elif variant == "relative_bias":
            r = extra["max_distance"]
            idx = (torch.clamp(ki - qi, -r, r) + r).clamp(max=extra["bias"].shape[1] - 1)
            s = s + extra["bias"].to(prec)[hi.view(H, 1, 1), idx.view(1, Nq, Nkv)].view(1, H, Nq, Nkv)
        elif variant == "document":
            doc = extra["doc_ids"]
            keep = doc[:, :Nq].view(B, 1, Nq, 1) == doc[:, :Nkv].view(B, 1, 1, Nkv)
        elif variant == "causal_window_alibi_dropout":
            s = s + extra["slopes"].to(prec).view(1, H, 1, 1) * (ki - qi).to(prec)
            keep = (ki <= qi) & (qi - ki < extra["window"])
        s = s.masked_fill(~keep, float("-inf"))
        # Rows the mask removes entirely: P = 0, lse = -inf, and no NaN in
        # autograd (softmax of a row of -inf has none to give).
        empty = ~keep.any(dim=-1, keepdim=True)
        s = s.masked_fill(empty, 0.0)
        lse = torch.logsumexp(s, dim=-1).masked_fill(empty.squeeze(-1), float("-inf"))
        p = torch.softmax(s, dim=-1).masked_fill(empty, 0.0)
        if "dropout_rate" in extra:
            rate = extra["dropout_rate"]
            mask = dropout_keep(rate, extra["seed"], extra["offset"], B, H, Nq, Nkv).to(q.device)
            p = torch.where(mask, p / (1 - rate), torch.zeros_like(p))
        if lowp:
            p = p.to(dtype).to(prec)
        o = torch.matmul(p, v.to(prec))
        return o, lse

    if prec is not None:
        o, lse = run(prec, False)
        return o, lse, None, None
    o64, lse64 = run(torch.float64, False)
    # The low-precision reference ends as the kernel does: O in the input
    # dtype.
    o32, lse32 = run(torch.float32, True)
    return o64, lse64, o32.to(dtype), lse32


def extras_for(variant, B, H, N, device):
    g = torch.Generator(device="cpu").manual_seed(7)
    if variant in ("alibi", "causal_window_alibi_dropout"):
        slopes = torch.tensor([2.0 ** (-8.0 * (i + 1) / H) for i in range(H)], dtype=torch.float32)
        e = {"slopes": slopes.to(device)}
        if variant != "alibi":
            e.update(window=37, dropout_rate=0.1, seed=0x1234_5678_9abc, offset=42)
        return e
    if variant == "sliding_window":
        return {"window": 45}
    if variant == "prefix_lm":
        return {"prefix": 23}
    if variant == "softcap":
        return {"softcap": 5.0}
    if variant == "relative_bias":
        r = 16
        return {"max_distance": r, "bias": torch.randn(H, 2 * r + 1, generator=g).to(device)}
    if variant == "document":
        lengths = [5, 30, 1, 70, 400]
        doc = torch.cat([torch.full((n,), i, dtype=torch.int32) for i, n in enumerate(lengths)])
        doc = torch.cat([doc, torch.full((max(0, N - doc.numel()),), 99, dtype=torch.int32)])[:N]
        return {"doc_ids": doc.view(1, N).repeat(B, 1).contiguous().to(device)}
    if variant == "dropout":
        return {"dropout_rate": 0.1, "seed": 0xdeadbeef_0000_1111, "offset": 7}
    return {}


def launch_values(sizes, scale, tensors, extra, **pointers):
    """The kernel arguments by name, as the --signature JSON names them:
    sizes (B, Hq, Hkv, Nq, Nkv), [B, H, N, D] tensors with their strides,
    the variant's scalars and buffers, and plain pointers (lse, delta, lse_log2)."""
    B, H, Hkv, Nq, Nkv = sizes
    values = {"batch": B, "heads_q": H, "heads_kv": Hkv, "seqlen_q": Nq, "seqlen_kv": Nkv,
              "softmax_scale": scale, **pointers}
    for name, t in tensors.items():
        values[name] = t
        values[name + ".batch_stride"] = t.stride(0)
        values[name + ".head_stride"] = t.stride(1)
        values[name + ".row_stride"] = t.stride(2)
    for name, val in extra.items():
        if torch.is_tensor(val):
            values[name] = val
            for d_, n_ in enumerate(val.shape):
                values[f"{name}.extent{d_}"] = n_
            if val.dim() == 2:
                values[f"{name}.row_stride"] = val.stride(0)
        elif name in ("seed", "offset"):
            values["dropout." + name] = val
        else:
            values[name] = val
    return values


def run_case(kernel, variant, dtype, B, H, Hkv, Nq, Nkv, D, std):
    dev = "cuda"
    g = torch.Generator(device=dev).manual_seed(B * 1000 + Nq * 7 + Nkv)
    q = (torch.randn(B, H, Nq, D, device=dev, generator=g) * std).to(dtype)
    k = (torch.randn(B, Hkv, Nkv, D, device=dev, generator=g) * std).to(dtype)
    v = torch.randn(B, Hkv, Nkv, D, device=dev, generator=g).to(dtype)
    o = torch.full((B, H, Nq, D), float("nan"), device=dev, dtype=dtype)
    lse = torch.full((B, H, Nq), float("nan"), device=dev, dtype=torch.float32)
    scale = 1.0 / math.sqrt(D)
    extra = extras_for(variant, B, H, max(Nq, Nkv), dev)
    values = launch_values((B, H, Hkv, Nq, Nkv), scale, {"q": q, "k": k, "v": v, "o": o},
                           extra, lse=lse)
    grid = ((Nq + kernel.sig["schedule"]["block_m"] - 1) // kernel.sig["schedule"]["block_m"], B * H)
    kernel.launch(grid, values)
    torch.cuda.synchronize()
    o64, lse64, olp, lselp = reference(variant, q, k, v, scale, extra, dtype)
    nan = torch.isnan(o).any().item() or torch.isnan(lse).any().item()
    err = (o.double() - o64).abs().max().item()
    tol = 2 * (olp.double() - o64).abs().max().item() + 1e-5
    finite = torch.isfinite(lse64)
    lerr = (lse.double() - lse64)[finite].abs().max().item() if finite.any() else 0.0
    ltol = 2 * (lselp.double() - lse64)[finite].abs().max().item() + 1e-5 if finite.any() else 1e-5
    lse_inf_ok = torch.equal(torch.isinf(lse), ~finite)
    rel = ((o.double() - o64).norm() / o64.norm().clamp_min(1e-30)).item()
    ok = (not nan) and err <= tol and lerr <= max(ltol, 1e-4) and lse_inf_ok
    return ok, dict(err=err, tol=tol, lse_err=lerr, lse_tol=ltol, rel=rel, nan=nan, lse_inf_ok=lse_inf_ok)


def main():
    philox_known_answers()
    print("Philox4x32-10 known-answer vectors: ok")
    root = sys.argv[1]
    shapes = [(1, 2, 2, 1, 1), (2, 4, 2, 17, 17), (1, 4, 4, 1000, 1000), (1, 2, 2, 257, 4097),
              (2, 8, 2, 300, 200), (1, 2, 1, 4097, 300)]
    failures = 0
    for fname in sorted(os.listdir(root)):
        if not fname.endswith(".json"):
            continue
        base = fname[:-5]
        variant, D, dt = base.rsplit("-", 2)
        sig = json.load(open(os.path.join(root, fname)))["kernels"][0]
        kernel = Kernel(os.path.join(root, base + ".ptx"), sig)
        dtype = torch.bfloat16 if dt == "bf16" else torch.float16
        for (B, H, Hkv, Nq, Nkv) in shapes:
            for std in (1.0, 10.0) if Nq == 1000 else (1.0,):
                ok, info = run_case(kernel, variant, dtype, B, H, Hkv, Nq, Nkv, int(D), std)
                failures += not ok
                print(f"{'PASS' if ok else 'FAIL'} {variant:28s} d={D} {dt} B={B} H={H}/{Hkv} "
                      f"Nq={Nq} Nkv={Nkv} std={std}: max|err|={info['err']:.2e} (tol {info['tol']:.2e}) "
                      f"rel={info['rel']:.1e} lse={info['lse_err']:.1e} (tol {info['lse_tol']:.1e})"
                      f"{' NaN' if info['nan'] else ''}{'' if info['lse_inf_ok'] else ' lse-inf-mismatch'}",
                      flush=True)
    print(f"{failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
