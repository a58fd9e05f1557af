#!/usr/bin/env python3
"""Trains a small Llama twice, with PyTorch's SDPA and with flashjit, and
checks that the two loss curves agree.

flashjit enters transformers through flashjit.torch.register_transformers(),
which registers its attention function as attn_implementation "fjit"
(transformers takes names with "flash" in them for hub kernels). The model:
LlamaForCausalLM, 4 layers, hidden 256, 8 query heads over 2 key/value heads
(grouped-query attention, which flashjit takes without repeating K and V),
head dim 64, bf16 on the GPU. Both runs start from the same weights and see
the same random tokens; only the attention differs. Prints both curves and
PASS or FAIL; exits 1 on FAIL.

    examples/python/train.py [--library build/lib/libflashjit.so] [--steps 20]
"""
import argparse
import copy
import os
import sys

import torch
from transformers import LlamaConfig, LlamaForCausalLM

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "bindings", "python"))
import flashjit.torch as fjt  # noqa: E402

# Both runs see the same weights and tokens and differ only in the attention
# kernel: two exact attentions whose outputs differ by rounding (each rounds
# P and O to bf16, a few bf16 ulps apart). The loss is a float32 mean over
# 8 x 255 next-token targets, so those roundings mostly average out, and what
# is left is the drift they cause through 20 AdamW steps. 2e-2 is below one
# bf16 ulp of the loss itself (it lies in [4, 8), where bf16's spacing is
# 2^-5 = 0.031): the curves must agree to bf16 resolution. A real error is far
# larger: a mask that lets a token see the one it predicts sends the loss down
# by whole units within a few steps; a wrong scale or head mapping is another
# function and another trajectory.
TOLERANCE = 2e-2


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library", help="libflashjit.so (default: $FLASHJIT_LIBRARY, else "
                    "flashjit's search)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seqlen", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    return ap.parse_args()


def make_model(seqlen):
    """The model in bf16 on the GPU, from seed 0, with SDPA."""
    config = LlamaConfig(vocab_size=1024, hidden_size=256, intermediate_size=768,
                         num_hidden_layers=4, num_attention_heads=8, num_key_value_heads=2,
                         head_dim=64, max_position_embeddings=seqlen, attention_dropout=0.0,
                         use_cache=False)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to("cuda", torch.bfloat16)
    model.set_attn_implementation("sdpa")
    return model


def tokens(steps, batch, seqlen):
    """Uniformly random tokens from the first quarter of the vocabulary, so
    that the loss has somewhere to go (from ln 1024 towards ln 256)."""
    g = torch.Generator().manual_seed(1)
    return torch.randint(0, 256, (steps, batch, seqlen), generator=g).cuda()


def train(model, attn_implementation, data, lr):
    """The loss of each step of AdamW on `data` with that attention."""
    model.set_attn_implementation(attn_implementation)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    for batch in data:
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    return losses


def main():
    args = parse_args()
    if args.library:
        os.environ["FLASHJIT_LIBRARY"] = args.library  # read when the runtime is made
    name = fjt.register_transformers()
    data = tokens(args.steps, args.batch, args.seqlen)
    sdpa_model = make_model(args.seqlen)
    fjit_model = copy.deepcopy(sdpa_model)
    sdpa = train(sdpa_model, "sdpa", data, args.lr)
    fjit = train(fjit_model, name, data, args.lr)
    print(f"{'step':>4} {'sdpa':>8} {name:>8} {'delta':>9}")
    for step, (a, b) in enumerate(zip(sdpa, fjit)):
        print(f"{step:4d} {a:8.4f} {b:8.4f} {b - a:+9.2e}")
    worst = max(abs(a - b) for a, b in zip(sdpa, fjit))
    ok = worst < TOLERANCE and sdpa[-1] < sdpa[0] - 0.1
    print(f"train: {'PASS' if ok else 'FAIL'}: largest |delta| {worst:.2e} "
          f"(bound {TOLERANCE:g}); loss {sdpa[0]:.3f} -> {sdpa[-1]:.3f}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
