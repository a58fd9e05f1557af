#!/usr/bin/env python3
"""Unpacks .bundle/*.xz next to themselves, in parallel (the GPU machine may
lack xz)."""
import lzma
import os
import sys
from concurrent.futures import ProcessPoolExecutor


def unpack(path):
    target = path[:-3]
    with lzma.open(path) as src, open(target, "wb") as dst:
        dst.write(src.read())
    os.chmod(target, 0o755)
    return target


if __name__ == "__main__":
    folder = sys.argv[1] if len(sys.argv) > 1 else ".bundle"
    packed = [os.path.join(folder, n) for n in sorted(os.listdir(folder)) if n.endswith(".xz")]
    with ProcessPoolExecutor() as pool:
        for target in pool.map(unpack, packed):
            print("unpacked", target)
