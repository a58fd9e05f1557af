"""flashjit from Python: fused FlashAttention kernels for any attention variant.

The core binding: ctypes over the C ABI of libflashjit.so
(include/flashjit/flashjit_c.h) and nothing else, so it imports without
torch. Tensors are torch tensors, when the caller has torch, or TensorView
descriptors (device pointer, dtype, shape, strides) for everyone else.
flashjit.torch builds the PyTorch operator (autograd, torch.compile,
transformers) on top of it.

    rt = flashjit.Runtime()                # device 0; load_library says where it looks
    causal = rt.builtin("causal")          # or rt.from_text(program_text)
    causal.forward(q, k, v, o, lse)        # torch tensors: on torch's current stream
    causal.backward(q, k, v, o, lse, do, dq, dk, dv)

Every failure raises FlashjitError with the runtime's message; nothing is
launched after a failed check.
"""
import contextlib
import ctypes
import ctypes.util
import glob
import json
import os
import struct
import sys
import threading
from typing import NamedTuple, Sequence

# The library's version too (CMakeLists.txt's project(VERSION)); keep equal
# to pyproject.toml's. load_library checks that the library it opens has the
# same major.minor, the ABI the structs below describe.
__version__ = "0.4.0"
_ABI_VERSION = ".".join(__version__.split(".")[:2])
SONAME = f"libflashjit.so.{_ABI_VERSION}"

F16, BF16, F32, I32 = 0, 1, 2, 3  # flashjit_dtype


class FlashjitError(RuntimeError):
    """A failure of the runtime (the C ABI's message) or of loading it."""


# --------------------------------------------------------------- tensors --

class TensorView(NamedTuple):
    """A tensor for callers without torch: a [B, H, N, D] view of device
    memory (lse: [B, H, N] or [B, H, N, 1]), strides in elements."""
    data: int
    dtype: int
    shape: Sequence[int]
    strides: Sequence[int]


class BufferView(NamedTuple):
    """A variant's auxiliary buffer for callers without torch: rank 1 or 2,
    f32 or i32, rows contiguous; row_stride (elements) matters for rank 2."""
    data: int
    dtype: int
    shape: Sequence[int]
    row_stride: int = 0


# flashjit_tensor: void *data; flashjit_dtype dtype; int64_t shape[4], strides[4].
_TENSOR = "Pi4q4q"
# A launch's tensors as consecutive flashjit_tensor structs, written by one
# pack_into: five calls of one struct each cost twice as much.
_FORWARD_TENSORS = struct.Struct("@" + _TENSOR * 5)
_BACKWARD_TENSORS = struct.Struct("@" + _TENSOR * 9)
_TENSOR_SIZE = struct.calcsize("@" + _TENSOR)
_TORCH_CODES = {}  # torch.dtype -> flashjit_dtype, filled on first use


def _torch_code(dtype):
    """flashjit_dtype of a torch dtype (the table is built the first time a
    torch tensor comes by, so that importing flashjit never imports torch)."""
    if not _TORCH_CODES:
        torch = sys.modules["torch"]
        _TORCH_CODES.update({torch.float16: F16, torch.bfloat16: BF16,
                             torch.float32: F32, torch.int32: I32})
    try:
        return _TORCH_CODES[dtype]
    except KeyError:
        raise FlashjitError(f"a tensor of {dtype}; flashjit takes float16, bfloat16, "
                            "float32 and int32") from None


def _padded(shape, strides):
    """shape and strides of rank 4, lower ranks padded with size-1
    dimensions (lse [B, H, N] becomes [B, H, N, 1])."""
    if len(shape) > 4:
        raise FlashjitError(f"a tensor of rank {len(shape)}; flashjit takes [B, H, N, D]")
    pad = (1,) * (4 - len(shape))
    return (*shape, *pad), (*strides, *pad)


def _pack(layout, buffer, tensors):
    """Writes TensorViews or torch tensors into `buffer` as `layout` (the
    torch branch inlined: per-call cost, bench/NOTES.md entry 12)."""
    values = []
    for t in tensors:
        if type(t) is TensorView:
            data, dtype, shape, strides = t
        else:
            try:
                dtype = _TORCH_CODES[t.dtype]
            except KeyError:
                dtype = _torch_code(t.dtype)
            data, shape, strides = t.data_ptr(), t.shape, t.stride()
        rank = len(shape)
        if rank == 4:
            values += (data, dtype, *shape, *strides)
        elif rank == 3:  # lse
            values += (data, dtype, *shape, 1, *strides, 1)
        else:
            shape, strides = _padded(shape, strides)
            values += (data, dtype, *shape, *strides)
    layout.pack_into(buffer, 0, *values)


