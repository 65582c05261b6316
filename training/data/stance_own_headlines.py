"""Own-headline stance pairs: news articles paired with their own headline, labelled agree.

An article's own headline is the claim the demo and `newslens predict` read when no claim is given, and an article
agrees with its own headline by construction. FNC-1 never pairs a body with its own headline, so a pair classifier
trained on FNC-1 alone can read that pair as discuss (the headline restates what the body reports). These pairs come
from the training side of the BBC News Summary split that the summary model uses (80/10/10 by article, seed 13), so
its dev and test articles stay unseen; question headlines are left out, since a question takes no side.
"""
from __future__ import annotations

import random
from pathlib import Path

from model.errors import InputError
from model.text import clean_article, split_headline
from training.data.stance_data import StanceData, StanceExample
from training.data.summary_data import bbc_splits

OWN_HEADLINE_LABEL = "agree"


def own_headline_pairs(path: Path, count: int | None, seed: int, split: str = "train",
                       exclude: frozenset[str] = frozenset()) -> StanceData:
    """Up to ``count`` (None: all) (headline, body) pairs labelled agree from one split of a BBC News Summary style
    file (JSONL with an ``article`` field whose first line is the title), drawn with ``seed``; articles whose id is
    in ``exclude`` are left out."""
    if count is not None and count < 0:
        raise ValueError("count must be 0 or more")
    articles = bbc_splits(Path(path))[split]
    examples, bodies = [], {}
    for article in articles:
        if article.id in exclude:
            continue
        headline, body = split_headline(clean_article(article.article, f"{path}: article {article.id}"))
        if headline is None or headline.endswith("?"):
            continue
        bodies[article.id] = body
        examples.append(StanceExample(headline, article.id, OWN_HEADLINE_LABEL))
    if count != 0 and not examples:
        raise InputError(f"{path}: no article in its {split} split starts with a headline line")
    random.Random(seed).shuffle(examples)
    kept = examples[:count]
    return StanceData(kept, {e.body_id: bodies[e.body_id] for e in kept})
