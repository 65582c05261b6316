"""Stance data: FNC-1 style (stances + bodies files) or one table with claim, body and label columns."""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from model.errors import InputError
from training.data.splits import FNC_SPLITS
from training.data.tables import read_table


@dataclass(frozen=True)
class StanceExample:
    claim: str
    body_id: str
    label: str


@dataclass
class StanceData:
    """Pairs plus the bodies they point to (bodies are shared by many claims, so they are stored once)."""

    examples: list[StanceExample]
    bodies: dict[str, str]

    def subset(self, body_ids: set[str]) -> "StanceData":
        kept = [e for e in self.examples if e.body_id in body_ids]
        return StanceData(kept, {b: self.bodies[b] for b in {e.body_id for e in kept}})


def load_fnc_pair(stances_path: Path, bodies_path: Path) -> StanceData:
    """FNC-1 format: stances file (Headline, Body ID, Stance) joined with bodies file (Body ID, articleBody)."""
    bodies_frame = read_table(bodies_path, ["Body ID", "articleBody"])
    bodies = dict(zip(bodies_frame["Body ID"].astype(str), bodies_frame["articleBody"].astype(str)))
    stances = read_table(stances_path, ["Headline", "Body ID", "Stance"])
    examples = []
    for row, (claim, body_id, label) in enumerate(zip(stances["Headline"], stances["Body ID"].astype(str), stances["Stance"])):
        if body_id not in bodies:
            raise InputError(f"{stances_path}: row {row + 1} (counted from 1, the first data row) points to Body ID "
                             f"{body_id}, which {bodies_path} lacks")
        examples.append(StanceExample(str(claim), body_id, str(label)))
    return StanceData(examples, bodies)


def load_fnc_split(data_dir: Path, split: str) -> StanceData:
    if split not in FNC_SPLITS:
        raise InputError(f"unknown FNC-1 split '{split}'; choose one of {', '.join(FNC_SPLITS)}")
    stances, bodies = FNC_SPLITS[split]
    return load_fnc_pair(Path(data_dir) / stances, Path(data_dir) / bodies)


def load_stance_table(path: Path, claim_column: str = "claim", body_column: str = "body", label_column: str = "label",
                      require_label: bool = True) -> StanceData:
    """Any CSV/JSONL/Parquet with a claim, a body and (for training/evaluation) a label column."""
    columns = [claim_column, body_column] + ([label_column] if require_label else [])
    return stance_data_from_frame(read_table(path, columns), claim_column, body_column,
                                  label_column if require_label else None)


def stance_data_from_frame(frame, claim_column: str, body_column: str, label_column: str | None) -> StanceData:
    """Pairs from a table; identical bodies are stored once."""
    require_label = label_column is not None
    bodies: dict[str, str] = {}
    body_ids: dict[str, str] = {}
    examples = []
    for claim, body, label in zip(frame[claim_column], frame[body_column],
                                  frame[label_column] if require_label else [""] * len(frame)):
        body = str(body)
        body_id = body_ids.setdefault(body, str(len(body_ids)))
        bodies[body_id] = body
        examples.append(StanceExample(str(claim), body_id, str(label)))
    return StanceData(examples, bodies)


def check_stance_labels(data: StanceData, labels: Sequence[str], where: str) -> None:
    """Raise InputError naming the first rows whose label is not in ``labels``."""
    bad = [(i, e.label) for i, e in enumerate(data.examples) if e.label not in labels]
    if bad:
        shown = ", ".join(f"row {i + 1}: {lab!r}" for i, lab in bad[:5])
        raise InputError(f"{where}: {len(bad)} row(s) with unknown label ({shown}); known labels: {', '.join(labels)}")


