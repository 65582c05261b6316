"""A transformer classifier over (claim, evidence) pairs, saved as a partial checkpoint on its base encoder."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from model.encoder import load_encoder_module, load_tokenizer, mean_pool
from model.errors import ModelNotFoundError
from model.lora import add_lora, is_adapter_weight

FROZEN_PREFIXES = ("embeddings.",)  # word/position embeddings stay as in the base package and are not saved


def frozen_prefixes(frozen_layers: int) -> tuple[str, ...]:
    """Encoder parameter-name prefixes that stay as in the base package: the embeddings and the lowest
    ``frozen_layers`` transformer layers (BERT-style naming, ``encoder.layer.<i>.``)."""
    return FROZEN_PREFIXES + tuple(f"encoder.layer.{i}." for i in range(frozen_layers))


def set_attention_dropout(encoder: nn.Module, p: float) -> int:
    """Set the attention-weight dropout of every self-attention block in ``encoder``; returns how many were set."""
    if not 0 <= p < 1:
        raise ValueError("attention dropout must be in [0, 1)")
    changed = 0
    for module in encoder.modules():
        if type(module).__name__.endswith("SelfAttention") and isinstance(getattr(module, "dropout", None), nn.Dropout):
            module.dropout.p = p
            changed += 1
    if hasattr(encoder.config, "attention_probs_dropout_prob"):
        encoder.config.attention_probs_dropout_prob = p
    return changed


class PairClassifier(nn.Module):
    """Encoder + mean pooling + linear layer, reading a pair of texts as one sequence."""

    def __init__(self, base_model: str, labels: Sequence[str], max_length: int = 128, dropout: float = 0.1,
                 attention_dropout: float | None = None, frozen_layers: int = 0, lora_rank: int = 0,
                 lora_alpha: float = 16.0):
        """``attention_dropout`` overrides the base model's dropout on attention weights (None keeps it). At 0
        the attention runs the fused kernel in training too, which makes a CPU training step about 1.5x faster.
        ``frozen_layers`` lowest transformer layers stay as pretrained, like the embeddings: not trained, not saved.
        ``lora_rank`` > 0 freezes the whole encoder instead and trains low-rank adapters (model.lora) on the layers
        above the frozen ones: only the adapters, their blocks' layer norms and the head are trained and saved, a few
        MB even for a large encoder."""
        super().__init__()
        self.base_model = base_model
        self.labels = tuple(labels)
        self.max_length = max_length
        self.tokenizer = load_tokenizer(base_model)
        self.encoder = load_encoder_module(base_model)
        layers = getattr(self.encoder.config, "num_hidden_layers", 0)
        if not 0 <= frozen_layers < max(layers, 1):
            raise ValueError(f"frozen_layers must be in [0, {layers}) for {base_model} ({layers} layers)")
        if lora_rank < 0:
            raise ValueError("lora_rank must be 0 or more")
        self.frozen_layers = frozen_layers
        self.frozen = frozen_prefixes(frozen_layers)
        self.lora_rank, self.lora_alpha = lora_rank, float(lora_alpha)
        if lora_rank:
            if not add_lora(self.encoder, lora_rank, lora_alpha, skip_layers=frozen_layers):
                raise ValueError(f"{base_model} has no linear layers under 'layer.' to put adapters on")
        else:
            for name, param in self.encoder.named_parameters():
                param.requires_grad_(not name.startswith(self.frozen))
        if attention_dropout is not None:
            set_attention_dropout(self.encoder, attention_dropout)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.encoder.config.hidden_size, len(self.labels))
        self.bias = nn.Parameter(torch.zeros(len(self.labels)), requires_grad=False)  # tuned decision offsets
        self.memo: dict[tuple[str, str], torch.Tensor] | None = None  # see predict_logits

    def tokenize(self, firsts: Sequence[str], seconds: Sequence[str]) -> dict[str, torch.Tensor]:
        """(claim, evidence) pairs as model inputs; the evidence is cut to fit, and a claim longer than half of
        ``max_length`` is first cut at a token boundary (it could otherwise leave the evidence no room at all)."""
        return self.tokenizer(
            self._capped(firsts),
            list(seconds),
            padding=True,
            truncation="only_second",
            max_length=self.max_length,
            return_tensors="pt",
        )

    def _capped(self, texts: Sequence[str]) -> list[str]:
        cap = self.max_length // 2
        offsets = self.tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True,
                                 verbose=False)["offset_mapping"]
        return [text if len(spans) <= cap else text[: spans[cap - 1][1]] for text, spans in zip(texts, offsets)]

    def forward(self, input_ids, attention_mask, token_type_ids=None) -> torch.Tensor:
        """Logits (batch, labels), before the tuned decision offsets."""
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        hidden = self.encoder(**kwargs).last_hidden_state
        return self.head(self.dropout(mean_pool(hidden, attention_mask)))

    @torch.inference_mode()
    def predict_logits(self, firsts: Sequence[str], seconds: Sequence[str], batch_size: int = 8) -> torch.Tensor:
        """(n, labels) logits before the decision offsets; inputs are length-sorted into batches. Pairs already in
        ``memo`` (a dict, when set: the weights are not changing) are not read again. Pairs are long (up to 256
        tokens): batches of 8 ran 10-30% faster than 32 on 2 cores (bf16, int8, fp32)."""
        self.eval()
        n, memo = len(firsts), self.memo
        out = torch.zeros(n, len(self.labels))
        keys = list(zip(firsts, seconds))
        todo = [i for i in range(n) if memo is None or keys[i] not in memo]
        order = sorted(todo, key=lambda i: len(firsts[i]) + len(seconds[i]))
        for lo in range(0, len(order), batch_size):
            idx = order[lo : lo + batch_size]
            batch = self.tokenize([firsts[i] for i in idx], [seconds[i] for i in idx])
            out[idx] = self(**batch).float()
        if memo is not None:
            memo.update((keys[i], out[i].clone()) for i in todo)
            for i in range(n):
                out[i] = memo[keys[i]]
        return out

    def predict_proba(self, firsts: Sequence[str], seconds: Sequence[str], batch_size: int = 8) -> torch.Tensor:
        """(n, labels) probabilities, with the decision offsets applied."""
        with torch.inference_mode():
            return torch.softmax(self.predict_logits(firsts, seconds, batch_size) + self.bias, dim=-1)

    def trained_state(self, dtype: torch.dtype = torch.float16) -> dict[str, torch.Tensor]:
        """The tensors to save: everything but the frozen embeddings (and layers); encoder weights stored in ``dtype``."""
        state = {}
        for name, tensor in self.state_dict().items():
            if self._is_frozen(name):
                continue
            state[name] = tensor.to(dtype) if name.startswith("encoder.") and tensor.is_floating_point() else tensor
        return state

    def _is_frozen(self, state_name: str) -> bool:
        if not state_name.startswith("encoder."):
            return False
        frozen = state_name[len("encoder.") :].startswith(self.frozen)
        return frozen or (self.lora_rank > 0 and not is_adapter_weight(state_name))

    def load_trained_state(self, tensors: dict[str, torch.Tensor], where: str = "checkpoint") -> None:
        """Load tensors written by ``trained_state`` over the base encoder; fail clearly on a mismatch."""
        own = self.state_dict()
        wanted = {k for k in own if not self._is_frozen(k)}
        missing = sorted(wanted - set(tensors))
        unexpected = sorted(set(tensors) - set(own))
        if missing or unexpected:
            raise ModelNotFoundError(
                f"{where} does not fit base model {self.base_model}: missing {missing[:3]}, unexpected {unexpected[:3]}"
            )
        for name, tensor in tensors.items():
            if tensor.shape != own[name].shape:
                raise ModelNotFoundError(f"{where}: {name} has shape {tuple(tensor.shape)}, expected {tuple(own[name].shape)}")
        self.load_state_dict({k: v.to(own[k].dtype) for k, v in tensors.items()}, strict=False)
        self.eval()
