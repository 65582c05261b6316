"""Train the event-type model (any label set): a head on vectors from the frozen article pass, a fine-tuned
encoder reading the headline and opening, or a linear classifier that also reads a language model's middle layer;
each blended with word evidence chosen on dev."""
from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from model.article import read_articles
from model.encoder import EncoderConfig, SentenceEncoder
from model.event_lm import EventLMModel
from model.event_reader import EventReader
from model.heads import EventFeatures, EventModel, MLPHead, blend_scores
from model.labels import check_labels
from model.lexical import LexicalClassifier
from model.lm_features import LMFeatureConfig, LMFeatureEncoder
from model.pair_classifier import PairClassifier
from model.resolve import BASE_ENCODER
from model.text import headline_and_lead
from training import distributed
from training.loop import LoopConfig, LoopResult, config_dict, train_loop
from training.metrics import classification_report
from training.options import check_at_least, check_share


READERS = ("frozen", "fine-tune", "lm-linear")


# The loop settings of the 'frozen' head when the user sets none (those of the shipped frozen head,
# weights/event-fast): LoopConfig's defaults suit fine-tuning a transformer and leave a small head untrained.
FROZEN_HEAD_LOOP = {"learning_rate": 1e-3, "epochs": 40.0}


@dataclass
class EventTrainConfig:
    """What the event trainer builds.

    reader: 'frozen' (an MLP head on the frozen encoder's sentence vectors, which the article pass computes anyway),
        'fine-tune' (fine-tune the encoder on the headline and opening as text: one more encoder pass per
        article; use a transformer learning rate such as 5e-5, batch size 16 and a few epochs) or 'lm-linear' (a
        logistic regression over the frozen lead vector and a middle layer of a small language model, ``lm``:
        one pass of half of Gemma-3-270M per article; the loop settings are not used).
    base_model: encoder whose sentence vectors the head reads, or that is fine-tuned.
    max_length: tokens of (headline, opening) read by the fine-tuned encoder.
    hidden: hidden units of the head (0: a linear head; frozen reader only).
    dropout: dropout before each layer of the head (frozen reader only).
    class_weight_power: class weights are (largest class / class count) ** power (0 turns weighting off).
    dev_fraction: share of a user file held out for dev when no dev split is given.
    attention_dropout: dropout on attention weights while fine-tuning (fine-tuned reader only; None: the base
        model's own); 0 lets the fused attention kernel run, about 1.5x faster per step on CPU.
    init: start the head from scratch ('base'), from the shipped event model ('shipped') or from a model folder.
    lexical: also fit word evidence (TF-IDF 1-2 grams + logistic regression over the whole text) and blend it with
    the head; the blend weight is chosen on dev (macro-F1) from BLEND_GRID.
    lexical_lead: the word evidence reads the headline and this many opening sentences (0: the whole text).
    linear_c: inverse L2 strength of the 'lm-linear' logistic regression (over standardised inputs).
    lm: which language model and layer the 'lm-linear' reader reads (config file table [event.lm]).
    gate: 'lm-linear' only: also fit a gate (logistic regression over the lead vector alone, blended with the same
        word evidence) that answers the articles it is sure of without the language model.
    gate_margin: the gate's threshold is the lowest of 0.30, 0.35, ..., 0.95 at which it changes none of the full
        model's dev answers, plus this margin for text unlike the training corpora.
    confirmed_only: the built corpus mix only: train and dev keep only the texts whose mapped label a blind
        re-reading gives too (training/data/event_audit.py), so no corpus's mapping convention decides a label.
    """

    reader: str = "frozen"
    base_model: str = BASE_ENCODER
    max_length: int = 128
    hidden: int = 256
    dropout: float = 0.2
    class_weight_power: float = 0.5
    dev_fraction: float = 0.1
    attention_dropout: float | None = None
    init: str = "base"
    lexical: bool = True
    lexical_lead: int = 0
    linear_c: float = 0.01
    gate: bool = True
    gate_margin: float = 0.1
    confirmed_only: bool = False
    features: EventFeatures = field(default_factory=EventFeatures)
    lm: LMFeatureConfig = field(default_factory=LMFeatureConfig)

    def __post_init__(self):
        if self.reader not in READERS:
            raise ValueError(f"reader must be one of {', '.join(READERS)}")
        if self.reader == "lm-linear" and self.features.use_body:
            raise ValueError("the 'lm-linear' reader reads the lead only: set features.use_body to false")
        if self.linear_c <= 0:
            raise ValueError("linear_c must be positive")
        if self.max_length < 16:
            raise ValueError("max_length must be at least 16")
        if not 0 < self.dev_fraction < 0.5:  # as for stance: 0 leaves nothing to choose the blend and best state on
            raise ValueError(f"dev_fraction must be in (0, 0.5), got {self.dev_fraction}")
        check_at_least(self, 0, "hidden", "class_weight_power", "lexical_lead", "gate_margin")
        check_share(self, "dropout", "attention_dropout")


