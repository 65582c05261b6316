"""A stored multinomial logistic regression over standardised inputs (the event reader's classifier and gate, the
stance model's language-model probe)."""
from __future__ import annotations

import numpy as np
import torch

from model.lexical import log_softmax


class StandardizedLinear:
    """Multinomial logistic regression over standardised inputs: log p = log_softmax(((x - mean) / scale) W^T + b)."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: np.ndarray):
        self.mean, self.scale = mean.astype(np.float32), scale.astype(np.float32)
        self.coef, self.intercept = coef.astype(np.float32), intercept.astype(np.float32)
        if self.coef.shape[1] != self.mean.shape[0]:
            raise ValueError(f"weights read {self.coef.shape[1]} inputs, the standardisation has {self.mean.shape[0]}")

    @property
    def in_dim(self) -> int:
        return int(self.mean.shape[0])

    def log_probabilities(self, x: np.ndarray) -> np.ndarray:
        return log_softmax(((x - self.mean) / self.scale) @ self.coef.T + self.intercept)

    def tensors(self, prefix: str) -> dict[str, torch.Tensor]:
        return {f"{prefix}{k}": torch.from_numpy(np.ascontiguousarray(v)) for k, v in
                (("mean", self.mean), ("scale", self.scale), ("coef", self.coef), ("intercept", self.intercept))}

    @classmethod
    def from_tensors(cls, tensors: dict, prefix: str) -> "StandardizedLinear":
        return cls(*(tensors[f"{prefix}{k}"].float().numpy() for k in ("mean", "scale", "coef", "intercept")))
