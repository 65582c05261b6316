"""`newslens predict`: a run checks its input once, reading a table's head in one pass and listing a folder once
(tiny models)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from serve.batch_read import Columns
from tests.serve.test_batch import GOOD
from tests.serve.test_batch_folder import write_folder

ROWS = 7


def write_table(path: Path) -> Path:
    """ROWS rows with an id column, as CSV or JSONL."""
    records = [{"id": f"r{i}", "article": GOOD} for i in range(ROWS)]
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    else:
        pd.DataFrame(records).to_csv(path, index=False)
    return path


def run(source: Path, output: Path, analyzer, columns: Columns):
    from serve.batch import BatchConfig, run_batch

    return run_batch(BatchConfig(source, output, columns, tasks=("event",), chunk_size=3, progress=False), analyzer)


@pytest.fixture
def opened(monkeypatch):
    """How many times each path is opened with Path.open."""
    counts: dict[Path, int] = {}
    real_open = Path.open

    def counting_open(self, *args, **kwargs):
        counts[self] = counts.get(self, 0) + 1
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", counting_open)
    return counts


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_check_input_opens_a_table_once(tmp_path, opened, fmt):
    from serve.batch_read import check_input

    source = write_table(tmp_path / f"in.{fmt}")
    opened.clear()  # writing it counts too
    checked = check_input(source, Columns(id="id"))
    assert opened[source] == 1  # the UTF-16 test, the columns and the first row from one read of the head
    assert checked.count_rows() == ROWS


def test_a_run_opens_a_jsonl_input_to_check_count_and_read_it(tiny_analyzer, tmp_path, opened):
    source = write_table(tmp_path / "in.jsonl")
    opened.clear()
    assert run(source, tmp_path / "out.jsonl", tiny_analyzer, Columns(id="id")).rows == ROWS
    assert opened[source] == 3  # check, count (for the progress bar), read


def test_a_run_lists_a_folder_once(tiny_analyzer, tmp_path, monkeypatch, read_output):
    import serve.batch_folder

    folder = write_folder(tmp_path)
    listings = []
    real = serve.batch_folder.article_files
    monkeypatch.setattr(serve.batch_folder, "article_files", lambda path: listings.append(path) or real(path))
    output = tmp_path / "out.jsonl"
    report = run(folder, output, tiny_analyzer, Columns())
    assert listings == [folder]  # for the check, the fingerprint, the row count and the rows alike
    assert report.rows == 4 and [r["id"] for r in read_output(output)] == ["a.txt", "b.md", "c.txt", "world/d.TXT"]


def test_check_input_opens_a_parquet_file_once(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    import serve.batch_read
    from serve.batch_read import check_input

    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": ["a"], "article": [GOOD]}), source)
    opened = []
    real = serve.batch_read._parquet_file
    monkeypatch.setattr(serve.batch_read, "_parquet_file", lambda path: opened.append(path) or real(path))
    check_input(source, Columns(id="id"))
    assert opened == [source]  # its schema and its row count from one open
