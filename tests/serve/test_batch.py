"""`newslens predict`: mixed good and bad rows in every format, fatal errors, and the Ray backend when Ray is
installed. Tiny models; the kill/resume and memory tests are in test_batch_resume.py."""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from model.labels import EVENT_LABELS, STANCE_LABELS

GOOD = "Floods hit Lagos\n\nHeavy rain flooded large parts of Lagos on Monday. Thousands of homes were damaged."
# (id, article, claims, expected error fragment or None); None article = the text is missing altogether.
ROWS = [
    ("g1", GOOD, "Lagos is flooded || Nobody was hurt", None),
    ("empty", "   ", "", "empty"),
    ("g2", "Central bank raises rates\n\nThe bank raised its main rate by half a point.", '["Rates go up"]', None),
    ("latin1", b"Caf\xe9 owners protest new tax in the city centre.", "", "not valid UTF-8"),
    ("missing", None, "", "missing"),
    ("binary", "\x00\x01\x02\x03\x04\x05\x06\x07\x08" * 20, "", "non-printable|binary"),
    ("badclaims", GOOD, "[not json", "JSON list"),
    ("g3", "Harbour City win the final. Fans celebrated in the streets.", "", None),
]


def model_flags(tiny_models) -> list[str]:
    return ["--stance-model", str(tiny_models["stance"]), "--event-model", str(tiny_models["event"]),
            "--summary-model", str(tiny_models["summary"]), "--threads", "1", "--quiet"]


def write_input(folder: Path, fmt: str) -> Path:
    """The mixed rows as CSV, JSONL or Parquet, each with that format's own way of being broken."""
    path = folder / f"input.{fmt}"
    if fmt == "jsonl":
        with path.open("wb") as handle:
            for row_id, article, claims, _ in ROWS:
                record = {"id": row_id, "claims": claims}
                if isinstance(article, bytes):  # raw bytes in the line: the file itself is not UTF-8 there
                    line = json.dumps({**record, "article": "@"}).encode().replace(b'"@"', b'"' + article + b'"')
                else:
                    line = json.dumps(record if article is None else {**record, "article": article}).encode()
                handle.write(line + b"\n")
    elif fmt == "csv":
        frame = pd.DataFrame([{"id": r, "article": "@" if isinstance(a, bytes) else (a or ""), "claims": c}
                              for r, a, c, _ in ROWS])
        data = frame.to_csv(index=False).encode()
        path.write_bytes(data.replace(b"@", ROWS[3][1]))
    else:
        articles = [a if isinstance(a, bytes) or a is None else a.encode() for _, a, _, _ in ROWS]
        table = pa.table({"id": [r for r, *_ in ROWS], "article": pa.array(articles, pa.binary()),
                          "claims": [c for _, _, c, _ in ROWS]})
        pq.write_table(table, path, row_group_size=3)
    return path


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_readers_skip_exactly_the_rows_already_done(tmp_path, fmt):
    from serve.batch_read import Columns, count_rows, read_chunks

    source = write_input(tmp_path, fmt)
    assert count_rows(source) == len(ROWS)
    for skip in range(len(ROWS) + 1):
        chunks = list(read_chunks(source, Columns(id="id", claims="claims"), chunk_size=2, skip=skip))
        assert all(0 < len(chunk) <= 2 for chunk in chunks)
        rows = [row for chunk in chunks for row in chunk]
        assert [r.row for r in rows] == list(range(skip, len(ROWS)))
        assert [r.id for r in rows] == [r[0] for r in ROWS[skip:]]


