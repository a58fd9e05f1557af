"""Python over flashjit's C ABI (include/flashjit/flashjit_c.h), with ctypes.

Takes torch CUDA tensors in the [B, H, N, D] view flashjit expects (any
strides) and launches on torch's current stream. Errors raise
FlashjitError with the runtime's message. Used by the GPU checks and the
side-by-side benchmark; it needs nothing but libflashjit.so and torch.

    rt = Runtime("libflashjit.so")
    causal = rt.builtin("causal")
    causal.forward(q, k, v, o, lse)
    causal.backward(q, k, v, o, lse, do, dq, dk, dv)
"""
import ctypes
import os

import torch

F16, BF16, F32, I32 = 0, 1, 2, 3
_DTYPES = {torch.float16: F16, torch.bfloat16: BF16, torch.float32: F32, torch.int32: I32}


class FlashjitError(RuntimeError):
    pass


class _Tensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int),
                ("shape", ctypes.c_int64 * 4), ("strides", ctypes.c_int64 * 4)]


class _Scalar(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int),
                ("f32", ctypes.c_float), ("i32", ctypes.c_int32)]


class _Buffer(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("data", ctypes.c_void_p), ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int32), ("shape", ctypes.c_int64 * 2), ("row_stride", ctypes.c_int64)]


class _Params(ctypes.Structure):
    _fields_ = [("has_softmax_scale", ctypes.c_int32), ("softmax_scale", ctypes.c_float),
                ("dropout_seed", ctypes.c_uint64), ("dropout_offset", ctypes.c_uint64),
                ("scalars", ctypes.POINTER(_Scalar)), ("num_scalars", ctypes.c_int32),
                ("buffers", ctypes.POINTER(_Buffer)), ("num_buffers", ctypes.c_int32)]


def _tensor(t):
    if t.dim() > 4:
        raise FlashjitError(f"a tensor of rank {t.dim()}; flashjit takes [B, H, N, D]")
    shape = list(t.shape) + [1] * (4 - t.dim())
    strides = list(t.stride()) + [1] * (4 - t.dim())
    return _Tensor(t.data_ptr(), _DTYPES[t.dtype], (ctypes.c_int64 * 4)(*shape),
                   (ctypes.c_int64 * 4)(*strides))


class Params:
    """Launch parameters: the softmax scale (None: 1/sqrt(D)), the dropout
    seed and offset, and the variant's own parameters by name: Python
    floats are f32 scalars, ints i32 scalars, tensors (float32 or int32,
    rank 1 or 2) buffers."""

    def __init__(self, softmax_scale=None, seed=0, offset=0, **named):
        p = _Params()
        p.has_softmax_scale = softmax_scale is not None
        p.softmax_scale = softmax_scale or 0.0
        p.dropout_seed, p.dropout_offset = seed, offset
        scalars, buffers = [], []
        for name, val in named.items():
            if torch.is_tensor(val):
                shape = (list(val.shape) + [0])[:2]
                buffers.append(_Buffer(name.encode(), val.data_ptr(), _DTYPES[val.dtype], val.dim(),
                                       (ctypes.c_int64 * 2)(*shape),
                                       val.stride(0) if val.dim() == 2 else 0))
            elif isinstance(val, float):
                scalars.append(_Scalar(name.encode(), F32, val, 0))
            else:
                scalars.append(_Scalar(name.encode(), I32, 0.0, int(val)))
        # The arrays must outlive the launch: keep them on this object.
        self._scalars = (_Scalar * len(scalars))(*scalars) if scalars else None
        self._buffers = (_Buffer * len(buffers))(*buffers) if buffers else None
        if scalars:
            p.scalars, p.num_scalars = self._scalars, len(scalars)
        if buffers:
            p.buffers, p.num_buffers = self._buffers, len(buffers)
        self.c = p


class Attention:
    def __init__(self, runtime, handle):
        self._rt, self._handle = runtime, handle

    def __del__(self):
        if self._handle:
            self._rt.lib.flashjit_attention_destroy(self._handle)
            self._handle = None

    def forward(self, q, k, v, o, lse, params=None):
        """O and the log-sum-exp (float32 [B, H, N] or [B, H, N, 1])."""
        params = params or Params()
        lse4 = lse if lse.dim() == 4 else lse.unsqueeze(-1)
        ts = [_tensor(t) for t in (q, k, v, o, lse4)]
        self._rt.check(self._rt.lib.flashjit_forward(
            self._handle, *[ctypes.byref(t) for t in ts], ctypes.byref(params.c),
            ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)))

    def backward(self, q, k, v, o, lse, do, dq, dk, dv, params=None):
        params = params or Params()
        lse4 = lse if lse.dim() == 4 else lse.unsqueeze(-1)
        ts = [_tensor(t) for t in (q, k, v, o, lse4, do, dq, dk, dv)]
        self._rt.check(self._rt.lib.flashjit_backward(
            self._handle, *[ctypes.byref(t) for t in ts], ctypes.byref(params.c),
            ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)))


class Runtime:
    def __init__(self, library, device=0, cache_dir=None, row_tiles_per_warp=None):
        """row_tiles_per_warp: a forced forward tiling for A/B runs (None: the
        compiler's choice; FLASHJIT_ROW_TILES_PER_WARP, read when the runtime
        is created)."""
        self.lib = ctypes.CDLL(library)
        self.lib.flashjit_last_error.restype = ctypes.c_char_p
        torch.zeros(1, device=f"cuda:{device}")  # torch's context is the one flashjit joins
        self._handle = ctypes.c_void_p()
        saved = os.environ.get("FLASHJIT_ROW_TILES_PER_WARP")
        if row_tiles_per_warp is not None:
            os.environ["FLASHJIT_ROW_TILES_PER_WARP"] = str(row_tiles_per_warp)
        try:
            self.check(self.lib.flashjit_runtime_create(
                device, cache_dir.encode() if cache_dir else None, None, ctypes.byref(self._handle)))
        finally:
            if row_tiles_per_warp is not None:
                if saved is None:
                    del os.environ["FLASHJIT_ROW_TILES_PER_WARP"]
                else:
                    os.environ["FLASHJIT_ROW_TILES_PER_WARP"] = saved

    def __del__(self):
        if getattr(self, "_handle", None):
            self.lib.flashjit_runtime_destroy(self._handle)
            self._handle = None

    def check(self, status):
        if status != 0:
            raise FlashjitError(self.lib.flashjit_last_error().decode())

    def builtin(self, name):
        handle = ctypes.c_void_p()
        self.check(self.lib.flashjit_attention_create_builtin(self._handle, name.encode(),
                                                              ctypes.byref(handle)))
        return Attention(self, handle)

    def from_text(self, program_text):
        handle = ctypes.c_void_p()
        self.check(self.lib.flashjit_attention_create_from_text(self._handle, program_text.encode(),
                                                                ctypes.byref(handle)))
        return Attention(self, handle)
