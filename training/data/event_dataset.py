"""Build the event-type training set: mapped corpora + handwritten examples, capped, deduplicated and split
by source document with a fixed seed. `python -m training.data.event_dataset --out DIR` writes the splits."""
from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter, defaultdict
from pathlib import Path

from model.labels import EVENT_LABELS
from model.text import split_headline, split_sentences
from training.data.event_corpora import LOADERS, EventExample, load_handwritten

# At most this many examples per (source, label): no corpus may decide what a class looks like.
# The synthetic NGEC stories are capped hardest (low diversity, pseudo-labels).
DEFAULT_CAP = 400
CAPS = {"ngec_synthetic": 120, "crisislex": 300, "muc4": 300, "india_police_events": 120, "handwritten": 10_000}


def _dedupe_key(text: str) -> str:
    return re.sub(r"\W+", "", text.lower())[:200]


def lead_of(example: EventExample) -> EventExample | None:
    """The headline and first two sentences of a long document, as a snippet-length example of the same group."""
    headline, body = split_headline(example.text)
    sentences = split_sentences(body)
    if len(sentences) <= 3:
        return None
    lead = " ".join(sentences[:2])
    text = f"{headline}\n{lead}" if headline else lead
    return EventExample(example.id + "#lead", text, example.label, example.source, example.group)


def collect(data_dir: Path, seed: int) -> list[EventExample]:
    """All mapped examples after deduplication and per-(source, label) caps (sampled with ``seed``)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    buckets: dict[tuple[str, str], list[EventExample]] = defaultdict(list)
    sources = [loader(data_dir) for loader in LOADERS.values()] + [load_handwritten()]
    for examples in sources:
        for example in examples:
            key = _dedupe_key(example.text)
            if len(example.text.split()) < 5 or key in seen:
                continue
            seen.add(key)
            buckets[(example.source, example.label)].append(example)
    kept = []
    for (source, label), group in sorted(buckets.items()):
        group.sort(key=lambda e: e.id)
        rng.shuffle(group)
        kept += group[: CAPS.get(source, DEFAULT_CAP)]
    return kept


def build_event_splits(data_dir: Path, seed: int = 13, dev_fraction: float = 0.1,
                       test_fraction: float = 0.15) -> dict[str, list[EventExample]]:
    """train/dev/test split by source document (group), stratified by label, plus lead snippets of long documents."""
    examples = collect(Path(data_dir), seed)
    by_label: dict[str, list[str]] = defaultdict(list)
    label_of_group = {}
    for e in examples:
        if e.group not in label_of_group:
            label_of_group[e.group] = e.label
            by_label[e.label].append(e.group)
    rng = random.Random(seed + 1)
    split_of: dict[str, str] = {}
    for label in sorted(by_label):
        groups = sorted(by_label[label])
        rng.shuffle(groups)
        n_test, n_dev = round(len(groups) * test_fraction), round(len(groups) * dev_fraction)
        for i, group in enumerate(groups):
            split_of[group] = "test" if i < n_test else "dev" if i < n_test + n_dev else "train"
    splits: dict[str, list[EventExample]] = {"train": [], "dev": [], "test": []}
    for e in examples:
        splits[split_of[e.group]].append(e)
        lead = lead_of(e)
        if lead is not None:
            splits[split_of[e.group]].append(lead)
    return splits


def count_report(splits: dict[str, list[EventExample]]) -> str:
    """Counts per class and split, and per class and source."""
    lines = [f"{'label':<18}" + "".join(f"{name:>8}" for name in splits)]
    counts = {name: Counter(e.label for e in rows) for name, rows in splits.items()}
    for label in EVENT_LABELS:
        lines.append(f"{label:<18}" + "".join(f"{counts[name][label]:>8}" for name in splits))
    lines.append(f"{'total':<18}" + "".join(f"{len(rows):>8}" for rows in splits.values()))
    sources = sorted({e.source for rows in splits.values() for e in rows})
    by_source = Counter((e.label, e.source) for rows in splits.values() for e in rows)
    lines += ["", f"{'label':<18}" + "".join(f"{s[:10]:>11}" for s in sources)]
    for label in EVENT_LABELS:
        lines.append(f"{label:<18}" + "".join(f"{by_source[(label, s)]:>11}" for s in sources))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from training.paths import default_data_dir

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--out", type=Path, help="write train/dev/test.jsonl here")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    splits = build_event_splits(args.data_dir, args.seed)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, rows in splits.items():
            with (args.out / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
                for e in rows:
                    handle.write(json.dumps(e.__dict__, ensure_ascii=False) + "\n")
    print(count_report(splits))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
