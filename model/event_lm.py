"""Event type from a linear classifier over two views of the lead: the frozen encoder's lead vector (from the
article pass) and a middle layer of a small language model (``model.lm_features``); blended with word evidence
like ``EventModel``. Stored as arrays (standardisation, weights); the language model comes from its package.

An optional gate (a linear classifier over the lead vector alone, blended with the same word evidence) answers the
articles it is sure of, so only the others pay for the language model: an article whose gate probability reaches
``gate_threshold`` takes the gate's answer. Training picks the threshold on dev (``training.event``)."""
from __future__ import annotations

import threading
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import numpy as np

from model.heads import (EventFeatures, EventPrediction, blend_scores, blended_predictions, load_word_evidence,
                         save_event_checkpoint)
from model.labels import check_labels
from model.lexical import LexicalClassifier, log_softmax
from model.linear import StandardizedLinear
from model.lm_features import LMFeatureConfig, LMFeatureEncoder
from model.stance import ArticleView

KIND = "lm-linear"
NEVER = 2.0  # a gate threshold no probability reaches: every article is read by the language model
READ_BY_GATE, READ_BY_LM = "gate", "language model"  # EventPrediction.reader: which part answered


class EventLMModel:
    """Same ``predict`` as ``EventModel``: it reads the article pass (the lead vector) and the texts (the language
    model's lead vector and the word evidence)."""

    reads_vectors = True

    def __init__(self, linear: StandardizedLinear, labels: Sequence[str], features: EventFeatures, base_model: str,
                 lm_config: LMFeatureConfig, lexical: LexicalClassifier | None = None, blend: float = 1.0,
                 lm: LMFeatureEncoder | None = None, gate: StandardizedLinear | None = None,
                 gate_threshold: float = NEVER):
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
        self.lm_runtime: str | None = None  # what a load on first use runs on (None: LMFeatureEncoder's default)
        self._lm_lock = threading.Lock()  # one load when concurrent requests first need the language model
        if gate is not None and (gate.coef.shape[0] != len(self.labels) or gate.in_dim >= linear.in_dim):
            raise ValueError(f"the gate's weights {tuple(gate.coef.shape)} do not fit a model over {linear.in_dim} "
                             f"inputs and {len(self.labels)} labels")
        self.gate = gate
        self.gate_threshold = float(gate_threshold)
        self.counts = {"articles": 0, "read_by_lm": 0}  # how many articles the language model had to read

    def load_lm(self, runtime: str | None = None) -> LMFeatureEncoder:
        """Load the language model now on ``runtime`` (LMFeatureEncoder's; None: its default), or load it again when
        it already runs on another one."""
        with self._lm_lock:
            if self._lm is None or (runtime is not None and self._lm.runtime != runtime):
                self._lm = LMFeatureEncoder(self.lm_config, runtime=runtime)
            return self._lm

    @property
    def lm_loaded(self) -> bool:
        return self._lm is not None

    @property
    def lm(self) -> LMFeatureEncoder:
        """The language model, loaded on ``lm_runtime`` on first use when ``load_lm`` was not called."""
        return self._lm if self._lm is not None else self.load_lm(self.lm_runtime)

    def lead_vectors(self, views: Sequence[ArticleView]) -> np.ndarray:
        """(len(views), encoder dim): the lead vector of each view, as the article pass gives it."""
        encoder_dim = self.gate.in_dim if self.gate is not None else self.linear.in_dim - self.lm.dim
        return np.stack([self.features.vector(v, encoder_dim) for v in views])

    def inputs(self, lead: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), encoder dim + LM dim): each lead vector beside the LM vector of its text."""
        return np.concatenate([lead, self.lm.encode(texts)], axis=1)

    def word_scores(self, texts: Sequence[str]) -> np.ndarray | None:
        return self.lexical.log_probabilities(texts) if self.lexical is not None else None

    def gate_scores(self, lead: np.ndarray, words: np.ndarray | None) -> np.ndarray:
        """The gate's blended log-probabilities (a model without a gate: -inf, so nothing passes it)."""
        if self.gate is None:
            return np.full((len(lead), len(self.labels)), -np.inf, dtype=np.float32)
        return log_softmax(blend_scores(self.gate.log_probabilities(lead), words, self.blend))

    def passes_gate(self, gate_scores: np.ndarray) -> np.ndarray:
        """Which rows the gate answers alone: top probability at least ``gate_threshold``."""
        return np.exp(gate_scores.max(1)) >= self.gate_threshold

    def predict(self, views: Sequence[ArticleView], texts: Sequence[str] | None = None) -> list[EventPrediction]:
        """One prediction per view; ``texts`` (headline first line, then body) are needed."""
        if not views:
            return []
        if texts is None or len(texts) != len(views):
            raise ValueError("the language-model event classifier reads the article texts: pass one per view")
        lead, words = self.lead_vectors(views), self.word_scores(texts)
        scores = self.gate_scores(lead, words)
        passed = self.passes_gate(scores)
        rest = np.flatnonzero(~passed)
        if len(rest):
            full = self.linear.log_probabilities(self.inputs(lead[rest], [texts[i] for i in rest]))
            scores[rest] = blend_scores(full, None if words is None else words[rest], self.blend)
        self.counts["articles"] += len(views)
        self.counts["read_by_lm"] += len(rest)
        return blended_predictions(self.labels, scores, None, 1.0, texts,
                                   [READ_BY_GATE if p else READ_BY_LM for p in passed.tolist()])

    def save(self, folder: Path, extra_config: dict | None = None) -> None:
        config = {"task": "event", "kind": KIND, "labels": list(self.labels), "base_model": self.base_model,
                  "features": asdict(self.features), "lm": asdict(self.lm_config), **(extra_config or {})}
        tensors = self.linear.tensors("linear.")
        if self.gate is not None:
            tensors.update(self.gate.tensors("gate."))
            config["gate_threshold"] = self.gate_threshold
        save_event_checkpoint(folder, tensors, config, self.lexical, self.blend)

    @classmethod
    def from_checkpoint(cls, folder: Path, tensors: dict, config: dict) -> "EventLMModel":
        lexical, blend = load_word_evidence(folder, tensors, config)
        gate = StandardizedLinear.from_tensors(tensors, "gate.") if "gate.coef" in tensors else None
        return cls(StandardizedLinear.from_tensors(tensors, "linear."), config["labels"],
                   EventFeatures(**config["features"]), config["base_model"], LMFeatureConfig(**config["lm"]),
                   lexical, blend, gate=gate, gate_threshold=config.get("gate_threshold", NEVER))
