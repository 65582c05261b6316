"""The pair encoder's frozen lowest layers, run once per training pair and replayed at every step.

With adapters above ``frozen_layers`` (PairClassifier), the lowest blocks compute the same hidden states for a pair at
every epoch and never see a gradient. Storing their output once (bfloat16, unpadded) turns each training step into the
upper blocks' forward and backward only, at 2 bytes per hidden unit per token of memory (1.5 KB per token for a
768-wide encoder; about 5 GB for FNC-1's related training and dev pairs at 256 tokens). The frozen blocks run without
dropout here, as at prediction.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

import torch
from torch import nn
from tqdm.auto import tqdm

from model.pair_classifier import PairClassifier, frozen_prefixes


def block_list(encoder: nn.Module) -> nn.ModuleList:
    """The encoder's list of transformer blocks (``encoder.layer`` in BERT and MPNet naming)."""
    blocks = getattr(getattr(encoder, "encoder", None), "layer", None)
    if not isinstance(blocks, nn.ModuleList):
        raise ValueError(f"{type(encoder).__name__} keeps no transformer blocks at encoder.layer, so its lower "
                         "layers cannot be cached (train without --stance-cache-frozen)")
    return blocks


@contextmanager
def evaluating(module: nn.Module) -> Iterator[None]:
    """Within the block, ``module`` is in eval mode (no dropout); its training mode is restored after."""
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


@contextmanager
def only_blocks(encoder: nn.Module, keep: slice) -> Iterator[nn.ModuleList]:
    """Within the block, the encoder runs only the transformer blocks in ``keep`` (parameter names are restored after)."""
    holder = encoder.encoder
    blocks = block_list(encoder)
    holder.layer = nn.ModuleList(list(blocks)[keep])
    try:
        yield holder.layer
    finally:
        holder.layer = blocks


class FrozenLayerCache:
    """Hidden states after the lowest ``pairs.frozen_layers`` blocks, one unpadded bfloat16 tensor per (claim,
    evidence) pair; ``logits`` replays them through the blocks above, which is what a training step needs."""

    def __init__(self, pairs: PairClassifier):
        if not pairs.frozen_layers:
            raise ValueError("the pair classifier has no frozen layers to cache")
        frozen = frozen_prefixes(pairs.frozen_layers)  # the embeddings and the lowest blocks
        if any(p.requires_grad for n, p in pairs.encoder.named_parameters() if n.startswith(frozen)):
            raise ValueError("the frozen layers are being trained, so their output cannot be cached")
        self.pairs = pairs
        self.states: dict[tuple[str, str], torch.Tensor] = {}

    @torch.inference_mode()
    def fill(self, pairs_text: Sequence[tuple[str, str]], bf16: bool, batch_size: int = 16,
             progress: bool = False) -> int:
        """Run the frozen blocks over every pair not cached yet (length-sorted batches); returns how many were added."""
        todo = sorted({p for p in pairs_text if p not in self.states}, key=lambda p: len(p[0]) + len(p[1]))
        with evaluating(self.pairs), only_blocks(self.pairs.encoder, slice(0, self.pairs.frozen_layers)):
            for lo in tqdm(range(0, len(todo), batch_size), desc="caching frozen layers", unit="batch",
                           disable=not progress, leave=False, dynamic_ncols=True):
                chunk = todo[lo : lo + batch_size]
                enc = self.pairs.tokenize([c for c, _ in chunk], [e for _, e in chunk])
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    hidden = self.pairs.encoder(**enc).last_hidden_state
                lengths = enc["attention_mask"].sum(1).tolist()
                for key, row, n in zip(chunk, hidden, lengths):
                    self.states[key] = row[:n].to(torch.bfloat16).clone()
        return len(todo)

    @torch.inference_mode()
    def predict_logits(self, claims: Sequence[str], evidence: Sequence[str], bf16: bool,
                       batch_size: int = 16) -> torch.Tensor:
        """(n, labels) logits before the decision offsets, for dev passes: cached like training, in eval mode."""
        self.fill(list(zip(claims, evidence)), bf16, batch_size)
        out = torch.zeros(len(claims), len(self.pairs.labels))
        order = sorted(range(len(claims)), key=lambda i: len(claims[i]) + len(evidence[i]))
        with evaluating(self.pairs):
            for lo in range(0, len(order), batch_size):
                idx = order[lo : lo + batch_size]
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    out[idx] = self.logits([claims[i] for i in idx], [evidence[i] for i in idx]).float()
        return out

    def logits(self, claims: Sequence[str], evidence: Sequence[str]) -> torch.Tensor:
        """``pairs(**pairs.tokenize(claims, evidence))`` with the frozen blocks' output taken from the cache."""
        enc = self.pairs.tokenize(claims, evidence)
        width = enc["input_ids"].shape[1]
        stored = [self.states[(c, e)] for c, e in zip(claims, evidence)]
        lengths = enc["attention_mask"].sum(1).tolist()
        if [len(s) for s in stored] != lengths:
            raise RuntimeError("cached states do not match the tokenised pairs (was the tokenizer or max_length changed?)")
        hidden = torch.zeros(len(stored), width, stored[0].shape[-1], dtype=torch.float32)
        for row, state in zip(hidden, stored):
            row[: len(state)] = state.float()

        def replace_input(module, args, kwargs):
            if args:
                return (hidden.to(args[0].dtype),) + tuple(args[1:]), kwargs
            return args, kwargs | {"hidden_states": hidden.to(kwargs["hidden_states"].dtype)}

        with only_blocks(self.pairs.encoder, slice(self.pairs.frozen_layers, None)) as upper:
            handle = upper[0].register_forward_pre_hook(replace_input, with_kwargs=True)
            try:
                return self.pairs(**enc)
            finally:
                handle.remove()
