"""Time the stance recipe's training step with glibc's default allocator settings, then with
``training.allocator.keep_freed_memory`` (what `newslens train` sets), in one process; prints both and the ratio.

    python benchmarks/train_step_malloc.py [--model all-mpnet-base-v2] [--steps 20]

The step is the shipped recipe's: rank-16 adapters above the lowest 6 blocks, whose output the frozen-layer cache
replays (``training.pair_cache.FrozenLayerCache``), bf16 autocast, batch 16 x 256 tokens, AdamW.
"""
from __future__ import annotations

import argparse
import resource
import time

import torch

from model.pair_classifier import PairClassifier
from training.allocator import keep_freed_memory
from training.pair_cache import FrozenLayerCache


def make_step(model: str, frozen: int, batch: int, length: int):
    """One training step as `newslens train stance` runs it with a frozen-layer cache: the cached lower blocks'
    output replayed through the adapted upper blocks (``FrozenLayerCache.logits``), loss, backward, AdamW."""
    torch.manual_seed(0)
    pairs = PairClassifier(model, ["agree", "disagree", "discuss"], length, attention_dropout=0.0,
                           frozen_layers=frozen, lora_rank=16, lora_alpha=32)
    pairs.train()
    opt = torch.optim.AdamW([p for p in pairs.parameters() if p.requires_grad], lr=3e-4)
    claims = [f"Claim number {i}: the ministry denied that troops crossed the border" for i in range(batch)]
    evidence = [" ".join(f"Sentence {j} of report {i} says officials met on Monday." for j in range(40))
                for i in range(batch)]  # longer than ``length``: every pair is cut to the full width
    cache = FrozenLayerCache(pairs)
    cache.fill(list(zip(claims, evidence)), bf16=True)
    labels = torch.randint(0, 3, (batch,))

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = cache.logits(claims, evidence)
        torch.nn.functional.cross_entropy(logits.float(), labels).backward()
        opt.step()
        opt.zero_grad()

    return step


def timed(step, steps: int) -> tuple[float, float]:
    """(seconds per step, minor page faults per step) after 3 warm-up steps."""
    for _ in range(3):
        step()
    faults, began = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - began) / steps, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="all-mpnet-base-v2")
    parser.add_argument("--frozen-layers", type=int, default=6)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(min(torch.get_num_threads(), 8))
    step = make_step(args.model, args.frozen_layers, 16, 256)
    before = timed(step, args.steps)
    print(f"glibc defaults:      {before[0]:.3f} s/step, {before[1]:.0f} minor page faults/step", flush=True)
    if not keep_freed_memory():
        print("keep_freed_memory() changed nothing here (not glibc, or NEWSLENS_MALLOPT=0)")
        return
    after = timed(step, args.steps)
    print(f"keep_freed_memory(): {after[0]:.3f} s/step, {after[1]:.0f} minor page faults/step")
    print(f"ratio: {before[0] / after[0]:.2f}x")


if __name__ == "__main__":
    main()
