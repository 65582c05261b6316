"""Check a training table before any training: one report listing every problem with its row numbers."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import pandas as pd

from model.errors import InputError
from training.data.tables import column_hint, require_columns


@dataclass
class ValidationReport:
    """Problems found in a table. Rows are numbered from 1 (the first data row, after any header)."""

    source: str
    n_rows: int
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    label_counts: dict[str, int] = field(default_factory=dict)
    drop_rows: list[int] = field(default_factory=list)  # 0-based rows to leave out (duplicates)

    @property
    def ok(self) -> bool:
        return not self.errors

    def text(self) -> str:
        lines = [f"{self.source}: {self.n_rows} rows"]
        if self.label_counts:
            lines.append("label counts: " + ", ".join(f"{k} {v}" for k, v in sorted(self.label_counts.items())))
        lines += [f"ERROR: {e}" for e in self.errors] + [f"warning: {w}" for w in self.warnings]
        if self.ok:
            lines.append("no errors" + (f"; {len(self.drop_rows)} duplicate row(s) will be left out" if self.drop_rows else ""))
        return "\n".join(lines)

    def raise_if_errors(self) -> None:
        if self.errors:
            raise InputError("the training data has problems; nothing was trained:\n" + self.text())


def _rows(indices: Sequence[int], limit: int = 20) -> str:
    shown = ", ".join(str(i + 1) for i in indices[:limit])
    return shown + (f" and {len(indices) - limit} more" if len(indices) > limit else "")


def _empty_rows(values) -> list[int]:
    """The positions of missing, NaN or blank values."""
    return [i for i, v in enumerate(values) if v is None or (isinstance(v, float) and pd.isna(v)) or not str(v).strip()]


def validate_table(frame: pd.DataFrame, source: str, text_columns: Sequence[str], label_column: str | None,
                   known_labels: Sequence[str] | None = None, min_per_label: int = 2) -> ValidationReport:
    """Missing columns, empty texts, unknown or too-rare labels (errors) and duplicate rows (warnings)."""
    report = ValidationReport(source, len(frame))
    wanted = list(text_columns) + ([label_column] if label_column else [])
    if label_column and label_column in text_columns:
        report.errors.append(f"the label column and a text column are both '{label_column}'; name the column that "
                             "holds the labels (--label-column) and the one that holds the texts apart")
        return report
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        report.errors.append(f"missing column(s) {', '.join(map(repr, missing))}; present: "
                             f"{', '.join(map(repr, frame.columns))}{column_hint(frame.columns, missing, wanted)}")
        return report
    if len(frame) == 0:
        report.errors.append("the table has no rows")
        return report
    empty_in: dict[str, set[int]] = {}
    for column in wanted:
        empty = _empty_rows(frame[column])
        empty_in[column] = set(empty)
        if empty:
            report.errors.append(f"column '{column}' is empty in {len(empty)} row(s): {_rows(empty)}")
    if label_column:  # an empty cell (a JSON null too) is no label, not the label 'nan' or 'None'
        labels = ["" if i in empty_in[label_column] else str(v).strip() for i, v in enumerate(frame[label_column])]
        counts = Counter(label for label in labels if label)
        report.label_counts = dict(counts)
        if known_labels is not None:
            unknown = [i for i, label in enumerate(labels) if label and label not in known_labels]
            if unknown:
                names = sorted({labels[i] for i in unknown})
                report.errors.append(f"unknown label(s) {names} in {len(unknown)} row(s): {_rows(unknown)}; "
                                     f"the model knows {', '.join(known_labels)}")
        rare = {label: n for label, n in counts.items() if n < min_per_label}
        if rare:
            for label, n in sorted(rare.items()):
                rows = [i for i, l in enumerate(labels) if l == label]
                report.errors.append(f"label '{label}' has only {n} example(s) (at least {min_per_label} needed): "
                                     f"row(s) {_rows(rows)}")
        if len(counts) < 2:
            report.errors.append(f"at least two different labels are needed; found {sorted(counts)}")
        by_case: dict[str, list[str]] = {}
        for label in sorted(counts):
            by_case.setdefault(label.casefold(), []).append(label)
        for same in (names for names in by_case.values() if len(names) > 1):
            report.warnings.append(f"labels {', '.join(map(repr, same))} differ only in case; they are "
                                   "separate classes")
    keys = [tuple(str(frame[c].iloc[i]).strip() for c in text_columns) for i in range(len(frame))]
    first_seen: dict[tuple, int] = {}
    duplicates, conflicts = [], []
    empty_text = set().union(*(empty_in[c] for c in text_columns))
    for i, key in enumerate(keys):
        if i in empty_text:  # already an error above, not a repeat of another row
            continue
        if key in first_seen:
            j = first_seen[key]
            if label_column and str(frame[label_column].iloc[i]).strip() != str(frame[label_column].iloc[j]).strip():
                conflicts.append(i)
            else:
                duplicates.append(i)
        else:
            first_seen[key] = i
    if duplicates:
        report.warnings.append(f"{len(duplicates)} duplicate row(s) repeat an earlier row and are left out: {_rows(duplicates)}")
        report.drop_rows = duplicates
    if conflicts:
        report.warnings.append(f"{len(conflicts)} row(s) repeat an earlier text with a different label: {_rows(conflicts)}")
    return report


def evaluation_table(frame: pd.DataFrame, source: str, text_columns: Sequence[str], label_column: str | None,
                     known_labels: Sequence[str] = ()) -> tuple[pd.DataFrame, list[str]]:
    """The rows of a labelled file a model can be scored on, and warnings for the rows left out.

    Rows with an empty text or label (or, for summaries, reference) are left out, named in a warning: scoring an
    empty text measures nothing; a label the model does not know is an InputError naming the file, the labels and
    their rows (from 1). ``label_column`` None: the file has no labels (summary evaluation)."""
    require = list(text_columns) + ([label_column] if label_column else [])
    require_columns(frame, require, source)
    warnings, empty_rows = [], set()
    for column in require:
        empty = _empty_rows(frame[column])
        if empty:
            warnings.append(f"{source}: left out {len(empty)} row(s) with an empty '{column}': rows {_rows(empty)}")
            empty_rows.update(empty)
    labels = [str(v).strip() for v in frame[label_column]] if label_column else []
    unknown = [i for i, label in enumerate(labels) if i not in empty_rows and label not in known_labels]
    if unknown:
        names = sorted({labels[i] for i in unknown})
        by_case = {known.casefold(): known for known in known_labels}
        cased = [f"'{name}' is '{by_case[name.casefold()]}'" for name in names if name.casefold() in by_case]
        raise InputError(f"{source}: unknown label(s) {names} in {len(unknown)} row(s): rows {_rows(unknown)}; "
                         f"the model knows {', '.join(known_labels)}"
                         + (f" (labels are case-sensitive: {', '.join(cased)})" if cased else ""))
    if len(empty_rows) == len(frame):
        raise InputError(f"{source}: no row to score (" + ("the table has no rows" if not len(frame) else
                                                           "every row has an empty text or label") + ")")
    kept = frame.assign(**{label_column: labels}) if label_column else frame
    if empty_rows:
        kept = kept.drop(index=kept.index[sorted(empty_rows)]).reset_index(drop=True)
    return kept, warnings