def _story_roots(examples: Sequence[StanceExample], unrelated: str):
    """Union-find over claims ("c:...") and bodies ("b:..."), joined by every related pair; returns ``find``."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for e in examples:
        find("c:" + e.claim), find("b:" + e.body_id)
        if e.label != unrelated:
            parent[find("c:" + e.claim)] = find("b:" + e.body_id)
    return find


def story_ids(examples: Sequence[StanceExample], unrelated: str = "unrelated") -> list[str]:
    """The story of each example: the connected group of claims and bodies its related pairs link it to. Folds
    grouped by story share no claim and no body, as a model meets new stories."""
    find = _story_roots(examples, unrelated)
    return [find("b:" + e.body_id) for e in examples]


def label_spread(examples: Sequence[StanceExample], unrelated: str = "unrelated") -> dict[str, dict]:
    """Per related label: its pairs, how many stories hold them and the largest story's share of them.

    A dev class whose pairs sit mostly in one story makes every dev number for that class a measure of that story
    (FNC-1, v5's split: 51% of the 179 dev disagree pairs come from one of 16 stories)."""
    stories = story_ids(examples, unrelated)
    by_label: dict[str, Counter] = {}
    for e, story in zip(examples, stories):
        if e.label != unrelated:
            by_label.setdefault(e.label, Counter())[story] += 1
    return {label: {"pairs": sum(c.values()), "stories": len(c),
                    "largest_story_share": round(max(c.values()) / sum(c.values()), 3)}
            for label, c in sorted(by_label.items())}


def split_by_story(data: StanceData, dev_fraction: float, seed: int, unrelated: str = "unrelated") -> tuple[StanceData, StanceData]:
    """Train/dev split in which no claim and no body appears on both sides.

    A story is a connected group of claims and bodies linked by related pairs; whole stories go to dev
    (about ``dev_fraction`` of the bodies) with a fixed ``seed``. Pairs that would link the two sides are dropped.
    A split by body alone lets the same claim sit in train and dev, which flatters dev scores.
    """
    find = _story_roots(data.examples, unrelated)
    stories: dict[str, list[str]] = {}
    for body in sorted(data.bodies):
        stories.setdefault(find("b:" + body), []).append(body)
    keys = sorted(stories)
    random.Random(seed).shuffle(keys)
    target, dev_bodies, dev_roots = dev_fraction * len(data.bodies), set(), set()
    for key in keys:
        if len(dev_bodies) >= target:
            break
        dev_bodies.update(stories[key])
        dev_roots.add(key)
    in_dev = lambda e: find("b:" + e.body_id) in dev_roots  # noqa: E731
    claim_in_dev = lambda e: find("c:" + e.claim) in dev_roots  # noqa: E731
    train = [e for e in data.examples if not in_dev(e) and not claim_in_dev(e)]
    dev = [e for e in data.examples if in_dev(e) and claim_in_dev(e)]
    pick = lambda rows: StanceData(rows, {b: data.bodies[b] for b in {e.body_id for e in rows}})  # noqa: E731
    return pick(train), pick(dev)


def split_by_body(data: StanceData, dev_fraction: float, seed: int) -> tuple[StanceData, StanceData]:
    """Train/dev split with no body on both sides, fixed by ``seed``."""
    ids = sorted(data.bodies)
    random.Random(seed).shuffle(ids)
    n_dev = max(1, int(round(len(ids) * dev_fraction))) if len(ids) > 1 else 0
    dev_ids = set(ids[:n_dev])
    return data.subset(set(ids) - dev_ids), data.subset(dev_ids)


def load_extra_training(path: Path) -> StanceData:
    """Extra training pairs: a folder in FNC-1 layout with `*stances_train.csv` and `*bodies.csv` (e.g. ARC),
    or a claim/body/label table. Its test files are never read."""
    path = Path(path)
    if path.is_dir():
        stances = sorted(path.glob("*stances_train.csv"))
        bodies = sorted(path.glob("*bodies.csv"))
        if len(stances) != 1 or len(bodies) != 1:
            raise InputError(f"{path}: expected one *stances_train.csv and one *bodies.csv, found "
                             f"{[p.name for p in stances + bodies]}")
        return load_fnc_pair(stances[0], bodies[0])
    return load_stance_table(path)


def merge_stance_data(base: StanceData, extra: StanceData, prefix: str = "extra:") -> StanceData:
    """``base`` plus ``extra``, with extra body ids prefixed so the two never collide."""
    examples = base.examples + [StanceExample(e.claim, prefix + e.body_id, e.label) for e in extra.examples]
    bodies = {**base.bodies, **{prefix + k: v for k, v in extra.bodies.items()}}
    return StanceData(examples, bodies)
