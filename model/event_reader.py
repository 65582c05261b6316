"""Event type from a fine-tuned encoder that reads the headline and opening of the article as text (rather than
the frozen sentence vectors of the article pass); optionally blended with word evidence like ``EventModel``."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from model.heads import EventFeatures, EventPrediction, blended_predictions, load_word_evidence, save_event_checkpoint
from model.labels import check_labels
from model.lexical import LexicalClassifier
from model.pair_classifier import PairClassifier
from model.stance import ArticleView
from model.text import headline_and_lead

KIND = "fine-tuned"


class EventReader:
    """A ``PairClassifier`` over (headline, lead) fine-tuned for event type. Same ``predict`` as ``EventModel``;
    it needs the article texts, not the article pass (``reads_vectors`` is False)."""

    reads_vectors = False

    def __init__(self, classifier: PairClassifier, lead_sentences: int = 3, lexical: LexicalClassifier | None = None,
                 blend: float = 1.0):
        self.classifier = classifier.eval()
        self.labels = check_labels(classifier.labels)
        self.features = EventFeatures(lead_sentences=lead_sentences, use_body=False)
        self.base_model = classifier.base_model
        self.lexical = lexical
        self.blend = blend if lexical is not None else 1.0

    def inputs(self, texts: Sequence[str]) -> tuple[list[str], list[str]]:
        pairs = [headline_and_lead(t, self.features.lead_sentences) for t in texts]
        return [h for h, _ in pairs], [lead for _, lead in pairs]

    def reader_log_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), labels) log-probabilities of the fine-tuned encoder alone (no decision offsets)."""
        heads, leads = self.inputs(texts)
        probs = self.classifier.predict_proba(heads, leads)
        return torch.log(probs.clamp_min(1e-9)).numpy()

    def predict(self, views: Sequence[ArticleView] | None, texts: Sequence[str] | None = None) -> list[EventPrediction]:
        """One prediction per text (headline first line, then body); ``views`` are accepted and not read."""
        if texts is None:
            raise ValueError("the fine-tuned event model reads the article texts: pass them")
        if not texts:
            return []
        return blended_predictions(self.labels, self.reader_log_probabilities(texts), self.lexical, self.blend, texts)

    def save(self, folder: Path, extra_config: dict | None = None) -> None:
        config = {"task": "event", "kind": KIND, "labels": list(self.labels), "base_model": self.base_model,
                  "max_length": self.classifier.max_length, "lead_sentences": self.features.lead_sentences,
                  **(extra_config or {})}
        tensors = {f"reader.{k}": v for k, v in self.classifier.trained_state().items()}
        save_event_checkpoint(folder, tensors, config, self.lexical, self.blend)

    @classmethod
    def from_checkpoint(cls, folder: Path, tensors: dict, config: dict) -> "EventReader":
        classifier = PairClassifier(config["base_model"], check_labels(config["labels"]), int(config["max_length"]))
        classifier.load_trained_state({k[7:]: v for k, v in tensors.items() if k.startswith("reader.")}, str(folder))
        lexical, blend = load_word_evidence(folder, tensors, config)
        return cls(classifier, int(config["lead_sentences"]), lexical, blend)
