#!/usr/bin/env python3
"""flashjit next to its peers, in one process, on the same tensors.

Providers: flashjit through its C ABI (the flashjit package in bindings/python), torch
SDPA's flash backend (FlashAttention-2) and cuDNN backend, FlexAttention
under torch.compile, and the naive materialised attention. Timing:
triton.testing.do_bench (25 ms warm-up, 100 ms timed, median), as in
shared/reference/peers-h100.md. FLOPs: 4 B H N^2 D for the forward times
the unmasked fraction (1/2 causal, the exact fraction for a sliding
window); the backward alone counts 2.5x that.

Writes under OUT: results.json, results.md and, where matplotlib exists,
results.png (TFLOP/s against N, one line per provider).

    side_by_side.py LIBFLASHJIT OUT [--dims 64,128] [--dtypes bf16,fp16]
                    [--ns 512,...] [--no-flex] [--no-variants] [--no-memory]
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F
import triton.testing
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bindings", "python"))
import flashjit  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
WINDOW, SOFTCAP = 1024, 30.0


def median_ms(fn, grad_to_none=None):
    return triton.testing.do_bench(fn, warmup=25, rep=100, grad_to_none=grad_to_none,
                                   return_mode="median")


def unmasked_fraction(variant, n):
    if variant == "full":
        return 1.0
    if variant == "sliding_window":
        w = min(WINDOW, n)
        return (w * (w + 1) / 2 + (n - w) * w) / (n * n)
    return 0.5  # causal and everything on top of it, as the peers' table counts it


def alibi_slopes(h, device):
    return torch.tensor([2.0 ** (-8.0 * (i + 1) / h) for i in range(h)], device=device)


# --- the providers: each returns (forward fn, backward fn) or raises -------

class Flashjit:
    def __init__(self, library, row_tiles_per_warp=None, deterministic=False, name=None):
        # Forced tilings, the deterministic backward and a second build of the
        # library are A/B experiments, timed as providers of their own.
        self.name = name or ("flashjit" if row_tiles_per_warp is None else f"flashjit-t{row_tiles_per_warp}") + \
            ("-det" if deterministic else "")
        self.rt = flashjit.Runtime(library, row_tiles_per_warp=row_tiles_per_warp,
                                   deterministic=deterministic)
        self.cache = {}

    def attention(self, variant):
        if variant not in self.cache:
            if variant in ("full", "causal", "sliding_window"):
                self.cache[variant] = self.rt.builtin(variant)
            else:
                with open(os.path.join(HERE, "programs", variant + ".mlir")) as f:
                    self.cache[variant] = self.rt.from_text(f.read())
        return self.cache[variant]

    def make(self, variant, q, k, v, do):
        att = self.attention(variant)
        B, H, N, D = q.shape
        named = {}
        if variant == "sliding_window":
            named["window"] = WINDOW
        if variant == "alibi_causal":
            named["slopes"] = alibi_slopes(H, q.device)
        if variant == "softcap_causal":
            named["softcap"] = SOFTCAP
        params = flashjit.Params(**named)
        o = torch.empty_like(q)
        lse = torch.empty(B, H, N, device=q.device, dtype=torch.float32)
        dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)

        def fwd():
            att.forward(q, k, v, o, lse, params)

        def bwd():
            att.backward(q, k, v, o, lse, do, dq, dk, dv, params)
        fwd()
        return fwd, bwd, o

    def forward_alloc(self, variant, q, k, v):
        """One forward that allocates its outputs, for the memory table."""
        o = torch.empty_like(q)
        lse = torch.empty(q.shape[:3], device=q.device, dtype=torch.float32)
        self.attention(variant).forward(q, k, v, o, lse)
        return o


def autograd_pair(forward, q, k, v, do):
    """Times the forward alone, and the backward alone via retain_graph."""
    qg, kg, vg = (t.detach().clone().requires_grad_() for t in (q, k, v))
    out = forward(qg, kg, vg)

    def fwd():
        with torch.no_grad():
            forward(q, k, v)

    def bwd():
        out.backward(do, retain_graph=True)
    return fwd, bwd, out.detach(), [qg, kg, vg]


class TorchProvider:
    """A peer that torch differentiates: `call` is its attention, `supports`
    says which shapes it is timed on."""

    def supports(self, variant, q):
        return variant in ("full", "causal")

    def make(self, variant, q, k, v, do):
        if not self.supports(variant, q):
            raise NotImplementedError
        return autograd_pair(lambda a, b, c: self.call(variant, a, b, c), q, k, v, do)

    def forward_alloc(self, variant, q, k, v):
        return self.call(variant, q, k, v)


class Sdpa(TorchProvider):
    def __init__(self, name, backend):
        self.name, self.backend = name, backend

    def call(self, variant, q, k, v):
        with sdpa_kernel(self.backend):
            return F.scaled_dot_product_attention(q, k, v, is_causal=(variant == "causal"))


class Naive(TorchProvider):
    name = "naive"

    def call(self, variant, q, k, v):
        n = q.shape[2]
        s = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))
        if variant == "causal":
            s = s.masked_fill(torch.ones(n, n, device=q.device, dtype=torch.bool).triu(1), float("-inf"))
        return torch.softmax(s.float(), dim=-1).to(q.dtype) @ v

    def supports(self, variant, q):
        B, H, N, _ = q.shape
        return super().supports(variant, q) and B * H * N * N <= 2 ** 32


class Flex(TorchProvider):
    name = "flex"

    def __init__(self, ns, dtypes):
        # Each shape costs FlexAttention a compile of its own: time it on a
        # subset of the sweep to keep the whole run inside one device call.
        self.ns, self.dtypes = ns, dtypes
        import torch._dynamo
        from torch.nn.attention import flex_attention as fa
        torch._dynamo.config.cache_size_limit = 1024
        if hasattr(torch._dynamo.config, "recompile_limit"):
            torch._dynamo.config.recompile_limit = 1024
        self.fa = fa
        self.compiled = torch.compile(fa.flex_attention, dynamic=False)
        self.masks = {}

    def mods(self, variant, H, N, device):
        causal = lambda b, h, qi, ki: qi >= ki  # noqa: E731
        window = lambda b, h, qi, ki: (qi >= ki) & (qi - ki < WINDOW)  # noqa: E731
        score_mod = None
        if variant == "alibi_causal":
            slopes = alibi_slopes(H, device)
            score_mod = lambda s, b, h, qi, ki: s + slopes[h] * (ki - qi)  # noqa: E731
        if variant == "softcap_causal":
            score_mod = lambda s, b, h, qi, ki: SOFTCAP * torch.tanh(s / SOFTCAP)  # noqa: E731
        mask_mod = {"full": None, "sliding_window": window}.get(variant, causal)
        key = (variant, N)
        if mask_mod is not None and key not in self.masks:
            self.masks[key] = self.fa.create_block_mask(mask_mod, None, None, N, N, device=device)
        return score_mod, self.masks.get(key)

    def supports(self, variant, q):
        return q.shape[2] in self.ns and q.dtype in self.dtypes

    def call(self, variant, q, k, v):
        score_mod, block_mask = self.mods(variant, q.shape[1], q.shape[2], q.device)
        return self.compiled(q, k, v, score_mod=score_mod, block_mask=block_mask)


# --- the runs ---------------------------------------------------------------

def time_shape(providers, variant, dtype_name, D, N, rows):
    dtype = DTYPES[dtype_name]
    B, H = max(16384 // N, 1), 2048 // D
    g = torch.Generator(device="cuda").manual_seed(N + D)
    q, k, v, do = (torch.randn(B, H, N, D, device="cuda", dtype=dtype, generator=g) for _ in range(4))
    flops = 4 * B * H * N * N * D * unmasked_fraction(variant, N)
    outputs = {}
    for p in providers:
        for pass_name in ("fwd", "bwd"):
            row = {"provider": p.name, "variant": variant, "dtype": dtype_name, "D": D, "N": N,
                   "B": B, "H": H, "pass": pass_name, "ms": None, "tflops": None}
            rows.append(row)
        try:
            fwd, bwd, out, *grads = p.make(variant, q, k, v, do)
            outputs[p.name] = out
            for pass_name, fn, mult in (("fwd", fwd, 1.0), ("bwd", bwd, 2.5)):
                ms = median_ms(fn, grad_to_none=grads[0] if grads else None)
                row = next(r for r in rows[-2:] if r["pass"] == pass_name)
                row["ms"], row["tflops"] = ms, mult * flops / ms / 1e9
        except NotImplementedError:
            pass
        except (torch.OutOfMemoryError, RuntimeError, flashjit.FlashjitError) as e:
            print(f"  {p.name} {variant} d={D} {dtype_name} N={N}: {str(e).splitlines()[0]}", flush=True)
        torch.cuda.empty_cache()
    # A sanity check on the timed tensors: flashjit's O next to every other provider's.
    if "flashjit" in outputs:
        for name, out in outputs.items():
            if name != "flashjit":
                diff = (outputs["flashjit"].float() - out.float()).abs().max().item()
                for r in rows:
                    if (r["provider"], r["variant"], r["dtype"], r["D"], r["N"]) == \
                            ("flashjit", variant, dtype_name, D, N):
                        r.setdefault("max_abs_diff", {})[name] = diff
    line = " ".join(f"{r['provider']}:{r['pass']}={r['tflops']:.0f}" for r in rows
                    if r["tflops"] and (r["variant"], r["dtype"], r["D"], r["N"]) == (variant, dtype_name, D, N))
    print(f"{variant:15s} d={D} {dtype_name} N={N:5d} {line}", flush=True)


def peak_extra_memory(providers, rows):
    """Peak device memory one causal forward adds on top of Q, K, V
    (B=1, H=16, D=128, bf16): what torch's allocator saw. flashjit's
    forward allocates nothing itself; its O and lse come from torch here."""
    for N in (4096, 16384, 65536):
        q, k, v = (torch.randn(1, 16, N, 128, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        for p in providers:
            entry = {"provider": p.name, "N": N, "mib": None}
            try:
                if isinstance(p, Naive) and N > 16384:
                    raise torch.OutOfMemoryError("skipped: would need {:.0f} GiB".format(16 * N * N * 6 / 2**30))
                if isinstance(p, Flex):  # the block mask is built once per shape, not per call
                    p.mods("causal", q.shape[1], N, q.device)
                torch.cuda.synchronize()
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats()
                base = torch.cuda.memory_allocated()
                with torch.no_grad():
                    out = p.forward_alloc("causal", q, k, v)
                torch.cuda.synchronize()
                entry["mib"] = (torch.cuda.max_memory_allocated() - base) / 2 ** 20
                del out
            except torch.OutOfMemoryError:
                entry["mib"] = "OOM"
            except (NotImplementedError, RuntimeError, flashjit.FlashjitError) as e:
                entry["error"] = str(e).splitlines()[0]
            rows.append(entry)
        print("memory N=%d: %s" % (N, ", ".join(f"{r['provider']}={r['mib']}" for r in rows[-len(providers):])),
              flush=True)
        del q, k, v
        torch.cuda.empty_cache()


def write_markdown(path, meta, rows, memory):
    names = []
    for r in rows:
        if r["provider"] not in names:
            names.append(r["provider"])
    keys = []
    for r in rows:
        key = (r["D"], r["dtype"], r["N"], r["variant"], r["pass"])
        if key not in keys:
            keys.append(key)
    table = {(r["D"], r["dtype"], r["N"], r["variant"], r["pass"], r["provider"]): r for r in rows}
    with open(path, "w") as f:
        f.write(f"# flashjit side by side: {meta['gpu']}, {meta['date']}, commit {meta['commit']}\n\n")
        f.write(f"torch {meta['torch']}, TFLOP/s (median of triton do_bench); B·N = 16384, H·D = 2048. "
                "`vs FA2`: flashjit / torch SDPA flash.\n\n")
        f.write("| D | dtype | N | variant | pass | " + " | ".join(names) + " | vs FA2 |\n")
        f.write("|---" * (6 + len(names)) + "|\n")
        for key in keys:
            cells = []
            for n in names:
                r = table.get(key + (n,))
                cells.append(f"{r['tflops']:.0f}" if r and r["tflops"] else "–")
            ours, fa2 = table.get(key + ("flashjit",)), table.get(key + ("fa2",))
            ratio = (f"{ours['tflops'] / fa2['tflops']:.2f}×"
                     if ours and fa2 and ours["tflops"] and fa2["tflops"] else "–")
            f.write("| " + " | ".join(str(x) for x in key) + " | " + " | ".join(cells) + f" | {ratio} |\n")
        if memory:
            f.write("\nPeak extra device memory of one causal forward, B=1, H=16, D=128, bf16 (MiB):\n\n")
            mnames = []
            for m in memory:
                if m["provider"] not in mnames:
                    mnames.append(m["provider"])
            f.write("| N | " + " | ".join(mnames) + " |\n" + "|---" * (1 + len(mnames)) + "|\n")
            for N in sorted({m["N"] for m in memory}):
                cells = []
                for n in mnames:
                    m = next(x for x in memory if x["N"] == N and x["provider"] == n)
                    val = m["mib"]
                    cells.append(f"{val:.0f}" if isinstance(val, float) else (val or "–"))
                f.write(f"| {N} | " + " | ".join(cells) + " |\n")


def plot(path, rows):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no matplotlib here: run bench/plot.py on results.json", flush=True)
        return False
    panels = sorted({(r["D"], r["dtype"], r["variant"], r["pass"]) for r in rows},
                    key=lambda p: (p[2], p[0], p[1], p[3]))
    cols = 4
    fig, axes = plt.subplots(math.ceil(len(panels) / cols), cols, figsize=(5 * cols, 3.6 * math.ceil(len(panels) / cols)),
                             squeeze=False)
    for ax, (D, dt, variant, pass_name) in zip(axes.flat, panels):
        for name in dict.fromkeys(r["provider"] for r in rows):
            pts = sorted((r["N"], r["tflops"]) for r in rows if r["provider"] == name and r["tflops"]
                         and (r["D"], r["dtype"], r["variant"], r["pass"]) == (D, dt, variant, pass_name))
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name,
                        linewidth=2.5 if name == "flashjit" else 1.2)
        ax.set_xscale("log", base=2)
        ax.set_title(f"{variant} {pass_name} d={D} {dt}", fontsize=10)
        ax.set_xlabel("N")
        ax.set_ylabel("TFLOP/s")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("library")
    ap.add_argument("out")
    ap.add_argument("--dims", default="64,128")
    ap.add_argument("--dtypes", default="bf16,fp16")
    ap.add_argument("--ns", default="512,1024,2048,4096,8192,16384")
    ap.add_argument("--variants-ns", default="1024,4096,16384")
    ap.add_argument("--row-tiles", default="",
                    help="also time flashjit with these forced forward row tiles per warp (e.g. 1,2)")
    ap.add_argument("--deterministic", action="store_true",
                    help="also time flashjit's deterministic backward (flashjit-det)")
    ap.add_argument("--ab-library", action="append", default=[], metavar="NAME=PATH",
                    help="another build of libflashjit.so, timed as provider flashjit-NAME "
                         "(repeatable; its kernels have their own cache keys)")
    ap.add_argument("--no-flex", action="store_true")
    ap.add_argument("--flex-ns", default="1024,4096,16384")
    ap.add_argument("--flex-dtypes", default="bf16")
    ap.add_argument("--no-variants", action="store_true")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--commit", default=os.environ.get("FLASHJIT_COMMIT", "unknown"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    started = time.time()

    fj = Flashjit(args.library)
    providers = [fj] + [Flashjit(args.library, int(t)) for t in args.row_tiles.split(",") if t]
    if args.deterministic:
        providers.append(Flashjit(args.library, deterministic=True))
    for spec in args.ab_library:
        name, path = spec.split("=", 1)
        providers.append(Flashjit(path, name=f"flashjit-{name}"))
    providers += [Sdpa("fa2", SDPBackend.FLASH_ATTENTION), Sdpa("cudnn", SDPBackend.CUDNN_ATTENTION)]
    if not args.no_flex:
        providers.append(Flex([int(x) for x in args.flex_ns.split(",")],
                              [DTYPES[x] for x in args.flex_dtypes.split(",")]))
    providers.append(Naive())
    dims = [int(x) for x in args.dims.split(",")]
    rows, memory = [], []
    meta = {"gpu": torch.cuda.get_device_name(), "date": time.strftime("%Y-%m-%d"), "commit": args.commit,
            "torch": torch.__version__}

    def save():
        # After every shape, so that a run cut short still leaves its table.
        meta["seconds"] = round(time.time() - started)
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump({"meta": meta, "rows": rows, "memory": memory}, f, indent=1)
        write_markdown(os.path.join(args.out, "results.md"), meta, rows, memory)

    for dtype_name in args.dtypes.split(","):
        for D in dims:
            for N in (int(x) for x in args.ns.split(",")):
                for variant in ("full", "causal"):
                    time_shape(providers, variant, dtype_name, D, N, rows)
                    save()
    if not args.no_variants:
        peers = [p for p in providers if p.name.startswith("flashjit") or p.name == "flex"]
        for D in dims:
            for N in (int(x) for x in args.variants_ns.split(",")):
                for variant in ("sliding_window", "alibi_causal", "softcap_causal"):
                    time_shape(peers, variant, "bf16", D, N, rows)
                    save()
    if not args.no_memory:
        peak_extra_memory(providers, memory)
    save()
    plot(os.path.join(args.out, "results.png"), rows)
    print(f"done in {meta['seconds']} s", flush=True)


if __name__ == "__main__":
    main()