BLEND_GRID = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)  # weight of the embedding head against the words
GATE_GRID = tuple(round(0.3 + 0.05 * i, 2) for i in range(14))  # 0.3 ... 0.95


@dataclass
class LabeledText:
    text: str
    label: str


DEV_MIN_PER_LABEL = 5  # a label with fewer rows than this keeps them all for training


def split_dev(examples: Sequence[LabeledText], fraction: float, seed: int) -> tuple[list, list]:
    """Stratified train/dev split of a user file, fixed by ``seed``."""
    by_label: dict[str, list] = {}
    for e in examples:
        by_label.setdefault(e.label, []).append(e)
    train, dev = [], []
    rng = random.Random(seed)
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        n_dev = int(round(len(group) * fraction)) if len(group) >= DEV_MIN_PER_LABEL else 0
        dev += group[:n_dev]
        train += group[n_dev:]
    return train, dev


def event_vectors(texts: Sequence[str], encoder: SentenceEncoder, features: EventFeatures) -> np.ndarray:
    views = read_articles(texts, encoder, None if features.use_body else features.lead_sentences)
    if not views:
        return np.zeros((0, features.dim(encoder.dim)), dtype=np.float32)
    return np.stack([features.vector(v, encoder.dim) for v in views])


def train_event(train: Sequence[LabeledText], dev: Sequence[LabeledText], output: Path, config: EventTrainConfig,
                loop: LoopConfig, resume: bool = False, extra_card: dict | None = None):
    """Fit the event model on ``train``, keep the best by dev macro-F1, save to ``output``; returns (model, card)."""
    started = time.time()
    labels = check_labels(sorted({e.label for e in train}))
    index = {label: i for i, label in enumerate(labels)}
    unknown = sorted({e.label for e in dev} - set(labels))
    if unknown:
        raise ValueError(f"dev labels {unknown} never occur in train")
    y_train = torch.tensor([index[e.label] for e in train])
    y_dev = [index[e.label] for e in dev]
    counts = np.bincount(y_train.numpy(), minlength=len(labels)).astype(np.float64)
    weights = (counts.max() / np.maximum(counts, 1)) ** config.class_weight_power
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32))
    torch.manual_seed(loop.seed)
    fit = {"frozen": _fit_head, "fine-tune": _fit_reader, "lm-linear": _fit_lm_linear}[config.reader]
    model, result, head_scores = fit(train, dev, y_train, y_dev, labels, loss_fn, output, config, loop, resume)
    blend_report = {}
    dev_scores = head_scores
    if config.lexical:
        tqdm.write("fitting the word evidence (TF-IDF + logistic regression)")
        lexical = LexicalClassifier.fit([e.text for e in train], y_train.tolist(), len(labels), loop.seed,
                                        lead_sentences=config.lexical_lead)
        blend = 0.5
        if dev:
            words = lexical.log_probabilities([e.text for e in dev])
            blend_report = {str(w): classification_report(y_dev, blend_scores(head_scores, words, w).argmax(1).tolist(),
                                                          list(range(len(labels))))["macro_f1"] for w in BLEND_GRID}
            blend = float(max(BLEND_GRID, key=lambda w: (blend_report[str(w)], w)))  # ties: more embedding
            dev_scores = blend_scores(head_scores, words, blend)
        model.lexical, model.blend = lexical, blend
    gate_report = {}
    if isinstance(model, EventLMModel) and model.gate is not None:
        gate_report = set_gate_threshold(model, [e.text for e in dev], dev_scores.argmax(1), config.gate_margin)
    dev_pred = [labels[i] for i in dev_scores.argmax(1).tolist()]
    card = {
        "labels": list(labels),
        "trained_on": {"train": len(train), "dev": len(dev), "train_counts": dict(zip(labels, counts.astype(int).tolist()))},
        "train_config": config_dict(loop) | {k: v for k, v in asdict(config).items()},
        "dev_metrics": classification_report([e.label for e in dev], dev_pred, list(labels)),
        "loop": {"best_dev_macro_f1": result.best_metric, "best_step": result.best_step, "steps": result.steps,
                 "averaged_states": result.averaged, "history": result.history},
        **({"blend": {"chosen": model.blend, "dev_macro_f1_by_weight": blend_report}} if config.lexical else {}),
        **({"gate": gate_report} if gate_report else {}),
        "train_seconds": round(time.time() - started, 1),
        **(extra_card or {}),
    }
    if distributed.is_main():
        model.save(output, {"training": card})
    return model, card


