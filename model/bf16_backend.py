"""The bfloat16 path for the encoders (``--backend bf16``): a bf16 copy of the module, fp32 out."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class _Output:
    last_hidden_state: torch.Tensor


class Bf16Encoder(nn.Module):
    """A bfloat16 copy of an encoder; same call, returns fp32 ``.last_hidden_state`` so pooling and heads stay fp32."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.inner = copy.deepcopy(module).to(torch.bfloat16).eval()  # a copy: the fp32 module may be shared
        self.config = module.config

    def forward(self, input_ids, attention_mask, token_type_ids=None, **_) -> _Output:
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        return _Output(self.inner(**kwargs).last_hidden_state.float())
