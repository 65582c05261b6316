"""Small heads that read vectors from the frozen article pass: the event classifier and the sentence scorer."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from model.labels import check_labels
from model.lexical import VOCABULARY_FILE, LexicalClassifier, log_softmax
from model.stance import ArticleView
from model.storage import load_checkpoint, require_task, save_checkpoint


class MLPHead(nn.Module):
    """Linear layer, or one hidden layer with GELU when ``hidden`` > 0."""

    def __init__(self, in_dim: int, out_dim: int, hidden: int = 0, dropout: float = 0.1):
        super().__init__()
        self.in_dim, self.out_dim, self.hidden = in_dim, out_dim, hidden
        if hidden:
            self.net = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_dim, hidden), nn.GELU(), nn.Dropout(dropout),
                                     nn.Linear(hidden, out_dim))
        else:
            self.net = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_dim, out_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


@dataclass
class EventFeatures:
    """Which parts of the article the event head reads.

    lead_sentences: the headline and opening sentences averaged into the 'lead' vector.
    use_body: also read the mean of all sentence vectors (the whole article).
    """

    lead_sentences: int = 3
    use_body: bool = True

    def dim(self, encoder_dim: int) -> int:
        return encoder_dim * (2 if self.use_body else 1)

    def vector(self, view: ArticleView, encoder_dim: int) -> np.ndarray:
        if not len(view.sentences):
            return np.zeros(self.dim(encoder_dim), dtype=np.float32)
        parts = [_unit(view.vectors[: self.lead_sentences].mean(0))]
        if self.use_body:
            parts.append(_unit(view.vectors.mean(0)))
        return np.concatenate(parts).astype(np.float32)


@dataclass
class EventPrediction:
    label: str
    scores: dict[str, float]
    reader: str = ""  # which part of a gated model answered ('gate' or 'language model'); empty for the others


def blend_scores(scores: np.ndarray, words: np.ndarray | None, blend: float) -> np.ndarray:
    """The event models' blend: blend * model log-probabilities + (1 - blend) * word-evidence log-probabilities
    (``scores`` alone when there are no word scores)."""
    return scores if words is None else blend * scores + (1 - blend) * words


def blended_predictions(labels: Sequence[str], scores: np.ndarray, lexical: LexicalClassifier | None, blend: float,
                        texts: Sequence[str], readers: Sequence[str] | None = None) -> list[EventPrediction]:
    """Predictions from model log-probabilities ``scores``, blended with the word evidence when there is one."""
    if lexical is not None:
        scores = blend_scores(scores, lexical.log_probabilities(texts), blend)
    probs = np.exp(log_softmax(scores)).tolist()
    readers = readers or [""] * len(probs)
    return [EventPrediction(labels[int(np.argmax(p))], dict(zip(labels, p)), r) for p, r in zip(probs, readers)]


def save_event_checkpoint(folder: Path, tensors: dict, config: dict, lexical: LexicalClassifier | None,
                          blend: float) -> None:
    """Write an event model's tensors and config, with its word evidence (weights, blend, vocabulary) if any."""
    if lexical is not None:
        config["lexical"] = {"blend": blend, "ngram_max": lexical.ngram_max, "lead_sentences": lexical.lead_sentences}
        tensors.update({k: torch.from_numpy(v) for k, v in lexical.tensors().items()})
        lexical.save_vocabulary(folder)
    else:  # a model saved over one with word evidence must not leave its vocabulary beside it
        (Path(folder) / VOCABULARY_FILE).unlink(missing_ok=True)
    save_checkpoint(folder, tensors, config)


def load_word_evidence(folder: Path, tensors: dict, config: dict) -> tuple[LexicalClassifier | None, float]:
    """(word evidence, blend weight) stored with an event model; (None, 1.0) when it has none."""
    if "lexical" not in config:
        return None, 1.0
    words = config["lexical"]
    lexical = LexicalClassifier.load(folder, tensors, words["ngram_max"], int(words.get("lead_sentences", 0)))
    return lexical, float(words["blend"])


