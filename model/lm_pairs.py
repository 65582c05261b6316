"""Stance evidence read by a small language model: one text per (claim, evidence) pair with the claim after the
evidence, so that in a causal model the claim's tokens attend to the evidence. The vector of a pair is the mean of
the claim tokens' states beside the last token's state, at one middle layer (``model.lm_features`` cuts the model
there); a linear probe turns it into log-probabilities over the pair labels, which the stance stacker reads."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from model.linear import StandardizedLinear
from model.lm_features import LM_FEATURES_MODEL, LMFeatureConfig, LMFeatureEncoder

EVIDENCE_PREFIX, CLAIM_PREFIX, SUFFIX = "Article: ", "\nHeadline: ", "\nStance:"


@dataclass
class LMPairConfig:
    """How the language model reads a pair.

    name: 'gemma-3-270m' (the packaged generator), a checkpoint folder or a hub id.
    layer: read the output of this decoder layer (1-based); the layers after it are not run.
    evidence_tokens: tokens of evidence kept (its opening); claim_tokens: tokens of claim kept.
    batch_size: pairs per forward pass (sorted by length); int8 ONNX runs each pair alone.
    c: inverse L2 strength of the probe's logistic regression (training only).
    """

    name: str = LM_FEATURES_MODEL
    layer: int = 9
    evidence_tokens: int = 230
    claim_tokens: int = 48
    batch_size: int = 16
    c: float = 0.003

    def __post_init__(self):
        if self.layer < 1:
            raise ValueError("layer must be 1 or more")
        if self.evidence_tokens < 8 or self.claim_tokens < 4:
            raise ValueError("evidence_tokens must be at least 8 and claim_tokens at least 4")

    def feature_config(self) -> LMFeatureConfig:
        return LMFeatureConfig(name=self.name, layer=self.layer, batch_size=self.batch_size,
                               max_length=self.evidence_tokens + self.claim_tokens + 16)


class LMPairReader:
    """``vectors(claims, evidence)`` -> (n, 2 * hidden) float32; ``log_probabilities`` -> (n, labels) from the probe.

    lm: an LMFeatureEncoder of the same model and layer to share (the event reader's), else one is loaded on first
    use. cache: when a dict, vectors are kept by (claim, evidence), for training, which reads dev pairs repeatedly.
    """

    def __init__(self, config: LMPairConfig, probe: StandardizedLinear | None = None,
                 lm: LMFeatureEncoder | None = None):
        self.config = config
        self.probe = probe
        self._lm = lm
        self.cache: dict | None = None

    def load_lm(self, runtime: str | None = None, share: LMFeatureEncoder | None = None) -> LMFeatureEncoder:
        """Use ``share`` when it runs the same model, layer and runtime; else load the model on ``runtime``."""
        target = self.config.feature_config()
        if share is not None and share.config.name == target.name and share.config.layer == target.layer and (
                runtime is None or share.runtime == runtime):
            self._lm = share
        elif self._lm is None or (runtime is not None and self._lm.runtime != runtime):
            self._lm = LMFeatureEncoder(target, runtime=runtime)
        return self._lm

    @property
    def lm(self) -> LMFeatureEncoder:
        return self._lm if self._lm is not None else self.load_lm()

    def _token_ids(self, claim: str, evidence: str) -> tuple[list[int], int, int]:
        """Token ids of one pair, and where the claim's tokens start and end."""
        tok = self.lm.tokenizer
        pieces = lambda text: tok(text, add_special_tokens=False)["input_ids"]  # noqa: E731
        head = ([tok.bos_token_id] if tok.bos_token_id is not None else []) + \
            pieces(EVIDENCE_PREFIX + evidence)[: self.config.evidence_tokens]
        claim_ids = pieces(CLAIM_PREFIX + claim)[: self.config.claim_tokens]
        return head + claim_ids + pieces(SUFFIX), len(head), len(head) + len(claim_ids)

    @torch.inference_mode()
    def _compute(self, claims: Sequence[str], evidence: Sequence[str]) -> np.ndarray:
        encoded = [self._token_ids(c, e) for c, e in zip(claims, evidence)]
        dim = self.lm.dim
        out = np.zeros((len(encoded), 2 * dim), dtype=np.float32)
        order = np.argsort([len(ids) for ids, _, _ in encoded], kind="stable")
        batch = self.config.batch_size
        pad = self.lm.tokenizer.pad_token_id or 0
        for start in range(0, len(order), batch):
            rows = order[start: start + batch]
            width = max(len(encoded[i][0]) for i in rows)
            ids = torch.full((len(rows), width), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for r, i in enumerate(rows):  # right padding: the real tokens keep positions 0..n-1
                ids[r, : len(encoded[i][0])] = torch.tensor(encoded[i][0])
                mask[r, : len(encoded[i][0])] = 1
            hidden = self.lm.hidden_states(ids, mask)
            for r, i in enumerate(rows):
                seq, c0, c1 = encoded[i]
                out[i, :dim] = hidden[r, c0:c1].mean(0).numpy() if c1 > c0 else 0.0
                out[i, dim:] = hidden[r, len(seq) - 1].numpy()
        return out

    def vectors(self, claims: Sequence[str], evidence: Sequence[str]) -> np.ndarray:
        if self.cache is None:
            return self._compute(claims, evidence)
        keys = list(zip(claims, evidence))
        missing = list(dict.fromkeys(k for k in keys if k not in self.cache))
        if missing:
            for key, row in zip(missing, self._compute([c for c, _ in missing], [e for _, e in missing])):
                self.cache[key] = row
        return np.stack([self.cache[k] for k in keys]) if keys else np.zeros((0, 2 * self.lm.dim), np.float32)

    def log_probabilities(self, claims: Sequence[str], evidence: Sequence[str]) -> np.ndarray:
        if self.probe is None:
            raise ValueError("this reader has no fitted probe")
        return self.probe.log_probabilities(self.vectors(claims, evidence))
