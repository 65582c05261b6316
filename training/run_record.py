"""The record of a training run in OUTPUT/checkpoints/run.json (task, settings, data fingerprint, labels, finished),
written before the first step, so that a later `train` into the same folder never mixes two runs: --resume
continues only the same run, and a plain rerun never leaves another run's checkpoints beside its own.

Folders written before the record existed (no run.json) are read from the model's config.json where there is one."""
from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from model.errors import InputError
from model.storage import a_task, atomic_write_text

RECORD_FILE = "run.json"
FREE_ON_RESUME = ("loop.checkpoint_every",)  # settings that do not change the weights, so a resume may change them


@dataclass
class RunRecord:
    """task: the model task ('stance', 'event', 'summary-extractive', 'summary-abstractive').
    settings: every setting as 'table.key' -> value (the tables of resolved_config.toml, nested ones dotted).
    data_sha256: fingerprint of the training data (None: not known).
    labels: the label set of the training data (None: no labels, or not known).
    finished: the run wrote its model.
    """

    task: str
    settings: dict
    data_sha256: str | None = None
    labels: list[str] | None = None
    finished: bool = False


def flat_settings(tables: dict[str, dict]) -> dict:
    """{'loop': {'epochs': 3}, 'event': {'features': {'use_body': True}}} -> {'loop.epochs': 3,
    'event.features.use_body': True}, with paths as text (JSON-ready)."""
    out: dict = {}
    for name, value in tables.items():
        if isinstance(value, dict):
            out.update(flat_settings({f"{name}.{k}": v for k, v in value.items()}))
        else:
            out[name] = str(value) if isinstance(value, Path) else value
    return out


def _model_task(output: Path) -> tuple[str | None, dict]:
    """The task of the model in ``output`` and its config.json (None and {} when there is none)."""
    try:
        config = json.loads((output / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, {}
    return (config.get("task"), config) if isinstance(config, dict) else (None, {})


def _legacy_record(output: Path, loop_keys: set[str], section: str) -> RunRecord | None:
    """A record rebuilt from the finished model's training card, for folders written before run.json existed."""
    task, config = _model_task(output)
    if task is None:
        return None
    card = config.get("training", {})
    settings = {f"{'loop' if k in loop_keys else section}.{k}": v
                for k, v in flat_settings(card.get("train_config", {})).items()}
    return RunRecord(task, settings, card.get("data_sha256"), config.get("labels"), finished=True)


def read_record(output: Path, loop_keys: set[str], section: str) -> RunRecord | None:
    path = output / "checkpoints" / RECORD_FILE
    if path.is_file():
        return RunRecord(**json.loads(path.read_text(encoding="utf-8")))
    return _legacy_record(output, loop_keys, section)


def write_record(output: Path, record: RunRecord) -> None:
    folder = output / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / RECORD_FILE, json.dumps(asdict(record), indent=2, default=str) + "\n")


def mark_finished(output: Path) -> None:
    """Note in the record that the run wrote its model (a plain rerun may then replace it)."""
    path = output / "checkpoints" / RECORD_FILE
    if path.is_file():
        record = RunRecord(**json.loads(path.read_text(encoding="utf-8")))
        record.finished = True
        write_record(output, record)


def differences(old: RunRecord, new: RunRecord) -> list[str]:
    """What differs between the recorded run and this one: labels, data and each setting both know."""
    found = []
    if old.labels is not None and new.labels is not None and sorted(old.labels) != sorted(new.labels):
        found.append(f"labels {sorted(old.labels)} -> {sorted(new.labels)}")
    if old.data_sha256 and new.data_sha256 and old.data_sha256 != new.data_sha256:
        found.append(f"training data (sha256 {old.data_sha256[:12]}... -> {new.data_sha256[:12]}...)")
    for key in sorted(set(old.settings) & set(new.settings)):
        if key not in FREE_ON_RESUME and old.settings[key] != new.settings[key]:
            found.append(f"{key} {old.settings[key]!r} -> {new.settings[key]!r}")
    return found


def _newest_step(checkpoints: Path) -> int | None:
    steps = [int(p.name.split("-")[1]) for p in checkpoints.glob("checkpoint-*") if p.name.split("-")[1].isdigit()]
    return max(steps) if steps else None


def prepare_output(output: Path, record: RunRecord, resume: bool, loop_keys: set[str], section: str,
                   write: bool = True) -> None:
    """Check that training ``record``'s run into ``output`` cannot mix with what is there, then write the record
    (unless ``write`` is False: the other processes of a data-parallel run only check).

    Refused (InputError): a model or checkpoints of another task; --resume with other settings, labels or data than
    the recorded run; a plain rerun over an unfinished run's checkpoints. A plain rerun over a finished run of the
    same task replaces its model and clears its checkpoints first."""
    checkpoints = output / "checkpoints"
    model_task, _ = _model_task(output)
    if model_task and model_task != record.task:
        raise InputError(f"{output} holds {a_task(model_task)} model; training {a_task(record.task)} model there "
                         "would replace it: choose another --output folder")
    step = _newest_step(checkpoints)
    previous = read_record(output, loop_keys, section) if step is not None else None
    if previous and previous.task != record.task:
        raise InputError(f"{checkpoints} holds the checkpoints of {a_task(previous.task)} run, not of "
                         f"{a_task(record.task)} one: choose another --output folder")
    if resume and previous:
        changed = differences(previous, record)
        if changed:
            raise InputError(f"cannot resume: this run differs from the one checkpointed in {checkpoints} in "
                             + "; ".join(changed) + ". Rerun with that run's settings and data, or train into another "
                             "--output folder without --resume")
    elif not resume and step is not None and (previous is None or not previous.finished):
        raise InputError(f"{checkpoints} holds an unfinished training run (newest checkpoint: step {step}): "
                         "add --resume to continue it, or choose another --output folder (or delete "
                         f"{checkpoints} to start over)")
    if not resume and model_task and write:
        if checkpoints.exists():
            shutil.rmtree(checkpoints)
        print(f"note: {output} holds an earlier {record.task} model; this run replaces it (and clears that run's "
              "checkpoints). To keep it, choose another --output folder")
    if write and not (resume and previous and (checkpoints / RECORD_FILE).is_file()):
        write_record(output, record)
