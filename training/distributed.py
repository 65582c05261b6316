"""Data-parallel training across processes (e.g. `accelerate launch --cpu --num_processes 2`), gloo backend.

Every process holds the full model; each takes its share of every batch and gradients are averaged with
all-reduce, which is what DistributedDataParallel does, without wrapping the task modules."""
from __future__ import annotations

import os

import torch
import torch.distributed as dist


def init_from_env() -> None:
    """Join the process group when launched with WORLD_SIZE > 1 (accelerate launch / torchrun set it)."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and dist.is_available() and not dist.is_initialized():
        dist.init_process_group("gloo")


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if world_size() > 1 else 0


def is_main() -> bool:
    return rank() == 0


def average_gradients(params: list[torch.nn.Parameter]) -> None:
    """Average gradients over all processes (a parameter without a gradient counts as zero)."""
    n = world_size()
    if n == 1:
        return
    for param in params:
        if param.grad is None:
            param.grad = torch.zeros_like(param)
        dist.all_reduce(param.grad, op=dist.ReduceOp.SUM)
        param.grad /= n


def barrier() -> None:
    if world_size() > 1:
        dist.barrier()