@pytest.mark.parametrize("in_fmt, out_fmt", [("csv", "jsonl"), ("jsonl", "parquet"), ("parquet", "csv")])
def test_every_row_gets_one_output_row_and_bad_rows_get_errors(tiny_models, tmp_path, read_output, in_fmt, out_fmt):
    from serve.cli import main

    source = write_input(tmp_path, in_fmt)
    output = tmp_path / f"out.{out_fmt}"
    status = main(["predict", str(source), "-o", str(output), "--id-column", "id", "--claims-column", "claims",
                   "--chunk-size", "3", *model_flags(tiny_models)])
    assert status == 1  # some rows failed
    rows = read_output(output)
    assert [r["row"] for r in rows] == list(range(len(ROWS)))
    assert [r["id"] for r in rows] == [r[0] for r in ROWS]
    for row, (row_id, _, claims, problem) in zip(rows, ROWS):
        if problem is None:
            assert row["error"] is None, row
            assert len(row["stance_labels"]) == len(row["claims"])
            assert row["claims"] if row_id != "g3" else row["claims"] == []  # g3 has neither headline nor claims
            assert set(row["stance_labels"]) <= set(STANCE_LABELS)
            assert all(set(p) == set(STANCE_LABELS) for p in row["stance_probabilities"])
            assert len(row["stance_related"]) == len(row["claims"])
            for label, related, p in zip(row["stance_labels"], row["stance_related"], row["stance_probabilities"]):
                assert 0 <= related <= 1 and p["unrelated"] == pytest.approx(1 - related, abs=1e-6)
                assert (label == "unrelated") == (related < 0.3)  # the tiny model's gate threshold
            assert row["event_label"] in EVENT_LABELS and set(row["event_scores"]) == set(EVENT_LABELS)
            assert row["summary"] and row["summary_mode"] == "extractive"
        else:
            # CSV cannot tell a missing cell from an empty one: both are "empty" there.
            expected = "empty" if (in_fmt == "csv" and problem == "missing") else problem
            assert row["error"] and re.search(expected, row["error"]), (row_id, row["error"])
            assert row["event_label"] is None
    assert rows[0]["claims"] == ["Lagos is flooded", "Nobody was hurt"]
    assert rows[2]["claims"] == ["Rates go up"]
    assert rows[7]["claims"] == [] and rows[7]["headline"] is None
    assert not list(tmp_path.glob("out.*.p*")), "no partial, parts or progress file is left behind"


def test_row_numbers_are_ids_without_an_id_column_and_tasks_can_be_chosen(tiny_models, tmp_path, read_output):
    from serve.cli import main

    source = tmp_path / "plain.jsonl"
    source.write_text("".join(json.dumps({"text": f"Storm number {i} hit the coast."}) + "\n" for i in range(5))
                      + "\n", encoding="utf-8")  # a blank line is not a row
    output = tmp_path / "plain.csv"
    assert main(["predict", str(source), "-o", str(output), "--text-column", "text", "--tasks", "event",
                 *model_flags(tiny_models)]) == 0
    rows = read_output(output)
    assert [r["id"] for r in rows] == ["0", "1", "2", "3", "4"]
    assert all(r["event_label"] in EVENT_LABELS and r["summary"] is None and r["claims"] is None for r in rows)


def test_fatal_problems_exit_with_2_and_write_nothing(tiny_models, tmp_path, capsys):
    from serve.cli import main

    source = write_input(tmp_path, "jsonl")
    flags = model_flags(tiny_models)
    cases = [
        ([str(tmp_path / "absent.csv"), "-o", str(tmp_path / "a.jsonl")], "not found"),
        ([str(source), "-o", str(tmp_path / "b.jsonl"), "--text-column", "body"], "missing column"),
        ([str(source), "-o", str(tmp_path / "c.xlsx")], "unsupported output"),
        ([str(tmp_path / "input.xlsx"), "-o", str(tmp_path / "d.jsonl")], "unsupported input"),
        ([str(source)], "give -o/--output"),
        ([str(source), "-o", str(tmp_path / "e.jsonl"), "--tasks", "sentiment"], "unknown task"),
        ([str(source), "-o", str(tmp_path / "e.jsonl"), "--tasks", ""], "--tasks names no task"),
        ([str(source), "-o", str(source)], "would overwrite the input"),
    ]
    (tmp_path / "input.xlsx").write_text("hello", encoding="utf-8")
    for args, message in cases:
        assert main(["predict", *args, *flags]) == 2, args
        assert message in capsys.readouterr().err
    csv_source = write_input(tmp_path, "csv")
    assert main(["predict", str(csv_source), "-o", str(tmp_path / "f.jsonl"), "--id-column", "uid", *flags]) == 2
    assert "'uid'" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.csv", "input.jsonl", "input.xlsx"]


