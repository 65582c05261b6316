"""Refuted claims: a claim wrapped in a refutation, and the stance labels that swap with it.

"It is not true that X" keeps the topic and the body's relevance and turns around what the body says about the
claim: a body that agrees with X disagrees with the refuted claim, and one that only discusses X still discusses it.
Training uses this to make counterfactual pairs; prediction can read a pair both ways (``StanceModel.mirror``).
"""
from __future__ import annotations

import random

REFUTATION_TEMPLATES = (
    "It is not true that {claim}",
    "Report that {claim} is false",
    "Hoax: {claim}",
    "Fake news: {claim}",
    "Claims that {claim} are untrue",
    "Debunked: {claim}",
    "No, {claim}",
    "Story that {claim} turns out to be a hoax",
    "{claim}? Not true",
    "False: {claim}",
)
FLIPPED = {"agree": "disagree", "disagree": "agree", "discuss": "discuss"}


def _bare(claim: str) -> str:
    return claim.strip().rstrip(".!")


def refute(claim: str, rng: random.Random) -> str:
    """``claim`` wrapped in a randomly chosen refutation."""
    return rng.choice(REFUTATION_TEMPLATES).format(claim=_bare(claim))


def mirror_claim(claim: str) -> str:
    """The refutation prediction reads (always the first template, so a prediction is repeatable)."""
    return REFUTATION_TEMPLATES[0].format(claim=_bare(claim))


def flip_permutation(labels: tuple[str, ...]) -> list[int] | None:
    """Column order that turns probabilities for a refuted claim into ones for the claim; None if the labels
    are not agree, disagree and discuss (plus any others, which stay put)."""
    if not set(FLIPPED) <= set(labels):
        return None
    index = {label: i for i, label in enumerate(labels)}
    return [index[FLIPPED.get(label, label)] for label in labels]
