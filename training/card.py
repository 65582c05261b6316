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