def _fit_head(train, dev, y_train, y_dev, labels, loss_fn, output, config, loop, resume):
    """MLP head over frozen sentence vectors of the lead (and body); returns (model, loop result, dev log-probs)."""
    encoder = SentenceEncoder(EncoderConfig(name=config.base_model))
    tqdm.write(f"embedding {len(train)} train and {len(dev)} dev texts")
    x_train = torch.from_numpy(event_vectors([e.text for e in train], encoder, config.features))
    x_dev = torch.from_numpy(event_vectors([e.text for e in dev], encoder, config.features))
    head = MLPHead(x_train.shape[1], len(labels), config.hidden, config.dropout)
    if config.init != "base":
        start = _init_model(config)
        if not isinstance(start, EventModel) or start.labels != labels or start.head.hidden != config.hidden:
            from model.errors import InputError

            raise InputError(f"--init model has labels {list(start.labels)} and is not a frozen-encoder head with "
                             f"{config.hidden} hidden units; the data has {list(labels)}")
        head.load_state_dict(start.head.state_dict())

    def batch_loss(batch: list[int]) -> torch.Tensor:
        idx = torch.tensor(batch)
        return loss_fn(head(x_train[idx]), y_train[idx])

    def evaluate() -> float:
        with torch.inference_mode():
            pred = head(x_dev).argmax(1).tolist()
        return classification_report(y_dev, pred, list(range(len(labels))))["macro_f1"]

    result = train_loop(head, list(range(len(train))), batch_loss, evaluate, loop,
                        checkpoint_dir=output / "checkpoints", resume=resume, progress=False)
    with torch.inference_mode():
        dev_scores = torch.log_softmax(head.eval()(x_dev), -1).numpy()
    return EventModel(head, labels, config.features, config.base_model), result, dev_scores


def _fit_reader(train, dev, y_train, y_dev, labels, loss_fn, output, config, loop, resume):
    """Fine-tune the encoder on (headline, lead) text pairs; returns (model, loop result, dev log-probs)."""
    classifier = PairClassifier(config.base_model, labels, config.max_length, attention_dropout=config.attention_dropout)
    if config.init != "base":
        start = _init_model(config)
        if not isinstance(start, EventReader) or start.labels != labels:
            from model.errors import InputError

            raise InputError(f"--init model has labels {list(start.labels)} and must be a fine-tuned event model; "
                             f"the data has {list(labels)}")
        classifier.load_trained_state(start.classifier.trained_state(torch.float32), config.init)
    lead = config.features.lead_sentences
    reader = EventReader(classifier, lead)  # train_loop switches the classifier to training mode and back
    items = [(*headline_and_lead(e.text, lead), int(y)) for e, y in zip(train, y_train.tolist())]
    dev_texts = [e.text for e in dev]
    tqdm.write(f"fine-tuning {config.base_model} on {len(items)} (headline, first {lead} sentences) texts, "
               f"{len(dev_texts)} dev")

    def batch_loss(batch: list[tuple[str, str, int]]) -> torch.Tensor:
        enc = classifier.tokenize([b[0] for b in batch], [b[1] for b in batch])
        return loss_fn(classifier(**enc), torch.tensor([b[2] for b in batch]))

    def evaluate() -> float:
        pred = reader.reader_log_probabilities(dev_texts).argmax(1).tolist()
        return classification_report(y_dev, pred, list(range(len(labels))))["macro_f1"]

    result = train_loop(classifier, items, batch_loss, evaluate, loop, checkpoint_dir=output / "checkpoints",
                        resume=resume)
    dev_scores = reader.reader_log_probabilities(dev_texts) if dev_texts else np.zeros((0, len(labels)), np.float32)
    return reader, result, dev_scores


