"""Train the extractive sentence scorer on article/reference pairs (labels: sentences the reference keeps)."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from model.article import read_articles
from model.encoder import EncoderConfig, SentenceEncoder
from model.errors import InputError
from model.heads import MLPHead, SentenceScorer, SummaryBudget, sentence_features
from model.resolve import BASE_ENCODER
from model.stance import ArticleView
from model.text import join_excerpt, split_headline
from training.data.summary_data import SummaryExample, extractive_labels
from training import distributed
from training.loop import LoopConfig, config_dict, train_loop
from training.metrics import rouge_scores
from training.options import check_at_least, check_share


@dataclass
class SummaryTrainConfig:
    """What the extractive trainer builds.

    base_model: frozen encoder whose sentence vectors the scorer reads.
    hidden: hidden units of the scorer (0: linear).
    dropout: dropout before each layer of the scorer.
    budget_sentences: summary length, in sentences, used for dev ROUGE during training.
    budget_words: summary length, in words, used for dev ROUGE during training.
    init: start the scorer from scratch ('base'), from the shipped one ('shipped') or from a model folder.
    """

    base_model: str = BASE_ENCODER
    hidden: int = 256
    dropout: float = 0.1
    budget_sentences: int = 3
    budget_words: int = 90
    init: str = "base"

    def __post_init__(self):
        check_at_least(self, 0, "hidden")
        check_at_least(self, 1, "budget_sentences", "budget_words")
        check_share(self, "dropout")


def body_views(examples: Sequence[SummaryExample], encoder: SentenceEncoder) -> list[ArticleView]:
    """Views of the article bodies (the title line, when there is one, is not a summary candidate)."""
    return read_articles([split_headline(e.article.strip())[1] for e in examples], encoder)


def lead_summary(view: ArticleView, budget: SummaryBudget) -> list[int]:
    """LEAD-k baseline under the same budget: the first sentences in order."""
    from model.heads import pick_within_budget

    n = len(view.sentences)
    return pick_within_budget([-i for i in range(n)], view.sentences, budget)


def summaries_from(views: Sequence[ArticleView], choose) -> list[str]:
    return [join_excerpt(v.sentences, choose(v)) for v in views]


def train_extractive(train: Sequence[SummaryExample], dev: Sequence[SummaryExample], output: Path,
                     config: SummaryTrainConfig, loop: LoopConfig, resume: bool = False,
                     extra_card: dict | None = None) -> tuple[SentenceScorer, dict]:
    started = time.time()
    encoder = SentenceEncoder(EncoderConfig(name=config.base_model))
    tqdm.write(f"embedding {len(train)} train and {len(dev)} dev articles")
    train_views, dev_views = body_views(train, encoder), body_views(dev, encoder)
    feats = [sentence_features(v) for v in train_views if v.sentences]
    labels = [extractive_labels(v.sentences, e.summary) for v, e in zip(train_views, train) if v.sentences]
    if not feats:
        raise InputError(f"none of the {len(train)} training articles has a sentence to score")
    x = torch.from_numpy(np.concatenate(feats))
    y = torch.tensor([l for ls in labels for l in ls], dtype=torch.float32)
    positive = float(y.mean())
    tqdm.write(f"{len(y)} sentences, {positive:.1%} kept by the references")
    torch.manual_seed(loop.seed)
    head = MLPHead(x.shape[1], 1, config.hidden, config.dropout)
    if config.init != "base":
        from training.init import init_folder

        head.load_state_dict(SentenceScorer.load(init_folder(config.init, "summary-extractive")).head.state_dict())
    scorer = SentenceScorer(head, config.base_model)
    loss_fn = nn.BCEWithLogitsLoss()
    budget = SummaryBudget(config.budget_sentences, config.budget_words)

    def batch_loss(batch: list[int]) -> torch.Tensor:
        idx = torch.tensor(batch)
        return loss_fn(head(x[idx]).squeeze(-1), y[idx])

    def evaluate() -> float:
        head.eval()
        predicted = summaries_from(dev_views, lambda v: scorer.select(v, budget))
        head.train()
        return rouge_scores([e.summary for e in dev], predicted)["rouge2"]

    result = train_loop(head, list(range(len(y))), batch_loss, evaluate, loop, checkpoint_dir=output / "checkpoints",
                        resume=resume, progress=False)
    dev_rouge = rouge_scores([e.summary for e in dev], summaries_from(dev_views, lambda v: scorer.select(v, budget)))
    lead_rouge = rouge_scores([e.summary for e in dev], summaries_from(dev_views, lambda v: lead_summary(v, budget)))
    card = {
        "trained_on": {"articles": len(train), "sentences": len(y), "positive_share": positive, "dev_articles": len(dev)},
        "train_config": config_dict(loop) | asdict(config),
        "dev_metrics": {"scorer": dev_rouge, "lead": lead_rouge},
        "loop": {"best_dev_rouge2": result.best_metric, "best_step": result.best_step, "steps": result.steps},
        "train_seconds": round(time.time() - started, 1),
        **(extra_card or {}),
    }
    if distributed.is_main():
        scorer.save(output, {"training": card, "budget": asdict(budget)})
    return scorer, card
