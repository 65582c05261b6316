"""Crash-safe output for `newslens predict`: JSONL/CSV appended per chunk with fsync, Parquet as per-chunk parts
merged at the end, and the resume state saved beside the output after every chunk."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from model.errors import InputError
from model.storage import atomic_write_text
from serve.batch_read import suffix_of

OUTPUT_SUFFIXES = (".csv", ".jsonl", ".parquet")
# Fields of every output row, in order; list and dict fields are JSON strings in CSV.
# stance_related: each claim's P(related) from the gate (the label is unrelated below the model's threshold, else the
# most probable related label; stance_probabilities spreads P(related) over the related labels).
OUTPUT_FIELDS = ("row", "id", "headline", "claims", "stance_labels", "stance_probabilities", "stance_related",
                 "event_label", "event_scores", "summary", "summary_mode", "summary_note", "error")
JSON_FIELDS = frozenset({"claims", "stance_labels", "stance_probabilities", "stance_related", "event_scores"})


def _parquet_schema():
    import pyarrow as pa

    scores = pa.map_(pa.string(), pa.float64())
    return pa.schema([
        ("row", pa.int64()), ("id", pa.string()), ("headline", pa.string()), ("claims", pa.list_(pa.string())),
        ("stance_labels", pa.list_(pa.string())), ("stance_probabilities", pa.list_(scores)),
        ("stance_related", pa.list_(pa.float64())), ("event_label", pa.string()), ("event_scores", scores),
        ("summary", pa.string()), ("summary_mode", pa.string()), ("summary_note", pa.string()), ("error", pa.string()),
    ])


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AppendWriter:
    """JSONL or CSV rows appended to ``OUTPUT.partial``, flushed and fsynced per chunk.

    ``position`` (bytes written) is saved in the resume state after every chunk; resuming truncates the file
    back to it, so a crash mid-write never leaves a half row or a duplicate. ``finish`` renames to OUTPUT.
    """

    def __init__(self, output: Path, resume_position: int | None):
        self.output = output
        self.partial = output.with_name(output.name + ".partial")
        self.csv = output.suffix.lower() == ".csv"
        if resume_position is not None:
            if not self.partial.exists() or self.partial.stat().st_size < resume_position:
                raise InputError(f"{self.partial} is missing or shorter than the saved progress; cannot resume "
                                 f"(delete {RunState.path_for(output)} to start over)")
            self.handle = self.partial.open("r+b")
            self.handle.truncate(resume_position)
            self.handle.seek(resume_position)
        else:
            self.handle = self.partial.open("wb")
            if self.csv:
                self._write_text(",".join(OUTPUT_FIELDS) + "\n")

    @property
    def position(self) -> int:
        return self.handle.tell()

    @staticmethod
    def _csv_lines(records: Sequence[Mapping[str, Any]]) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for record in records:
            writer.writerow([_csv_cell(name, record.get(name)) for name in OUTPUT_FIELDS])
        return buffer.getvalue()

    def _write_text(self, text: str) -> None:
        self.handle.write(text.encode("utf-8"))
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def write(self, records: Sequence[Mapping[str, Any]]) -> None:
        if self.csv:
            self._write_text(self._csv_lines(records))
        else:
            self._write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))

    def written_ids(self) -> Iterator[tuple[int, str | None]]:
        """(row, compared_id) of every row written so far, read back from the file (a resumed run counts repeated
        ids). A JSONL line is parsed only as far as its id, unless the id is the row number (see compared_id)."""
        self.handle.flush()
        with self.partial.open("rb") as handle:
            if self.csv:
                csv.field_size_limit(2**31 - 1)  # a headline or claims cell can be longer than the default limit
                records = csv.reader(io.TextIOWrapper(handle, encoding="utf-8", newline=""))
                next(records, None)  # the header
                for record in records:
                    row = int(record[0])
                    yield row, compared_id(row, record[1], record[-1])  # error is the last column
            else:
                for line in handle:
                    yield _jsonl_row_id(line.decode("utf-8"))

    def close(self) -> None:
        self.handle.close()

    def finish(self) -> None:
        self.close()
        os.replace(self.partial, self.output)
        _fsync_dir(self.output.parent)


# json.dumps writes an output record's fields in OUTPUT_FIELDS order: row and id first
_JSONL_ROW_ID = re.compile(r'\{"row": (\d+), "id": ')
_JSON_DECODER = json.JSONDecoder()


def _jsonl_row_id(line: str) -> tuple[int, str | None]:
    """(row, compared_id) of one JSONL output line, reading only its start when the id is not the row number (the
    only case where the error matters): several times faster than json.loads on lines with claims and summaries."""
    match = _JSONL_ROW_ID.match(line)
    if match:
        row = int(match.group(1))
        row_id, _ = _JSON_DECODER.raw_decode(line, match.end())
        if row_id != str(row):
            return row, compared_id(row, row_id, None)
    record = json.loads(line)
    return record["row"], compared_id(record["row"], record["id"], record.get("error"))


def _csv_cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name in JSON_FIELDS:
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class ParquetPartsWriter:
    """Each chunk becomes ``OUTPUT.parts/part-NNNNNNN.parquet`` (written to a temp name, then renamed);
    ``position`` is the number of parts. ``finish`` combines them into OUTPUT with large row groups."""

    ROW_GROUP_ROWS = 65_536

    def __init__(self, output: Path, resume_position: int | None):
        self.output = output
        self.parts = output.with_name(output.name + ".parts")
        if resume_position is None and self.parts.exists():
            shutil.rmtree(self.parts)
        self.parts.mkdir(parents=True, exist_ok=True)
        self.count = resume_position or 0
        if any(not self._part(i).exists() for i in range(self.count)):
            raise InputError(f"{self.parts} lacks parts the saved progress counts; cannot resume "
                             f"(delete {RunState.path_for(output)} to start over)")
        self.schema = _parquet_schema()

    @property
    def position(self) -> int:
        return self.count

    def _part(self, index: int) -> Path:
        return self.parts / f"part-{index:07d}.parquet"

    def write(self, records: Sequence[Mapping[str, Any]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist([{k: r.get(k) for k in OUTPUT_FIELDS} for r in records], schema=self.schema)
        temporary = self.parts / f".part-{self.count:07d}.tmp"
        pq.write_table(table, temporary)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, self._part(self.count))
        self.count += 1

    def written_ids(self) -> Iterator[tuple[int, str | None]]:
        """(row, compared_id) of every row written so far, read back from the parts (a resumed run counts repeated
        ids); only the three columns that takes are read."""
        import pyarrow.parquet as pq

        for index in range(self.count):
            table = pq.ParquetFile(self._part(index)).read(columns=["row", "id", "error"])  # faster than read_table
            for row, row_id, error in zip(*(table.column(name).to_pylist() for name in ("row", "id", "error"))):
                yield row, compared_id(row, row_id, error)

    def close(self) -> None:
        pass

    def finish(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        partial = self.output.with_name(self.output.name + ".partial")
        pending, pending_rows = [], 0
        with pq.ParquetWriter(partial, self.schema) as writer:
            for index in range(self.count):
                table = pq.read_table(self._part(index), schema=self.schema)
                pending.append(table)
                pending_rows += table.num_rows
                if pending_rows >= self.ROW_GROUP_ROWS:
                    writer.write_table(pa.concat_tables(pending), row_group_size=self.ROW_GROUP_ROWS)
                    pending, pending_rows = [], 0
            if pending or self.count == 0:
                writer.write_table(pa.concat_tables(pending) if pending else self.schema.empty_table())
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, self.output)
        _fsync_dir(self.output.parent)
        shutil.rmtree(self.parts)


def in_progress_path(output: Path) -> Path:
    """Where rows go until the run completes: OUTPUT.parts/ for Parquet, OUTPUT.partial otherwise."""
    suffix = ".parts" if output.suffix.lower() == ".parquet" else ".partial"
    return output.with_name(output.name + suffix)


def open_writer(output: Path, resume_position: int | None) -> AppendWriter | ParquetPartsWriter:
    suffix = suffix_of(output, OUTPUT_SUFFIXES, "output")
    output.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        return ParquetPartsWriter(output, resume_position)
    return AppendWriter(output, resume_position)


# ---------------------------------------------------------------- resume state

def compared_id(row: int, row_id: str | None, error: str | None) -> str | None:
    """A row's id as the repeated-id check compares it, or None for an id that says nothing about other rows: an
    empty id (an error row already), or the row number an error row gets as a stand-in when no id could be read
    from it (a JSONL line that is not a JSON object, a CSV record with the wrong field count). Stand-ins are told
    by their value alone, as the output keeps it (a resumed run reads ids back from there), so an error row whose
    own id happens to equal its row number is not compared either: that can leave out a warning, never make a
    false one."""
    if not row_id or (error and row_id == str(row)):
        return None
    return row_id


MAX_DISTINCT_ERRORS = 20
MAX_EXAMPLE_ROWS = 5
MAX_REPEATED_ID_EXAMPLES = 3
OTHER_ERRORS = "(other errors)"


@dataclass
class RunState:
    """Progress of one run, saved atomically beside the output after every chunk (``OUTPUT.progress.json``)."""

    fingerprint: dict
    rows_done: int = 0
    failed: int = 0
    position: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    error_rows: dict[str, list[int]] = field(default_factory=dict)
    finishing: bool = False  # every row is written; only the final rename/merge may be missing
    repeated_ids: int = 0  # distinct ids on more than one row (with an id column; see record)
    # the first MAX_REPEATED_ID_EXAMPLES of them, each with up to MAX_EXAMPLE_ROWS + 1 rows (one more shows "...")
    repeated_id_rows: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self):
        # Every id seen, with its first row, and the ids seen more than once: kept in memory only (they grow with
        # the input, so saving them after every chunk would cost more and more); a resumed run rebuilds them from
        # the rows already written (count_ids).
        self._first_rows: dict[str, int] = {}
        self._repeated: set[str] = set()

    @staticmethod
    def path_for(output: Path) -> Path:
        return output.with_name(output.name + ".progress.json")

    @classmethod
    def load(cls, output: Path) -> RunState | None:
        path = cls.path_for(output)
        if not path.exists():
            return None
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, TypeError) as err:
            raise InputError(f"{path}: unreadable resume state ({err}); delete it to start over") from None

    def save(self, output: Path) -> None:
        atomic_write_text(self.path_for(output), json.dumps(asdict(self), ensure_ascii=False))

    def record(self, records: Sequence[Mapping[str, Any]], position: int, check_ids: bool = False) -> None:
        """Count a written chunk; error messages are tallied (a bounded number of distinct ones), and with
        ``check_ids`` so are ids on more than one row."""
        self.rows_done += len(records)
        self.position = position
        if check_ids:
            for record in records:
                row = int(record["row"])
                self._note_id(row, compared_id(row, record["id"], record.get("error")))
        for record in records:
            message = record.get("error")
            if not message:
                continue
            self.failed += 1
            key = message if message in self.errors or len(self.errors) < MAX_DISTINCT_ERRORS else OTHER_ERRORS
            self.errors[key] = self.errors.get(key, 0) + 1
            examples = self.error_rows.setdefault(key, [])
            if len(examples) < MAX_EXAMPLE_ROWS:
                examples.append(int(record["row"]))

    def count_ids(self, written: Iterable[tuple[int, str | None]]) -> None:
        """Recount repeated ids from every (row, compared_id) written so far, as a resumed run starts: the same tally
        an uninterrupted run has at this point, and the ids to compare the rows still to come with."""
        self.repeated_ids, self.repeated_id_rows = 0, {}
        self._first_rows, self._repeated = {}, set()
        for row, row_id in written:
            self._note_id(row, row_id)

    def _note_id(self, row: int, row_id: str | None) -> None:
        if not row_id:  # see compared_id
            return
        first = self._first_rows.setdefault(row_id, row)
        if first == row:
            return
        if row_id not in self._repeated:
            self._repeated.add(row_id)
            self.repeated_ids += 1
            if len(self.repeated_id_rows) < MAX_REPEATED_ID_EXAMPLES:
                self.repeated_id_rows[row_id] = [first]
        rows = self.repeated_id_rows.get(row_id)
        if rows is not None and len(rows) <= MAX_EXAMPLE_ROWS:
            rows.append(row)

    @classmethod
    def remove(cls, output: Path) -> None:
        cls.path_for(output).unlink(missing_ok=True)
