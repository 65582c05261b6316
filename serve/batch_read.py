"""Streaming input for `newslens predict`: chunked CSV/JSONL/Parquet readers (and a folder of article files,
serve/batch_folder.py) that turn every input row into an InputRow (a bad row carries an error instead of stopping
the run); fatal problems raise InputError."""
from __future__ import annotations

import csv
import io
import itertools
import json
import math
import shlex
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Mapping, Sequence, TextIO

from model.errors import InputError
from model.text import decode_text, looks_like_utf16

INPUT_SUFFIXES = (".csv", ".tsv", ".jsonl", ".parquet")
INPUT_HINT = " (or a folder of .txt files; or .txt, or - for standard input, for one article)"
CLAIM_SEPARATOR = "||"  # usually written " || "; spaces around it are stripped
COUNT_ROWS_UP_TO_BYTES = 256 * 2**20  # counting rows of bigger text files would cost a second full read


@dataclass(frozen=True)
class Columns:
    """Input column names; None means the table has no such column."""

    text: str = "article"
    headline: str | None = None
    claims: str | None = None
    id: str | None = None

    def named(self) -> list[str]:
        return [c for c in (self.id, self.text, self.headline, self.claims) if c]


@dataclass
class InputRow:
    """One input row, normalised; ``error`` is set instead of raising when the row cannot be used."""

    row: int
    id: str
    article: str | bytes | None = None
    headline: str | None = None
    claims: list[str] = field(default_factory=list)
    error: str | None = None


def suffix_of(path: Path, allowed: Sequence[str], what: str, hint: str = "") -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise InputError(f"{path}: unsupported {what} file type '{suffix or '(none)'}'; "
                         f"use one of {', '.join(allowed)}{hint}")
    return suffix


# ---------------------------------------------------------------- values -> InputRow

def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _raw_text(value: Any, what: str) -> str | bytes | None:
    """Text as given; strings that carry undecodable bytes (surrogate escapes) go back to bytes so the
    article decoder reports them as invalid UTF-8 with the byte position."""
    if _missing(value):
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogateescape")
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise InputError(f"{what} must be text, got {type(value).__name__}")


def _short_text(value: Any, what: str) -> str | None:
    raw = _raw_text(value, what)
    return decode_text(raw, what) if isinstance(raw, bytes) else raw


def parse_claims(value: Any, what: str = "claims") -> list[str]:
    """Claims from a list, a JSON list string, or a string with claims separated by ' || '."""
    if _missing(value):
        return []
    if isinstance(value, Mapping):  # iterating would read its keys as claims
        raise InputError(f"{what} must be a list of strings or text, got an object")
    if not isinstance(value, (str, bytes)) and hasattr(value, "__iter__"):
        items = list(value)
        odd = [i for i, v in enumerate(items, 1) if not isinstance(v, (str, bytes))]
        if odd:  # a number would become a claim and a null would vanish: neither is what the row meant
            raise InputError(f"{what} must be a list of strings; item {odd[0]} is "
                             f"{'null' if _missing(items[odd[0] - 1]) else type(items[odd[0] - 1]).__name__}")
        return [c for c in (_short_text(v, what) for v in items) if c and c.strip()]
    text = (_short_text(value, what) or "").strip()
    if not text:
        return []
    if text.startswith("{"):  # as in JSONL, where the object itself is refused
        raise InputError(f"{what} must be a list of strings or text, got a JSON object")
    if text.startswith("["):
        try:
            claims = json.loads(text)
        except json.JSONDecodeError:
            raise InputError(f"{what} starts with '[' but is not a JSON list") from None
        if not isinstance(claims, list) or not all(isinstance(c, str) for c in claims):
            raise InputError(f"{what} must be a JSON list of strings")
        return [c for c in claims if c.strip()]
    return [c.strip() for c in text.split(CLAIM_SEPARATOR) if c.strip()]


def _printable_id(value: Any) -> str:
    text = str(value)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def row_from_record(row: int, record: Mapping[str, Any], columns: Columns) -> InputRow:
    """Normalise one record; every problem becomes ``InputRow.error`` so the run can go on."""
    item = InputRow(row=row, id=str(row))
    try:
        if columns.id:
            value = record.get(columns.id)
            if _missing(value) or str(value).strip() == "":
                item.id = ""  # not the row number, which could be another row's id
                raise InputError(f"'{columns.id}' (id) is empty")
            item.id = _printable_id(value)
            if "\n" in item.id:
                raise InputError(f"'{columns.id}' (id) spans several lines; an id is one line (in a CSV, a quote "
                                 "left open earlier can merge records and shift their fields)")
        if columns.text not in record or _missing(record[columns.text]):
            raise InputError(f"'{columns.text}' (article text) is missing")
        item.article = _raw_text(record[columns.text], "article")
        if columns.headline:
            item.headline = _short_text(record.get(columns.headline), "headline")
        if columns.claims:
            item.claims = parse_claims(record.get(columns.claims))
    except InputError as err:
        item.error = str(err)
    return item


