"""flashjit as a PyTorch operator: autograd, torch.compile and transformers.

    import flashjit.torch as fjt
    o = fjt.attention(q, k, v, "causal")                  # [B, H, N, D] CUDA, f16 or bf16
    o, lse = fjt.attention(q, k, v, "softcap", softcap=30.0, return_lse=True)
    o = fjt.attention(q, k, v, program_text, slopes=slopes)   # a tile program's text
    fjt.register_transformers()                           # attn_implementation="fjit"

Three operators (torch.library.custom_op), opaque to torch.compile, so a
compiled graph calls them without breaking:

    flashjit::dropout_rng(Tensor q) -> Tensor
    flashjit::attention_forward(Tensor q, Tensor k, Tensor v, str variant, float? scale,
        Tensor? rng, str float_names, float[] float_values, str int_names,
        SymInt[] int_values, str buffer_names, Tensor[] buffers) -> (Tensor, Tensor)
    flashjit::attention_backward(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor o,
        Tensor lse, <the forward's launch arguments from variant on>) -> (Tensor, Tensor, Tensor)

A variant's parameters travel as names (comma-joined: the schema has no
str[]) and values per kind. Dropout's seed and offset come from the
device's default CUDA generator through dropout_rng, at run time, in a CPU
int64 tensor the forward takes and autograd saves for the backward, so the
backward regenerates the forward's mask. The library is found as
flashjit.load_library says ($FLASHJIT_LIBRARY, ...); one runtime per device.
"""
import functools
import threading
from typing import List, Optional, Tuple

import torch

import flashjit

# The built-ins with a tile.dropout (the C ABI does not give their text).
_BUILTIN_DROPOUT = ("dropout", "causal_window_alibi_dropout")
# The generator's offset advances by this per launch with dropout: flashjit
# needs one offset per launch (the counter also holds the element's
# indices), and torch's CUDA generator keeps offsets multiples of 4.
_RNG_STEP = 4
_rng_lock = threading.Lock()


@functools.lru_cache(maxsize=1024)
def has_dropout(variant):
    """Whether `variant` (a built-in's name or a program's text) drops
    probabilities, so that its launches need a seed and an offset."""
    if flashjit.is_program_text(variant):
        return "tile.dropout" in variant
    return variant in _BUILTIN_DROPOUT


@functools.lru_cache(maxsize=None)
def _runtime(device_index, deterministic):
    return flashjit.Runtime(None, device_index, deterministic=deterministic)


@functools.lru_cache(maxsize=None)
def _attention(variant, device_index, deterministic):
    return _runtime(device_index, deterministic).attention(variant)


def _attention_on(variant, t):
    """The variant's Attention on t's device, created once; the
    deterministic backward when torch.use_deterministic_algorithms asks for
    one."""
    return _attention(variant, t.get_device(), torch.are_deterministic_algorithms_enabled())


# ------------------------------------------------------------ checks --

_HALF = (torch.float16, torch.bfloat16)


def _check_tensors(q, k, v):
    """Raises, before anything is launched, on inputs flashjit cannot take:
    not CUDA, not f16/bf16, not [B, H, N, D], or shapes that disagree. The
    common case is one expression; _explain_tensors names the problem."""
    try:
        qs, ks = q.shape, k.shape
        if (q.is_cuda and k.is_cuda and v.is_cuda and q.dtype in _HALF and k.dtype == q.dtype
                and v.dtype == q.dtype and len(qs) == 4 and len(ks) == 4 and ks == v.shape
                and ks[0] == qs[0] and ks[3] == qs[3] and ks[1] and qs[1] % ks[1] == 0
                and q.get_device() == k.get_device() == v.get_device()):
            return
    except AttributeError:  # not tensors: said below
        pass
    _explain_tensors(q, k, v)


