#!/usr/bin/env python3
"""Checks flashjit.torch, the PyTorch operator, on a GPU.

- torch.library.opcheck on flashjit::attention_forward and
  flashjit::attention_backward for causal, dropout, softcap (an f32
  parameter) and causal_window_alibi_dropout (an i32 parameter, a buffer,
  dropout), and on flashjit::dropout_rng;
- outputs, lse and gradients against SDPA in float64 on the same inputs
  (causal and full, GQA, a [B, N, H, D] layout viewed as [B, H, N, D]),
  by shared/testing.md's rule with SDPA in the input dtype as the
  low-precision implementation: max|out - ref64| <= 2 max|sdpa - ref64| + 1e-5;
- dropout, a float parameter, an int parameter and a buffer (the last from
  program text) against the float64 reference of ptx_forward_check.py with
  the seed and offset the operator drew from torch's generator, so the
  forward and the backward are shown to use the same mask;
- the same generator state gives the same output, another state another;
- a training step under torch.compile(fullgraph=True): no graph break,
  the same loss and gradients as eager, dropout drawn at run time;
- transformers' AttentionInterface function against transformers' SDPA;
- bad input raises a Python error before any launch, and the next good
  call gives the same bits as before.

Prints PASS or FAIL per check and a last line "torch_check: PASS" or
"torch_check: FAIL"; exits 1 on any failure. Usage:
    torch_check.py [LIBFLASHJIT]     (default: $FLASHJIT_LIBRARY, else flashjit's search)
"""
import copy
import math
import os
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python"))
if len(sys.argv) > 1:
    os.environ["FLASHJIT_LIBRARY"] = sys.argv[1]

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import flashjit  # noqa: E402
import flashjit.torch as fjt  # noqa: E402
import ptx_backward_check as bref  # noqa: E402
import ptx_forward_check as ref  # noqa: E402

DEV = "cuda"
RATE = 0.1  # the built-in dropout variants' compiled rate
CHECKS = []


def check(fn):
    """Registers a check: it returns a detail line or raises."""
    CHECKS.append(fn)
    return fn


def inputs(B, H, Hkv, Nq, Nkv, D, dtype, bnhd=True, seed=0):
    """q, k, v, dO with requires_grad on q, k, v; bnhd: [B, N, H, D]
    storage viewed as [B, H, N, D], as transformers hands them over."""
    g = torch.Generator(device=DEV).manual_seed(seed)

    def make(h, n, grad=True):
        shape = (B, n, h, D) if bnhd else (B, h, n, D)
        t = torch.randn(shape, device=DEV, generator=g).to(dtype)
        t = t.transpose(1, 2) if bnhd else t
        return t.requires_grad_(grad)
    return make(H, Nq), make(Hkv, Nkv), make(Hkv, Nkv), make(H, Nq, grad=False)


def grads(o, do, *leaves):
    """dO's gradients of `leaves` through o."""
    return torch.autograd.grad(o, leaves, do)


def within(name, got, ref64, lowp):
    """shared/testing.md's rule: (ok, detail)."""
    nan = torch.isnan(got).any().item()
    err = (got.double() - ref64).abs().max().item()
    tol = 2 * (lowp.double() - ref64).abs().max().item() + 1e-5
    rel = ((got.double() - ref64).norm() / ref64.norm()).item()
    ok = not nan and err <= tol
    return ok, f"{name} {err:.1e}/{tol:.1e} rel {rel:.1e}{' NaN' if nan else ''}{'' if ok else ' <--'}"


def verdict(results):
    """Joins (ok, detail) pairs; raises AssertionError if any failed."""
    detail = "; ".join(d for _, d in results)
    if not all(ok for ok, _ in results):
        raise AssertionError(detail)
    return detail


def generator():
    """The generator flashjit::dropout_rng draws from for tensors on DEV."""
    return torch.cuda.default_generators[torch.cuda.current_device()]


# ------------------------------------------------------------ opcheck --

def slopes(h):
    return torch.tensor([2.0 ** (-8.0 * (i + 1) / h) for i in range(h)], device=DEV)


OPCHECK_CASES = [("causal", {}), ("dropout", {}), ("softcap", {"softcap": 5.0}),
                 ("causal_window_alibi_dropout", {"window": 37, "slopes": slopes(4)})]


