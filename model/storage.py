"""Save and load model parts as safetensors plus a JSON config, written atomically."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from model.errors import InputError, ModelNotFoundError

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


def _current_umask() -> int:
    """The process's umask, read without changing it (os.umask can only be read by setting it, which for a moment
    would give files other threads create the wrong mode)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return _UMASK_AT_IMPORT


def _umask_at_import() -> int:
    umask = os.umask(0o022)  # imports run before the threads that write files
    os.umask(umask)
    return umask


_UMASK_AT_IMPORT = _umask_at_import()


def _file_mode(path: Path) -> int:
    """The mode a file written at ``path`` should get: the mode of the file it replaces, else what the user's umask
    gives a new file (temp files are created 0600, which would make every report private)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_current_umask()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file in the same folder, fsync, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_writable(path: Path, what: str) -> None:
    """Raise InputError at once when a file cannot be written at ``path`` (it is a folder, a parent is a file, or the
    nearest existing folder is not writable), so a long run does not find out at its end. Missing folders are fine:
    they are created when the file is written."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{what} {path} is a folder; name a file")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise InputError(f"cannot write {what} {path}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {what} {path}: no permission to write in {folder}")


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def save_checkpoint(folder: Path, tensors: dict[str, torch.Tensor], config: dict[str, Any]) -> None:
    """Write ``tensors`` (model.safetensors) and ``config`` (config.json) into ``folder``, each atomically."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    contiguous = {name: t.detach().cpu().contiguous() for name, t in tensors.items()}
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{WEIGHTS_FILE}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file(contiguous, tmp, metadata={"format": "pt"})
        os.chmod(tmp, _file_mode(folder / WEIGHTS_FILE))
        os.replace(tmp, folder / WEIGHTS_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    atomic_write_text(folder / CONFIG_FILE, json.dumps(config, indent=2, sort_keys=True) + "\n")


def load_checkpoint(folder: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read what ``save_checkpoint`` wrote; raise ModelNotFoundError naming the missing or broken file."""
    folder = Path(folder)
    config_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
    for path in (config_path, weights_path):
        if not path.is_file():
            raise ModelNotFoundError(f"{path} not found: is {folder} a NewsLens model folder?")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelNotFoundError(f"{config_path} is not valid JSON ({err})") from None
    try:
        tensors = load_file(str(weights_path))
    except Exception as err:  # safetensors raises its own error types for truncated or foreign files
        raise ModelNotFoundError(f"{weights_path} is not a readable safetensors file ({err})") from None
    return tensors, config


def a_task(task: str) -> str:
    """"a 'stance'" or "an 'event'"."""
    return ("an" if task[:1] in "aeiou" else "a") + f" '{task}'"


def require_task(folder: Path, config: dict[str, Any], task: str, what: str) -> None:
    """ModelNotFoundError unless the model in ``folder`` was saved for ``task`` (``what`` names it for the user)."""
    found = config.get("task")
    if found != task:
        held = f"{a_task(str(found))} model" if found else "a model of no known task"
        raise ModelNotFoundError(f"{folder} holds {held}, not {what}")
