"""Contradicted-headline stance pairs: news articles paired with a claim the article shows to be false, labelled
disagree.

FNC-1's disagree bodies are mostly debunking stories ("reports of X are a hoax"), so a pair classifier trained on
FNC-1 reads a claim that contradicts an article's facts ("Time Warner profits fell" against a story of profits up
76%) as agree: the claim is about what the body reports. These claims were written for this project, one per BBC
News Summary article (dev, test and part of train of the summary model's 80/10/10 split, seed 13), by
language-model writers who saw the article's headline and first sentences and were asked for a related claim that
the lead explicitly contradicts (`stance_contradictions.jsonl`: article id, split, claim, and how it contradicts:
reversal, wrong_fact, negation or denied). The articles themselves stay in ../shared/data; only the claims are here.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

from model.errors import InputError
from model.text import clean_article, split_headline
from training.data.stance_data import StanceData, StanceExample
from training.data.summary_data import bbc_splits

CONTRADICTION_LABEL = "disagree"
CONTRADICTIONS_FILE = Path(__file__).with_name("stance_contradictions.jsonl")
KINDS = ("reversal", "wrong_fact", "negation", "denied")


def load_claims(path: Path | None = None) -> dict[str, dict]:
    """Article id -> {"split", "claim", "kind"}; an InputError naming the line for a malformed or repeated row."""
    path = Path(path or CONTRADICTIONS_FILE)
    claims: dict[str, dict] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            article, split, claim, kind = row["id"], row["split"], row["claim"].strip(), row["kind"]
        except (ValueError, KeyError, AttributeError, TypeError) as err:
            raise InputError(f"{path}, line {number}: not a JSON object with id, split, claim and kind ({err})") from None
        if not claim or kind not in KINDS or split not in ("train", "dev", "test"):
            raise InputError(f"{path}, line {number}: needs a claim, a kind in {', '.join(KINDS)} and a split of "
                             f"train, dev or test")
        if article in claims:
            raise InputError(f"{path}, line {number}: article {article} has a claim already")
        claims[article] = {"split": split, "claim": claim, "kind": kind}
    return claims


def contradiction_pairs(path: Path, count: int | None, seed: int, split: str = "train",
                        claims_path: Path | None = None, exclude: frozenset[str] = frozenset()) -> StanceData:
    """Up to ``count`` (None: all) (contradicting claim, body) pairs labelled disagree for the articles of one split
    of a BBC News Summary style file, drawn with ``seed``; articles whose id is in ``exclude`` are left out. A claim
    written for an article of another split is never used, so the split's articles stay where the summary model
    keeps them."""
    if count is not None and count < 0:
        raise ValueError("count must be 0 or more")
    claims = load_claims(claims_path)
    splits = bbc_splits(Path(path))
    # the corpus repeats some stories under two ids: a training article never repeats a dev or test one
    held_out = {a.article for name in ("dev", "test") for a in splits[name]} if split == "train" else set()
    examples, bodies = [], {}
    for article in splits[split]:
        written = claims.get(article.id)
        if written is None or written["split"] != split or article.article in held_out or article.id in exclude:
            continue
        _, body = split_headline(clean_article(article.article, f"{path}: article {article.id}"))
        bodies[article.id] = body
        examples.append(StanceExample(written["claim"], article.id, CONTRADICTION_LABEL))
    if count != 0 and not examples:
        raise InputError(f"{path}: none of its {split} articles has a contradicting claim in "
                         f"{claims_path or CONTRADICTIONS_FILE} (is it the BBC News Summary file?)")
    random.Random(seed).shuffle(examples)
    kept = examples[:count]
    return StanceData(kept, {e.body_id: bodies[e.body_id] for e in kept})


def stacker_news_pairs(path: Path, count: int, seed: int) -> StanceData:
    """``count`` training-split articles that have a contradicting claim, each as two pairs: its own headline
    (agree, unless the headline is a question) and the claim it contradicts (disagree). Drawn in an order of their
    own (not the training draw's), for the stacker to learn from pairs the pair classifier never trained on; the
    caller leaves these articles out of the training pairs."""
    from training.data.stance_own_headlines import own_headline_pairs

    contra = contradiction_pairs(path, None, seed + 1)
    contra.examples = contra.examples[:count]
    ids = frozenset(e.body_id for e in contra.examples)
    own = own_headline_pairs(path, None, seed)
    examples = [e for e in own.examples if e.body_id in ids] + contra.examples
    return StanceData(examples, {e.body_id: contra.bodies[e.body_id] for e in contra.examples})