@check
def opcheck():
    """opcheck of the three operators; the deterministic backward, so that
    eager and AOT-compiled gradients are the same bits."""
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        for variant, params in OPCHECK_CASES:
            q, k, v, do = inputs(2, 4, 2, 77, 77, 64, torch.bfloat16)
            launch = fjt._launch_arguments(params, q)
            rng = fjt.dropout_rng(q.detach()) if fjt.has_dropout(variant) else None
            torch.library.opcheck(fjt.attention_forward, (q, k, v, variant, None, rng, *launch))
            with torch.no_grad():
                o, lse = fjt.attention_forward(q, k, v, variant, None, rng, *launch)
            torch.library.opcheck(fjt.attention_backward,
                                  (do, q.detach(), k.detach(), v.detach(), o, lse, variant,
                                   None, rng, *launch))
        # Its output is a fresh draw each call: no eager-vs-compiled test.
        torch.library.opcheck(fjt.dropout_rng, (q.detach(),),
                              test_utils=("test_schema", "test_faketensor"))
    finally:
        torch.use_deterministic_algorithms(False)
    return ", ".join(v for v, _ in OPCHECK_CASES) + " + dropout_rng"


# ------------------------------------------------------- against SDPA --

def sdpa(q, k, v, causal):
    return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)


def lse_of(q, k, causal, prec):
    """The log-sum-exp of the scaled scores in `prec`."""
    rep = q.shape[1] // k.shape[1]
    s = q.to(prec) @ k.to(prec).repeat_interleave(rep, 1).transpose(-1, -2) / math.sqrt(q.shape[-1])
    if causal:
        s = s.masked_fill(torch.ones(s.shape[-2:], dtype=torch.bool, device=DEV).triu(1),
                          float("-inf"))
    return torch.logsumexp(s, -1)


def against_sdpa(variant, dtype, B, H, Hkv, Nq, Nkv, D):
    causal = variant == "causal"
    q, k, v, do = inputs(B, H, Hkv, Nq, Nkv, D, dtype, seed=Nq + D)
    o, lse = fjt.attention(q, k, v, variant, return_lse=True)
    got = (o, *grads(o, do, q, k, v))
    leaves64 = [t.detach().double().requires_grad_() for t in (q, k, v)]
    o64 = sdpa(*leaves64, causal)
    ref64 = (o64, *grads(o64, do.double(), *leaves64))
    leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]
    olp = sdpa(*leaves, causal)
    lowp = (olp, *grads(olp, do, *leaves))
    results = [within(n, g, r, lp) for n, g, r, lp in zip(("o", "dq", "dk", "dv"), got, ref64, lowp)]
    lse64, lse32 = lse_of(q, k, causal, torch.float64), lse_of(q, k, causal, torch.float32)
    lerr = (lse.double() - lse64).abs().max().item()
    ltol = max(2 * (lse32.double() - lse64).abs().max().item() + 1e-5, 1e-4)
    results.append((lerr <= ltol and not lse.requires_grad, f"lse {lerr:.1e}/{ltol:.1e}"))
    return verdict(results)


def sdpa_case(variant, dtype, shape):
    def run():
        return against_sdpa(variant, dtype, *shape)
    run.__name__ = f"sdpa {variant} {str(dtype)[6:]} B,H,Hkv,Nq,Nkv,D={shape}"
    return run


for _dtype in (torch.bfloat16, torch.float16):
    for _D in (64, 128):
        check(sdpa_case("causal", _dtype, (2, 8, 2, 300, 300, _D)))
        check(sdpa_case("full", _dtype, (1, 8, 2, 200, 333, _D)))


# ---------------------------------------------- against the reference --

def reference_check(ref_variant, variant, params, extra, B=2, H=4, Hkv=2, N=200, D=64):
    """flashjit.torch.attention(variant, **params) against
    ptx_forward_check's float64 reference of ref_variant with `extra`,
    plus the seed and offset the operator drew."""
    dtype = torch.bfloat16
    q, k, v, do = inputs(B, H, Hkv, N, N, D, dtype, seed=N + len(ref_variant))
    gen = generator()
    seed, offset = gen.initial_seed(), gen.get_offset()
    o, lse = fjt.attention(q, k, v, variant, return_lse=True, **params)
    dropout = fjt.has_dropout(variant)
    drawn = gen.get_offset() - offset
    if drawn != (fjt._RNG_STEP if dropout else 0):
        raise AssertionError(f"the generator's offset moved by {drawn}")
    got = (o, *grads(o, do, q, k, v))
    if dropout:
        extra = {**extra, "dropout_rate": RATE, "seed": seed, "offset": offset}
    q, k, v = (t.detach() for t in (q, k, v))
    scale = 1 / math.sqrt(D)
    o64, lse64, olp, _ = ref.reference(ref_variant, q, k, v, scale, extra, dtype)
    g64 = bref.reference_grads(ref_variant, q, k, v, do, scale, extra, torch.float64, dtype)
    glp = bref.reference_grads(ref_variant, q, k, v, do, scale, extra, dtype, dtype)
    corr = bref.flash_delta_correction(ref_variant, q, k, v, do, scale, extra, dtype)
    glp = [g.double() + c for g, c in zip(glp, corr)]
    results = [within(n, g, r, lp) for n, g, r, lp in
               zip(("o", "dq", "dk", "dv"), got, (o64, *g64), (olp, *glp))]
    finite = torch.isfinite(lse64)
    lerr = (lse.double() - lse64)[finite].abs().max().item()
    results.append((lerr <= 1e-3, f"lse {lerr:.1e}"))
    return verdict(results)