class _Descriptors(threading.local):
    """This thread's nine flashjit_tensor structs, reused by every launch.
    Per thread because ctypes releases the GIL during the call."""

    def __init__(self):
        self.buffer = (ctypes.c_uint64 * (_BACKWARD_TENSORS.size // 8))()
        base = ctypes.addressof(self.buffer)
        self.addresses = tuple(base + i * _TENSOR_SIZE for i in range(9))


_descriptors = _Descriptors()
_raw_stream = None  # torch's current stream on a device, as an int


def _stream_of(t):
    """torch's current stream on t's device for a CUDA torch tensor; None
    (CUDA's default stream) for a TensorView or a tensor on the host, whose
    pointer the runtime then rejects."""
    global _raw_stream
    device = -1 if type(t) is TensorView else t.get_device()
    if device < 0:
        return None
    if _raw_stream is None:
        torch = sys.modules["torch"]
        _raw_stream = getattr(torch._C, "_cuda_getCurrentRawStream", None) or \
            (lambda index: torch.cuda.current_stream(index).cuda_stream)
    return _raw_stream(device)


# ------------------------------------------------------------ parameters --

class _Scalar(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int),
                ("f32", ctypes.c_float), ("i32", ctypes.c_int32)]


class _Buffer(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("data", ctypes.c_void_p), ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int32), ("shape", ctypes.c_int64 * 2),
                ("row_stride", ctypes.c_int64)]


class _Params(ctypes.Structure):
    _fields_ = [("has_softmax_scale", ctypes.c_int32), ("softmax_scale", ctypes.c_float),
                ("dropout_seed", ctypes.c_uint64), ("dropout_offset", ctypes.c_uint64),
                ("scalars", ctypes.POINTER(_Scalar)), ("num_scalars", ctypes.c_int32),
                ("buffers", ctypes.POINTER(_Buffer)), ("num_buffers", ctypes.c_int32)]


def _scalar(name, value):
    """A flashjit_scalar: Python floats are f32, ints i32."""
    if isinstance(value, float):
        return _Scalar(name.encode(), F32, value, 0)
    if not isinstance(value, int):
        raise FlashjitError(f"parameter '{name}' is a {type(value).__name__}; parameters are "
                            "floats, ints, tensors or BufferViews")
    if not -2**31 <= value < 2**31:
        raise FlashjitError(f"parameter '{name}' = {value} does not fit in i32")
    return _Scalar(name.encode(), I32, 0.0, value)


def _buffer(name, value):
    """A flashjit_buffer from a BufferView or a torch tensor (rank 1 or 2,
    its last dimension contiguous: the C struct has no stride for it)."""
    view = type(value) is BufferView
    if view:
        data, dtype, shape, row_stride = value
    else:
        data, dtype, shape = value.data_ptr(), _torch_code(value.dtype), value.shape
        row_stride = value.stride(0) if len(shape) == 2 else 0
    if len(shape) not in (1, 2):
        raise FlashjitError(f"buffer '{name}' has rank {len(shape)}; buffers have rank 1 or 2")
    if not view and value.stride(-1) != 1:
        raise FlashjitError(f"buffer '{name}' must have a contiguous last dimension")
    return _Buffer(name.encode(), data, dtype, len(shape),
                   (ctypes.c_int64 * 2)(*shape, *(0,) * (2 - len(shape))), row_stride)


def _is_buffer(value):
    return type(value) is BufferView or hasattr(value, "data_ptr")


class Params:
    """What a launch takes besides the tensors, built once and reusable.

    softmax_scale: None for 1/sqrt(D). seed, offset: the Philox stream of
    dropout (the same pair regenerates the same mask, in the backward too).
    named: the variant's own parameters: Python floats are f32 scalars,
    ints i32 scalars, torch tensors or BufferViews (f32 or i32, rank 1 or 2)
    buffers.
    """

    def __init__(self, softmax_scale=None, seed=0, offset=0, **named):
        for what, value in (("seed", seed), ("offset", offset)):
            if not 0 <= value < 2**64:
                raise FlashjitError(f"dropout {what} {value} is not a uint64")
        scalars = [_scalar(n, v) for n, v in named.items() if not _is_buffer(v)]
        buffers = [_buffer(n, v) for n, v in named.items() if _is_buffer(v)]
        # The arrays must outlive the launch: this object keeps them.
        self._scalars = (_Scalar * len(scalars))(*scalars) if scalars else None
        self._buffers = (_Buffer * len(buffers))(*buffers) if buffers else None
        self._struct = _Params(softmax_scale is not None, softmax_scale or 0.0, seed, offset,
                               self._scalars, len(scalars), self._buffers, len(buffers))
        self.address = ctypes.addressof(self._struct)


