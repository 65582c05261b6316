"""Read user tables (CSV, JSONL, Parquet) with clear errors for broken files and missing columns."""
from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Sequence

import pandas as pd

from model.errors import InputError

TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".parquet")


def read_table(path: str | Path, columns: Sequence[str] = ()) -> pd.DataFrame:
    """Load a table as strings-or-values; raise InputError naming the file, and every missing column."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a table file here ({', '.join(TABLE_SUFFIXES)})")
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES and is_blank(path):
        raise InputError(f"{path} is empty (no rows)")
    try:
        if suffix in (".csv", ".tsv"):
            check_csv_shape(path, "\t" if suffix == ".tsv" else ",")
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype=str, keep_default_na=False,
                                encoding="utf-8", index_col=False)
        elif suffix in (".jsonl", ".json"):
            frame = pd.read_json(path, lines=suffix == ".jsonl", dtype=False)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            raise InputError(f"{path}: unsupported file type '{suffix}'; use one of {', '.join(TABLE_SUFFIXES)}")
    except InputError:
        raise
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not valid UTF-8 (byte {err.start}); re-save the file as UTF-8") from None
    except Exception as err:  # pandas/pyarrow raise many types for broken files
        hint = "; it holds JSON Lines (one object per line): name it .jsonl" if (
            suffix == ".json" and holds_json_lines(path)) else ""
        raise InputError(f"{path}: cannot be read as {suffix[1:].upper()} ({type(err).__name__}: {err}){hint}") from None
    if len(frame) == 0 and len(frame.columns) == 0:  # '[]' or '{}': valid JSON, but no table in it
        raise InputError(f"{path} is empty (no rows)")
    require_columns(frame, columns, str(path))
    return frame


def check_csv_shape(path: Path, sep: str, shown: int = 5) -> None:
    """InputError when the header names a column twice, or a record has more fields than the header: pandas would
    keep one of the twins, or take a record's first field as a row name and shift the rest (a text with an unquoted
    comma would lose what comes before it)."""
    import csv

    csv.field_size_limit(2**31 - 1)  # an article can be longer than the module's default field limit
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=sep)
        header = next(reader, [])
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise InputError(f"{path}: the header names column(s) {', '.join(map(repr, repeated))} more than once; "
                             "rename them so each column has its own name")
        long = [(reader.line_num, len(record)) for record in reader if len(record) > len(header)]
    if long:
        lines = ", ".join(f"line {line} ({n})" for line, n in long[:shown]) + (
            f" and {len(long) - shown} more" if len(long) > shown else "")
        name = "tab" if sep == "\t" else "comma"
        raise InputError(f"{path}: {len(long)} record(s) have more fields than the header's {len(header)}: {lines}. "
                         f"A text holding a {name} must be quoted (\"...\"), or its words would be split across "
                         "columns")


def is_blank(path: Path, chunk: int = 1 << 16) -> bool:
    """Whether the file holds nothing but whitespace (a UTF-8 byte order mark included): 0 bytes, or blank lines.
    Reads only until the first other byte, so a real table costs one small read."""
    with Path(path).open("rb") as handle:
        block = handle.read(chunk)
        if block.startswith(codecs.BOM_UTF8):
            block = block[len(codecs.BOM_UTF8):]
        while block:
            if block.strip():
                return False
            block = handle.read(chunk)
    return True


def holds_json_lines(path: Path) -> bool:
    """Whether the first two non-blank lines of the file are each a whole JSON object (JSON Lines, not one JSON
    document)."""
    lines = []
    with Path(path).open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.strip():
                lines.append(line)
                if len(lines) == 2:
                    break
    try:
        return len(lines) == 2 and all(isinstance(json.loads(line), dict) for line in lines)
    except ValueError:
        return False


# for a default column name that is missing: its flag, and the names that usually hold that column in other files
# (FNC-1's own headers among them)
COLUMN_GUESSES = {
    "claim": ("--claim-column", ("headline", "title", "claim", "statement")),
    "body": ("--body-column", ("articlebody", "body", "article", "text", "content")),
    "label": ("--label-column", ("stance", "label", "class", "category", "type", "topic")),
    "text": ("--text-column", ("article", "text", "body", "content", "articlebody", "story")),
    "article": ("--article-column", ("article", "text", "body", "content", "articlebody", "story")),
    "summary": ("--summary-column", ("summary", "abstract", "highlights", "reference")),
}


def column_hint(present: Sequence, missing: Sequence[str], wanted: Sequence[str]) -> str:
    """' (to read this file's columns: --claim-column Headline ...)' for missing default names whose usual other
    names the file has; '' when there is none."""
    import shlex

    flags = []
    for name in missing:
        flag, guesses = COLUMN_GUESSES.get(name, ("", ()))
        found = [c for c in present if str(c).strip().lower() in guesses and c not in wanted]
        if flag and found:
            flags.append(f"{flag} {shlex.quote(str(found[0]))}")
    return f" (to read this file's columns: {' '.join(flags)})" if flags else ""


def require_columns(frame: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{where}: missing column(s) {', '.join(repr(c) for c in missing)}; "
            f"columns present: {', '.join(map(repr, frame.columns))}{column_hint(frame.columns, missing, columns)}"
        )
