#!/usr/bin/env python3
"""Unpacks .bundle/*.xz next to themselves (the GPU machine may lack xz)."""
import lzma
import os
import sys

folder = sys.argv[1] if len(sys.argv) > 1 else ".bundle"
for name in os.listdir(folder):
    if name.endswith(".xz"):
        target = os.path.join(folder, name[:-3])
        with lzma.open(os.path.join(folder, name)) as src, open(target, "wb") as dst:
            dst.write(src.read())
        os.chmod(target, 0o755)
        print("unpacked", target)