@check
def reference_dropout():
    return reference_check("dropout", "dropout", {}, {})


@check
def reference_float_parameter():
    return reference_check("softcap", "softcap", {"softcap": 5.0}, {"softcap": 5.0})


@check
def reference_int_parameter_buffer_dropout_from_text():
    with open(os.path.join(HERE, "..", "..", "kernels", "causal_window_alibi_dropout.mlir")) as f:
        text = f.read()
    params = {"window": 37, "slopes": slopes(4)}
    return reference_check("causal_window_alibi_dropout", text, params, params)


@check
def dropout_follows_the_generator():
    q, k, v, do = inputs(1, 4, 4, 130, 130, 64, torch.bfloat16)
    gen = generator()
    offset = gen.get_offset()
    first = fjt.attention(q, k, v, "dropout")
    gen.set_offset(offset)
    again = fjt.attention(q, k, v, "dropout")
    following = fjt.attention(q, k, v, "dropout")
    same_grads = [torch.equal(a, b) for a, b in zip(grads(first, do, q, k, v),
                                                     grads(again, do, q, k, v))]
    if not torch.equal(first, again) or not all(same_grads):
        raise AssertionError("the same generator state gave different outputs or gradients")
    if torch.equal(first, following):
        raise AssertionError("the next offset gave the same output")
    return "same state: same O and gradients; next offset: another O"


# ------------------------------------------------------ torch.compile --

class TinyAttention(torch.nn.Module):
    """A projection to q, k, v (GQA 8/2 heads, d 64), flashjit attention,
    an output projection: q, k, v are strided views of one matmul."""

    def __init__(self, variant, hidden=256, heads=8, kv_heads=2, head_dim=64):
        super().__init__()
        self.variant, self.heads, self.kv_heads, self.head_dim = variant, heads, kv_heads, head_dim
        self.qkv = torch.nn.Linear(hidden, (heads + 2 * kv_heads) * head_dim, bias=False)
        self.out = torch.nn.Linear(heads * head_dim, hidden, bias=False)

    def forward(self, x):
        B, N, _ = x.shape
        H, Hkv, D = self.heads, self.kv_heads, self.head_dim
        q, k, v = self.qkv(x).split([H * D, Hkv * D, Hkv * D], dim=-1)
        q, k, v = (t.view(B, N, -1, D).transpose(1, 2) for t in (q, k, v))
        o = fjt.attention(q, k, v, self.variant)
        return self.out(o.transpose(1, 2).reshape(B, N, H * D))


def train_step(model, x):
    """One loss, backward and SGD step; returns the loss and the gradients."""
    model.zero_grad()
    loss = model(x).float().pow(2).mean()
    loss.backward()
    gradients = [p.grad.clone() for p in model.parameters()]
    with torch.no_grad():
        for p in model.parameters():
            p -= 1e-2 * p.grad
    return loss.detach(), gradients


def tiny(variant):
    torch.manual_seed(0)
    return TinyAttention(variant).to(DEV, torch.bfloat16)


@check
def compile_training_step():
    x = torch.randn(2, 256, 256, device=DEV, dtype=torch.bfloat16)
    eager = tiny("causal")
    explanation = torch._dynamo.explain(copy.deepcopy(eager))(x)
    if explanation.graph_break_count:
        raise AssertionError(f"graph breaks: {explanation.break_reasons}")
    compiled = torch.compile(copy.deepcopy(eager), fullgraph=True)
    results = []
    for step in range(2):
        loss_e, grads_e = train_step(eager, x)
        loss_c, grads_c = train_step(compiled, x)
        results.append((torch.allclose(loss_e, loss_c, rtol=1e-2),
                        f"step {step} loss {loss_e.item():.4f}/{loss_c.item():.4f}"))
        for name, ge, gc in zip(("qkv", "out"), grads_e, grads_c):
            err = ((ge.float() - gc.float()).norm() / ge.float().norm()).item()
            results.append((err < 2e-2, f"{name} grad rel {err:.1e}"))
    return f"{explanation.graph_count} graph, 0 breaks; " + verdict(results)


