"""Summary data: BBC News Summary (article + extractive reference) or any table with article and summary columns."""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from model.errors import InputError
from training.data.tables import read_table

_NON_WORD = re.compile(r"\W+")


@dataclass(frozen=True)
class SummaryExample:
    id: str
    article: str
    summary: str


def load_summary_table(path: Path, article_column: str = "article", summary_column: str = "summary",
                       id_column: str = "id") -> list[SummaryExample]:
    return summary_examples_from_frame(read_table(path, [article_column, summary_column]), article_column,
                                       summary_column, id_column, str(path))


def summary_examples_from_frame(frame, article_column: str, summary_column: str, id_column: str = "id",
                                path: str = "data") -> list[SummaryExample]:
    ids = frame[id_column].astype(str) if id_column in frame.columns else [str(i) for i in range(len(frame))]
    out = []
    for row, (i, article, summary) in enumerate(zip(ids, frame[article_column], frame[summary_column])):
        if not str(article).strip():
            raise InputError(f"{path}: row {row + 1} has an empty '{article_column}'")
        out.append(SummaryExample(str(i), str(article), str(summary)))
    return out


def bbc_splits(path: Path, seed: int = 13, dev_fraction: float = 0.1, test_fraction: float = 0.1) -> dict[str, list[SummaryExample]]:
    """BBC News Summary split into train/dev/test by article with a fixed seed (there is no official split)."""
    examples = load_summary_table(path)
    order = sorted(examples, key=lambda e: e.id)
    random.Random(seed).shuffle(order)
    n_test, n_dev = int(len(order) * test_fraction), int(len(order) * dev_fraction)
    return {"test": order[:n_test], "dev": order[n_test : n_test + n_dev], "train": order[n_test + n_dev :]}


def squash(text: str) -> str:
    """Lower-case letters and digits only: the BBC references glue sentences together without spaces."""
    return _NON_WORD.sub("", text.lower())


def extractive_labels(sentences: list[str], summary: str) -> list[int]:
    """1 for each article sentence that the reference summary contains (compared with spacing removed)."""
    target = squash(summary)
    return [1 if (s := squash(sentence)) and len(s) >= 10 and s in target else 0 for sentence in sentences]
