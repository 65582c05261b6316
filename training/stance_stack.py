"""Fit the stance stacker on dev pairs the pair classifier never trained on, choosing its settings by grouped CV.

Folds are grouped by claim (the default, as shipped) or by story (no claim and no body on both sides of a fold).
Folds by claim share bodies, which flatters inputs that can recognise a body (on FNC-1 dev a probe over 1,280
language-model inputs scored 0.66 out of fold by claim and 0.35-0.42 by story); with the v5 stacker's 21 inputs,
folds by story chose a stronger L2 that scored lower on the FNC-1 test set's macro-F1 and disagree F1 (README)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from model.stance import ArticleView, StanceModel, averaged_views
from model.stance_stacker import LinearStacker
from training.data.stance_data import StanceData, story_ids
from training.metrics import classification_report


@dataclass
class StackResult:
    stacker: LinearStacker
    folds_macro_f1: float  # out-of-fold macro-F1 over the related labels, with the stacker
    pair_only_macro_f1: float  # same pairs, the pair classifier alone
    c: float
    n_pairs: int
    mirror_macro_f1: float | None = None  # the pair classifier's two views averaged (mirror on), no stacker
    folds_grouped_by: str = "claim"  # 'claim', or 'story' (asked for, and dev holds at least MIN_STORIES stories)
    groups: int = 0
    extra_pairs: int = 0  # pairs beside dev that joined the fits (stack_news), not the scores


def dev_stack_inputs(model: StanceModel, dev: StanceData, views: dict[str, ArticleView], claim_vecs: dict):
    """Features and gold label indices for the dev pairs whose label the pair classifier knows."""
    index = {label: i for i, label in enumerate(model.pairs.labels)}
    rows = [e for e in dev.examples if e.label in index]
    claims = [e.claim for e in rows]
    articles = [views[e.body_id] for e in rows]
    vecs = np.stack([claim_vecs[c] for c in claims])
    evidence = [model.select(c, v, a) for c, v, a in zip(claims, vecs, articles)]
    related = model.relatedness(claims, vecs, articles)
    probs, mirrored = model.classifier_views(claims, articles, evidence)
    feats = model.stack_features(claims, articles, evidence, related, probs, mirrored)
    gold = np.array([index[e.label] for e in rows])
    return feats, gold, probs.numpy(), None if mirrored is None else mirrored.numpy(), claims, story_ids(rows)


def _fit(x: np.ndarray, y: np.ndarray, c: float, n_labels: int, seed: int, weight=None) -> LinearStacker:
    from training.linear_fit import fit_standardized_linear

    linear, _ = fit_standardized_linear(x, y, n_labels, c, sample_weight=weight, class_weight="balanced", seed=seed)
    return LinearStacker(linear.mean, linear.scale, linear.coef, linear.intercept, np.zeros(n_labels, dtype=np.float32))


def fit_stacker(feats: np.ndarray, gold: np.ndarray, groups: list[str], n_labels: int, seed: int,
                folds: int = 5, grid: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0),
                weight: np.ndarray | None = None, scored: np.ndarray | None = None
                ) -> tuple[LinearStacker, float, float]:
    """Pick C by grouped k-fold macro-F1, tune offsets on the out-of-fold logits, refit on everything.

    ``weight`` (per row; default 1) weighs rows in every fit; ``scored`` (a boolean mask; default all rows) names
    the rows that choose C and the offsets, so extra rows can teach the stacker without deciding its settings.
    Returns the stacker, its out-of-fold macro-F1 over the scored rows (before offsets) and C."""
    from sklearn.model_selection import GroupKFold

    from training.stance import tune_offsets

    labels = list(range(n_labels))
    scored = np.ones(len(gold), dtype=bool) if scored is None else scored
    splitter = GroupKFold(n_splits=min(folds, len(set(groups))))
    best = (-1.0, grid[0], None)
    for c in grid:
        oof = np.zeros((len(gold), n_labels), dtype=np.float32)
        for tr, te in splitter.split(feats, gold, groups):
            oof[te] = _fit(feats[tr], gold[tr], c, n_labels, seed, None if weight is None else weight[tr]).logits(
                feats[te])
        score = classification_report(gold[scored].tolist(), oof[scored].argmax(1).tolist(), labels)["macro_f1"]
        if score > best[0]:
            best = (score, c, oof)
    score, c, oof = best
    stacker = _fit(feats, gold, c, n_labels, seed, weight)
    stacker.offsets = tune_offsets(torch.from_numpy(oof[scored]), gold[scored].tolist(), n_labels).numpy().astype(np.float32)
    return stacker, score, c


MIN_STACK_PAIRS = 100  # below this a 21-feature regression only memorises noise
MIN_STORIES = 5  # one per fold


def stack_model(model: StanceModel, dev: StanceData, views, claim_vecs, seed: int,
                folds: str = "claim", extra: StanceData | None = None, extra_weight: float = 1.0) -> StackResult | None:
    """Give ``model`` a stacker fitted on ``dev``, its settings chosen with folds grouped by ``folds`` ('claim' or
    'story'); None (model unchanged) when dev is too small to fit one. ``extra`` pairs join every fit with weight
    ``extra_weight`` each, but C, the offsets and the scores returned read ``dev`` only."""
    both = dev if extra is None else StanceData(dev.examples + extra.examples, {})
    feats, gold, probs, mirrored, claims, stories = dev_stack_inputs(model, both, views, claim_vecs)
    known = set(model.pairs.labels)
    from_dev = sum(e.label in known for e in dev.examples)  # dev's rows come first
    scored = np.arange(len(gold)) < from_dev
    if scored.sum() < MIN_STACK_PAIRS or len(set(claims)) < 5 or len(set(gold[scored].tolist())) < 2:
        return None
    by_story = folds == "story" and len(set(stories)) >= MIN_STORIES
    grouped_by, groups = ("story", stories) if by_story else ("claim", claims)
    n_labels = len(model.pairs.labels)
    weight = None if extra is None else np.where(scored, 1.0, extra_weight)  # None: the shipped, unweighted fit
    stacker, score, c = fit_stacker(feats, gold, groups, n_labels, seed, weight=weight, scored=scored)
    macro = lambda p: classification_report(gold[scored].tolist(), p[scored].argmax(1).tolist(), list(range(n_labels)))["macro_f1"]  # noqa: E731
    model.stacker = stacker
    return StackResult(stacker, score, macro(probs), c, int(scored.sum()),
                       None if mirrored is None else macro(averaged_views(probs, mirrored)), grouped_by,
                       len(set(groups)), int((~scored).sum()))