def _explain_tensors(q, k, v):
    """Raises naming the first problem of inputs _check_tensors refused
    (returns for the one it lets through here: no heads at all)."""
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} is a {type(t).__name__}, not a torch.Tensor")
        if t.device.type != "cuda":
            raise ValueError(f"{name} is on {t.device}; flashjit runs on CUDA tensors")
        if t.dtype not in _HALF:
            raise TypeError(f"{name} is {t.dtype}; flashjit takes float16 or bfloat16")
        if t.dim() != 4:
            raise ValueError(f"{name} has shape {tuple(t.shape)}; flashjit takes [B, H, N, D]")
    if k.device != q.device or v.device != q.device:
        raise ValueError(f"q, k, v are on {q.device}, {k.device}, {v.device}: one device")
    if k.dtype != q.dtype or v.dtype != q.dtype:
        raise TypeError(f"q, k, v are {q.dtype}, {k.dtype}, {v.dtype}: one dtype")
    if k.shape != v.shape or k.shape[0] != q.shape[0] or k.shape[3] != q.shape[3]:
        raise ValueError(f"q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}: "
                         "k and v must be alike, with q's batch and head dim")
    if k.shape[1] == 0 and q.shape[1] == 0:
        return  # an empty problem
    if k.shape[1] == 0 or q.shape[1] % k.shape[1] != 0:
        raise ValueError(f"q has {q.shape[1]} heads, not a multiple of k's {k.shape[1]}")


def _check_devices(*tensors):
    """The operators' own guard, for callers that skip attention(): the
    runtime on q's device checks everything else (a host pointer among it)."""
    if not all(t.is_cuda for t in tensors):
        raise ValueError("flashjit runs on CUDA tensors; got tensors on "
                         f"{', '.join(str(t.device) for t in tensors)}")


def _check_buffer(name, t, device):
    if t.device != device:
        raise ValueError(f"buffer '{name}' is on {t.device}, the inputs on {device}")
    if t.dtype not in (torch.float32, torch.int32) or t.dim() not in (1, 2):
        raise TypeError(f"buffer '{name}' is {t.dtype} {tuple(t.shape)}; buffers are float32 "
                        "or int32 of rank 1 or 2")
    if t.requires_grad and torch.is_grad_enabled():
        raise ValueError(f"buffer '{name}' requires grad; flashjit gives no gradient for "
                         "buffers (pass it detached)")


def _check_dropout(variant, dropout_p):
    """dropout_p (None: not checked) must agree with the variant: the rate
    is compiled into the program and cannot be changed at launch."""
    if dropout_p is not None and (dropout_p > 0) != has_dropout(variant):
        raise ValueError(f"dropout_p={dropout_p}, but variant {_short(variant)} "
                         f"{'drops' if has_dropout(variant) else 'has no tile.dropout'}; "
                         "the rate is the program's, fixed when it is compiled")


def _short(variant):
    return repr(variant) if not flashjit.is_program_text(variant) else "(program text)"


def _launch_arguments(params, q):
    """The variant's parameters as the operators' schema carries them:
    (float names, float values, int names, int values, buffer names,
    buffers); Python floats are f32 scalars, ints i32, tensors buffers."""
    if not params:
        return "", [], "", [], "", []
    device = q.device
    kinds = {float: {}, int: {}, torch.Tensor: {}}
    for name, value in params.items():
        if "," in name:
            raise ValueError(f"parameter name {name!r} has a comma")
        if isinstance(value, torch.Tensor):
            _check_buffer(name, value, device)
            kinds[torch.Tensor][name] = value
        elif isinstance(value, (int, torch.SymInt)) and not isinstance(value, bool):
            kinds[int][name] = value
        elif isinstance(value, (float, torch.SymFloat)):
            kinds[float][name] = value
        else:
            raise TypeError(f"parameter '{name}' is a {type(value).__name__}; parameters are "
                            "floats (f32), ints (i32) or tensors (buffers)")
    return tuple(x for group in kinds.values() for x in (",".join(list(group)), list(group.values())))


# --------------------------------------------------------- operators --

def _to_int64(seed):
    """A uint64 seed in an int64 tensor's range (two's complement)."""
    return seed - 2**64 if seed >= 2**63 else seed