# -------------------------------------------------------- the library --

_VP, _INT, _STR = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
_OUT = ctypes.POINTER(ctypes.c_void_p)


class _RuntimeOptions(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("device", ctypes.c_int32),
                ("cache_dir", ctypes.c_char_p), ("memory_cache_only", ctypes.c_int32),
                ("offline_target", ctypes.c_char_p), ("deterministic", ctypes.c_int32),
                ("target", ctypes.c_char_p)]


# name: (restype, argtypes). Tensors and params go by address (c_void_p):
# an int converts faster than a ctypes pointer.
_PROTOTYPES = {
    "flashjit_version": (_STR, []),
    "flashjit_last_error": (_STR, []),
    "flashjit_runtime_create_with_options": (_INT, [ctypes.POINTER(_RuntimeOptions), _OUT]),
    "flashjit_runtime_destroy": (None, [_VP]),
    "flashjit_attention_create_builtin": (_INT, [_VP, _STR, _OUT]),
    "flashjit_attention_create_from_text": (_INT, [_VP, _STR, _OUT]),
    "flashjit_attention_destroy": (None, [_VP]),
    "flashjit_forward": (_INT, [_VP] * 8),    # attention, q k v o lse, params, stream
    "flashjit_backward": (_INT, [_VP] * 12),  # attention, q k v o lse dO dq dk dv, params, stream
    "flashjit_attention_compile": (_INT, [_VP, _INT, ctypes.c_int32, _INT, _OUT]),
    "flashjit_compiled_target": (_STR, [_VP]),
    "flashjit_compiled_ptx": (_STR, [_VP]),
    "flashjit_compiled_metadata": (_STR, [_VP]),
    "flashjit_compiled_destroy": (None, [_VP]),
}
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_libraries = {}  # what was opened -> the declared CDLL


def _in_folder(folder):
    """The libflashjit.so* in `folder`, the shortest name first (the
    unversioned symlink, then the SONAME), or None."""
    names = sorted(glob.glob(os.path.join(folder, "libflashjit.so*")), key=lambda p: (len(p), p))
    return names[0] if names else None


