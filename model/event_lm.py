"""Event type from a linear classifier over two views of the lead: the frozen encoder's lead vector (from the
article pass) and a middle layer of a small language model (``model.lm_features``); blended with word evidence
like ``EventModel``. Stored as arrays (standardisation, weights); the language model comes from its package."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from model.heads import EventFeatures, EventPrediction, blended_predictions, load_word_evidence, save_event_checkpoint
from model.labels import check_labels
from model.lexical import LexicalClassifier, log_softmax
from model.lm_features import LMFeatureConfig, LMFeatureEncoder
from model.stance import ArticleView

KIND = "lm-linear"


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


class EventLMModel:
    """Same ``predict`` as ``EventModel``: it reads the article pass (the lead vector) and the texts (the language
    model's lead vector and the word evidence)."""

    reads_vectors = True

    def __init__(self, linear: StandardizedLinear, labels: Sequence[str], features: EventFeatures, base_model: str,
                 lm_config: LMFeatureConfig, lexical: LexicalClassifier | None = None, blend: float = 1.0,
                 lm: LMFeatureEncoder | None = None):
        if features.use_body:
            raise ValueError("the language-model event classifier reads the lead only (use_body must be false)")
        self.linear = linear
        self.labels = check_labels(labels)
        if linear.coef.shape[0] != len(self.labels):
            raise ValueError(f"weights score {linear.coef.shape[0]} labels, the model has {len(self.labels)}")
        self.features = features
        self.base_model = base_model
        self.lm_config = lm_config
        self.lexical = lexical
        self.blend = blend if lexical is not None else 1.0
        self._lm = lm

    @property
    def lm(self) -> LMFeatureEncoder:
        """The language model, loaded on first use."""
        if self._lm is None:
            self._lm = LMFeatureEncoder(self.lm_config)
        return self._lm

    def inputs(self, views: Sequence[ArticleView], texts: Sequence[str]) -> np.ndarray:
        """(len(texts), encoder dim + LM dim): the lead vector of each view beside the LM vector of its text."""
        encoder_dim = self.linear.in_dim - self.lm.dim
        lead = np.stack([self.features.vector(v, encoder_dim) for v in views])
        return np.concatenate([lead, self.lm.encode(texts)], axis=1)

    def predict(self, views: Sequence[ArticleView], texts: Sequence[str] | None = None) -> list[EventPrediction]:
        """One prediction per view; ``texts`` (headline first line, then body) are needed."""
        if not views:
            return []
        if texts is None or len(texts) != len(views):
            raise ValueError("the language-model event classifier reads the article texts: pass one per view")
        scores = self.linear.log_probabilities(self.inputs(views, texts))
        return blended_predictions(self.labels, scores, self.lexical, self.blend, texts)

    def save(self, folder: Path, extra_config: dict | None = None) -> None:
        config = {"task": "event", "kind": KIND, "labels": list(self.labels), "base_model": self.base_model,
                  "features": asdict(self.features), "lm": asdict(self.lm_config), **(extra_config or {})}
        save_event_checkpoint(folder, self.linear.tensors("linear."), config, self.lexical, self.blend)

    @classmethod
    def from_checkpoint(cls, folder: Path, tensors: dict, config: dict) -> "EventLMModel":
        lexical, blend = load_word_evidence(folder, tensors, config)
        return cls(StandardizedLinear.from_tensors(tensors, "linear."), config["labels"],
                   EventFeatures(**config["features"]), config["base_model"], LMFeatureConfig(**config["lm"]),
                   lexical, blend)