def test_a_task_without_a_model_is_fatal_when_asked_for_and_skipped_otherwise(tiny_models, tmp_path, read_output,
                                                                             capsys):
    from serve.cli import main

    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps({"article": GOOD}) + "\n", encoding="utf-8")
    flags = ["--stance-model", "none", "--event-model", str(tiny_models["event"]), "--summary-model", "none",
             "--threads", "1", "--quiet"]
    assert main(["predict", str(source), "-o", str(tmp_path / "a.jsonl"), "--tasks", "stance", *flags]) == 2
    assert "no model for stance" in capsys.readouterr().err
    assert main(["predict", str(source), "-o", str(tmp_path / "b.jsonl"), *flags]) == 0
    assert "stance not run" in capsys.readouterr().err
    [row] = read_output(tmp_path / "b.jsonl")
    assert row["event_label"] in EVENT_LABELS and row["stance_labels"] is None


def test_ray_backend_without_ray_is_a_clear_error(tiny_models, tmp_path, capsys):
    if importlib.util.find_spec("ray") is not None:
        pytest.skip("ray is installed: the Ray backend is tested below")
    from serve.cli import main

    source = write_input(tmp_path, "jsonl")
    assert main(["predict", str(source), "-o", str(tmp_path / "r.jsonl"), "--backend", "ray",
                 *model_flags(tiny_models)]) == 2
    assert "pip install 'newslens[ray]'" in capsys.readouterr().err


def test_ray_backend_gives_the_same_rows_as_local(tiny_models, tmp_path, read_output):
    pytest.importorskip("ray.data")
    from serve.cli import main

    source = write_input(tmp_path, "jsonl")
    common = ["--id-column", "id", "--claims-column", "claims", "--chunk-size", "2", *model_flags(tiny_models)]
    assert main(["predict", str(source), "-o", str(tmp_path / "local.jsonl"), *common]) == 1
    assert main(["predict", str(source), "-o", str(tmp_path / "ray.jsonl"), "--backend", "ray", "--workers", "2",
                 *common]) == 1
    local, distributed = read_output(tmp_path / "local.jsonl"), read_output(tmp_path / "ray.jsonl")
    assert [r["id"] for r in distributed] == [r["id"] for r in local]
    assert [r["error"] for r in distributed] == [r["error"] for r in local]
    assert [r["event_label"] for r in distributed] == [r["event_label"] for r in local]


def test_ray_stream_keeps_input_order_and_bounds_work_in_flight():
    """The Ray runner's scheduling without Ray: chunks finish out of order, results still come back in order."""
    import json as _json

    from serve.batch_ray import IN_FLIGHT_PER_WORKER, stream_chunks

    class Ref:
        def __init__(self, value):
            self.value = value

    class FakeActor:
        def __init__(self, name):
            self.name, self.calls = name, []
            self.run = self

        def remote(self, chunk, tasks, summary_mode):
            self.calls.append(chunk)
            return Ref(_json.dumps([{"row": r, "by": self.name} for r in chunk]))

    class FakeRay:
        most_pending = 0

        def wait(self, refs, num_returns):
            FakeRay.most_pending = max(FakeRay.most_pending, len(refs))
            return [refs[-1]], refs[:-1]  # the newest finishes first: out of order on purpose

        def get(self, ref):
            return ref.value

    actors = [FakeActor("a"), FakeActor("b")]
    chunks = [[i * 3, i * 3 + 1, i * 3 + 2] for i in range(7)]
    out = list(stream_chunks(FakeRay(), actors, iter(chunks), ("event",), "extractive"))
    assert [[r["row"] for r in records] for records in out] == chunks
    assert FakeRay.most_pending <= IN_FLIGHT_PER_WORKER * len(actors)
    assert all(actor.calls for actor in actors)  # both workers got chunks
    assert sum(len(a.calls) for a in actors) == len(chunks)


