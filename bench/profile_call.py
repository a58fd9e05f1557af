#!/usr/bin/env python3
"""cProfile of flashjit.torch.attention's Python at B 1, H 8, N 128, D 64
(the calls bench/overhead.py times): where a call's host time goes, by
function, sorted by own time. Profiling inflates small functions; read
the order, not the microseconds.

    bench/profile_call.py [--library PATH] [--calls 5000]
"""
import argparse
import cProfile
import os
import pstats
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings",
                                "python"))
import flashjit.torch as fjt  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library")
    ap.add_argument("--calls", type=int, default=5000)
    args = ap.parse_args()
    if args.library:
        os.environ["FLASHJIT_LIBRARY"] = args.library
    q, k, v = (torch.randn(1, 8, 128, 64, device="cuda", dtype=torch.bfloat16,
                           requires_grad=True) for _ in range(3))
    for grad in (False, True):
        def call():
            with torch.set_grad_enabled(grad):
                for _ in range(args.calls):
                    fjt.attention(q, k, v, "causal")
        call()
        torch.cuda.synchronize()
        profile = cProfile.Profile()
        profile.runcall(call)
        print(f"== autograd {grad}: {args.calls} calls")
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
