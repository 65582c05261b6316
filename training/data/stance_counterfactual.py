"""Counterfactual stance pairs: the same body with the claim's truth turned around, and the stance label with it.

The pair classifier mostly confuses agree with disagree: it sees that a body takes a side more often than which
side. A claim wrapped in a refutation ("It is not true that X") keeps the body and the topic and flips what the
body says about it: agree becomes disagree, disagree becomes agree, and discuss stays discuss. Giving every class
the same number of rewritten claims means a refutation phrase in the claim tells the model nothing on its own; only
reading it together with the body does.
"""
from __future__ import annotations

import random
from dataclasses import replace
from typing import Sequence, TypeVar

from model.refutation import FLIPPED, refute

Item = TypeVar("Item")


def counterfactual_items(items: Sequence[Item], labels: Sequence[str], share: float, seed: int) -> list[Item]:
    """Refuted-claim copies of some ``items`` (objects with ``claim`` and integer ``label`` fields).

    Each of agree, disagree and discuss gets ``share`` times as many copies as the smallest of them has items,
    drawn without replacement (at most all of a class). Label sets without those three labels get none."""
    if share <= 0:
        return []
    if not set(FLIPPED) <= set(labels):
        raise ValueError(f"counterfactual pairs need the labels {sorted(FLIPPED)}; this data has {list(labels)}")
    index = {label: i for i, label in enumerate(labels)}
    by_label = {label: [it for it in items if it.label == index[label]] for label in FLIPPED}
    per_class = round(share * min(len(group) for group in by_label.values()))
    rng = random.Random(seed)
    made = []
    for label, group in by_label.items():
        for item in rng.sample(group, min(per_class, len(group))):
            made.append(replace(item, claim=refute(item.claim, rng), label=index[FLIPPED[label]]))
    return made
