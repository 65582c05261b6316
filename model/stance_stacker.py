"""A linear stacker over the pair classifier's output, the relatedness features and lexical cues.

Fitted on pairs from stories the pair classifier never saw, it learns how far to trust the classifier on
new claims and how the body's framing (hedging, refuting) shifts agree / disagree / discuss."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.stance_cues import CUE_FEATURES


@dataclass
class LinearStacker:
    """Multinomial logistic regression over standardised features, with tuned per-class offsets."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (labels, features)
    intercept: np.ndarray  # (labels,)
    offsets: np.ndarray  # (labels,)

    def logits(self, features: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(features) - self.mean) / self.scale
        return z @ self.coef.T + self.intercept

    def probability(self, features: np.ndarray) -> np.ndarray:
        """(n, labels) probabilities with the offsets applied."""
        z = self.logits(features) + self.offsets
        z = z - z.max(1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(1, keepdims=True)

    def tensors(self) -> dict[str, np.ndarray]:
        return {f"stacker.{k}": np.asarray(getattr(self, k), dtype=np.float32)
                for k in ("mean", "scale", "coef", "intercept", "offsets")}

    @classmethod
    def from_tensors(cls, tensors: dict) -> "LinearStacker | None":
        if "stacker.coef" not in tensors:
            return None
        get = lambda k: np.asarray(tensors[f"stacker.{k}"], dtype=np.float32)  # noqa: E731
        return cls(get("mean"), get("scale"), get("coef"), get("intercept"), get("offsets"))


# refuting words in the body or in the evidence (model.stance_cues.CUE_FEATURES)
REFUTE_CUES = (CUE_FEATURES.index("body_refute"), CUE_FEATURES.index("evidence_refute"))
# where the disagree split looks for refuting words: 'article' (the session-30 inputs: body and evidence rates),
# 'evidence' (whether the chosen evidence sentences hold one)
DISAGREE_SPLITS = ("article", "evidence")


def stack_features(pair_probs: np.ndarray, relatedness: np.ndarray, cues: np.ndarray,
                   mirrored: np.ndarray | None = None, lm_log_probs: np.ndarray | None = None,
                   disagree: int | None = None, split: str = "article") -> np.ndarray:
    """Rows of [log pair probabilities, relatedness features, cue features], then the log probabilities of the
    mirrored (refuted-claim) view when there is one, then the language-model probe's log probabilities when there
    is one. With ``disagree`` (its column in the pair probabilities), two more inputs last, so the stacker can weigh
    the pair classifier's disagree apart from FNC-1-style debunking (EXPERIMENTS.md, sessions 30 and 33):

    - ``split`` 'article': the log probability of disagree where no refuting word fires in body or evidence, and
      the same times the sum of their rates. The rate shrinks as an article grows, so one refuting word in a long
      article reads almost like certain disagree; kept for models saved with these inputs.
    - ``split`` 'evidence': the log probability of disagree where the evidence sentences hold no refuting word, and
      where they do: the evidence is a few sentences however long the article is."""
    if split not in DISAGREE_SPLITS:
        raise ValueError(f"split must be one of {', '.join(DISAGREE_SPLITS)}, got {split!r}")
    logs = lambda p: np.log(np.clip(p, 1e-6, 1.0))  # noqa: E731
    log_pairs = logs(pair_probs)
    parts = [log_pairs, relatedness, cues] + ([] if mirrored is None else [logs(mirrored)])
    parts += [] if lm_log_probs is None else [np.maximum(lm_log_probs, np.log(1e-6))]
    if disagree is not None:
        log_disagree = log_pairs[:, disagree]
        if split == "article":
            refuting = cues[:, list(REFUTE_CUES)].sum(1)
            parts.append(np.stack([log_disagree * (refuting == 0), log_disagree * refuting], 1))
        else:
            refuting = cues[:, REFUTE_CUES[1]] > 0
            parts.append(np.stack([log_disagree * ~refuting, log_disagree * refuting], 1))
    return np.hstack(parts).astype(np.float32)
