"""Word evidence for the event model: TF-IDF (word 1-2 grams) and a linear classifier over it, blended with the
embedding head. Stored as arrays (safetensors) plus the vocabulary as JSON; no pickles."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from model.errors import ModelNotFoundError
from model.storage import atomic_write_text
from model.text import headline_and_lead

VOCABULARY_FILE = "vocabulary.json"


def _vectorizer(ngram_max: int, vocabulary: Sequence[str] | None = None, max_features: int | None = None,
                min_df: int = 1):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, ngram_max), sublinear_tf=True, min_df=min_df,
                           max_features=max_features, dtype=np.float32,
                           vocabulary={t: i for i, t in enumerate(vocabulary)} if vocabulary else None)


def lead_text(text: str, lead_sentences: int) -> str:
    """The headline (when the first line reads as one) and the first ``lead_sentences`` body sentences; the whole
    text when ``lead_sentences`` is 0."""
    if lead_sentences <= 0:
        return text
    headline, lead = headline_and_lead(text, lead_sentences)
    return f"{headline}\n{lead}" if headline else lead


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


@dataclass
class LexicalClassifier:
    """Multinomial logistic regression over TF-IDF features of the text: the headline and the first
    ``lead_sentences`` sentences (what the article reports, by the taxonomy's rule), or all of it when 0."""

    vocabulary: list[str]
    idf: np.ndarray
    coef: np.ndarray  # (labels, vocabulary)
    intercept: np.ndarray  # (labels,)
    ngram_max: int = 2
    lead_sentences: int = 0

    def __post_init__(self):
        self._vec = _vectorizer(self.ngram_max, self.vocabulary)
        self._vec.idf_ = self.idf.astype(np.float64)

    def log_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), labels) log-probabilities."""
        features = self._vec.transform([lead_text(t, self.lead_sentences) for t in texts])
        return log_softmax(np.asarray(features @ self.coef.T) + self.intercept)

    @classmethod
    def fit(cls, texts: Sequence[str], targets: Sequence[int], n_labels: int, seed: int = 13,
            max_features: int = 50_000, c: float = 5.0, ngram_max: int = 2,
            lead_sentences: int = 0) -> "LexicalClassifier":
        """Fit on ``texts`` with integer ``targets`` in range(n_labels); classes weighted to balance."""
        from sklearn.linear_model import LogisticRegression

        vec = _vectorizer(ngram_max, max_features=max_features, min_df=2 if len(texts) >= 200 else 1)
        features = vec.fit_transform([lead_text(t, lead_sentences) for t in texts])
        clf = LogisticRegression(max_iter=3000, C=c, class_weight="balanced", random_state=seed)
        clf.fit(features, list(targets))
        coef = np.zeros((n_labels, features.shape[1]), np.float32)
        intercept = np.full(n_labels, -30.0, np.float32)  # a label absent from train stays (almost) impossible
        if len(clf.classes_) == 2:  # sklearn keeps one row for two classes: logits (0, z) give the same softmax
            coef[clf.classes_[1]], intercept[clf.classes_] = clf.coef_[0], (0.0, clf.intercept_[0])
        else:
            coef[clf.classes_], intercept[clf.classes_] = clf.coef_, clf.intercept_
        return cls(vec.get_feature_names_out().tolist(), vec.idf_.astype(np.float32), coef, intercept, ngram_max,
                   lead_sentences)

    def tensors(self) -> dict[str, np.ndarray]:
        return {"lexical.idf": self.idf.astype(np.float32), "lexical.coef": self.coef.astype(np.float32),
                "lexical.intercept": self.intercept.astype(np.float32)}

    def save_vocabulary(self, folder: Path) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        atomic_write_text(Path(folder) / VOCABULARY_FILE, json.dumps(self.vocabulary, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, folder: Path, tensors: dict, ngram_max: int, lead_sentences: int = 0) -> "LexicalClassifier":
        path = Path(folder) / VOCABULARY_FILE
        if not path.exists():
            raise ModelNotFoundError(f"{folder}: the event model has word features but no {VOCABULARY_FILE}")
        vocabulary = json.loads(path.read_text(encoding="utf-8"))
        arrays = {k: np.asarray(tensors[f"lexical.{k}"], dtype=np.float32) for k in ("idf", "coef", "intercept")}
        if not (len(vocabulary) == arrays["idf"].shape[0] == arrays["coef"].shape[1]):
            raise ModelNotFoundError(f"{folder}: {VOCABULARY_FILE} does not match the stored word weights")
        return cls(vocabulary, arrays["idf"], arrays["coef"], arrays["intercept"], ngram_max, lead_sentences)