def _checkout_build():
    """<checkout>/build/lib when this package is the checkout's
    bindings/python/flashjit (not an installed copy), else None."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(_PACKAGE_DIR)))
    if os.path.isfile(os.path.join(root, "include", "flashjit", "flashjit_c.h")):
        return os.path.join(root, "build", "lib")
    return None


def _candidates(path):
    """(where, what to dlopen or None) in the order load_library tries them."""
    if path is not None:
        return [("the path given", os.fspath(path))]
    if os.environ.get("FLASHJIT_LIBRARY"):
        return [("$FLASHJIT_LIBRARY", os.environ["FLASHJIT_LIBRARY"])]
    package = os.path.join(_PACKAGE_DIR, "lib")
    build = _checkout_build()
    return [(f"the package ({package}/libflashjit.so*)", _in_folder(package)),
            (f"the checkout's build ({build}/libflashjit.so*)" if build else
             "the checkout's build (this package is not in a checkout)",
             _in_folder(build) if build else None),
            ("the system loader (ctypes.util.find_library('flashjit'))",
             ctypes.util.find_library("flashjit")),
            (f"the system loader ({SONAME})", SONAME)]


def _open(candidate):
    """dlopens `candidate` once, declares the C ABI's prototypes and checks
    its version; raises OSError saying why it cannot be used."""
    key = os.path.realpath(candidate) if os.sep in candidate else candidate
    if key in _libraries:
        return _libraries[key]
    lib = ctypes.CDLL(candidate)
    for name, (restype, argtypes) in _PROTOTYPES.items():
        try:
            function = getattr(lib, name)
        except AttributeError:
            raise OSError(f"not a flashjit {_ABI_VERSION} library: no {name}") from None
        function.restype, function.argtypes = restype, argtypes
    version = lib.flashjit_version().decode()
    if ".".join(version.split(".")[:2]) != _ABI_VERSION:
        raise OSError(f"flashjit {version}, but this package (flashjit {__version__}) "
                      f"speaks the {_ABI_VERSION} ABI")
    _libraries[key] = lib
    return lib


def load_library(path=None):
    """Opens libflashjit (once per file) and returns it as a ctypes.CDLL
    with its prototypes declared.

    Looks at, in order: `path`; else $FLASHJIT_LIBRARY; else the copy
    shipped in this package (flashjit/lib/libflashjit.so*, for wheels);
    else the checkout's build (<repo>/build/lib/libflashjit.so*); else the
    system loader (find_library("flashjit"), then the SONAME
    libflashjit.so.MAJOR.MINOR). A path or $FLASHJIT_LIBRARY is the only
    place looked when given. The error lists every place and why each
    failed.
    """
    looked = []
    for where, candidate in _candidates(path):
        if candidate is None:
            looked.append(f"{where}: none")
            continue
        try:
            return _open(candidate)
        except OSError as e:
            looked.append(f"{where}: {candidate}: {e}")
    raise FlashjitError("cannot load libflashjit; looked at:\n  " + "\n  ".join(looked) +
                        "\nPass the library's path or set FLASHJIT_LIBRARY.")


def _check(lib, status):
    if status:
        raise FlashjitError(lib.flashjit_last_error().decode(errors="replace"))


@contextlib.contextmanager
def _environment(name, value):
    """$name = value (None: untouched) for the block, for the knobs the C
    ABI reads only from the environment when a runtime is created."""
    saved = os.environ.get(name)
    if value is not None:
        os.environ[name] = str(value)
    try:
        yield
    finally:
        if value is not None:
            if saved is None:
                del os.environ[name]
            else:
                os.environ[name] = saved


def is_program_text(variant):
    """Whether `variant` is a tile program's text rather than a built-in's name."""
    return "tile.program" in variant


# --------------------------------------------------- runtime, attention --

class Runtime:
    """One CUDA device (or, offline, a compile target) and its kernel cache.

    library: a path for load_library (None: its search). cache_dir: None
    for $FLASHJIT_CACHE_DIR, else ~/.cache/flashjit; memory_cache_only
    never touches the disk. offline_target ("sm_90a", ...): compile for it
    without a device; launches then fail. deterministic: the backward
    without atomics, the same bits on every run (slower; also
    FLASHJIT_DETERMINISTIC=1). row_tiles_per_warp: a forced forward tiling
    for A/B runs (None: the compiler's choice, or
    $FLASHJIT_ROW_TILES_PER_WARP). target ("sm_80", ...): compile for an
    older target than the device's, with its schedules (None:
    $FLASHJIT_TARGET, else the device's).
    """

    def __init__(self, library=None, device=0, *, cache_dir=None, memory_cache_only=False,
                 offline_target=None, deterministic=False, row_tiles_per_warp=None,
                 target=None):
        self.lib = load_library(library)
        if offline_target is None and "torch" in sys.modules:
            # Make torch's context on the device the current one first:
            # flashjit launches in the device's primary context, torch's.
            sys.modules["torch"].zeros(1, device=f"cuda:{device}")
        options = _RuntimeOptions(
            ctypes.sizeof(_RuntimeOptions), device,
            None if cache_dir is None else os.fsencode(cache_dir), bool(memory_cache_only),
            None if offline_target is None else offline_target.encode(), bool(deterministic),
            None if target is None else target.encode())
        handle = ctypes.c_void_p()
        with _environment("FLASHJIT_ROW_TILES_PER_WARP", row_tiles_per_warp):
            _check(self.lib, self.lib.flashjit_runtime_create_with_options(
                ctypes.byref(options), ctypes.byref(handle)))
        self._handle = handle

    def __del__(self):
        if getattr(self, "_handle", None):
            self.lib.flashjit_runtime_destroy(self._handle)
            self._handle = None

    def builtin(self, name):
        """A built-in variant by name ("causal", ...)."""
        return self._create(self.lib.flashjit_attention_create_builtin, name)

    def from_text(self, program_text):
        """A variant from a tile program's text; errors name the line."""
        return self._create(self.lib.flashjit_attention_create_from_text, program_text)

    def attention(self, variant):
        """A built-in's name or a program's text (see is_program_text)."""
        return self.from_text(variant) if is_program_text(variant) else self.builtin(variant)

    def _create(self, create, argument):
        handle = ctypes.c_void_p()
        _check(self.lib, create(self._handle, argument.encode(), ctypes.byref(handle)))
        return Attention(self, handle)


class Compiled(NamedTuple):
    """One pass compiled ahead of time: its target, the PTX of every
    kernel, and (parsed JSON, flashjit-ptx --signature's format) each
    kernel's parameters, grid rule and schedule."""
    target: str
    ptx: str
    metadata: dict