def _draw_rng(q):
    """(seed, offset) for one launch with dropout on q's device, as a CPU
    int64 tensor: the default CUDA generator's seed and offset, whose offset
    it then advances, as torch's own Philox users do."""
    if q.device.type != "cuda":
        raise ValueError(f"q is on {q.device}; flashjit runs on CUDA tensors")
    generator = torch.cuda.default_generators[q.device.index]
    with _rng_lock:
        seed, offset = generator.initial_seed(), generator.get_offset()
        generator.set_offset(offset + _RNG_STEP)
    return torch.tensor([_to_int64(seed), offset], dtype=torch.int64)


@torch.library.custom_op("flashjit::dropout_rng", mutates_args=())
def dropout_rng(q: torch.Tensor) -> torch.Tensor:
    """_draw_rng as an operator, for torch.compile: opaque, so it runs at
    run time; q names the device and makes each call distinct to the
    graph's common subexpressions."""
    return _draw_rng(q)


@dropout_rng.register_fake
def _(q):
    return torch.empty(2, dtype=torch.int64, device="cpu")


def _output_like(t):
    """An uninitialised tensor shaped like t, in t's layout when its head
    dim is contiguous (a [B, N, H, D] layout stays one, so transformers'
    transpose back costs nothing), else contiguous."""
    if t.stride(-1) == 1:
        return torch.empty_like(t)
    return torch.empty(t.shape, dtype=t.dtype, device=t.device)


def _forward_outputs(q):
    """O like q and the log-sum-exp, float32 [B, Hq, Nq] contiguous."""
    return _output_like(q), q.new_empty(q.shape[:3], dtype=torch.float32)


def _launchable(t):
    """Whether the kernels take t as it is: head dim contiguous, the other
    strides whole 16-byte rows, the data 16-byte aligned. A contiguous
    tensor's strides are multiples of its head dim (the runtime checks
    that is a multiple of 8) but where a dimension has one entry, whose
    stride the runtime ignores."""
    if t.is_contiguous():
        return not t.data_ptr() % 16
    b, h, n, d = t.stride()
    return d == 1 and not (b % 8 or h % 8 or n % 8 or t.data_ptr() % 16)


def _launch_layout(*tensors):
    """The tensors, each copied to a fresh contiguous one where the kernels
    cannot take it (an expanded dO, an odd view)."""
    if all(map(_launchable, tensors)):
        return tensors
    return tuple(t if _launchable(t) else torch.empty(t.shape, dtype=t.dtype,
                                                      device=t.device).copy_(t)
                 for t in tensors)


def _names(joined):
    return joined.split(",") if joined else []


def _params(scale, rng, float_names, float_values, int_names, int_values, buffer_names,
            buffers):
    """flashjit.Params from the operators' launch arguments (None, the
    defaults, when there is nothing to pass)."""
    if scale is None and rng is None and not (float_names or int_names or buffer_names):
        return None
    named = dict(zip(_names(float_names), map(float, float_values)))
    named.update(zip(_names(int_names), map(int, int_values)))
    named.update(zip(_names(buffer_names), buffers))
    seed, offset = (0, 0) if rng is None else rng.tolist()
    return flashjit.Params(softmax_scale=scale, seed=seed % 2**64, offset=offset, **named)