class EventModel:
    """Event type from the lead (and body) vectors of the article pass; optionally blended with word evidence
    (``lexical``, TF-IDF + a linear classifier over the whole text): log p = blend * head + (1 - blend) * words."""

    reads_vectors = True  # it reads the article pass (EventReader reads the text instead)

    def __init__(self, head: MLPHead, labels: Sequence[str], features: EventFeatures, base_model: str,
                 lexical: LexicalClassifier | None = None, blend: float = 1.0):
        self.head = head.eval()
        self.labels = check_labels(labels)
        self.features = features
        self.base_model = base_model
        self.lexical = lexical
        self.blend = blend if lexical is not None else 1.0

    def vectors(self, views: Sequence[ArticleView]) -> np.ndarray:
        return np.stack([self.features.vector(v, self.head.in_dim // (2 if self.features.use_body else 1)) for v in views])

    @torch.inference_mode()
    def head_log_probabilities(self, views: Sequence[ArticleView]) -> np.ndarray:
        return torch.log_softmax(self.head(torch.from_numpy(self.vectors(views))), -1).numpy()

    def predict(self, views: Sequence[ArticleView], texts: Sequence[str] | None = None) -> list[EventPrediction]:
        """One prediction per view; ``texts`` (the whole article, headline first) feed the word evidence."""
        if not views:
            return []
        if self.lexical is not None and (texts is None or len(texts) != len(views)):
            raise ValueError("this event model also reads words: pass the article texts")
        return blended_predictions(self.labels, self.head_log_probabilities(views), self.lexical, self.blend, texts)

    def save(self, folder: Path, extra_config: dict | None = None) -> None:
        config = {"task": "event", "labels": list(self.labels), "base_model": self.base_model,
                  "features": asdict(self.features), "head": {"in_dim": self.head.in_dim, "hidden": self.head.hidden},
                  **(extra_config or {})}
        tensors = {f"head.{k}": v for k, v in self.head.state_dict().items()}
        save_event_checkpoint(folder, tensors, config, self.lexical, self.blend)

    @classmethod
    def load(cls, folder: Path) -> "EventModel":
        """The event model in ``folder``: this class, an ``EventReader`` (a fine-tuned encoder) or an ``EventLMModel``
        (a linear classifier that also reads a language model), as the folder's config says."""
        tensors, config = load_checkpoint(folder)
        require_task(folder, config, "event", "an event model")
        if config.get("kind") == "fine-tuned":
            from model.event_reader import EventReader

            return EventReader.from_checkpoint(folder, tensors, config)
        if config.get("kind") == "lm-linear":
            from model.event_lm import EventLMModel

            return EventLMModel.from_checkpoint(folder, tensors, config)
        labels = check_labels(config["labels"])
        head = MLPHead(config["head"]["in_dim"], len(labels), config["head"]["hidden"])
        head.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("head.")})
        lexical, blend = load_word_evidence(folder, tensors, config)
        return cls(head, labels, EventFeatures(**config["features"]), config["base_model"], lexical, blend)


def sentence_features(view: ArticleView) -> np.ndarray:
    """Per-sentence inputs to the sentence scorer: its vector, its vector times the article centroid,
    cosine to the centroid and to the lead, relative and absolute position, and length."""
    n = len(view.sentences)
    if n == 0:
        return np.zeros((0, 2 * (view.vectors.shape[1] if view.vectors.ndim == 2 else 0) + 6), dtype=np.float32)
    vecs = view.vectors
    centroid = _unit(vecs.mean(0))
    lead = _unit(vecs[:2].mean(0))
    pos = np.arange(n, dtype=np.float32)
    lengths = np.array([len(s.split()) for s in view.sentences], dtype=np.float32)
    extra = np.stack([vecs @ centroid, vecs @ lead, pos / max(n - 1, 1), 1.0 / (1.0 + pos), np.minimum(pos, 10) / 10,
                      np.log1p(lengths) / 4], axis=1)
    return np.concatenate([vecs, vecs * centroid, extra], axis=1).astype(np.float32)


@dataclass
class SummaryBudget:
    """Length of an extractive summary.

    sentences: at most this many sentences.
    words: at most this many words (the first chosen sentence is always kept).
    """

    sentences: int = 3
    words: int = 90


class SentenceScorer:
    """Scores each sentence for an extractive summary; picks the best within a budget, in article order."""

    def __init__(self, head: MLPHead, base_model: str):
        self.head = head.eval()
        self.base_model = base_model

    @torch.inference_mode()
    def scores(self, view: ArticleView) -> np.ndarray:
        if not view.sentences:
            return np.zeros(0, dtype=np.float32)
        return self.head(torch.from_numpy(sentence_features(view))).squeeze(-1).numpy()

    def select(self, view: ArticleView, budget: SummaryBudget, skip: Sequence[int] = ()) -> list[int]:
        return pick_within_budget(self.scores(view), view.sentences, budget, skip)

    def save(self, folder: Path, extra_config: dict | None = None) -> None:
        config = {"task": "summary-extractive", "base_model": self.base_model,
                  "head": {"in_dim": self.head.in_dim, "hidden": self.head.hidden}, **(extra_config or {})}
        save_checkpoint(folder, {f"head.{k}": v for k, v in self.head.state_dict().items()}, config)

    @classmethod
    def load(cls, folder: Path) -> "SentenceScorer":
        tensors, config = load_checkpoint(folder)
        require_task(folder, config, "summary-extractive", "a sentence scorer (extractive summariser)")
        head = MLPHead(config["head"]["in_dim"], 1, config["head"]["hidden"])
        head.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("head.")})
        return cls(head, config["base_model"])


def pick_within_budget(scores: Sequence[float], sentences: Sequence[str], budget: SummaryBudget,
                       skip: Sequence[int] = ()) -> list[int]:
    """Highest-scoring sentences while the sentence and word budgets allow, returned in article order; the
    sentences numbered in ``skip`` are never picked."""
    chosen, words = [], 0
    for i in sorted(range(len(sentences)), key=lambda i: (-float(scores[i]), i)):
        if len(chosen) >= budget.sentences:
            break
        if i in skip:
            continue
        n = len(sentences[i].split())
        if chosen and words + n > budget.words:
            continue
        chosen.append(i)
        words += n
    return sorted(chosen)
