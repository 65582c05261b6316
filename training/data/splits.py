"""The named splits `newslens evaluate --split` accepts, per task. Kept free of heavy imports: the CLI builds its
--help and its unknown-split message from these, so the two always list the same names."""
from __future__ import annotations

FNC_SPLITS = {  # FNC-1 file pairs: stances file, bodies file
    "train": ("train_stances.csv", "train_bodies.csv"),
    "competition_test": ("competition_test_stances.csv", "competition_test_bodies.csv"),
}
# BBC News Summary dev/test articles (the summary model's split) paired with their own headline, agree by construction
OWN_HEADLINE_SPLITS = {"own_headlines_dev": "dev", "own_headlines_test": "test"}
# the same articles, each paired with a claim it contradicts, disagree by construction (stance_contradictions.py)
CONTRADICTION_SPLITS = {"contradictions_dev": "dev", "contradictions_test": "test"}
BUILT_SPLITS = ("train", "dev", "test")  # the seeded splits of the event corpus mix and of BBC News Summary
DEFAULT_SPLITS = {"stance": "competition_test", "event": "test", "summary": "test"}


def evaluate_splits(task: str) -> tuple[str, ...]:
    """Every --split name `evaluate` accepts for ``task``."""
    from training.data.event_audit import AUDIT_SPLITS
    from training.data.event_outside import OUTSIDE_SPLITS

    if task == "stance":
        return tuple(FNC_SPLITS) + tuple(OWN_HEADLINE_SPLITS) + tuple(CONTRADICTION_SPLITS)
    return BUILT_SPLITS + (AUDIT_SPLITS + OUTSIDE_SPLITS if task == "event" else ())
