"""Is a claim about the article at all? Similarity features and a logistic-regression gate over them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from model.text import content_words

FEATURES = ("cos_body", "cos_max", "cos_top3", "cos_lead", "lex_body", "lex_max", "lex_top3")


def relatedness_features(
    claim: str, claim_vec: np.ndarray, sentences: Sequence[str], sentence_vecs: np.ndarray
) -> np.ndarray:
    """The FEATURES of one (claim, article) pair from unit sentence vectors and content-word overlap."""
    if len(sentences) == 0:
        return np.zeros(len(FEATURES), dtype=np.float32)
    cos = sentence_vecs @ claim_vec
    centroid = sentence_vecs.mean(0)
    centroid = centroid / max(float(np.linalg.norm(centroid)), 1e-9)
    top = np.sort(cos)[::-1]
    words = content_words(claim)
    body_words = [content_words(s) for s in sentences]
    if words:
        lex = np.array([len(words & w) / len(words) for w in body_words], dtype=np.float32)
        lex_body = len(words & set().union(*body_words)) / len(words)
    else:
        lex, lex_body = np.zeros(len(sentences), dtype=np.float32), 0.0
    lex_sorted = np.sort(lex)[::-1]
    return np.array(
        [
            float(centroid @ claim_vec),
            float(top[0]),
            float(top[:3].mean()),
            float(cos[:2].max()),
            lex_body,
            float(lex_sorted[0]),
            float(lex_sorted[:3].mean()),
        ],
        dtype=np.float32,
    )


@dataclass
class RelatednessGate:
    """Logistic regression over standardised FEATURES; ``threshold`` on P(related) is tuned on dev."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float = 0.5

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(related) for each row of ``features`` (n, len(FEATURES))."""
        z = ((np.atleast_2d(features) - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def tensors(self) -> dict[str, np.ndarray]:
        return {
            "gate.mean": self.mean,
            "gate.scale": self.scale,
            "gate.coef": self.coef,
            "gate.intercept": np.array([self.intercept], dtype=np.float32),
            "gate.threshold": np.array([self.threshold], dtype=np.float32),
        }

    @classmethod
    def from_tensors(cls, tensors: dict) -> "RelatednessGate":
        get = lambda k: np.asarray(tensors[k], dtype=np.float32)  # noqa: E731
        return cls(get("gate.mean"), get("gate.scale"), get("gate.coef"), float(get("gate.intercept")[0]),
                   float(get("gate.threshold")[0]))