# ---------------------------------------------------------------- readers

@dataclass(frozen=True)
class BatchInput:
    """An input that check_input accepted, with what a run needs from it again: its format and, for a folder, its
    article files, so one run checks the input once and lists a folder once (for its fingerprint, row count and
    rows alike)."""

    path: Path
    columns: Columns
    suffix: str  # .csv, .tsv, .jsonl or .parquet; "" for a folder
    files: tuple[Path, ...] = ()  # a folder's article files, sorted by relative path

    @property
    def is_folder(self) -> bool:
        return not self.suffix

    def count_rows(self) -> int | None:
        return len(self.files) if self.is_folder else count_rows(self.path)

    def chunks(self, chunk_size: int, skip: int = 0) -> Iterator[list[InputRow]]:
        """Rows after the first ``skip`` in chunks of at most ``chunk_size``; memory holds one chunk."""
        if self.is_folder:
            from serve.batch_folder import folder_chunks

            chunks = folder_chunks(self.path, chunk_size, skip, self.files)
        elif self.suffix == ".parquet":
            chunks = _parquet_chunks(self.path, self.columns, chunk_size, skip)
        elif self.suffix == ".jsonl":
            chunks = _jsonl_chunks(self.path, self.columns, chunk_size)
        else:
            chunks = _csv_chunks(self.path, self.columns, chunk_size, self.suffix)
        for chunk in chunks:
            if chunk and chunk[-1].row < skip:
                continue
            chunk = [r for r in chunk if r.row >= skip]
            if chunk:
                yield chunk


def check_input(path: Path, columns: Columns) -> BatchInput:
    """Fatal problems found before any row is read: no file, unknown type, named columns missing, no row.
    A table is opened once (its head read for all of these), a folder listed once."""
    if path.is_dir():
        from serve.batch_folder import check_folder

        return BatchInput(path, columns, "", tuple(check_folder(path, columns)))
    if not path.is_file():
        raise InputError(f"{path}: input file not found")
    suffix = suffix_of(path, INPUT_SUFFIXES, "input", INPUT_HINT)
    if suffix == ".parquet":
        parquet = _parquet_file(path)
        _require(path, columns, parquet.schema_arrow.names)
        has_row = parquet.metadata.num_rows > 0
    else:
        with path.open("rb") as handle:
            if looks_like_utf16(handle.read(512)):
                raise InputError(f"{path}: looks like UTF-16 text; re-save it as UTF-8")
            handle.seek(0)
            if suffix == ".jsonl":
                present, has_row = _jsonl_head(handle)
                if has_row and not present:  # binary data, a CSV or one pretty-printed object: not rows at all
                    raise InputError(f"{path}: not a JSON Lines file: none of its first {JSONL_COLUMN_WINDOW:,} "
                                     "lines is a JSON object (a .jsonl file holds one object per line)")
                if present:
                    _require(path, columns, present)
            else:
                has_row = _csv_head(path, handle, suffix, columns)
    if not has_row:
        what = "the file is empty" + (", or holds only the header" if suffix in (".csv", ".tsv") else "")
        raise InputError(f"{path}: no rows to analyse ({what})")
    return BatchInput(path, columns, suffix)


JSONL_COLUMN_WINDOW = 1000  # named columns must show up among the keys of a JSONL file's first 1,000 rows


def _jsonl_head(handle: BinaryIO) -> tuple[list[str], bool]:
    """Every key of the first JSONL_COLUMN_WINDOW objects (keys can differ per line; broken lines are skipped),
    and whether the file has a row at all (a line that is not blank)."""
    keys: set[str] = set()
    has_row = False
    lines = (line for line in handle if line.strip())
    for line in itertools.islice(lines, JSONL_COLUMN_WINDOW):
        has_row = True
        try:
            keys.update(_jsonl_record(line))
        except InputError:
            continue
    return sorted(keys), has_row


