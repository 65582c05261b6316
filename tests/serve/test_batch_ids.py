"""`newslens predict`: ids on more than one row are reported at the end (every row is still analysed), also across
an interrupted and resumed run (tiny models)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from serve.batch_read import Columns
from tests.serve.test_batch import model_flags
from tests.serve.test_batch_folder import write_folder

# b repeats first (row 3), then a (row 4), e (row 8), c (row 9) and f (row 11): five repeated ids, three shown.
IDS = ["a", "b", "c", "b", "a", "d", "b", "e", "e", "c", "f", "f"]
WARNING = "warning: 5 ids appear more than once: 'b' (rows 1, 3, 6), 'a' (rows 0, 4), 'e' (rows 7, 8), ..."


def write_table(path: Path, ids: list[str]) -> Path:
    records = [{"id": row_id, "article": f"Storm {i} hit the coast on Monday. Power lines were cut."}
               for i, row_id in enumerate(ids)]
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    elif path.suffix == ".csv":
        pd.DataFrame(records).to_csv(path, index=False)
    else:
        pq.write_table(pa.Table.from_pylist(records), path, row_group_size=4)
    return path


def run(source: Path, output: Path, analyzer, columns: Columns = Columns(id="id"), **options):
    from serve.batch import BatchConfig, run_batch

    config = BatchConfig(source, output, columns, tasks=("event",), chunk_size=3, progress=False,
                         resume=options.pop("resume", False))
    return run_batch(config, analyzer, **options)


def warning_lines(summary: str) -> list[str]:
    return [line.strip() for line in summary.splitlines() if "more than once" in line]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_repeated_ids_are_reported_and_every_row_is_kept(tiny_analyzer, tmp_path, read_output, fmt):
    source = write_table(tmp_path / f"in.{fmt}", IDS)
    report = run(source, tmp_path / "out.jsonl", tiny_analyzer)
    assert report.rows == len(IDS) and report.exit_status == 0  # a warning, not a failure
    assert [(r["row"], r["id"]) for r in read_output(tmp_path / "out.jsonl")] == list(enumerate(IDS))
    assert report.repeated_ids == 5
    [warning] = warning_lines(report.summary())
    assert warning == WARNING + " (all their rows are analysed and in the output; the row column tells them apart)"
    assert "rows are the output's row numbers, counted from 0" in report.summary()


def test_one_id_on_many_rows_shows_its_first_rows(tiny_analyzer, tmp_path):
    long_id = "https://example.com/news/" + "x" * 80
    source = write_table(tmp_path / "in.jsonl", ["x"] * 8 + [long_id, long_id])
    report = run(source, tmp_path / "out.csv", tiny_analyzer)
    [warning] = warning_lines(report.summary())
    assert warning.startswith("warning: 2 ids appear more than once: 'x' (rows 0, 1, 2, 3, 4, ...), "
                              "'https://example.com/news/xxxxxxxxxxxxxxx'... (rows 8, 9) (")
    source = write_table(tmp_path / "one.jsonl", ["a", "b", "a"])
    [warning] = warning_lines(run(source, tmp_path / "one.csv", tiny_analyzer).summary())
    assert warning.startswith("warning: 1 id appears more than once: 'a' (rows 0, 2) (")


def test_no_warning_for_row_numbers_a_folder_or_empty_ids(tiny_analyzer, tmp_path):
    """Row numbers and a folder's paths cannot repeat; an empty id is an error row, not a repeated id."""
    source = write_table(tmp_path / "in.jsonl", ["a", " ", "b", "", "c"])
    report = run(source, tmp_path / "out.jsonl", tiny_analyzer)
    assert report.failed == 2 and report.repeated_ids == 0 and not warning_lines(report.summary())
    report = run(write_table(tmp_path / "same.jsonl", ["a"] * 3), tmp_path / "rows.jsonl", tiny_analyzer, Columns())
    assert report.repeated_ids == 0  # without --id-column the ids are the row numbers
    report = run(write_folder(tmp_path), tmp_path / "folder.jsonl", tiny_analyzer, Columns())
    assert report.rows == 4 and report.repeated_ids == 0