def test_a_missing_text_column_points_at_the_column_that_looks_like_it(tmp_path):
    from model.errors import InputError
    from serve.batch_read import Columns, check_input

    table = tmp_path / "news.csv"
    table.write_text("headline,Body\nFloods,The river burst its banks.\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column.*'article'.*looks like column 'Body'"):
        check_input(table, Columns())
    plain = tmp_path / "plain.csv"
    plain.write_text("headline,notes\nFloods,x\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        check_input(plain, Columns())
    assert "looks like" not in str(error.value)


def test_a_run_written_with_other_output_columns_is_not_resumed(tiny_models, tmp_path, capsys):
    """A newer version that writes other columns must not append its rows to an older version's partial file."""
    from serve.batch import BatchConfig, _fingerprint
    from serve.batch_read import Columns
    from serve.batch_write import RunState
    from serve.cli import main

    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"article": "Floods hit the city. Many homes were lost."}) + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    fingerprint = _fingerprint(BatchConfig(input=source, output=output, columns=Columns()), ["stance", "event", "summary"])
    fingerprint["output_fields"] = fingerprint["output_fields"][:-2]  # as an older version wrote them
    RunState(fingerprint).save(output)
    (tmp_path / "out.jsonl.partial").write_text("", encoding="utf-8")
    assert main(["predict", str(source), "-o", str(output), "--resume", *model_flags(tiny_models)]) == 2
    assert re.search(r"cannot resume: (\w+, )*output_fields(, \w+)* differ", capsys.readouterr().err)


def test_a_resume_with_other_models_is_refused_so_no_file_mixes_two_models_answers(tiny_models, tmp_path, capsys):
    import shutil
    from dataclasses import replace

    from serve.batch import BatchConfig, _fingerprint
    from serve.batch_read import Columns
    from serve.batch_write import RunState
    from serve.cli import build_parser, main
    from serve.model_flags import model_spec_from_args

    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"article": GOOD}) + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    flags = ["predict", str(source), "-o", str(output), *model_flags(tiny_models)]

    def interrupted_run() -> None:  # the state a run with these flags leaves when it is killed before its first row
        spec = replace(model_spec_from_args(build_parser().parse_args(flags)).for_tasks(None), read_unrelated_pairs=False)
        config = BatchConfig(input=source, output=output, columns=Columns())
        RunState(_fingerprint(config, ["stance", "event", "summary"], model_spec=spec)).save(output)
        (tmp_path / "out.jsonl.partial").write_text("", encoding="utf-8")

    interrupted_run()
    other_event = shutil.copytree(tiny_models["event"], tmp_path / "another-event-model")
    assert main([*flags, "--resume", "--event-model", str(other_event)]) == 2
    assert "cannot resume: models differ" in capsys.readouterr().err
    assert main([*flags, "--resume", "--read-unrelated-pairs"]) == 2  # another way to answer, too
    assert "models differ" in capsys.readouterr().err
    # the same folder retrained meanwhile (its config rewritten: labels, training record) is another model too
    retrained = shutil.copytree(tiny_models["event"], tmp_path / "retrained-event")
    flags = [*flags, "--event-model", str(retrained)]
    interrupted_run()
    saved = (retrained / "config.json").read_bytes()
    config = json.loads(saved)
    (retrained / "config.json").write_text(json.dumps({**config, "training": {"note": "trained again"}}))
    assert main([*flags, "--resume"]) == 2
    assert "cannot resume: models differ" in capsys.readouterr().err
    (retrained / "config.json").write_bytes(saved)
    assert main([*flags, "--resume"]) == 0  # the same models carry on
    assert len(output.read_text(encoding="utf-8").splitlines()) == 1