def _csv_head(path: Path, handle: BinaryIO, suffix: str, columns: Columns) -> bool:
    """Check a CSV/TSV header (readable, the named columns present, once each); True when a data row follows it."""
    with closing(_read_csv_records(_csv_text(handle), suffix)) as records:
        try:
            first = next(records, None)
        except csv.Error as err:
            raise InputError(f"{path}: cannot read the CSV header ({err})") from None
        if first is None:
            raise InputError(f"{path}: cannot read the CSV header (the file is empty)")
        present = first[1]
        if any(ord(ch) < 32 and ch not in "\t\r\n" for name in present[:50] for ch in name):  # control bytes
            raise InputError(f"{path}: its header is not text (binary data, or not UTF-8): is it really a "
                             f"{suffix.lstrip('.').upper()} file?")
        repeated = sorted({name for name in columns.named() if present.count(name) > 1})
        if repeated:  # a record would silently keep only the last of them
            raise InputError(f"{path}: the header names column(s) {', '.join(map(repr, repeated))} more than once; "
                             "rename them so the column to read has its own name")
        _require(path, columns, present)
        try:
            return next(records, None) is not None
        except csv.Error:
            return True  # a broken record is still a row: it becomes an error row


# column names that usually hold an article's text, for the hint when the text column is missing
TEXT_COLUMN_GUESSES = ("article", "text", "body", "content", "articlebody", "story", "article_text", "news")


def _require(path: Path, columns: Columns, present: Sequence[str]) -> None:
    missing = [c for c in columns.named() if c not in present]
    if missing:
        hint = ""
        if columns.text in missing:
            guesses = [c for c in present if str(c).strip().lower() in TEXT_COLUMN_GUESSES]
            if guesses:
                hint = (f" (the article text looks like column {guesses[0]!r}: pass --text-column "
                        f"{shlex.quote(str(guesses[0]))} to `newslens predict`, or set 'Text column' in the demo)")
        if len(present) == 1 and any(sep in str(present[0]) for sep in ";|\t"):
            hint += (f" (the header {present[0]!r} looks like one column holding several names: a CSV must be "
                     "separated by commas, or saved as .tsv with tabs)")
        raise InputError(f"{path}: missing column(s) {', '.join(map(repr, missing))}; "
                         f"columns present: {', '.join(map(repr, present)) or '(none)'}{hint}")


