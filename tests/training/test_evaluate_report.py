"""`newslens evaluate`: outputs checked before the models load, the backend that ran, --limit for every task, the
summary header, empty data files, --split names that match --help, and what the reports record (QA s22)."""
import errno
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from serve.cli import build_parser, main
from tests.conftest import write_csv
from tests.training.test_tables import blank_files

STANCE_LABELS = ("agree", "disagree", "discuss", "unrelated")
EVENT_LABELS = ("armed_conflict", "politics", "other")


@pytest.fixture
def stance_csv(tmp_path):
    rows = [{"claim": f"Claim {i} about the storm", "body": f"Body {i % 3} says the storm hit the coast. It was big.",
             "label": STANCE_LABELS[i % 4]} for i in range(8)]
    return write_csv(tmp_path / "stance.csv", rows)


@pytest.fixture
def event_jsonl(tmp_path):
    path = tmp_path / "event.jsonl"
    path.write_text("".join(json.dumps({"text": f"Rebels shelled town number {i} overnight, killing four.",
                                        "label": EVENT_LABELS[i % 3]}) + "\n" for i in range(6)))
    return path


@pytest.fixture
def summary_jsonl(tmp_path):
    path = tmp_path / "sums.jsonl"
    path.write_text("".join(json.dumps({"article": f"Title {i}\n\nStory {i} starts here today. It goes on. It ends.",
                                        "summary": f"Story {i} starts here today."}) + "\n" for i in range(4)))
    return path


def _no_model_load(monkeypatch):
    """Make loading any task model fail loudly: the checks under test must come first."""
    from model.heads import EventModel, SentenceScorer
    from model.stance import StanceModel

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the arguments were checked")

    for cls in (StanceModel, EventModel, SentenceScorer):
        monkeypatch.setattr(cls, "load", refuse)


# ---------------------------------------------------------------- 1. outputs checked up front

@pytest.mark.parametrize("flag, what", [("--output", "the report (--output)"),
                                        ("--predictions", "the predictions (--predictions)")])
