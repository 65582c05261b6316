"""Where `--init` points: the shipped weights of a task, or a model folder."""
from __future__ import annotations

from pathlib import Path

from model.errors import ModelNotFoundError
from model.resolve import SHIPPED_WEIGHTS


def init_folder(spec: str, shipped_name: str) -> Path:
    folder = SHIPPED_WEIGHTS / shipped_name if spec == "shipped" else Path(spec)
    if not (folder / "config.json").exists():
        raise ModelNotFoundError(f"--init: no model at {folder}")
    return folder