def _csv_text(handle: BinaryIO) -> TextIO:
    """A CSV/TSV file's text: bytes that are not UTF-8 are kept as escapes for the article decoder to name."""
    return io.TextIOWrapper(handle, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _read_csv_records(text: TextIO, suffix: str) -> Iterator[tuple[int, list[str], list[str]]]:
    """(line number, fields, the text lines it was read from) of every record, the header first; blank lines are
    not records. Quoted fields may span lines."""
    csv.field_size_limit(2**31 - 1)  # an article can be longer than the module's default field limit
    taken: list[str] = []

    def lines() -> Iterator[str]:
        for line in text:
            taken.append(line)
            yield line

    records = csv.reader(lines(), delimiter=_delimiter(suffix))
    for record in records:  # the reader reads no further than the record it returns
        read, taken[:] = taken[:], []
        if record:
            yield records.line_num, record, read


def _delimiter(suffix: str) -> str:
    return "\t" if suffix == ".tsv" else ","


def _csv_records(path: Path, suffix: str) -> Iterator[tuple[int, list[str], list[str]]]:
    """(line number, fields, text lines) of every record of a CSV or TSV file, the header first (see
    _read_csv_records)."""
    with path.open("rb") as handle:
        yield from _read_csv_records(_csv_text(handle), suffix)


def _parquet_file(path: Path):
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as err:
        raise InputError(f"{path}: cannot be read as Parquet ({type(err).__name__}: {err})") from None


def count_rows(path: Path) -> int | None:
    """Row count when it is cheap to know (Parquet metadata, a folder, or a text file up to 256 MB), else None."""
    if path.is_dir():
        from serve.batch_folder import article_files

        return len(article_files(path))
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _parquet_file(path).metadata.num_rows
    if path.stat().st_size > COUNT_ROWS_UP_TO_BYTES:
        return None
    if suffix == ".jsonl":
        with path.open("rb") as handle:
            return sum(1 for line in handle if line.strip())
    return max(sum(1 for _ in _csv_records(path, suffix)) - 1, 0)  # records after the header


def read_chunks(path: Path, columns: Columns, chunk_size: int, skip: int = 0) -> Iterator[list[InputRow]]:
    """Check the input, then yield the rows after the first ``skip`` in chunks of at most ``chunk_size``; memory
    holds one chunk. (A run that has checked its input already reads ``BatchInput.chunks``.)"""
    yield from check_input(path, columns).chunks(chunk_size, skip)


def _csv_chunks(path: Path, columns: Columns, chunk_size: int, suffix: str) -> Iterator[list[InputRow]]:
    """CSV/TSV record by record. A record whose field count differs from the header's, as after a quote left
    open, becomes an error row instead of shifted or merged data."""
    chunk: list[InputRow] = []
    row = 0
    records = _csv_records(path, suffix)
    try:
        end, header, _ = next(records, (0, [], []))
        for (line, record, read), last in _flag_last(records):
            start, end = end + 1, line  # the record's first and last line
            if last and _ends_inside_quotes(read, suffix):
                item = InputRow(row=row, id=_broken_record_id(record, header, columns, row), error=(
                    f"line {start}: the file ends inside this record's quoted field (a quote never closed, or the "
                    "file cut short), so its text may be incomplete; not analysed"))
            elif len(record) != len(header):
                where, merged = (f"line {line}", "") if start == line else (
                    f"lines {start}-{line}",
                    "; a quote left open merges every record on these lines into this one, so none of them is analysed")
                item = InputRow(row=row, id=_broken_record_id(record, header, columns, row), error=(
                    f"{where}: {len(record)} fields where the header has {len(header)} "
                    f"(a quote left open, or an unquoted separator, upsets the rows around it{merged})"))
            else:
                item = row_from_record(row, dict(zip(header, record)), columns)
            chunk.append(item)
            row += 1
            if len(chunk) == chunk_size:
                yield chunk
                chunk = []
    except csv.Error as err:
        raise InputError(f"{path}: CSV structure broken after data row {row} ({err}); "
                         "rows before it were processed") from None
    if chunk:
        yield chunk


def _flag_last(items: Iterator) -> Iterator[tuple[Any, bool]]:
    """(item, whether it is the last one) for each item, reading one ahead."""
    previous = sentinel = object()
    for item in items:
        if previous is not sentinel:
            yield previous, False
        previous = item
    if previous is not sentinel:
        yield previous, True


def _ends_inside_quotes(lines: list[str], suffix: str) -> bool:
    """Whether a record's text ``lines`` end inside a quoted field, which the lenient reader takes as complete."""
    try:
        for _ in csv.reader(lines, delimiter=_delimiter(suffix), strict=True):
            pass
    except csv.Error as err:
        return "unexpected end of data" in str(err)
    return False


def _broken_record_id(record: list[str], header: list[str], columns: Columns, row: int) -> str:
    """The id field of a record whose field count is wrong, when it still reads as one (a single short line);
    else the row number. Fields before the break are usually intact, and the id is what the user looks for."""
    if columns.id in header:
        position = header.index(columns.id)
        value = record[position].strip() if position < len(record) else ""
        if value and "\n" not in value and len(value) <= 200:
            return _printable_id(value)
    return str(row)


def _jsonl_record(line: bytes) -> Mapping[str, Any]:
    try:
        record = json.loads(line.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "surrogateescape"))  # BOM: first line
    except json.JSONDecodeError as err:
        raise InputError(f"line is not valid JSON ({err.msg.removesuffix(' at')} at column {err.colno})") from None
    if not isinstance(record, dict):
        raise InputError(f"line is a JSON {type(record).__name__}, not an object")
    return record


def _jsonl_chunks(path: Path, columns: Columns, chunk_size: int) -> Iterator[list[InputRow]]:
    """JSONL line by line; blank lines are not rows (check_input has seen the named columns in the first rows)."""
    chunk: list[InputRow] = []
    row = 0
    with path.open("rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                item = row_from_record(row, _jsonl_record(line), columns)
            except InputError as err:
                item = InputRow(row=row, id=str(row), error=str(err))
            chunk.append(item)
            row += 1
            if len(chunk) == chunk_size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _parquet_chunks(path: Path, columns: Columns, chunk_size: int, skip: int) -> Iterator[list[InputRow]]:
    """Parquet by row group; row groups wholly before ``skip`` are not read at all."""
    parquet = _parquet_file(path)
    row, first_group = 0, 0
    while first_group < parquet.num_row_groups and row + parquet.metadata.row_group(first_group).num_rows <= skip:
        row += parquet.metadata.row_group(first_group).num_rows
        first_group += 1
    groups = list(range(first_group, parquet.num_row_groups))
    if not groups:
        return
    for batch in parquet.iter_batches(batch_size=chunk_size, row_groups=groups, columns=columns.named()):
        records = batch.to_pylist()
        yield [row_from_record(row + i, r, columns) for i, r in enumerate(records)]
        row += len(records)
