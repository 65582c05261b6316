"""Where `--init` points: the shipped weights of a task, a model folder, or several folders to average."""
from __future__ import annotations

from pathlib import Path

import torch

from model.errors import ModelNotFoundError
from model.resolve import SHIPPED_WEIGHTS


# the flag that sets a task's init, by its shipped folder's name
INIT_FLAGS = {"stance": "--stance-init", "event": "--event-init", "summary-extractive": "--summary-init",
              "summary-abstractive": "--abstractive-init"}


def init_folder(spec: str, shipped_name: str) -> Path:
    folder = SHIPPED_WEIGHTS / shipped_name if spec == "shipped" else Path(spec)
    if not (folder / "config.json").exists():
        raise ModelNotFoundError(f"{INIT_FLAGS.get(shipped_name, '--init')}: no model at {folder}")
    return folder


def init_folders(spec: str, shipped_name: str) -> list[Path]:
    """One folder per comma-separated entry of ``spec`` (each 'shipped' or a model folder)."""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if not parts:
        raise ModelNotFoundError(f"{INIT_FLAGS.get(shipped_name, '--init')} is empty")
    return [init_folder(p, shipped_name) for p in parts]


def averaged_state(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Element-wise mean of state dicts with the same keys and shapes (a uniform 'model soup')."""
    if len(states) == 1:
        return states[0]
    keys = set(states[0])
    for state in states[1:]:
        if set(state) != keys or any(state[k].shape != states[0][k].shape for k in keys):
            raise ModelNotFoundError("--init models to average differ in their tensors (different base model?)")
    return {k: torch.stack([s[k].float() for s in states]).mean(0).to(states[0][k].dtype)
            if states[0][k].is_floating_point() else states[0][k] for k in keys}
