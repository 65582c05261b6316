"""Claim-only bias for the stance pair classifier's training loss (a product of experts).

FNC-1 pairs one claim with several bodies, so in training a claim's identity predicts its label: the other pairs of
the same claim name the right label for 75% of related training pairs. A fine-tuned encoder can learn that shortcut
instead of reading the body, and it fails on the test set's new claims. A product of experts (Clark et al. 2019;
He et al. 2019; used against FEVER's claim-only bias by Schuster et al. 2019) adds the log-probabilities of a
claim-only model to the classifier's logits in the loss only: whatever the claim alone explains gives no gradient,
so the classifier learns what the body adds. At prediction the classifier's own logits are used.

The claim-only model here is a leave-one-out count: a pair's bias is the label distribution of the *other* training
pairs with the same claim, smoothed toward the training prior. Leaving the pair out keeps its own label out of its
bias; a claim seen once gets the prior.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Protocol, Sequence

import numpy as np


class LabelledClaim(Protocol):
    claim: str
    label: int


def claim_bias_log_probs(items: Sequence[LabelledClaim], n_labels: int, smoothing: float = 1.0) -> np.ndarray:
    """Leave-one-out claim-only log-probabilities, one row per item: log((others' counts + smoothing * prior) / total)."""
    if smoothing <= 0:
        raise ValueError("smoothing must be positive")
    labels = np.array([it.label for it in items], dtype=np.int64)
    prior = np.bincount(labels, minlength=n_labels).astype(np.float64) + 1.0
    prior /= prior.sum()
    counts: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n_labels))
    for it in items:
        counts[it.claim][it.label] += 1
    rows = np.empty((len(items), n_labels))
    for i, it in enumerate(items):
        others = counts[it.claim].copy()
        others[it.label] -= 1
        rows[i] = (others + smoothing * prior) / (others.sum() + smoothing)
    return np.log(rows)
