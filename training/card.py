"""Model cards: a README.md beside the weights with data, command, seed, time and measured metrics."""
from __future__ import annotations

import json
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

from model.storage import atomic_write_text


def command_line() -> str:
    return "newslens " + " ".join(sys.argv[1:]) if sys.argv and sys.argv[0].endswith("newslens") else " ".join(sys.argv)


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, {platform.system()}"


def write_model_card(folder: Path, title: str, sections: dict[str, str], card: dict) -> None:
    """README.md with prose ``sections`` and the full ``card`` (metrics, config) as JSON at the end."""
    lines = [f"# {title}", "", f"Written {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC} on {machine()}.", ""]
    for heading, text in sections.items():
        lines += [f"## {heading}", "", text.strip(), ""]
    lines += ["## Full record", "", "```json", json.dumps(card, indent=2, sort_keys=True, default=str), "```", ""]
    atomic_write_text(Path(folder) / "README.md", "\n".join(lines))


def data_fingerprint(paths) -> str:
    """sha256 over the bytes of the data files (in the given order), to tie a model card to its data."""
    import hashlib

    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def write_resolved_config(folder: Path, tables: dict[str, dict]) -> None:
    """resolved_config.toml: every setting the run used, reusable as `--config`."""

    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        return json.dumps(str(v))

    lines = ["# Settings of this training run; pass this file to `newslens train --config` to repeat it."]
    for name, table in tables.items():
        lines.append(f"\n[{name}]")
        nested = {k: v for k, v in table.items() if isinstance(v, dict)}
        lines += [f"{k} = {value(v)}" for k, v in table.items() if v is not None and not isinstance(v, dict)]
        for sub, inner in nested.items():
            lines.append(f"\n[{name}.{sub}]")
            lines += [f"{k} = {value(v)}" for k, v in inner.items() if v is not None]
    atomic_write_text(Path(folder) / "resolved_config.toml", "\n".join(lines) + "\n")
