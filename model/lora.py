"""Low-rank adapters on a transformer's linear layers: fine-tune (and ship) a few MB instead of the whole encoder."""
from __future__ import annotations

import math
import re

import torch
from torch import nn

TRAINED_NORM = "LayerNorm"  # layer norms train beside the adapters (a few thousand weights per block)


class LoRALinear(nn.Module):
    """``base(x) + scale * x A^T B^T`` with ``base`` frozen; B starts at zero, so training starts from the base model."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        self.base = base
        self.base.weight.requires_grad_(False)
        if self.base.bias is not None:
            self.base.bias.requires_grad_(False)
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_a.to(x.dtype).T @ self.lora_b.to(x.dtype).T) * self.scale

    def merged(self) -> nn.Linear:
        """A plain linear layer computing the same function (for fast inference copies)."""
        out = nn.Linear(self.base.in_features, self.base.out_features, bias=self.base.bias is not None)
        with torch.no_grad():
            delta = (self.lora_b.float() @ self.lora_a.float()) * self.scale
            out.weight.copy_(self.base.weight.float() + delta)
            if self.base.bias is not None:
                out.bias.copy_(self.base.bias.float())
        return out.to(self.base.weight.dtype)


def block_index(name: str) -> int | None:
    """The transformer block a parameter or module name lies in (``...layer.<i>...``), or None outside the blocks."""
    match = re.search(r"(?:^|\.)layer\.(\d+)(?:\.|$)", name)
    return int(match.group(1)) if match else None


def add_lora(encoder: nn.Module, rank: int, alpha: float, skip_layers: int = 0) -> int:
    """Freeze ``encoder`` and put adapters on every linear layer inside its transformer blocks from block
    ``skip_layers`` up; those blocks' layer norms stay trainable. The lowest ``skip_layers`` blocks stay exactly as
    pretrained, so backpropagation stops above them (a cheaper training step). Returns how many layers got adapters
    (0 means the naming is not one this knows: an error upstream)."""
    for param in encoder.parameters():
        param.requires_grad_(False)
    def trained(name: str) -> bool:
        block = block_index(name)
        return block is not None and block >= skip_layers

    targets = [(name, module) for name, module in encoder.named_modules()
               if isinstance(module, nn.Linear) and trained(name)]
    for name, module in targets:
        parent_name, _, child = name.rpartition(".")
        setattr(encoder.get_submodule(parent_name), child, LoRALinear(module, rank, alpha))
    for name, param in encoder.named_parameters():
        if TRAINED_NORM in name and trained(name):
            param.requires_grad_(True)
    return len(targets)


def merge_lora(module: nn.Module) -> nn.Module:
    """``module`` with every adapter folded into its linear layer, in place (call it on a copy)."""
    for name, child in list(module.named_modules()):
        if isinstance(child, LoRALinear):
            parent_name, _, attr = name.rpartition(".")
            parent = module.get_submodule(parent_name) if parent_name else module
            setattr(parent, attr, child.merged())
    return module


def is_adapter_weight(name: str) -> bool:
    """Whether a state-dict name is one that adapter training changes (adapters and block layer norms)."""
    return ".lora_" in name or (TRAINED_NORM in name and block_index(name) is not None)