def _fit_lm_linear(train, dev, y_train, y_dev, labels, loss_fn, output, config, loop, resume):
    """Logistic regression over (frozen lead vector, language-model lead vector), standardised; the class weights
    of ``loss_fn`` become sample weights (mean 1). Returns (model, result, dev log-probs)."""
    from training.linear_fit import fit_standardized_linear

    if config.init != "base":
        from model.errors import InputError

        raise InputError("the 'lm-linear' reader is fitted in one go: --init is not supported for it")
    encoder = SentenceEncoder(EncoderConfig(name=config.base_model))
    lm = LMFeatureEncoder(config.lm)
    tqdm.write(f"reading {len(train)} train and {len(dev)} dev texts with {config.base_model} and layer "
               f"{config.lm.layer} of {config.lm.name}")

    def inputs(examples) -> np.ndarray:
        texts = [e.text for e in examples]
        return np.concatenate([event_vectors(texts, encoder, config.features), lm.encode(texts)], axis=1)

    x_train = inputs(train)
    weights = loss_fn.weight.numpy()[y_train.numpy()]
    fit = lambda x: fit_standardized_linear(x, y_train.numpy(), len(labels), config.linear_c,  # noqa: E731
                                            sample_weight=weights / weights.mean())
    gate = fit(x_train[:, : x_train.shape[1] - lm.dim])[0] if config.gate else None
    linear, iterations = fit(x_train)
    model = EventLMModel(linear, labels, config.features, config.base_model, config.lm, lm=lm, gate=gate)
    dev_scores = (model.linear.log_probabilities(inputs(dev)) if dev
                  else np.zeros((0, len(labels)), np.float32))
    metric = (classification_report(y_dev, dev_scores.argmax(1).tolist(), list(range(len(labels))))["macro_f1"]
              if dev else 0.0)
    return model, LoopResult(metric, 0, iterations), dev_scores


def set_gate_threshold(model: EventLMModel, dev_texts: Sequence[str], full_choice: np.ndarray, margin: float) -> dict:
    """Set ``model.gate_threshold``: the lowest GATE_GRID value at which the gate changes none of the full
    model's dev answers (``full_choice``), plus ``margin``; no dev texts, or no safe value: the gate never answers.
    Returns, per grid value, the share of dev the gate answers and how many answers it changes."""
    from model.event_lm import NEVER

    if not dev_texts:
        model.gate_threshold = NEVER
        return {"threshold": NEVER, "reason": "no dev texts"}
    encoder = SentenceEncoder(EncoderConfig(name=model.base_model))
    lead = event_vectors(dev_texts, encoder, model.features)
    scores = model.gate_scores(lead, model.word_scores(dev_texts))
    confidence, choice = np.exp(scores.max(1)), scores.argmax(1)
    by_value = {}
    for value in GATE_GRID:
        passed = confidence >= value
        by_value[str(value)] = {"answered": round(float(passed.mean()), 4),
                                "changed": int((choice[passed] != full_choice[passed]).sum())}
    safe = [v for v in GATE_GRID if by_value[str(v)]["changed"] == 0]  # a higher value passes a subset
    model.gate_threshold = round(safe[0] + margin, 4) if safe else NEVER
    answered = float((confidence >= model.gate_threshold).mean())
    return {"threshold": model.gate_threshold, "margin": margin, "dev_answered_by_gate": round(answered, 4),
            "dev_by_value": by_value}


def _init_model(config: "EventTrainConfig"):
    from training.init import init_folder

    return EventModel.load(init_folder(config.init, "event"))
