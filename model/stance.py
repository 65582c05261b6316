"""Stance of a claim toward an article: a relatedness gate, then a (claim, evidence) pair classifier, refined by a
stacker that can also read a language model's view of the pair (``model.lm_pairs``)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from model.labels import check_labels
from model.linear import StandardizedLinear
from model.name_mask import article_names, mask_names
from model.lm_pairs import LMPairConfig, LMPairReader
from model.pair_classifier import PairClassifier
from model.refutation import flip_permutation, mirror_claim
from model.relatedness import FEATURES, RelatednessGate, relatedness_features
from model.stance_cues import cue_features, has_refute_word
from model.stance_stacker import DISAGREE_SPLITS, LinearStacker, stack_features
from model.storage import load_checkpoint, require_task, save_checkpoint
from model.text import select_evidence


@dataclass
class EvidenceSettings:
    """How evidence sentences are picked for a claim.

    sentences: at most this many body sentences go to the pair classifier.
    tokens: word-piece budget for the evidence (the claim and special tokens come on top).
    lexical_weight: weight of content-word overlap against embedding cosine when ranking sentences.
    lead: always include the article's first sentence (where a report often states or rejects the claim).
    refute: always include the most relevant sentence holding a refuting word ("hoax", "denied", ...), if any.
    mask_names: the pair classifier reads the claim and evidence with the article's names replaced by numbered
        placeholders (``model.name_mask``); selection, similarity and the stacker's cues still read the text as is.
    """

    sentences: int = 5
    tokens: int = 100
    lexical_weight: float = 0.5
    lead: bool = False
    refute: bool = False
    mask_names: bool = False


@dataclass
class ArticleView:
    """What the stance model needs from one article pass: sentences, their unit vectors and token counts."""

    sentences: list[str]
    vectors: np.ndarray
    token_counts: list[int]


@dataclass
class StancePrediction:
    """``probabilities`` spread over every label (the related ones share the gate's P(related)). With a gate the label
    is decided in two steps, as the model was tuned: unrelated when ``related`` is below ``threshold``, else the most
    probable label of ``if_related``. So a pair passed at P(related) 0.3 is labelled related while 'unrelated' holds
    0.7 of ``probabilities``; ``related`` and ``if_related`` show the two steps."""

    label: str
    probabilities: dict[str, float]
    evidence: list[int] = field(default_factory=list)  # sentence indices, article order
    related: float | None = None  # the gate's P(related); None without a gate
    threshold: float | None = None  # the gate's threshold on ``related``
    if_related: dict[str, float] = field(default_factory=dict)  # the related labels' probabilities, given related


def averaged_views(probs, mirrored):
    """What the pair classifier says without a stacker: its own view, or the mean of both views when mirroring
    (tensors or arrays)."""
    return probs if mirrored is None else (probs + mirrored) / 2


def evidence_texts(articles: Sequence[ArticleView], evidence: Sequence[list[int]]) -> list[str]:
    """The evidence of each pair as one text: its sentences joined in article order."""
    return [" ".join(a.sentences[j] for j in ev) for a, ev in zip(articles, evidence)]


def classifier_pairs(settings: EvidenceSettings, claims: Sequence[str], articles: Sequence[ArticleView],
                     evidence: Sequence[list[int]]) -> tuple[list[str], list[str]]:
    """The (claim, evidence) texts the pair classifier reads, names masked when ``settings.mask_names``."""
    texts = evidence_texts(articles, evidence)
    if not settings.mask_names:
        return list(claims), texts
    names: dict[int, frozenset[str]] = {}  # per article object: one body is often paired with several claims
    masked = []
    for claim, text, article in zip(claims, texts, articles):
        if id(article) not in names:
            names[id(article)] = article_names(article.sentences)
        masked.append(mask_names([claim, text], names[id(article)]))
    return [m[0] for m in masked], [m[1] for m in masked]


def pick_evidence(settings: EvidenceSettings, claim: str, claim_vec: np.ndarray, article: ArticleView) -> list[int]:
    """Indices of the evidence sentences for ``claim`` in ``article`` (article order)."""
    return select_evidence(
        claim,
        article.sentences,
        k=settings.sentences,
        similarity=(article.vectors @ claim_vec).tolist() if len(article.sentences) else None,
        lexical_weight=settings.lexical_weight,
        token_counts=article.token_counts,
        max_tokens=settings.tokens,
        keep_first=settings.lead,
        prefer=[has_refute_word(s) for s in article.sentences] if settings.refute else None,
    )


class StanceModel:
    """Gate (related or not) + pair classifier over the related labels; works without a gate for any label set.

    mirror: also read each related pair with the claim refuted ("It is not true that ...") and agree and disagree
    swapped back, a second view of which side the body takes; the stacker weighs both views (without a stacker
    they are averaged). It doubles the pair classifier's work and needs agree, disagree and discuss labels.
    lm_reader: a language model's probe over the same (claim, evidence) pairs, whose log-probabilities the stacker
    reads beside the pair classifier's (it needs a stacker; without one it is not used).
    disagree_inputs: the stacker also reads the pair classifier's disagree split by whether refuting words fire,
    in the article ('article') or in the evidence ('evidence'; model.stance_stacker.stack_features); needs a disagree
    label. None: not read (models saved before session 30); a saved ``true`` means 'article'.
    """

    def __init__(
        self,
        pairs: PairClassifier,
        gate: RelatednessGate | None = None,
        unrelated_label: str | None = None,
        evidence: EvidenceSettings | None = None,
        stacker: LinearStacker | None = None,
        mirror: bool = False,
        lm_reader: LMPairReader | None = None,
        sentence_model: str | None = None,
        disagree_inputs: str | None = None,
    ):
        """``sentence_model`` is the encoder whose sentence vectors the evidence choice and the gate read (the
        article views); None: the pair classifier's own base model, as in every model trained before the two could
        differ."""
        if (gate is None) != (unrelated_label is None):
            raise ValueError("a relatedness gate needs an unrelated label and vice versa")
        if mirror and flip_permutation(pairs.labels) is None:
            raise ValueError(f"mirror needs the labels agree, disagree and discuss; this model has {list(pairs.labels)}")
        if disagree_inputs not in (None, *DISAGREE_SPLITS):
            raise ValueError(f"disagree_inputs must be None or one of {', '.join(DISAGREE_SPLITS)}, got {disagree_inputs!r}")
        if disagree_inputs and "disagree" not in pairs.labels:
            raise ValueError(f"disagree_inputs needs a disagree label; this model has {list(pairs.labels)}")
        self.mirror = mirror
        self.disagree_inputs = disagree_inputs
        self.pairs = pairs
        self.gate = gate
        self.unrelated_label = unrelated_label
        self.evidence_settings = evidence or EvidenceSettings()
        self.stacker = stacker
        self.lm_reader = lm_reader
        self.sentence_model = sentence_model or pairs.base_model

    @property
    def labels(self) -> tuple[str, ...]:
        return self.pairs.labels + ((self.unrelated_label,) if self.unrelated_label else ())

    def select(self, claim: str, claim_vec: np.ndarray, article: ArticleView) -> list[int]:
        return pick_evidence(self.evidence_settings, claim, claim_vec, article)

    def predict(
        self, claims: Sequence[str], claim_vecs: np.ndarray, articles: Sequence[ArticleView], skip_unrelated: bool = False
    ) -> list[StancePrediction]:
        """One prediction per (claim, article) pair.

        With ``skip_unrelated`` the pair classifier is not run where the gate already says unrelated
        (for fast bulk evaluation); those rows then split P(related) evenly over the related labels.
        """
        n = len(claims)
        evidence = [self.select(c, v, a) for c, v, a in zip(claims, claim_vecs, articles)]
        if self.gate is not None or self.stacker is not None:  # only they read the similarity features
            related_feats = self.relatedness(claims, claim_vecs, articles)
        else:
            related_feats = np.zeros((n, len(FEATURES)), dtype=np.float32)
        p_related = self.gate.probability(related_feats) if self.gate is not None and n else np.ones(n)
        run = [i for i in range(n) if not (skip_unrelated and self.gate is not None and p_related[i] < self.gate.threshold)]
        pair_probs = torch.full((n, len(self.pairs.labels)), 1.0 / len(self.pairs.labels))
        if run:
            related = None if self.gate is None else p_related[run] >= self.gate.threshold
            pair_probs[run] = self.pair_probabilities([claims[i] for i in run], [articles[i] for i in run],
                                                      [evidence[i] for i in run], related_feats[run], related=related)
        out, ran = [], set(run)
        threshold = None if self.gate is None else round(float(self.gate.threshold), 6)  # stored as float32
        for i in range(n):
            probs = {lab: float(p_related[i] * p) for lab, p in zip(self.pairs.labels, pair_probs[i].tolist())}
            if self.unrelated_label is not None:
                probs[self.unrelated_label] = float(1.0 - p_related[i])
            if self.gate is not None and p_related[i] < self.gate.threshold:
                label = self.unrelated_label
            else:
                label = self.pairs.labels[int(pair_probs[i].argmax())]
            related = None if self.gate is None else float(p_related[i])
            given = dict(zip(self.pairs.labels, pair_probs[i].tolist())) if i in ran else {}
            out.append(StancePrediction(label, probs, evidence[i], related, threshold, given))
        return out

    def relatedness(self, claims: Sequence[str], claim_vecs: np.ndarray, articles: Sequence[ArticleView]) -> np.ndarray:
        """(n, len(FEATURES)) similarity features of each pair."""
        if not len(claims):
            return np.zeros((0, len(FEATURES)), dtype=np.float32)
        return np.stack([relatedness_features(c, v, a.sentences, a.vectors) for c, v, a in zip(claims, claim_vecs, articles)])

    def classifier_views(self, claims: Sequence[str], articles: Sequence[ArticleView],
                         evidence: Sequence[list[int]]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The pair classifier's probabilities for each pair and, with ``mirror``, for its refuted claim (columns
        swapped back to the claim's labels); None when not mirroring."""
        claims, texts = classifier_pairs(self.evidence_settings, claims, articles, evidence)
        if not self.mirror:
            return self.pairs.predict_proba(claims, texts), None
        both = self.pairs.predict_proba(claims + [mirror_claim(c) for c in claims], texts + texts)
        return both[: len(claims)], both[len(claims):, flip_permutation(self.pairs.labels)]

    def pair_probabilities(self, claims: Sequence[str], articles: Sequence[ArticleView], evidence: Sequence[list[int]],
                           related_feats: np.ndarray, use_stacker: bool = True,
                           related: np.ndarray | None = None) -> torch.Tensor:
        """Probabilities over the related labels: the pair classifier, refined by the stacker when there is one.
        ``related``: which pairs the gate calls related (None: all); only they are read by the language model."""
        probs, mirrored = self.classifier_views(claims, articles, evidence)
        if self.stacker is None or not use_stacker:
            return averaged_views(probs, mirrored)
        features = self.stack_features(claims, articles, evidence, related_feats, probs, mirrored, related)
        return torch.from_numpy(self.stacker.probability(features))

    def stack_features(self, claims, articles, evidence, related_feats: np.ndarray, probs: torch.Tensor,
                       mirrored: torch.Tensor | None = None, related: np.ndarray | None = None) -> np.ndarray:
        """The stacker's input rows. The language model reads only the ``related`` pairs (None: all); a pair the
        gate already calls unrelated gets its uniform log-probabilities, since its label is decided without them."""
        cues = np.stack([cue_features(c, a.sentences, ev) for c, a, ev in zip(claims, articles, evidence)])
        lm = None
        if self.lm_reader is not None:
            read = np.ones(len(claims), bool) if related is None else np.asarray(related, bool)
            lm = np.full((len(claims), len(self.pairs.labels)), -np.log(len(self.pairs.labels)), np.float32)
            if read.any():
                texts = evidence_texts(articles, evidence)
                rows = np.flatnonzero(read)
                lm[rows] = self.lm_reader.log_probabilities([claims[i] for i in rows], [texts[i] for i in rows])
        disagree = self.pairs.labels.index("disagree") if self.disagree_inputs else None
        return stack_features(probs.numpy(), related_feats, cues, None if mirrored is None else mirrored.numpy(), lm,
                              disagree, self.disagree_inputs or "article")

    def save(self, folder: Path, extra_config: dict | None = None) -> None:
        tensors = {f"pairs.{k}": v for k, v in self.pairs.trained_state().items()}
        if self.gate is not None:
            tensors.update({k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in self.gate.tensors().items()})
        if self.stacker is not None:
            tensors.update({k: torch.from_numpy(v) for k, v in self.stacker.tensors().items()})
        if self.lm_reader is not None and self.lm_reader.probe is not None:
            tensors.update(self.lm_reader.probe.tensors("lm_probe."))
        config = {
            "task": "stance",
            "labels": list(self.labels),
            "pair_labels": list(self.pairs.labels),
            "unrelated_label": self.unrelated_label,
            "base_model": self.pairs.base_model,
            "sentence_model": self.sentence_model,
            "max_length": self.pairs.max_length,
            **({"frozen_layers": self.pairs.frozen_layers} if self.pairs.frozen_layers else {}),
            **({"lora": {"rank": self.pairs.lora_rank, "alpha": self.pairs.lora_alpha}} if self.pairs.lora_rank else {}),
            "evidence": asdict(self.evidence_settings),
            "mirror": self.mirror,
            **({"disagree_inputs": self.disagree_inputs} if self.disagree_inputs else {}),
            **({"lm_pairs": asdict(self.lm_reader.config)} if self.lm_reader is not None else {}),
            **(extra_config or {}),
        }
        save_checkpoint(folder, tensors, config)

    @classmethod
    def load(cls, folder: Path, base_model: str | None = None) -> "StanceModel":
        tensors, config = load_checkpoint(folder)
        require_task(folder, config, "stance", "a stance model")
        pairs = PairClassifier(base_model or config["base_model"], check_labels(config["pair_labels"]), config["max_length"],
                               frozen_layers=int(config.get("frozen_layers", 0)),
                               lora_rank=int(config.get("lora", {}).get("rank", 0)),
                               lora_alpha=float(config.get("lora", {}).get("alpha", 16.0)))
        pairs.load_trained_state({k[6:]: v for k, v in tensors.items() if k.startswith("pairs.")}, str(folder))
        gate = RelatednessGate.from_tensors({k: v.numpy() for k, v in tensors.items()}) if "gate.coef" in tensors else None
        stacker = LinearStacker.from_tensors({k: v.numpy() for k, v in tensors.items()})
        lm_reader = None
        if "lm_probe.coef" in tensors:
            lm_reader = LMPairReader(LMPairConfig(**config["lm_pairs"]), StandardizedLinear.from_tensors(tensors, "lm_probe."))
        # the sentence encoder: named since pair models could differ from it; before, the training record's base model
        sentence_model = config.get("sentence_model") or config.get("training", {}).get("train_config", {}).get("base_model")
        return cls(pairs, gate, config.get("unrelated_label"), EvidenceSettings(**config.get("evidence", {})), stacker,
                   mirror=bool(config.get("mirror", False)), lm_reader=lm_reader, sentence_model=sentence_model,
                   disagree_inputs=saved_disagree_inputs(config.get("disagree_inputs")))


def saved_disagree_inputs(value) -> str | None:
    """A saved config's ``disagree_inputs``: absent or false, none; true (session 31's models), 'article'."""
    if value is True:
        return "article"
    return value or None
