"""The named splits `newslens evaluate --split` accepts, per task. Kept free of heavy imports: the CLI builds its
--help and its unknown-split message from these, so the two always list the same names."""
from __future__ import annotations

FNC_SPLITS = {  # FNC-1 file pairs: stances file, bodies file
    "train": ("train_stances.csv", "train_bodies.csv"),
    "competition_test": ("competition_test_stances.csv", "competition_test_bodies.csv"),
}
BUILT_SPLITS = ("train", "dev", "test")  # the seeded splits of the event corpus mix and of BBC News Summary
DEFAULT_SPLITS = {"stance": "competition_test", "event": "test", "summary": "test"}


def evaluate_splits(task: str) -> tuple[str, ...]:
    """Every --split name `evaluate` accepts for ``task``."""
    from training.data.event_outside import OUTSIDE_SPLITS

    if task == "stance":
        return tuple(FNC_SPLITS)
    return BUILT_SPLITS + (OUTSIDE_SPLITS if task == "event" else ())