@torch.library.custom_op("flashjit::attention_forward", mutates_args=())
def attention_forward(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, variant: str,
                      scale: Optional[float], rng: Optional[torch.Tensor],
                      float_names: str, float_values: List[float],
                      int_names: str, int_values: List[int],
                      buffer_names: str, buffers: List[torch.Tensor]
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
    """O and the log-sum-exp of one launch on torch's current stream."""
    return _forward_launch(q, k, v, variant, scale, rng, float_names, float_values,
                           int_names, int_values, buffer_names, buffers)


def _forward_launch(q, k, v, variant, scale, rng, *launch):
    """What attention_forward does, callable without the dispatcher."""
    _check_devices(q, k, v)
    return _forward_kernels(q, k, v, variant, scale, rng, *launch)


def _forward_kernels(q, k, v, variant, scale, rng, *launch):
    """The forward launch of inputs already checked."""
    o, lse = _forward_outputs(q)
    _attention_on(variant, q)._forward_torch(*_launch_layout(q, k, v), o, lse,
                                             _params(scale, rng, *launch))
    return o, lse


@attention_forward.register_fake
def _(q, k, v, *launch):
    return _forward_outputs(q)


@torch.library.custom_op("flashjit::attention_backward", mutates_args=())
def attention_backward(dout: torch.Tensor, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                       o: torch.Tensor, lse: torch.Tensor, variant: str,
                       scale: Optional[float], rng: Optional[torch.Tensor],
                       float_names: str, float_values: List[float],
                       int_names: str, int_values: List[int],
                       buffer_names: str, buffers: List[torch.Tensor]
                       ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """dQ, dK, dV of one launch (the forward's rng: the same dropout mask)."""
    return _backward_launch(dout, q, k, v, o, lse, variant, scale, rng, float_names,
                            float_values, int_names, int_values, buffer_names, buffers)


def _backward_launch(dout, q, k, v, o, lse, variant, scale, rng, *launch):
    """What attention_backward does, callable without the dispatcher."""
    _check_devices(q, k, v)
    dq, dk, dv = _output_like(q), _output_like(k), _output_like(v)
    q, k, v, o, dout = _launch_layout(q, k, v, o, dout)
    _attention_on(variant, q).backward(q, k, v, o, lse, dout, dq, dk, dv,
                                              _params(scale, rng, *launch))
    return dq, dk, dv


@attention_backward.register_fake
def _(dout, q, k, v, *launch):
    return _output_like(q), _output_like(k), _output_like(v)


def _no_grad(argument):
    """The None that custom_op's autograd wants back for a non-tensor (or
    buffer) input, in the input's pytree structure: a list of tensors (or
    an empty list) is a node of one leaf per entry, a non-empty list of
    numbers one leaf."""
    if isinstance(argument, tuple):
        return tuple(None for _ in argument)
    if isinstance(argument, list) and all(isinstance(a, torch.Tensor) for a in argument):
        return [None] * len(argument)
    return None


def _setup_context(ctx, inputs, output):
    """Saves what the backward launch needs: the inputs, O, lse, the rng
    state (the same dropout mask) and the buffers."""
    q, k, v, variant, scale, rng, *names_and_values, buffers = inputs
    ctx.mark_non_differentiable(output[1])
    ctx.save_for_backward(q, k, v, *output, rng, *buffers)
    ctx.launch = (variant, scale, names_and_values)
    ctx.no_grads = tuple(_no_grad(a) for a in inputs[3:])


def _backward(ctx, dout, _dlse):
    q, k, v, o, lse, rng, *buffers = ctx.saved_tensors
    variant, scale, names_and_values = ctx.launch
    dq, dk, dv = attention_backward(dout, q, k, v, o, lse, variant, scale, rng,
                                    *names_and_values, buffers)
    return (dq, dk, dv, *ctx.no_grads)


attention_forward.register_autograd(_backward, setup_context=_setup_context)


class _EagerAttention(torch.autograd.Function):
    """Eager mode's path: the operators' launches without torch.library's
    dispatch, which costs ~100 us a call at small sizes (bench/NOTES.md,
    entry 11). torch.compile traces the operators instead, so a compiled
    graph and an eager step launch the same kernels with the same
    arguments."""

    @staticmethod
    def forward(ctx, q, k, v, call):
        # call: (variant, scale, rng, launch arguments, return_lse) as one
        # argument, as apply's cost grows with its arguments (buffers need
        # no gradient). lse is an output only when asked for: each output
        # costs apply a wrapper.
        variant, scale, rng, launch, return_lse = call
        o, lse = _forward_kernels(q, k, v, variant, scale, rng, *launch)
        ctx.save_for_backward(q, k, v, o, lse)
        ctx.call = call
        if not return_lse:
            return o
        ctx.mark_non_differentiable(lse)
        return o, lse

    @staticmethod
    def backward(ctx, dout, *_dlse):
        q, k, v, o, lse = ctx.saved_tensors
        variant, scale, rng, launch, _ = ctx.call
        dq, dk, dv = _backward_launch(dout, q, k, v, o, lse, variant, scale, rng, *launch)
        return dq, dk, dv, None


def _launch_forward(q, k, v, variant, scale, rng, launch, return_lse):
    """O, or (O, lse) with return_lse, through the operators under
    torch.compile, else directly (with autograd where a gradient is
    wanted)."""
    if torch.compiler.is_compiling():
        o, lse = attention_forward(q, k, v, variant, scale, rng, *launch)
    elif torch.is_grad_enabled() and (q.requires_grad or k.requires_grad or v.requires_grad):
        return _EagerAttention.apply(q, k, v, (variant, scale, rng, launch, return_lse))
    else:
        o, lse = _forward_kernels(q, k, v, variant, scale, rng, *launch)
    return (o, lse) if return_lse else o


# ------------------------------------------------------------- the API --

def attention(q, k, v, variant="full", *, scale=None, dropout_p=None, return_lse=False,
              **params):
    """Attention of q [B, Hq, Nq, D] over k, v [B, Hkv, Nkv, D] (CUDA,
    float16 or bfloat16, any strides flashjit takes; Hkv divides Hq:
    grouped-query attention without copies) by `variant`, a built-in's name
    or a tile program's text.

    scale: the softmax scale (None: 1/sqrt(D)). dropout_p: None, or a check
    that the variant drops (> 0) or not (0): the rate is the program's.
    params: the variant's parameters by name (floats f32, ints i32, tensors
    buffers). Returns O like q or, with return_lse, (O, lse float32
    [B, Hq, Nq]; no gradient flows through lse). Differentiable in q, k, v.
    """
    _check_tensors(q, k, v)
    if dropout_p is not None:
        _check_dropout(variant, dropout_p)
    launch = _launch_arguments(params, q)
    rng = None
    if has_dropout(variant):
        rng = dropout_rng(q) if torch.compiler.is_compiling() else _draw_rng(q)
    return _launch_forward(q, k, v, variant, scale, rng, launch, return_lse)


def _transformers_variant(is_causal, seqlen_q, seqlen_kv):
    """The built-in for transformers' (is_causal, Nq, Nkv): causal aligned
    bottom-right when Nq != Nkv (queries are the last tokens, a KV cache
    before them), as FlashAttention does."""
    if not is_causal:
        return "full"
    return "causal" if seqlen_q == seqlen_kv else "causal_bottom_right"


def transformers_attention(module, query, key, value, attention_mask, scaling=None,
                           dropout=0.0, **kwargs):
    """An attention function for transformers' AttentionInterface, like its
    sdpa_attention_forward: query [B, Hq, N, D], key and value
    [B, Hkv, N, D] (grouped-query attention native), causal when
    module.is_causal (or the is_causal keyword). Returns
    (attn_output [B, N, Hq, D], None). Masks are not taken: registered
    without a mask function, transformers passes attention_mask=None."""
    if attention_mask is not None:
        raise NotImplementedError("flashjit's transformers attention takes no attention_mask")
    if kwargs.get("sliding_window") is not None:
        raise NotImplementedError("flashjit's transformers attention has no sliding window")
    is_causal = kwargs.get("is_causal")
    if is_causal is None:
        is_causal = getattr(module, "is_causal", True)
    variant = _transformers_variant(is_causal, query.shape[2], key.shape[2])
    o = attention(query, key, value, variant, scale=scaling, dropout_p=dropout)
    return o.transpose(1, 2).contiguous(), None


def register_transformers(name="fjit"):
    """Registers transformers_attention with transformers'
    AttentionInterface under `name` (use attn_implementation=name).
    transformers takes names with "flash" in them for hub kernels."""
    if "flash" in name:
        raise ValueError(f"{name!r}: transformers takes names with 'flash' for hub kernels")
    from transformers import AttentionInterface
    AttentionInterface.register(name, transformers_attention)
    return name


__all__ = ["attention", "attention_backward", "attention_forward", "dropout_rng",
           "has_dropout", "register_transformers", "transformers_attention"]