@check
def compile_dropout_draws_at_run_time():
    """Under torch.compile the seed and offset come at run time: each call
    advances the generator, and the same state repeats eager's output."""
    x = torch.randn(2, 128, 256, device=DEV, dtype=torch.bfloat16)
    eager = tiny("dropout")
    compiled = torch.compile(copy.deepcopy(eager), fullgraph=True)
    gen = generator()
    offset = gen.get_offset()
    o_eager = eager(x)
    gen.set_offset(offset)
    o_compiled = compiled(x)
    o_next = compiled(x)
    moved = gen.get_offset() - offset
    loss_c = compiled(x).float().pow(2).mean()
    loss_c.backward()
    results = [(moved == 2 * fjt._RNG_STEP, f"offset moved {moved} in 2 calls"),
               (torch.allclose(o_eager, o_compiled, rtol=2e-2, atol=2e-2),
                f"same state vs eager: {(o_eager - o_compiled).abs().max().item():.1e}"),
               (not torch.allclose(o_compiled, o_next, rtol=2e-2, atol=2e-2),
                f"next call differs by {(o_compiled - o_next).abs().max().item():.1e}"),
               (all(torch.isfinite(p.grad).all() for p in compiled.parameters()),
                "backward finite")]
    return verdict(results)


# ------------------------------------------------------- transformers --

@check
def transformers_function():
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    class Module(torch.nn.Module):
        is_causal = True
        num_key_value_groups = 4

    name = fjt.register_transformers()
    q, k, v, _ = inputs(2, 8, 2, 160, 160, 64, torch.bfloat16)
    q, k, v = (t.detach() for t in (q, k, v))
    scaling = 0.125
    got, weights = fjt.transformers_attention(Module(), q, k, v, None, scaling=scaling)
    lowp, _ = sdpa_attention_forward(Module(), q, k, v, None, scaling=scaling)
    ref64, _ = sdpa_attention_forward(Module(), q.double(), k.double(), v.double(), None,
                                      scaling=scaling)
    results = [(name == "fjit" and weights is None and got.shape == (2, 160, 8, 64)
                and got.is_contiguous(), f"registered {name!r}, output {tuple(got.shape)}"),
               within("o", got, ref64, lowp)]
    return verdict(results)


# ---------------------------------------------------------- bad input --

@check
def bad_input_leaves_the_process_healthy():
    q, k, v, _ = inputs(1, 8, 2, 64, 64, 64, torch.bfloat16)
    q, k, v = (t.detach() for t in (q, k, v))
    good = fjt.attention(q, k, v, "causal")
    three = k[:, :1].expand(1, 3, 64, 64)
    bad = [  # (what, the error, a part of its message, args, keywords)
        ("CPU tensors", ValueError, "is on cpu", (q.cpu(), k.cpu(), v.cpu(), "causal"), {}),
        ("float32", TypeError, "float32", (q.float(), k.float(), v.float(), "causal"), {}),
        ("heads 8 over 3", ValueError, "not a multiple", (q, three, three, "causal"), {}),
        ("a str parameter", TypeError, "is a str", (q, k, v, "sliding_window"), {"window": "4"}),
        ("a CPU buffer", ValueError, "buffer 'slopes'", (q, k, v, "alibi"),
         {"slopes": slopes(8).cpu()}),
        ("dropout_p on causal", ValueError, "has no tile.dropout", (q, k, v, "causal"),
         {"dropout_p": 0.1}),
        ("head dim 48", flashjit.FlashjitError, "head dim 48",
         (q[..., :48], k[..., :48], v[..., :48], "causal"), {}),
        ("a missing parameter", flashjit.FlashjitError, "needs the parameter 'window'",
         (q, k, v, "sliding_window"), {}),
    ]
    results = []
    for what, error, text, args, kwargs in bad:
        try:
            fjt.attention(*args, **kwargs)
            raised = "nothing"
        except error as e:
            raised = type(e).__name__ if text in str(e) else f"{type(e).__name__}: {e}"
        same = torch.equal(fjt.attention(q, k, v, "causal"), good)
        results.append((raised == error.__name__ and same,
                        f"{what}: {raised}{'' if same else ', then other bits'}"))
    return verdict(results)


def main():
    failures = 0
    for fn in CHECKS:
        try:
            detail, ok = fn(), True
        except Exception as e:  # a check's failure, reported with the others
            detail, ok = f"{type(e).__name__}: {e}", False
            traceback.print_exc()
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'} {fn.__name__}: {detail}", flush=True)
    print(f"{len(CHECKS) - failures} passed, {failures} failed")
    print(f"torch_check: {'FAIL' if failures else 'PASS'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
