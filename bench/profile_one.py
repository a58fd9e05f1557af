#!/usr/bin/env python3
"""One forward and one backward of one provider at one shape, inside a CUDA
profiler range, for `ncu --profile-from-start off` (bench/device_run.sh's
profile step). Shapes follow side_by_side.py: B*N = 16384, H*D = 2048.

    profile_one.py LIBFLASHJIT {flashjit,flashjit-t2,flashjit-det,fa2,cudnn} VARIANT D N
"""
import sys

import torch
from torch.nn.attention import SDPBackend

import side_by_side as sbs


def main():
    library, provider, variant, D, N = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    if provider.startswith("flashjit"):
        deterministic = provider.endswith("-det")
        name = provider[:-len("-det")] if deterministic else provider
        tiles = int(name[len("flashjit-t"):]) if name.startswith("flashjit-t") else None
        p = sbs.Flashjit(library, tiles, deterministic)
    else:
        p = sbs.Sdpa(provider, {"fa2": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}[provider])
    B, H = 16384 // N, 2048 // D
    q, k, v, do = (torch.randn(B, H, N, D, device="cuda", dtype=torch.bfloat16) for _ in range(4))
    fwd, bwd, _ = p.make(variant, q, k, v, do)[:3]
    fwd(), bwd()  # compile and warm up outside the range
    torch.cuda.synchronize()
    torch.cuda.profiler.start()
    fwd()
    bwd()
    torch.cuda.synchronize()
    torch.cuda.profiler.stop()


if __name__ == "__main__":
    main()
