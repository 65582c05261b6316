"""A blind re-reading of the built event splits: how much of their mapped labels a reader of the text alone confirms.

Every text of the built train, dev and test splits (seed 13: 4,626, 634 and 928 texts) was labelled again with the
nine types, from EVENT_TYPES.md and the text's opening (the first 1,200 characters were shown; some readers read the
first 700): the reader saw neither the mapped label, nor the source corpus, nor any model's answer, and the texts
came in a shuffled order (test: seed 28, six batches; train and dev together: seed 29, 24 batches). The readers were
language-model annotator agents (2026-12-05/06), one reading per text, so these labels are a second opinion, not a
gold standard. `event_audit.jsonl` keeps one line per text, keyed by a hash of the text (``text_key``): its split,
the label, the runner-up when one was named, and ``unclear`` when the runner-up was about as good.

Uses:
- evaluation splits (`newslens evaluate event --split ...`): test-agreed, the test texts whose mapped label the blind
  reading gives too; test-blind, every test text scored against the blind label instead of the mapped one;
- training (`[event] confirmed_only = true`): train and dev keep only the texts whose mapped label it confirms."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

from model.errors import InputError
from model.labels import EVENT_LABELS

AUDIT_FILE = Path(__file__).parent / "event_audit.jsonl"
AUDIT_SPLITS = ("test-agreed", "test-blind")
AUDIT_SEED = 13  # the built splits the audit read


def text_key(text: str) -> str:
    """The audit's key of a text: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_audit(path: Path = AUDIT_FILE) -> dict[str, dict]:
    """key -> {'split', 'label', 'runner_up' (optional), 'unclear'}; refuses labels outside the taxonomy and repeated
    keys."""
    audit: dict[str, dict] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        for field in ("label", "runner_up"):
            if field in row and row[field] not in EVENT_LABELS:
                raise InputError(f"{path}, line {number}: {field} '{row[field]}' is outside the taxonomy")
        if row["key"] in audit:
            raise InputError(f"{path}, line {number}: key {row['key']} occurs twice")
        audit[row["key"]] = row
    return audit


def blind_labels(texts: Sequence[str], audit: dict[str, dict] | None = None) -> list[str]:
    """The blind label of each text; refuses texts the audit never read (another seed or other corpora)."""
    audit = load_audit() if audit is None else audit
    labels = [audit.get(text_key(t), {}).get("label") for t in texts]
    missing = sum(label is None for label in labels)
    if missing:
        raise InputError(f"{missing} of the {len(texts)} texts have no blind label in {AUDIT_FILE.name}: the audit "
                         f"read the splits built with seed {AUDIT_SEED} from the corpora as they were on 2026-12-05")
    return labels


def confirmed(texts: Sequence[str], labels: Sequence[str], audit: dict[str, dict] | None = None) -> list[int]:
    """Indices of the texts whose mapped label the blind reading gives too."""
    return [i for i, (mapped, read) in enumerate(zip(labels, blind_labels(texts, audit))) if mapped == read]


def audited_split(texts: Sequence[str], labels: Sequence[str], split: str,
                  audit: dict[str, dict] | None = None) -> tuple[list[str], list[str]]:
    """(texts, labels) of ``split`` (one of AUDIT_SPLITS) from the test split's ``texts`` and mapped ``labels``."""
    if split not in AUDIT_SPLITS:
        raise InputError(f"unknown audit split '{split}'; choose from {', '.join(AUDIT_SPLITS)}")
    if split == "test-blind":
        return list(texts), blind_labels(texts, audit)
    kept = confirmed(texts, labels, audit)
    return [texts[i] for i in kept], [labels[i] for i in kept]
