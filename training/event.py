"""Train the event-type head on vectors from the frozen article pass (any label set)."""
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
from model.heads import EventFeatures, EventModel, MLPHead
from model.labels import check_labels
from model.resolve import BASE_ENCODER
from training import distributed
from training.loop import LoopConfig, config_dict, train_loop
from training.metrics import classification_report


@dataclass
class EventTrainConfig:
    """What the event trainer builds.

    base_model: frozen encoder whose sentence vectors the head reads.
    hidden: hidden units of the head (0: a linear head).
    dropout: dropout before each layer of the head.
    class_weight_power: class weights are (largest class / class count) ** power (0 turns weighting off).
    dev_fraction: share of a user file held out for dev when no dev split is given.
    init: start the head from scratch ('base'), from the shipped event model ('shipped') or from a model folder.
    """

    base_model: str = BASE_ENCODER
    hidden: int = 256
    dropout: float = 0.2
    class_weight_power: float = 0.5
    dev_fraction: float = 0.1
    init: str = "base"
    features: EventFeatures = field(default_factory=EventFeatures)


@dataclass
class LabeledText:
    text: str
    label: str


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
        n_dev = int(round(len(group) * fraction)) if len(group) >= 5 else 0
        dev += group[:n_dev]
        train += group[n_dev:]
    return train, dev


def event_vectors(texts: Sequence[str], encoder: SentenceEncoder, features: EventFeatures) -> np.ndarray:
    views = read_articles(texts, encoder, None if features.use_body else features.lead_sentences)
    if not views:
        return np.zeros((0, features.dim(encoder.dim)), dtype=np.float32)
    return np.stack([features.vector(v, encoder.dim) for v in views])


def train_event(train: Sequence[LabeledText], dev: Sequence[LabeledText], output: Path, config: EventTrainConfig,
                loop: LoopConfig, resume: bool = False, extra_card: dict | None = None) -> tuple[EventModel, dict]:
    """Fit the head on ``train``, keep the best by dev macro-F1, save to ``output``."""
    started = time.time()
    labels = check_labels(sorted({e.label for e in train}))
    index = {label: i for i, label in enumerate(labels)}
    unknown = sorted({e.label for e in dev} - set(labels))
    if unknown:
        raise ValueError(f"dev labels {unknown} never occur in train")
    encoder = SentenceEncoder(EncoderConfig(name=config.base_model))
    tqdm.write(f"embedding {len(train)} train and {len(dev)} dev texts")
    x_train = torch.from_numpy(event_vectors([e.text for e in train], encoder, config.features))
    x_dev = torch.from_numpy(event_vectors([e.text for e in dev], encoder, config.features))
    y_train = torch.tensor([index[e.label] for e in train])
    y_dev = [index[e.label] for e in dev]
    torch.manual_seed(loop.seed)
    head = MLPHead(x_train.shape[1], len(labels), config.hidden, config.dropout)
    if config.init != "base":
        from training.init import init_folder

        start = EventModel.load(init_folder(config.init, "event"))
        if start.labels != labels or start.head.hidden != config.hidden:
            from model.errors import InputError

            raise InputError(f"--init model has labels {list(start.labels)} and {start.head.hidden} hidden units; "
                             f"the data has {list(labels)} and the config {config.hidden}")
        head.load_state_dict(start.head.state_dict())
    counts = np.bincount(y_train.numpy(), minlength=len(labels)).astype(np.float64)
    weights = (counts.max() / np.maximum(counts, 1)) ** config.class_weight_power
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32))

    def batch_loss(batch: list[int]) -> torch.Tensor:
        idx = torch.tensor(batch)
        return loss_fn(head(x_train[idx]), y_train[idx])

    def evaluate() -> float:
        with torch.inference_mode():
            pred = head(x_dev).argmax(1).tolist()
        return classification_report(y_dev, pred, list(range(len(labels))))["macro_f1"]

    result = train_loop(head, list(range(len(train))), batch_loss, evaluate, loop,
                        checkpoint_dir=output / "checkpoints", resume=resume, progress=False)
    model = EventModel(head, labels, config.features, config.base_model)
    with torch.inference_mode():
        dev_pred = [labels[i] for i in head.eval()(x_dev).argmax(1).tolist()]
    card = {
        "labels": list(labels),
        "trained_on": {"train": len(train), "dev": len(dev), "train_counts": dict(zip(labels, counts.astype(int).tolist()))},
        "train_config": config_dict(loop) | {k: v for k, v in asdict(config).items()},
        "dev_metrics": classification_report([e.label for e in dev], dev_pred, list(labels)),
        "loop": {"best_dev_macro_f1": result.best_metric, "best_step": result.best_step, "steps": result.steps},
        "train_seconds": round(time.time() - started, 1),
        **(extra_card or {}),
    }
    if distributed.is_main():
        model.save(output, {"training": card})
    return model, card