_PASSES = {"forward": 0, "backward": 1}


class Attention:
    """One variant on one runtime, ready to launch. Kernels are compiled on
    first use per (head dim, dtype, pass) and cached.

    Tensors are torch tensors or TensorViews: q, k, v, o, dO, dq, dk, dv
    [B, H, N, D] of one dtype (f16 or bf16; k and v may have fewer heads),
    lse float32 [B, Hq, Nq] (or [..., 1]) contiguous. params: a Params, or
    None for the defaults. stream: a CUstream as an int; None is torch's
    current stream on q's device for torch tensors, CUDA's default stream
    for TensorViews. Launches never synchronise.
    """

    def __init__(self, runtime, handle):
        self._runtime, self._handle = runtime, handle
        self._forward = runtime.lib.flashjit_forward
        self._backward = runtime.lib.flashjit_backward

    def __del__(self):
        if getattr(self, "_handle", None):
            self._runtime.lib.flashjit_attention_destroy(self._handle)
            self._handle = None

    def forward(self, q, k, v, o, lse, params=None, stream=None):
        """O and the log-sum-exp of q, k, v."""
        d = _descriptors
        _pack(_FORWARD_TENSORS, d.buffer, (q, k, v, o, lse))
        a = d.addresses
        status = self._forward(self._handle, a[0], a[1], a[2], a[3], a[4],
                               params and params.address,
                               _stream_of(q) if stream is None else stream)
        if status:
            _check(self._runtime.lib, status)

    def _forward_torch(self, q, k, v, o, lse, params):
        """forward() for flashjit.torch's operator: torch tensors it made or
        checked, q, k, v and o of one dtype, lse float32 [B, Hq, Nq], on
        torch's current stream. The descriptors in one pack_into without
        forward()'s per-tensor dispatch (bench/NOTES.md, entry 12)."""
        try:
            code = _TORCH_CODES[q.dtype]
        except KeyError:
            code = _torch_code(q.dtype)
        d = _descriptors
        _FORWARD_TENSORS.pack_into(
            d.buffer, 0, q.data_ptr(), code, *q.shape, *q.stride(),
            k.data_ptr(), code, *k.shape, *k.stride(), v.data_ptr(), code, *v.shape, *v.stride(),
            o.data_ptr(), code, *o.shape, *o.stride(),
            lse.data_ptr(), F32, *lse.shape, 1, *lse.stride(), 1)
        a = d.addresses
        status = self._forward(self._handle, a[0], a[1], a[2], a[3], a[4],
                               params and params.address, _stream_of(q))
        if status:
            _check(self._runtime.lib, status)

    def compile(self, pass_="forward", head_dim=128, dtype="bf16"):
        """The kernels of one pass for the runtime's target without
        launching anything (ahead-of-time export; works offline)."""
        if pass_ not in _PASSES:
            raise FlashjitError(f"pass {pass_!r}: 'forward' or 'backward'")
        codes = {"f16": F16, "fp16": F16, "float16": F16, "bf16": BF16, "bfloat16": BF16}
        if str(dtype).replace("torch.", "") not in codes:
            raise FlashjitError(f"dtype {dtype}: kernels take f16 or bf16 inputs")
        lib, handle = self._runtime.lib, ctypes.c_void_p()
        _check(lib, lib.flashjit_attention_compile(
            self._handle, _PASSES[pass_], head_dim, codes[str(dtype).replace("torch.", "")],
            ctypes.byref(handle)))
        try:
            return Compiled(lib.flashjit_compiled_target(handle).decode(),
                            lib.flashjit_compiled_ptx(handle).decode(),
                            json.loads(lib.flashjit_compiled_metadata(handle)))
        finally:
            lib.flashjit_compiled_destroy(handle)

    def backward(self, q, k, v, o, lse, do, dq, dk, dv, params=None, stream=None):
        """dQ, dK, dV from the forward's inputs and outputs and dO (the same
        params, so dropout regenerates the forward's mask)."""
        d = _descriptors
        _pack(_BACKWARD_TENSORS, d.buffer, (q, k, v, o, lse, do, dq, dk, dv))
        status = self._backward(self._handle, *d.addresses, params and params.address,
                                _stream_of(q) if stream is None else stream)
        if status:
            _check(self._runtime.lib, status)


__all__ = ["F16", "BF16", "F32", "I32", "SONAME", "Attention", "BufferView", "Compiled",
           "FlashjitError",
           "Params", "Runtime", "TensorView", "is_program_text", "load_library"]
