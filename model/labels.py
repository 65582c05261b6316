"""Label sets shipped with NewsLens.

A saved model carries its own label list (see ``model.storage``); these constants are only
the defaults for the shipped tasks and for training from scratch.
"""
from __future__ import annotations

STANCE_LABELS: tuple[str, ...] = ("agree", "disagree", "discuss", "unrelated")
RELATED_STANCE_LABELS: tuple[str, ...] = ("agree", "disagree", "discuss")

EVENT_LABELS: tuple[str, ...] = (
    "armed_conflict",
    "military_posture",
    "diplomacy",
    "protest",
    "crime_justice",
    "politics",
    "disaster",
    "economy",
    "other",
)


def check_labels(labels: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Return ``labels`` as a tuple after checking it is a non-empty list of distinct, non-empty strings."""
    labels = tuple(labels)
    if len(labels) < 2:
        raise ValueError(f"a label set needs at least two labels, got {list(labels)}")
    if any(not isinstance(x, str) or not x.strip() for x in labels):
        raise ValueError(f"labels must be non-empty strings, got {list(labels)}")
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels must be distinct, got {list(labels)}")
    return labels
