"""Text vectors from the middle of a small language model: the mean of one decoder layer's hidden states over the
headline and opening sentences. By default the packaged Gemma-3-270M (the abstractive summary's generator), cut
after its 9th of 18 layers, so a forward pass costs half the model."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from model.lexical import lead_text

LM_FEATURES_MODEL = "gemma-3-270m"


@dataclass
class LMFeatureConfig:
    """Which language model and layer give the vectors, and what text they read.

    name: 'gemma-3-270m' (the packaged generator), a checkpoint folder or a hub id.
    layer: read the output of this decoder layer (1-based); the layers after it are dropped.
    max_length: tokens read from the headline and opening.
    lead_sentences: the headline and this many opening sentences (0: the whole text).
    batch_size: texts per forward pass (sorted by length, so batches pad little).
    """

    name: str = LM_FEATURES_MODEL
    layer: int = 9
    max_length: int = 128
    lead_sentences: int = 3
    batch_size: int = 32

    def __post_init__(self):
        if self.layer < 1:
            raise ValueError("layer must be 1 or more")
        if self.max_length < 8:
            raise ValueError("max_length must be at least 8")


class LMFeatureEncoder:
    """``encode(texts)`` -> (len(texts), hidden) float32: mean of layer ``config.layer``'s hidden states over the
    tokens of each text's lead, the first (BOS) token left out. Runs in bfloat16 on CPUs that compute it natively,
    else fp32."""

    def __init__(self, config: LMFeatureConfig | None = None, dtype: torch.dtype | None = None):
        from transformers import AutoModel, AutoTokenizer

        from model.backends import native_bf16
        from model.generator import converted_checkpoint

        self.config = config or LMFeatureConfig()
        path = converted_checkpoint(self.config.name)
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.dtype = dtype or (torch.bfloat16 if native_bf16() else torch.float32)
        model = AutoModel.from_pretrained(path, dtype=self.dtype)
        model = getattr(model, "model", model)  # a causal-LM checkpoint: keep the decoder, drop the LM head
        if self.config.layer > len(model.layers):
            raise ValueError(f"{self.config.name} has {len(model.layers)} layers; layer {self.config.layer} asked for")
        model.layers = model.layers[: self.config.layer]
        model.config.num_hidden_layers = self.config.layer
        if getattr(model.config, "layer_types", None):
            model.config.layer_types = model.config.layer_types[: self.config.layer]
        self.model = model.eval()
        self.dim = int(model.config.hidden_size)
        self._captured: list[torch.Tensor] = []
        model.layers[-1].register_forward_hook(lambda _m, _i, out: self._captured.append(
            out[0] if isinstance(out, tuple) else out))

    @torch.inference_mode()
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        leads = [lead_text(t, self.config.lead_sentences) for t in texts]
        out = np.zeros((len(leads), self.dim), dtype=np.float32)
        order = np.argsort([len(t) for t in leads], kind="stable")
        bos = self.tokenizer.bos_token_id
        for start in range(0, len(leads), self.config.batch_size):
            idx = order[start: start + self.config.batch_size]
            enc = self.tokenizer([leads[i] for i in idx], return_tensors="pt", padding=True, truncation=True,
                                 max_length=self.config.max_length)
            self._captured.clear()
            self.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
            hidden = self._captured.pop().float()  # taken out, so the list holds no batch between calls
            mask = enc["attention_mask"].bool()
            if bos is not None:
                mask &= enc["input_ids"] != bos
            mask = mask.unsqueeze(-1).float()
            out[idx] = ((hidden * mask).sum(1) / mask.sum(1).clamp_min(1.0)).numpy()
        return out
