"""Outside-corpus tests for the event model: FNC-1 article bodies (news the event training data never contains),
labelled by hand with the nine types. The label files hold body ids only; the text is read from
../shared/data/fnc1 at run time. Test sets only: nothing trains or tunes on them.

- outside-a: 260 competition-test bodies, `random.Random(2026).sample(sorted(ids), 260)` (event_outside_fnc1.jsonl).
  Its errors were read when the shipped model of session 2 was checked, and they led to more handwritten
  `other` (human interest) examples, so it is not blind for models trained after that.
- outside-b: 260 train bodies, `random.Random(2027).sample(sorted(ids), 260)` (event_outside_fnc1_train.jsonl),
  labelled by another annotator and kept blind: only aggregate scores are read.

Every sampled body is labelled (none skipped); `unclear` marks calls where a runner-up (named in `why`) was
close, and the `-clear` splits leave those out.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from model.errors import InputError
from model.labels import EVENT_LABELS
from training.data.event_corpora import EventExample, _clean
from training.data.splits import FNC_SPLITS

HERE = Path(__file__).parent
OUTSIDE_SETS = {  # label file, and the FNC-1 split whose bodies it labels
    "outside-a": (HERE / "event_outside_fnc1.jsonl", "competition_test"),
    "outside-b": (HERE / "event_outside_fnc1_train.jsonl", "train"),
}
OUTSIDE_SPLITS = tuple(name + suffix for name in OUTSIDE_SETS for suffix in ("", "-clear"))


def load_outside(data_dir: Path, split: str) -> list[EventExample]:
    """The hand-labelled FNC-1 bodies of ``split`` (one of OUTSIDE_SPLITS) as examples."""
    if split not in OUTSIDE_SPLITS:
        raise InputError(f"unknown outside split '{split}'; choose from {', '.join(OUTSIDE_SPLITS)}")
    clear_only = split.endswith("-clear")
    labels_file, fnc_split = OUTSIDE_SETS[split.removesuffix("-clear")]
    bodies_path = Path(data_dir) / "fnc1" / FNC_SPLITS[fnc_split][1]
    if not bodies_path.exists():
        raise InputError(f"the outside event test reads {bodies_path}, which does not exist")
    with bodies_path.open(encoding="utf-8", newline="") as handle:
        bodies = {int(row["Body ID"]): row["articleBody"] for row in csv.DictReader(handle)}
    examples = []
    for line in labels_file.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if row["label"] not in EVENT_LABELS:
            raise InputError(f"{labels_file}: body {row['body_id']} has label '{row['label']}' outside the taxonomy")
        if row["body_id"] not in bodies:
            raise InputError(f"{labels_file}: body {row['body_id']} is not in {bodies_path}")
        if clear_only and row.get("unclear"):
            continue
        group = f"fnc1:{row['body_id']}"
        examples.append(EventExample(group, _clean(bodies[row["body_id"]]), row["label"], "fnc1-outside", group))
    return examples


def outside_stories(data_dir: Path, split: str, examples: list[EventExample]) -> list[str]:
    """The FNC-1 story of each of ``examples`` (bodies of ``split``): the group of claims and bodies that FNC-1's
    related pairs link the body to (``stance_data.story_ids``), so a bootstrap draws a story's bodies together."""
    from training.data.stance_data import load_fnc_split, story_ids

    pairs = load_fnc_split(Path(data_dir) / "fnc1", OUTSIDE_SETS[split.removesuffix("-clear")][1]).examples
    story_of = dict(zip((e.body_id for e in pairs), story_ids(pairs)))
    return [story_of.get(e.id.split(":", 1)[1], e.id) for e in examples]
