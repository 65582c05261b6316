"""Where data lives by default: ../shared/data beside the repository, or $NEWSLENS_DATA."""
from __future__ import annotations

import os
from pathlib import Path

from model.errors import InputError
from model.resolve import REPO_ROOT


def default_data_dir() -> Path:
    return Path(os.environ.get("NEWSLENS_DATA", REPO_ROOT.parent / "shared" / "data"))


def bbc_summary_file(path: str | Path | None, what: str) -> Path:
    """The BBC News Summary JSONL: ``path`` (the file, or a folder holding it) or, when empty, the data folder's;
    checked to exist (the error names ``what``)."""
    path = Path(path) if path else default_data_dir() / "bbc_news_summary"
    return require_path(path / "bbc_news_summary.jsonl" if path.is_dir() else path, what)


def require_path(path: Path, what: str) -> Path:
    if not Path(path).exists():
        raise InputError(f"{what} not found at {path}; pass --data PATH (or set NEWSLENS_DATA to the data folder)")
    return Path(path)
