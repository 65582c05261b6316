"""The bfloat16 path for the encoders (``--backend bf16``): a bf16 copy of the module, fp32 out."""
from __future__ import annotations

import copy

import torch
from torch import nn

from model.encoder import EncoderOutput

class Bf16Encoder(nn.Module):
    """A bfloat16 copy of an encoder; same call, returns fp32 ``.last_hidden_state`` so pooling and heads stay fp32."""

    def __init__(self, module: nn.Module, owned: bool = False):
        """``owned``: ``module`` is a private copy already (as after folding adapters in), so it is converted in place
        instead of copied again; otherwise it is copied, since the fp32 module may be shared."""
        super().__init__()
        self.inner = (module if owned else copy.deepcopy(module)).to(torch.bfloat16).eval()
        self.config = module.config

    def forward(self, input_ids, attention_mask, token_type_ids=None, **_) -> EncoderOutput:
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        return EncoderOutput(self.inner(**kwargs).last_hidden_state.float())
