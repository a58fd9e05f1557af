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
import ctypes
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import ptx_forward_check as ref  # noqa: E402
import ptx_backward_check as bref  # noqa: E402

F16, BF16, F32, I32 = 0, 1, 2, 3


class Tensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int),
                ("shape", ctypes.c_int64 * 4), ("strides", ctypes.c_int64 * 4)]


class Scalar(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int),
                ("f32", ctypes.c_float), ("i32", ctypes.c_int32)]


class Buffer(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("data", ctypes.c_void_p), ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int32), ("shape", ctypes.c_int64 * 2), ("row_stride", ctypes.c_int64)]


class Params(ctypes.Structure):
    _fields_ = [("has_softmax_scale", ctypes.c_int32), ("softmax_scale", ctypes.c_float),
                ("dropout_seed", ctypes.c_uint64), ("dropout_offset", ctypes.c_uint64),
                ("scalars", ctypes.POINTER(Scalar)), ("num_scalars", ctypes.c_int32),
                ("buffers", ctypes.POINTER(Buffer)), ("num_buffers", ctypes.c_int32)]


class Flashjit:
    def __init__(self, path, cache_dir=None):
        self.lib = ctypes.CDLL(path)
        self.lib.flashjit_last_error.restype = ctypes.c_char_p
        torch.zeros(1, device="cuda")
        self.rt = ctypes.c_void_p()
        self.check(self.lib.flashjit_runtime_create(0, cache_dir.encode() if cache_dir else None,
                                                    None, ctypes.byref(self.rt)))
        self.variants = {}

    def check(self, status):
        if status != 0:
            raise RuntimeError(self.lib.flashjit_last_error().decode())

    def attention(self, name):
        if name not in self.variants:
            a = ctypes.c_void_p()
            self.check(self.lib.flashjit_attention_create_builtin(self.rt, name.encode(), ctypes.byref(a)))
            self.variants[name] = a
        return self.variants[name]


def tensor(t):
    dt = {torch.float16: F16, torch.bfloat16: BF16, torch.float32: F32}[t.dtype]
    shape = list(t.shape) + [1] * (4 - t.dim())
    strides = list(t.stride()) + [1] * (4 - t.dim())
    return Tensor(t.data_ptr(), dt, (ctypes.c_int64 * 4)(*shape), (ctypes.c_int64 * 4)(*strides))


def params_for(extra):
    scalars, buffers, keep = [], [], []
    p = Params()
    for name, val in extra.items():
        if name in ("seed", "offset", "dropout_rate"):
            continue
        if torch.is_tensor(val):
            b = Buffer(name.encode(), val.data_ptr(), F32 if val.dtype == torch.float32 else I32,
                       val.dim(), (ctypes.c_int64 * 2)(*(list(val.shape) + [0])[:2]),
                       val.stride(0) if val.dim() == 2 else 0)
            buffers.append(b)
        elif isinstance(val, float):
            scalars.append(Scalar(name.encode(), F32, val, 0))
        else:
            scalars.append(Scalar(name.encode(), I32, 0.0, int(val)))
    p.dropout_seed = extra.get("seed", 0)
    p.dropout_offset = extra.get("offset", 0)
    if scalars:
        arr = (Scalar * len(scalars))(*scalars)
        keep.append(arr)
        p.scalars, p.num_scalars = arr, len(scalars)
    if buffers:
        arr = (Buffer * len(buffers))(*buffers)
        keep.append(arr)
        p.buffers, p.num_buffers = arr, len(buffers)
    return p, keep


def run(fj, variant, dtype, B, H, Hkv, Nq, Nkv, D, std, bnhd):
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
    p, keep = params_for(extra)
    att = fj.attention(variant)
    stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
    T = [tensor(t) for t in (q, k, v, o, lse)]
    fj.check(fj.lib.flashjit_forward(att, *[ctypes.byref(t) for t in T], ctypes.byref(p), stream))
    TB = [tensor(t) for t in (q, k, v, o, lse, do, dq, dk, dv)]
    fj.check(fj.lib.flashjit_backward(att, *[ctypes.byref(t) for t in TB], ctypes.byref(p), stream))
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
    fj = Flashjit(sys.argv[1], os.environ.get("FLASHJIT_CACHE_DIR"))
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
                        ok, msg = run(fj, variant, dtype, B, H, Hkv, Nq, Nkv, D, std, bnhd)
                    except RuntimeError as e:
                        ok, msg = False, f"error: {e}"
                    failures += not ok
                    print(f"{'PASS' if ok else 'FAIL'} {variant:28s} d={D} {str(dtype)[6:]} B={B} H={H}/{Hkv} "
                          f"Nq={Nq} Nkv={Nkv} std={std}{' BNHD' if bnhd else ''}: {msg}", flush=True)
    print(f"{total - failures} of {total} pass")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