def test_an_unwritable_output_is_refused_before_any_model_loads(flag, what, tiny_models, stance_csv, tmp_path,
                                                                 monkeypatch, capsys):
    _no_model_load(monkeypatch)
    a_file = tmp_path / "afile"
    a_file.write_text("")
    target = a_file / "x.json"
    assert main(["evaluate", "stance", "--model", str(tiny_models["stance"]), "--data", str(stance_csv),
                 flag, str(target)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write {what} {target}: {a_file} is a file, not a folder" in err and "Traceback" not in err
    assert main(["evaluate", "stance", "--data", str(stance_csv), flag, str(tmp_path)]) == 2
    assert f"{what} {tmp_path} is a folder; name a file" in capsys.readouterr().err


def test_output_and_predictions_must_be_two_files(tiny_models, stance_csv, tmp_path, monkeypatch, capsys):
    _no_model_load(monkeypatch)
    same = tmp_path / "x.json"
    assert main(["evaluate", "stance", "--data", str(stance_csv), "--output", str(same),
                 "--predictions", str(same)]) == 2
    assert "--output and --predictions both name" in capsys.readouterr().err


def test_a_write_that_still_fails_is_one_error_line_and_the_other_file_is_kept(tiny_models, event_jsonl, tmp_path,
                                                                               monkeypatch, capsys):
    import training.evaluate_cli

    real = training.evaluate_cli.atomic_write_text
    report, rows = tmp_path / "r.json", tmp_path / "rows.jsonl"

    def write(path, text):
        if path == report:  # what check_writable cannot foresee, e.g. /proc/x for root
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        real(path, text)

    monkeypatch.setattr(training.evaluate_cli, "atomic_write_text", write)
    assert main(["evaluate", "event", "--model", str(tiny_models["event"]), "--data", str(event_jsonl), "--threads", "1",
                 "--output", str(report), "--predictions", str(rows)]) == 2
    captured = capsys.readouterr()
    assert f"6 predictions written to {rows}" in captured.out and len(rows.read_text().splitlines()) == 6
    assert f"newslens: error: cannot write the report {report}: Permission denied" in captured.err
    assert "Traceback" not in captured.err


# ---------------------------------------------------------------- 2. the backend that ran; 7. date, threads, seconds

def test_auto_is_recorded_and_printed_as_the_backend_it_chose(tiny_models, event_jsonl, tmp_path, monkeypatch, capsys):
    import model.backends

    monkeypatch.setattr(model.backends, "auto_backend", lambda: "torch")  # what 'auto' picks here, cheaply
    report_path = tmp_path / "r.json"
    assert main(["evaluate", "event", "--model", str(tiny_models["event"]), "--data", str(event_jsonl),
                 "--backend", "auto", "--threads", "1", "--output", str(report_path)]) == 0
    assert "backend torch ('auto' chose it), 1 torch thread" in capsys.readouterr().out
    report = json.loads(report_path.read_text())
    assert report["backend"] == "torch" and report["backend_requested"] == "auto"
    assert report["threads"] == 1 and isinstance(report["seconds"], float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", report["date"])
    assert main(["evaluate", "event", "--model", str(tiny_models["event"]), "--data", str(event_jsonl),
                 "--threads", "1", "--output", str(report_path)]) == 0
    assert "backend torch, 1 torch thread" in capsys.readouterr().out
    assert "backend_requested" not in json.loads(report_path.read_text())


# ---------------------------------------------------------------- 3. --limit for every task

def test_limit_scores_the_first_stance_pairs_and_says_so(tiny_models, stance_csv, tmp_path, capsys):
    report_path, rows_path = tmp_path / "r.json", tmp_path / "rows.jsonl"
    assert main(["evaluate", "stance", "--model", str(tiny_models["stance"]), "--data", str(stance_csv), "--limit", "3",
                 "--threads", "1", "--output", str(report_path), "--predictions", str(rows_path)]) == 0
    out = capsys.readouterr().out
    assert f"stance on {stance_csv}, first 3 pairs of the file" in out
    assert "a slice: the first 3 of the 8 pairs of the file in file order (--limit 3)" in out
    report = json.loads(report_path.read_text())
    assert (report["n"], report["limit"], report["n_available"]) == (3, 3, 8)
    assert report["threads"] == 1 and "seconds" in report and "date" in report
    rows = [json.loads(line) for line in rows_path.read_text().splitlines()]
    assert [r["claim"] for r in rows] == ["Claim 0 about the storm", "Claim 1 about the storm", "Claim 2 about the storm"]
    assert main(["evaluate", "stance", "--model", str(tiny_models["stance"]), "--data", str(stance_csv), "--limit", "50",
                 "--threads", "1", "--output", str(report_path)]) == 0
    assert "a slice" not in capsys.readouterr().out
    report = json.loads(report_path.read_text())
    assert (report["n"], report["n_available"], report["data"]) == (8, 8, str(stance_csv))


def test_limit_with_record_is_refused_so_a_slice_never_replaces_a_recorded_score(tiny_models, stance_csv, capsys):
    recorded = sorted(p.name for p in tiny_models["stance"].iterdir())
    assert main(["evaluate", "stance", "--model", str(tiny_models["stance"]), "--data", str(stance_csv), "--limit", "3",
                 "--record"]) == 2
    assert "--record keeps a model's measured score in its folder" in capsys.readouterr().err
    assert sorted(p.name for p in tiny_models["stance"].iterdir()) == recorded


def test_opening_scores_each_event_text_cut_to_its_first_sentences(tiny_models, tmp_path):
    data = tmp_path / "long.jsonl"
    data.write_text("".join(json.dumps({"text": f"Rebel attack {i}\nRebels shelled town {i} overnight. Four died. "
                                                f"Talks were called off.", "label": EVENT_LABELS[i % 2]}) + "\n"
                            for i in range(4)))
    rows_path, report_path = tmp_path / "rows.jsonl", tmp_path / "r.json"
    assert main(["evaluate", "event", "--model", str(tiny_models["event"]), "--data", str(data), "--text-column",
                 "text", "--opening", "1", "--threads", "1", "--predictions", str(rows_path),
                 "--output", str(report_path)]) == 0
    texts = [json.loads(line)["text"] for line in rows_path.read_text().splitlines()]
    assert texts == [f"Rebels shelled town {i} overnight." for i in range(4)]
    assert "cut to its first 1 body sentence(s) (--opening)" in json.loads(report_path.read_text())["data"]


def test_chunks_label_each_event_text_by_the_mean_of_its_chunks(tiny_models, tmp_path):
    from model.heads import EventModel
    from training.evaluate import evaluate_event

    texts = [f"Rebel attack {i}\nRebels shelled town {i} overnight. Four died. Talks were called off. The army "
             f"moved in. Aid groups left. Roads were shut. Markets closed." for i in range(3)]
    gold = [EVENT_LABELS[i % 2] for i in range(3)]
    model = EventModel.load(tiny_models["event"])
    rows: list = []
    report = evaluate_event(model, texts, gold, rows=rows, chunks=3)
    # each text is itself, then body sentences 4-6, then 7: three chunks, whose probabilities are averaged
    whole, chunk_2, chunk_3 = (model.predict(*_event_inputs(model, [t])) for t in
                               [texts[0], "The army moved in. Aid groups left. Roads were shut.", "Markets closed."])
    expected = {label: (whole[0].scores[label] + chunk_2[0].scores[label] + chunk_3[0].scores[label]) / 3
                for label in model.labels}
    assert rows[0]["confidence"] == pytest.approx(max(expected.values()), abs=1e-4)
    assert rows[0]["predicted"] == max(expected, key=expected.get) and rows[0]["reader"] == "mean of 3 chunks"
    assert report["n"] == 3


def _event_inputs(model, texts):
    from model.article import read_articles
    from training.evaluate import sentence_encoder

    return read_articles(texts, sentence_encoder(model.base_model, "torch"), model.features.lead_sentences), texts


@pytest.mark.parametrize("task, extra, message", [
    ("event", ["--chunks", "-1"], "--chunks must be 0 (off) or more sentences per chunk, got -1"),
    ("stance", ["--chunks", "3"], "--chunks is for event"),
    ("event", ["--chunks", "3", "--opening", "1"], "--chunks reads whole texts in chunks and --opening cuts them"),
    ("event", ["--chunks", "3", "--record"], "--chunks scores another reading, so write that report with --output"),
    ("event", ["--opening", "-1"], "--opening must be 0 (whole texts) or more sentences, got -1"),
    ("stance", ["--opening", "2"], "--opening is for event"),
    ("event", ["--opening", "2", "--record"], "--opening scores cut ones, so write that report with --output"),
])
def test_bad_opening_is_refused_before_any_model_loads(task, extra, message, tiny_models, stance_csv, event_jsonl,
                                                        monkeypatch, capsys):
    _no_model_load(monkeypatch)
    data = event_jsonl if task == "event" else stance_csv
    assert main(["evaluate", task, "--model", str(tiny_models[task]), "--data", str(data), *extra]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--output", "--predictions"])
def test_a_report_that_would_overwrite_the_scored_file_is_refused(flag, tiny_models, event_jsonl, monkeypatch, capsys):
    _no_model_load(monkeypatch)
    before = event_jsonl.read_bytes()
    assert main(["evaluate", "event", "--model", str(tiny_models["event"]), "--data", str(event_jsonl),
                 flag, str(event_jsonl)]) == 2
    assert f"{flag} names the --data file" in capsys.readouterr().err
    assert event_jsonl.read_bytes() == before


def test_a_split_and_a_data_file_together_are_refused(tiny_models, event_jsonl, monkeypatch, capsys):
    _no_model_load(monkeypatch)
    assert main(["evaluate", "event", "--model", str(tiny_models["event"]), "--data", str(event_jsonl),
                 "--split", "dev"]) == 2
    assert "--split names a split of the built data and --data the file" in capsys.readouterr().err


def test_shipped_models_are_named_as_predict_names_them(tmp_path, monkeypatch):
    from model.resolve import SHIPPED_WEIGHTS
    from model.analyzer import task_folder

    assert task_folder("event-fast") == SHIPPED_WEIGHTS / "event-fast"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "event-fast").mkdir()  # a folder of that name here is what the user means
    assert task_folder("event-fast") == Path("event-fast")
    assert task_folder("runs/mine") == Path("runs/mine")


def test_limit_on_an_fnc1_split_warns_that_the_fnc_score_is_not_the_challenges(tiny_models, tmp_path, capsys):
    folder = tmp_path / "fnc1"
    folder.mkdir()
    write_csv(folder / "competition_test_bodies.csv", [{"Body ID": str(b), "articleBody": f"Body {b} tells a story."}
                                                       for b in range(3)])
    write_csv(folder / "competition_test_stances.csv", [{"Headline": f"Claim {i}", "Body ID": str(i % 3),
                                                         "Stance": STANCE_LABELS[i % 4]} for i in range(6)])
    assert main(["evaluate", "stance", "--model", str(tiny_models["stance"]), "--data", str(folder), "--limit", "2",
                 "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "a slice: the first 2 of the 6 pairs of the split in split order (--limit 2)" in out
    assert "nor is its FNC score the FNC-1 challenge's score" in out and "n=2 " in out


def test_limit_scores_the_first_event_texts(tiny_models, event_jsonl, tmp_path, capsys):
    report_path, rows_path = tmp_path / "r.json", tmp_path / "rows.jsonl"
    assert main(["evaluate", "event", "--model", str(tiny_models["event"]), "--data", str(event_jsonl), "--limit", "4",
                 "--threads", "1", "--output", str(report_path), "--predictions", str(rows_path)]) == 0
    out = capsys.readouterr().out
    assert f"event type on {event_jsonl}, first 4 examples of the file" in out
    assert "a slice: the first 4 of the 6 examples of the file" in out
    report = json.loads(report_path.read_text())
    assert (report["n"], report["limit"], report["n_available"]) == (4, 4, 6)
    assert [json.loads(line)["gold"] for line in rows_path.read_text().splitlines()] == [
        "armed_conflict", "politics", "other", "armed_conflict"]


# ---------------------------------------------------------------- 4. the summary table's header

def test_summary_table_names_the_data_n_and_the_budget(tiny_models, summary_jsonl, tmp_path, capsys):
    report_path = tmp_path / "r.json"
    assert main(["evaluate", "summary", "--model", str(tiny_models["summary"]), "--data", str(summary_jsonl),
                 "--limit", "3", "--threads", "1", "--output", str(report_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"extractive summaries on {summary_jsonl}, first 3 articles of the file"
    assert lines[1].startswith("a slice: the first 3 of the 4 articles of the file")
    assert lines[2] == "backend torch, 1 torch thread"
    assert lines[3].startswith("n=3 articles; ROUGE-1/2/L F1 (%) against the reference summaries; every summary "
                               "within 3 sentences and 90 words")
    assert lines[4].startswith("extractive   ROUGE-1 ") and lines[5].startswith("lead_3       ROUGE-1 ")
    report = json.loads(report_path.read_text())
    assert (report["n"], report["limit"], report["n_available"], report["threads"]) == (3, 3, 4, 1)
    assert isinstance(report["seconds"], float) and report["date"].endswith("+00:00")


# ---------------------------------------------------------------- 5. empty data files

@pytest.mark.parametrize("name", ["empty.jsonl", "empty.csv", "blank.jsonl", "empty.parquet"])
def test_evaluate_and_train_say_the_same_for_an_empty_file(name, tiny_models, tmp_path, capsys):
    path = blank_files(tmp_path)[name]
    assert main(["evaluate", "event", "--model", str(tiny_models["event"]), "--data", str(path)]) == 2
    assert capsys.readouterr().err == f"newslens: error: {path} is empty (no rows)\n"
    assert main(["train", "event", "--data", str(path), "--output", str(tmp_path / "m"), "--dry-run"]) == 2
    assert capsys.readouterr().err == f"newslens: error: {path} is empty (no rows)\n"


def test_json_lines_in_a_json_file_get_a_hint(summary_jsonl, tmp_path, capsys):
    misnamed = tmp_path / "sums.json"
    misnamed.write_text(summary_jsonl.read_text())
    assert main(["evaluate", "summary", "--data", str(misnamed)]) == 2
    err = capsys.readouterr().err
    assert f"{misnamed}: cannot be read as JSON" in err and "it holds JSON Lines (one object per line): name it .jsonl" in err
    broken = tmp_path / "broken.json"
    broken.write_text('{"article": "a",\n')
    assert main(["evaluate", "summary", "--data", str(broken)]) == 2
    assert ".jsonl" not in capsys.readouterr().err


# ---------------------------------------------------------------- 6. --split: --help and the error list the same

def _split_help() -> str:
    evaluate = next(a for a in build_parser()._subparsers._group_actions if a.dest == "command").choices["evaluate"]
    return next(a for a in evaluate._actions if a.dest == "split").help


def _named_in_help(task: str) -> set[str]:
    part = re.search(rf"{task}: (.*?)(?:; \w+: |$)", _split_help()).group(1)
    return {name for group in re.findall(r"([\w-]+(?:\|[\w-]+)+)", part) for name in group.split("|")}


@pytest.mark.parametrize("task", ["stance", "event", "summary"])
def test_unknown_split_lists_exactly_the_splits_help_names(task, tiny_models, monkeypatch, capsys):
    _no_model_load(monkeypatch)
    assert main(["evaluate", task, "--split", "bogus"]) == 2
    err = capsys.readouterr().err
    listed = set(err.strip().split("choose one of ")[1].split(", "))
    assert listed == _named_in_help(task)
    assert {"stance": {"train", "competition_test"}, "event": {"train", "dev", "test", "outside-b-clear"},
            "summary": {"train", "dev", "test"}}[task] <= listed


def test_a_stance_split_that_fnc1_lacks_is_refused_before_the_model_loads(tiny_models, monkeypatch, capsys):
    _no_model_load(monkeypatch)
    assert main(["evaluate", "stance", "--model", str(tiny_models["stance"]), "--split", "test"]) == 2
    assert "unknown stance split 'test'; choose one of train, competition_test, own_headlines_dev, own_headlines_test" in capsys.readouterr().err


# ---------------------------------------------------------------- 7. '-' for undefined per-class numbers

def test_event_table_prints_a_dash_for_labels_the_data_neither_holds_nor_predicts(tiny_models, event_jsonl, tmp_path,
                                                                                   capsys):
    report_path = tmp_path / "r.json"
    assert main(["evaluate", "event", "--model", str(tiny_models["event"]), "--data", str(event_jsonl),
                 "--threads", "1", "--output", str(report_path)]) == 0
    out = capsys.readouterr().out
    report = json.loads(report_path.read_text())
    predicted = {label for label, column in zip(report["labels"], zip(*report["confusion_matrix"])) if sum(column)}
    absent = [label for label in report["labels"] if label not in set(EVENT_LABELS) | predicted]
    assert absent
    for label in absent:
        assert re.search(rf"^{label} +- +- +- +0$", out, re.M)
        assert report["per_class"][label] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert "-: undefined (0/0)" in out


def test_negative_threads_are_refused_before_any_model_loads(tiny_models, stance_csv, monkeypatch, capsys):
    _no_model_load(monkeypatch)
    assert main(["evaluate", "stance", "--data", str(stance_csv), "--threads", "-1"]) == 2
    assert "--threads must be 1 or more (0 or none: all cores, at most 8), got -1" in capsys.readouterr().err


# ---------------------------------------------------------------- --bootstrap

def test_bootstrap_adds_story_intervals_to_the_stance_report(tiny_models, stance_csv, tmp_path, capsys):
    report_path = tmp_path / "r.json"
    assert main(["evaluate", "stance", "--model", str(tiny_models["stance"]), "--data", str(stance_csv),
                 "--threads", "1", "--bootstrap", "50", "--output", str(report_path)]) == 0
    out = capsys.readouterr().out
    report = json.loads(report_path.read_text())
    boot = report["bootstrap"]
    # the fixture's 8 pairs: bodies 0, 1, 2, each joined to its related claims, so 3 stories
    assert (boot["resamples"], boot["resampled"], boot["units"]) == (50, "stories", 3)
    assert boot["scores"]["macro_f1"]["estimate"] == pytest.approx(report["macro_f1"])
    assert boot["scores"]["fnc_percent"]["estimate"] == pytest.approx(report["fnc_percent"])
    assert "95% bootstrap intervals (50 resamples of the 3 stories" in out


def test_bootstrap_with_baselines_reports_the_paired_lead_over_tfidf(tiny_models, tmp_path, monkeypatch, capsys):
    from training import evaluate_cli as cli

    texts = [f"Rebels shelled town number {i} overnight." if i % 2 else f"Parliament passed budget law {i}."
             for i in range(12)]
    labels = ["armed_conflict" if i % 2 else "politics" for i in range(12)]
    examples = [SimpleNamespace(text=t, label=y) for t, y in zip(texts, labels)]
    # a --data file has no training side for the baseline, so a stand-in built split is scored through --split test
    monkeypatch.setattr(cli, "require_event_corpus", lambda *a, **k: None)
    monkeypatch.setattr(cli, "load_event_data", lambda *a, **k: ({"train": examples * 2, "test": examples}, "stand-in"))
    report_path = tmp_path / "r.json"
    assert main(["evaluate", "event", "--model", str(tiny_models["event"]), "--split", "test", "--baselines",
                 "--threads", "1", "--bootstrap", "40", "--output", str(report_path)]) == 0
    out = capsys.readouterr().out
    report = json.loads(report_path.read_text())
    diff = report["bootstrap"]["differences"]["tfidf_logreg"]["macro_f1"]
    assert diff["estimate"] == pytest.approx(report["macro_f1"] - report["baselines"]["tfidf_logreg"]["macro_f1"])
    assert diff["low"] <= diff["estimate"] <= diff["high"]
    assert report["bootstrap"]["units"] == 12 and "macro_f1 minus tfidf_logreg" in out


@pytest.mark.parametrize("split, n, scored_labels", [("test-agreed", 2, ["armed_conflict", "politics"]),
                                                     ("test-blind", 3, ["armed_conflict", "politics", "politics"])])
def test_audit_splits_score_the_confirmed_texts_or_the_blind_labels(split, n, scored_labels, tiny_models, tmp_path,
                                                                    monkeypatch):
    from training import evaluate_cli as cli
    from training.data import event_audit

    texts = ["Rebels shelled the town overnight.", "Parliament passed the budget law.", "Police arrested a minister."]
    mapped = ["armed_conflict", "politics", "crime_justice"]
    examples = [SimpleNamespace(text=t, label=y) for t, y in zip(texts, mapped)]
    blind = {event_audit.text_key(t): {"label": y} for t, y in zip(texts, ["armed_conflict", "politics", "politics"])}
    monkeypatch.setattr(cli, "require_event_corpus", lambda *a, **k: None)
    monkeypatch.setattr(cli, "load_event_data", lambda *a, **k: ({"train": examples * 2, "test": examples}, "stand-in"))
    monkeypatch.setattr(event_audit, "load_audit", lambda: blind)
    rows_path, report_path = tmp_path / "rows.jsonl", tmp_path / "r.json"
    assert main(["evaluate", "event", "--model", str(tiny_models["event"]), "--split", split, "--threads", "1",
                 "--predictions", str(rows_path), "--output", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    assert report["n"] == n and f"split {split} ({n} texts; blind re-reading" in report["data"]
    assert [json.loads(line)["gold"] for line in rows_path.read_text().splitlines()] == scored_labels


@pytest.mark.parametrize("confirmed_only", [False, True])
def test_the_tfidf_baseline_trains_on_the_texts_the_model_trained_on(confirmed_only, tiny_models, tmp_path,
                                                                     monkeypatch):
    import shutil

    from training import evaluate_cli as cli

    folder = tmp_path / "event"
    shutil.copytree(tiny_models["event"], folder)
    config = json.loads((folder / "config.json").read_text())
    config.setdefault("training", {}).setdefault("train_config", {})["confirmed_only"] = confirmed_only
    (folder / "config.json").write_text(json.dumps(config))
    examples = [SimpleNamespace(text=f"Rebels shelled town {i}." if i % 2 else f"Parliament passed law {i}.",
                                label="armed_conflict" if i % 2 else "politics") for i in range(4)]
    asked = []

    def stand_in(args, seed, dev_fraction, confirmed=False):
        asked.append(confirmed)
        return {"train": examples * 2, "test": examples}, "stand-in"

    monkeypatch.setattr(cli, "require_event_corpus", lambda *a, **k: None)
    monkeypatch.setattr(cli, "load_event_data", stand_in)
    assert main(["evaluate", "event", "--model", str(folder), "--split", "test", "--baselines", "--threads", "1",
                 "--output", str(tmp_path / "r.json")]) == 0
    assert asked == [confirmed_only]


def test_baselines_with_an_event_file_train_on_the_built_corpus_mix(tiny_models, tmp_path, monkeypatch):
    from training import evaluate_cli as cli

    examples = [SimpleNamespace(text=f"Rebels shelled town {i}." if i % 2 else f"Parliament passed law {i}.",
                                label="armed_conflict" if i % 2 else "politics") for i in range(4)]
    asked = []

    def stand_in(args, seed, dev_fraction, confirmed=False):
        asked.append(args.data)
        return {"train": examples * 2, "test": []}, "stand-in"

    monkeypatch.setattr(cli, "load_event_data", stand_in)
    data = tmp_path / "snippets.jsonl"
    data.write_text("".join(json.dumps({"text": e.text, "label": e.label}) + "\n" for e in examples))
    report_path = tmp_path / "r.json"
    assert main(["evaluate", "event", "--model", str(tiny_models["event"]), "--data", str(data), "--text-column",
                 "text", "--baselines", "--threads", "1", "--output", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    assert asked == [None]  # the built mix, not the scored file
    assert report["baselines"]["tfidf_logreg"]["n"] == 4 and report["n"] == 4


def test_baselines_with_a_file_refuse_a_model_with_labels_of_its_own(tmp_path, capsys):
    from tests.conftest import build_tiny_models

    folder = build_tiny_models(tmp_path / "custom", event_labels=("red", "green", "blue"))["event"]
    data = tmp_path / "colours.csv"
    data.write_text("text,label\nthe sky is blue today,blue\ngrass grows green,green\n")
    assert main(["evaluate", "event", "--model", str(folder), "--data", str(data), "--text-column", "text",
                 "--baselines", "--threads", "1"]) == 2
    assert "labels are red, green, blue, so its training data is not that mix" in capsys.readouterr().err


@pytest.mark.parametrize("task, extra, message", [
    ("stance", ["--bootstrap", "-1"], "--bootstrap must be 0 (none) or more resamples, got -1"),
    ("summary", ["--bootstrap", "10"], "--bootstrap is for stance and event"),
    ("summary", ["--baselines"], "--baselines is for stance and event; summary always scores LEAD"),
])
def test_bad_bootstrap_is_refused_before_any_model_loads(task, extra, message, tiny_models, stance_csv, monkeypatch,
                                                         capsys):
    _no_model_load(monkeypatch)
    assert main(["evaluate", task, "--data", str(stance_csv), *extra]) == 2
    assert message in capsys.readouterr().err


# ---------------------------------------------------------------- --compare

def test_compare_scores_a_second_model_paired_with_the_first(tiny_models, stance_csv, tmp_path, capsys):
    report_path = tmp_path / "r.json"
    assert main(["evaluate", "stance", "--model", str(tiny_models["stance"]), "--data", str(stance_csv),
                 "--compare", str(tiny_models["stance"]), "--threads", "1", "--bootstrap", "30",
                 "--output", str(report_path)]) == 0
    out = capsys.readouterr().out
    report = json.loads(report_path.read_text())
    assert report["compared"]["model"] == str(tiny_models["stance"])
    assert report["compared"]["confusion_matrix"] == report["confusion_matrix"]
    diffs = report["bootstrap"]["differences"]["compared"]
    assert set(diffs) >= {"macro_f1", "fnc_percent", "f1_disagree"}
    assert all(d["estimate"] == d["low"] == d["high"] == 0 for d in diffs.values())  # a model against itself
    assert f"compared model {tiny_models['stance']}" in out and "f1_disagree minus compared" in out


def test_compare_refuses_a_model_with_other_labels_or_no_model(tiny_models, event_jsonl, tmp_path, monkeypatch,
                                                               capsys):
    from model.heads import EventFeatures, EventModel, MLPHead
    from model.stance import StanceModel
    from tests.conftest import TINY_ENCODER

    labels = ("armed_conflict", "politics", "sport", "other")
    dim = int(StanceModel.load(tiny_models["stance"]).pairs.encoder.config.hidden_size)
    features = EventFeatures()
    EventModel(MLPHead(features.dim(dim), len(labels), 16), labels, features, TINY_ENCODER).save(tmp_path / "other")
    assert main(["evaluate", "event", "--model", str(tiny_models["event"]), "--data", str(event_jsonl),
                 "--compare", str(tmp_path / "other"), "--threads", "1"]) == 2
    assert "predicts armed_conflict, politics, sport, other, not the labels of --model" in capsys.readouterr().err
    _no_model_load(monkeypatch)
    assert main(["evaluate", "event", "--data", str(event_jsonl), "--compare", str(tmp_path / "none")]) == 2
    assert f"no event model to compare at {tmp_path / 'none'}" in capsys.readouterr().err