def test_the_command_prints_the_warning_and_succeeds(tiny_models, tmp_path, capsys):
    from serve.cli import main

    source = write_table(tmp_path / "in.csv", IDS)
    assert main(["predict", str(source), "-o", str(tmp_path / "out.jsonl"), "--id-column", "id", "--tasks", "event",
                 *model_flags(tiny_models)]) == 0
    assert WARNING in capsys.readouterr().err


class Interrupted(Exception):
    pass


def stop_after(rows: int):
    def on_progress(done: int, total: int | None) -> None:
        if done >= rows:
            raise Interrupted  # as Ctrl-C would, after the chunk's rows and progress are saved

    return on_progress


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_a_resumed_run_reports_the_repeats_of_the_whole_input(tiny_analyzer, tmp_path, read_output, fmt):
    """Resume skips rows by count, not by id, so repeated ids cannot make it skip or redo a row; and ids written
    before the stop are counted with those after it (b: rows 1, 3 | 6; c: row 2 | 9)."""
    source = write_table(tmp_path / "in.jsonl", IDS)
    reference = run(source, tmp_path / f"reference.{fmt}", tiny_analyzer)
    output = tmp_path / f"out.{fmt}"
    with pytest.raises(Interrupted):
        run(source, output, tiny_analyzer, on_progress=stop_after(6))  # chunks of 3: rows 0-5 are written
    resumed = run(source, output, tiny_analyzer, resume=True)
    assert resumed.resumed_from == 6 and resumed.rows == len(IDS) and resumed.repeated_ids == 5
    assert [(r["row"], r["id"]) for r in read_output(output)] == list(enumerate(IDS))
    assert (resumed.repeated_ids, resumed.repeated_id_rows) == (reference.repeated_ids, reference.repeated_id_rows)
    assert warning_lines(resumed.summary()) == warning_lines(reference.summary())


def test_a_run_stopped_after_its_final_rename_still_reports_repeats(tiny_analyzer, tmp_path, monkeypatch):
    """Nothing is left to read then: the tally comes from the saved progress."""
    from serve.batch_write import RunState

    source = write_table(tmp_path / "in.jsonl", IDS)
    output = tmp_path / "out.parquet"
    with monkeypatch.context() as patch:
        patch.setattr(RunState, "remove", classmethod(lambda cls, output: None))  # stopped before forgetting it
        first = run(source, output, tiny_analyzer)
    assert RunState.path_for(output).exists()
    again = run(source, output, tiny_analyzer, resume=True)
    assert again.repeated_ids == first.repeated_ids == 5
    assert warning_lines(again.summary()) == warning_lines(first.summary())
    assert not RunState.path_for(output).exists()


# Rows 1, 4 and 7 cannot be read (JSONL: not JSON, a JSON list; CSV: a record with the wrong field count and no
# readable id), so their id is their row number: '1', '4', '7', which real ids also are (rows 0, 9 and 6). Only b, 1
# and 2 repeat: 2 is a real id equal to its own row number, which still counts.
STAND_IN_IDS = ["1", None, "2", "b", None, "b", "7", None, "b", "4", "1", "2"]
STAND_IN_WARNING = "warning: 3 ids appear more than once: 'b' (rows 3, 5, 8), '1' (rows 0, 10), '2' (rows 2, 11)"