@pytest.mark.parametrize("single", [True, False])
def test_an_output_that_cannot_be_written_is_refused_before_the_models_load(single, tiny_models, tmp_path, monkeypatch,
                                                                           capsys):
    from serve.cli import main
    from serve.model_flags import ModelSpec

    def refuse(*args, **kwargs):
        raise AssertionError("the models loaded before -o was checked")

    monkeypatch.setattr(ModelSpec, "load", refuse)
    source = tmp_path / ("story.txt" if single else "in.jsonl")
    source.write_text(GOOD if single else json.dumps({"article": GOOD}) + "\n", encoding="utf-8")
    blocked = tmp_path / "a-file" / ("result.json" if single else "out.jsonl")
    blocked.parent.write_text("not a folder", encoding="utf-8")
    assert main(["predict", str(source), "-o", str(blocked), *model_flags(tiny_models)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_an_empty_headline_is_refused_like_an_empty_claim(tmp_path, capsys):
    from serve.cli import main

    story = tmp_path / "story.txt"
    story.write_text(GOOD, encoding="utf-8")
    assert main(["predict", str(story), "--headline", " "]) == 2
    assert "--headline is empty" in capsys.readouterr().err


def test_a_missing_input_path_is_named_as_missing(tmp_path, capsys):
    from serve.cli import main

    assert main(["predict", str(tmp_path / "no-such-folder"), "-o", str(tmp_path / "out.csv")]) == 2
    assert "no-such-folder: input file or folder not found" in capsys.readouterr().err


def test_resume_of_a_finished_run_is_refused_and_keeps_its_results(tiny_models, tmp_path, capsys):
    from serve.cli import main

    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps({"article": GOOD}) + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    assert main(["predict", str(source), "-o", str(output), "--tasks", "stance", *model_flags(tiny_models)]) == 0
    finished = output.read_bytes()
    assert main(["predict", str(source), "-o", str(output), "--resume", "--tasks", "event",
                 *model_flags(tiny_models)]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    assert output.read_bytes() == finished


def test_a_quote_left_open_in_a_csv_gives_error_rows_not_shifted_data(tmp_path):
    from serve.batch_read import Columns, read_chunks

    source = tmp_path / "open-quote.csv"
    source.write_text('id,article,claims\n'
                      'r0,"Floods hit Lagos, homes damaged.",\n'
                      'r1,"Rates rise, the bank said.\n'
                      'r2,"Harbour City win the final, fans say ""great"".",x\n'
                      'r3,Storm hits the coast,\n', encoding="utf-8")
    rows = [r for chunk in read_chunks(source, Columns(id="id", claims="claims"), chunk_size=2) for r in chunk]
    assert [r.id for r in rows] == ["r0", "r1", "r3"]  # r1's open quote runs into r2: one record, flagged
    assert rows[0].error is None and rows[2].error is None and rows[2].article == "Storm hits the coast"
    assert "lines 3-4: 4 fields where the header has 3" in rows[1].error and rows[1].article is None
    assert "merges every record on these lines into this one" in rows[1].error


@pytest.mark.parametrize("name, content, message", [
    ("empty.jsonl", "", "no rows to analyse (the file is empty)"),
    ("blank.jsonl", "\n  \n", "no rows to analyse (the file is empty)"),
    ("empty.csv", "", "cannot read the CSV header (the file is empty)"),
    ("header.csv", "id,article\n", "no rows to analyse (the file is empty, or holds only the header)"),
])
def test_an_input_without_rows_is_fatal_in_every_format(name, content, message, tiny_models, tmp_path, capsys):
    from serve.cli import main

    source = tmp_path / name
    source.write_text(content, encoding="utf-8")
    assert main(["predict", str(source), "-o", str(tmp_path / "out.jsonl"), *model_flags(tiny_models)]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_the_summary_says_where_row_numbers_start(tiny_models, tmp_path, capsys):
    from serve.cli import main

    source = write_input(tmp_path, "jsonl")
    assert main(["predict", str(source), "-o", str(tmp_path / "out.jsonl"), *model_flags(tiny_models)]) == 1
    err = capsys.readouterr().err
    assert "1 x article is empty (no letters or digits after cleaning) (row 1)" in err  # the second row
    assert "rows are the output's row numbers, counted from 0" in err


def test_table_problems_found_before_the_models_load(tiny_models, tmp_path, capsys):
    """Repeated header names, UTF-16, a semicolon-separated CSV and a BOM: each named, none silently misread."""
    from serve.cli import main

    flags = model_flags(tiny_models)
    repeated = tmp_path / "repeated.csv"
    repeated.write_text("id,article,article\n1,Floods hit Lagos on Monday.,dup\n", encoding="utf-8")
    assert main(["predict", str(repeated), "-o", str(tmp_path / "a.jsonl"), *flags]) == 2
    assert "names column(s) 'article' more than once" in capsys.readouterr().err
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("id,article\n1,Floods hit Lagos on Monday.\n".encode("utf-16"))
    assert main(["predict", str(utf16), "-o", str(tmp_path / "b.jsonl"), *flags]) == 2
    assert "looks like UTF-16 text; re-save it as UTF-8" in capsys.readouterr().err
    semicolons = tmp_path / "semi.csv"
    semicolons.write_text("id;article\n1;Floods hit Lagos on Monday.\n", encoding="utf-8")
    assert main(["predict", str(semicolons), "-o", str(tmp_path / "c.jsonl"), *flags]) == 2
    assert "looks like one column holding several names" in capsys.readouterr().err
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps({"article": GOOD}).encode() + b"\n")
    assert main(["predict", str(bom), "-o", str(tmp_path / "d.jsonl"), *flags]) == 0


@pytest.mark.parametrize("chunk_size", ["1", "16", "64"])
def test_a_jsonl_column_first_seen_after_the_first_chunk_is_found_whatever_the_chunk_size(
        chunk_size, tiny_models, tmp_path, read_output):
    from serve.cli import main

    source = tmp_path / "late.jsonl"
    rows = [{"article": GOOD}] * 30 + [{"article": GOOD, "title": "Lagos floods"}]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    output = tmp_path / "out.jsonl"
    assert main(["predict", str(source), "-o", str(output), "--headline-column", "title", "--chunk-size", chunk_size,
                 "--tasks", "event", *model_flags(tiny_models)]) == 0
    assert [r["headline"] for r in read_output(output)][-1] == "Lagos floods"


@pytest.mark.parametrize("args, message", [
    (["--claim", "x"], "--headline, --claim and --json are for one article"),
    (["--workers", "3"], "--workers sets the Ray workers: give --backend ray too"),
    (["--tasks", "summary", "--summary-mode", "none"], "leaves nothing to do"),
])
def test_options_a_table_run_would_ignore_are_refused(args, message, tiny_models, tmp_path, capsys):
    from serve.cli import main

    source = write_input(tmp_path, "jsonl")
    assert main(["predict", str(source), "-o", str(tmp_path / "out.jsonl"), *args, *model_flags(tiny_models)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


def test_an_unsupported_input_type_is_named_before_the_output_is_asked_for(tiny_models, tmp_path, capsys):
    from serve.cli import main

    page = tmp_path / "a.html"
    page.write_text("<p>Floods hit Lagos.</p>", encoding="utf-8")
    assert main(["predict", str(page), *model_flags(tiny_models)]) == 2
    assert "unsupported input file type '.html'" in capsys.readouterr().err


def test_tasks_load_only_their_models(tiny_models, tmp_path, read_output):
    """--tasks event loads no stance or summary model, so one on another encoder cannot get in the way."""
    from serve.cli import main

    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps({"article": GOOD}) + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    flags = ["--stance-model", str(tmp_path / "absent"), "--event-model", str(tiny_models["event"]),
             "--summary-model", str(tmp_path / "absent"), "--threads", "1", "--quiet"]
    assert main(["predict", str(source), "-o", str(output), "--tasks", "event", *flags]) == 0
    assert read_output(output)[0]["event_label"] in EVENT_LABELS


def test_an_empty_or_multi_line_id_is_an_error_row_that_borrows_no_other_row_s_id(tmp_path):
    from serve.batch_read import Columns, read_chunks

    source = tmp_path / "ids.jsonl"
    rows = [{"id": "1", "article": GOOD}, {"id": " ", "article": GOOD}, {"id": "a\nb", "article": GOOD}]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    read = [r for chunk in read_chunks(source, Columns(id="id"), chunk_size=8) for r in chunk]
    assert [r.id for r in read] == ["1", "", "a\nb"]
    assert read[0].error is None and "is empty" in read[1].error and "spans several lines" in read[2].error


def test_a_boolean_is_not_an_article(tmp_path):
    from serve.batch_read import Columns, read_chunks

    source = tmp_path / "bool.jsonl"
    source.write_text(json.dumps({"article": True}) + "\n" + json.dumps({"article": GOOD}) + "\n", encoding="utf-8")
    rows = [r for chunk in read_chunks(source, Columns(), chunk_size=8) for r in chunk]
    assert "article must be text, got bool" in rows[0].error and rows[1].error is None


def test_files_skip_the_pair_classifier_on_unrelated_claims_unless_asked(tiny_models, tiny_analyzer, tmp_path, capsys):
    """Same labels either way; skipped unrelated claims split P(related) evenly over the related labels."""
    from model.analyzer import ArticleInput
    from serve.cli import main

    item = ArticleInput("Floods hit Lagos.\n\nHeavy rain flooded Lagos on Monday. Roads closed.",
                        claims=["Lagos is flooded", "Rates go up"])
    gate = tiny_analyzer.stance.gate
    kept = gate.threshold
    gate.threshold = 1.01  # every claim below it: unrelated
    try:
        read = tiny_analyzer.analyze_batch([item], ("stance",))[0].stances
        tiny_analyzer.read_unrelated_pairs = False
        skipped = tiny_analyzer.analyze_batch([item], ("stance",))[0].stances
    finally:
        gate.threshold, tiny_analyzer.read_unrelated_pairs = kept, True
    assert [s.label for s in read] == [s.label for s in skipped] == ["unrelated", "unrelated"]
    for r, s in zip(read, skipped):
        assert r.if_related and not s.if_related
        related = [p for label, p in s.probabilities.items() if label != "unrelated"]
        assert max(related) - min(related) < 1e-6
        assert s.probabilities["unrelated"] == pytest.approx(r.probabilities["unrelated"])
    one = tmp_path / "one.txt"
    one.write_text("Floods hit Lagos.\n\nHeavy rain flooded Lagos on Monday.", encoding="utf-8")
    assert main(["predict", str(one), "--read-unrelated-pairs", *model_flags(tiny_models)]) == 2
    assert "--read-unrelated-pairs" in capsys.readouterr().err


def test_files_that_are_not_tables_at_all_are_refused_whole(tiny_models, tmp_path, capsys):
    """Binary data named .csv, a CSV named .jsonl and one pretty-printed JSON object: no invented rows."""
    from serve.cli import main

    flags = model_flags(tiny_models)
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(1, 32)) * 40)
    comma = tmp_path / "table.jsonl"
    comma.write_text("id,article\n1,Floods hit Lagos.\n", encoding="utf-8")
    pretty = tmp_path / "pretty.jsonl"
    pretty.write_text(json.dumps({"article": GOOD}, indent=2) + "\n", encoding="utf-8")
    for source, message in ((binary, "its header is not text"), (comma, "not a JSON Lines file"),
                            (pretty, "not a JSON Lines file")):
        assert main(["predict", str(source), "-o", str(tmp_path / "out.jsonl"), *flags]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


def test_a_csv_cut_off_inside_a_quoted_field_flags_its_last_row(tiny_models, tmp_path, read_output):
    from serve.cli import main

    source = tmp_path / "cut.csv"
    source.write_text('id,article\nr1,"Floods hit Lagos. Homes were lost."\nr2,"Rates rose. The bank also acqui',
                      encoding="utf-8")
    assert main(["predict", str(source), "-o", str(tmp_path / "out.jsonl"), "--id-column", "id", "--tasks",
                 "summary", *model_flags(tiny_models)]) == 1
    first, last = read_output(tmp_path / "out.jsonl")
    assert first["id"] == "r1" and first["error"] is None
    assert last["id"] == "r2" and "ends inside this record's quoted field" in last["error"]


def test_claims_given_as_an_object_are_an_error_row(tiny_models, tmp_path, read_output):
    from serve.cli import main

    source = tmp_path / "claims.jsonl"
    source.write_text(json.dumps({"article": GOOD, "claims": {"a": 1}}) + "\n" + json.dumps({"article": GOOD}) + "\n",
                      encoding="utf-8")
    assert main(["predict", str(source), "-o", str(tmp_path / "out.jsonl"), "--claims-column", "claims",
                 *model_flags(tiny_models)]) == 1
    bad, good = read_output(tmp_path / "out.jsonl")
    assert "must be a list of strings or text, got an object" in bad["error"] and good["error"] is None


def test_claims_that_are_not_all_strings_are_an_error_row_in_every_format(tiny_models, tmp_path, read_output):
    from serve.batch_read import parse_claims
    from serve.cli import main
    from model.errors import InputError

    assert parse_claims(["Floods hit Lagos", "  "]) == ["Floods hit Lagos"]
    for value, message in ((["Floods hit Lagos", 5], "item 2 is int"), (["Floods hit Lagos", None], "item 2 is null"),
                           ('{"a": "b"}', "got a JSON object")):
        with pytest.raises(InputError, match=message):
            parse_claims(value)
    source = tmp_path / "claims.csv"
    source.write_text('article,claims\n"' + GOOD.replace('"', '""') + '","{""a"": ""b""}"\n', encoding="utf-8")
    assert main(["predict", str(source), "-o", str(tmp_path / "out.jsonl"), "--claims-column", "claims",
                 *model_flags(tiny_models)]) == 1
    (row,) = read_output(tmp_path / "out.jsonl")
    assert "got a JSON object" in row["error"]


def test_a_file_name_that_is_not_utf8_is_read_like_any_other(tiny_models, tmp_path, read_output):
    from serve.cli import main

    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "ok.txt").write_text(GOOD, encoding="utf-8")
    (folder / "caf\udce9.txt").write_text(GOOD, encoding="utf-8", errors="strict")  # latin-1 byte 0xe9 in the name
    for suffix in ("csv", "jsonl"):
        out = tmp_path / f"out.{suffix}"
        assert main(["predict", str(folder), "-o", str(out), "--tasks", "summary", *model_flags(tiny_models)]) == 0
        rows = read_output(out)
        assert sorted(r["id"] for r in rows) == ["caf\ufffd.txt", "ok.txt"] and not any(r["error"] for r in rows)


def test_an_interrupted_run_says_the_output_already_there_is_an_earlier_run_s(tiny_models, tmp_path, monkeypatch,
                                                                               capsys):
    import serve.batch as batch
    from serve.cli import main

    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"article": GOOD}) + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "run_batch", interrupted)
    main(["predict", str(source), "-o", str(output), *model_flags(tiny_models)])
    err = capsys.readouterr().err
    assert "rerun the same command with --resume" in err and "earlier run's results" not in err
    output.write_text("{}\n", encoding="utf-8")  # a finished earlier run
    main(["predict", str(source), "-o", str(output), *model_flags(tiny_models)])
    assert f"(the {output} there now holds an earlier run's results, not this run's)" in capsys.readouterr().err