def write_unreadable_rows(path: Path) -> Path:
    article = "Storm hit the coast on Monday. Power lines were cut."
    if path.suffix == ".jsonl":
        broken = iter(["this is not json", "[1, 2]", "{not json either"])
        lines = [json.dumps({"id": i, "article": article}) if i else next(broken) for i in STAND_IN_IDS]
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    else:  # a quoted field that spans two lines, in a record with one field too many
        lines = [f'{i},"{article}"' if i else '"x\ny",a,b' for i in STAND_IN_IDS]
        path.write_text("id,article\n" + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_row_numbers_of_unreadable_rows_are_not_repeats(tiny_analyzer, tmp_path, read_output, fmt):
    """A JSONL line that is not a JSON object, or a CSV record with the wrong field count, gets its row number as
    its id in the output (nothing else could be read); real ids that equal it are not repeats of it."""
    report = run(write_unreadable_rows(tmp_path / f"in.{fmt}"), tmp_path / "out.jsonl", tiny_analyzer)
    assert [(r["row"], r["id"]) for r in read_output(tmp_path / "out.jsonl")] == [
        (row, row_id or str(row)) for row, row_id in enumerate(STAND_IN_IDS)]  # the id column is unchanged
    assert report.failed == 3 and report.repeated_ids == 3
    [warning] = warning_lines(report.summary())
    assert warning.startswith(STAND_IN_WARNING + " (")


@pytest.mark.parametrize("source_fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_row_numbers_of_unreadable_rows_are_not_repeats_after_a_resume(tiny_analyzer, tmp_path, capsys, source_fmt,
                                                                        fmt):
    """The ids read back from the partial output leave the stand-ins out too: rows 1 and 4 are written before the
    stop, row 7 and the real ids 4 and 7 after it."""
    source = write_unreadable_rows(tmp_path / f"in.{source_fmt}")
    output = tmp_path / f"out.{fmt}"
    with pytest.raises(Interrupted):
        run(source, output, tiny_analyzer, on_progress=stop_after(6))
    capsys.readouterr()
    resumed = run(source, output, tiny_analyzer, resume=True)
    assert resumed.resumed_from == 6 and resumed.rows == len(STAND_IN_IDS) and resumed.failed == 3
    [warning] = warning_lines(resumed.summary())
    assert warning.startswith(STAND_IN_WARNING + " (")
    assert "newslens: reading back the ids of the 6 rows already written, for the repeated-id check...\n" in (
        capsys.readouterr().err)


def test_a_resume_says_when_it_reads_back_ids_and_only_then(tiny_analyzer, tmp_path, capsys):
    """Reading back every written id can take a while on a big output: one line says so, only with an id column."""
    source = write_table(tmp_path / "in.jsonl", IDS)
    for columns, said in ((Columns(), False), (Columns(id="id"), True)):
        output = tmp_path / f"out-{said}.parquet"
        with pytest.raises(Interrupted):
            run(source, output, tiny_analyzer, columns, on_progress=stop_after(3))
        capsys.readouterr()
        assert run(source, output, tiny_analyzer, columns, resume=True).resumed_from == 3
        lines = [line for line in capsys.readouterr().err.splitlines() if "reading back" in line]
        assert lines == (["newslens: reading back the ids of the 3 rows already written, for the repeated-id "
                          "check..."] if said else [])


def test_written_ids_of_a_jsonl_output_read_only_what_the_check_needs(tmp_path):
    """A JSONL line is parsed only as far as its id, unless the id is its row number (then the error decides): the
    same answers as parsing every line whole, for escaped and non-ASCII ids and for lines in another key order."""
    from serve.batch_write import OUTPUT_FIELDS, AppendWriter, compared_id

    def record(row, row_id, error=None):
        return {**dict.fromkeys(OUTPUT_FIELDS), "row": row, "id": row_id, "headline": 'a "quoted" one', "error": error}

    records = [record(0, 'say "hi"\\'), record(1, "été, 東京"), record(2, "2"), record(3, "3", "line is not valid JSON"),
               record(4, "", "'id' (id) is empty"), record(5, "4", "some error")]
    output = tmp_path / "out.jsonl"
    writer = AppendWriter(output, None)
    writer.write(records)
    with writer.partial.open("a", encoding="utf-8") as handle:  # another key order: parsed whole
        handle.write(json.dumps({"id": "6", "row": 6, "error": "x"}) + "\n")
    expected = [(r["row"], compared_id(r["row"], r["id"], r["error"])) for r in records] + [(6, None)]
    assert list(writer.written_ids()) == expected
    assert [row_id for _, row_id in expected] == ['say "hi"\\', "été, 東京", "2", None, None, "4", None]
    writer.close()
