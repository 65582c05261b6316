"""`newslens predict` as a process: SIGKILL mid-run then --resume equals an uninterrupted run row by row, in
every output format; 100k rows keep memory flat. Tiny models; timings are never asserted."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model.resolve import REPO_ROOT
from serve.batch_read import Columns
from serve.batch_write import RunState

ROWS = 400
CHUNK = 8


def storm_rows(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        article = (f"Storm {i} hits the coast\n\nStrong winds hit the northern coast on Tuesday. "
                   f"Power lines were cut in {i % 17 + 2} villages. Schools stayed closed. "
                   "The weather service expects more rain on Wednesday.")
        rows.append({"id": f"s{i:04d}", "article": "" if i % 37 == 5 else article})
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return path


def predict_process(tiny_models, source: Path, output: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "serve.cli", "predict", str(source), "-o", str(output), "--quiet",
               "--stance-model", str(tiny_models["stance"]), "--event-model", str(tiny_models["event"]),
               "--summary-model", str(tiny_models["summary"]), "--threads", "1", "--runtime", "torch", *extra]
    return subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def storm_source(tmp_path_factory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("storm") / "storm.jsonl", storm_rows(ROWS))


@pytest.fixture(scope="module")
def uninterrupted(tiny_analyzer, storm_source, tmp_path_factory, read_output) -> list[dict]:
    from serve.batch import BatchConfig, run_batch

    output = tmp_path_factory.mktemp("reference") / "reference.jsonl"
    config = BatchConfig(storm_source, output, Columns(id="id"), chunk_size=CHUNK, progress=False)
    report = run_batch(config, tiny_analyzer)
    assert report.rows == ROWS and report.failed == len([r for r in storm_rows(ROWS) if not r["article"]])
    return read_output(output)


def kill_after_some_rows(process: subprocess.Popen, output: Path, rows: int, timeout: float = 600) -> int:
    """SIGKILL the run once its saved progress passes ``rows``; returns the rows it had saved."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the run ended (status {process.returncode}) before it could be killed: "
                        + process.stderr.read().decode()[-2000:])
        state = _saved_state(output)
        if state is not None and state.rows_done >= rows:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            # read again once it is dead: the run may have saved another chunk between the read and the kill
            return RunState.load(output).rows_done
        time.sleep(0.02)
    process.kill()
    pytest.fail("the run made no progress")


def _saved_state(output: Path) -> RunState | None:
    try:
        return RunState.load(output)
    except Exception:  # noqa: BLE001 - the file may be replaced while we read it
        return None


def tear_last_write(output: Path) -> None:
    """Leave what a kill in the middle of a write would: half a row (JSONL/CSV) or a broken next part."""
    if output.suffix == ".parquet":
        state = RunState.load(output)
        parts = output.with_name(output.name + ".parts")
        (parts / f"part-{state.position:07d}.parquet").write_bytes(b"PAR1 half written")
        (parts / f".part-{state.position:07d}.tmp").write_bytes(b"junk")
    else:
        with output.with_name(output.name + ".partial").open("ab") as handle:
            handle.write(b'{"row": 99999, "id": "torn' if output.suffix == ".jsonl" else b'99999,torn,"half')


def assert_same_rows(resumed: list[dict], reference: list[dict]) -> None:
    assert len(resumed) == len(reference) == ROWS
    for got, want in zip(resumed, reference):
        assert (got["row"], got["id"], got["error"]) == (want["row"], want["id"], want["error"])
        assert (got["event_label"], got["stance_labels"], got["summary"]) == \
               (want["event_label"], want["stance_labels"], want["summary"])
        if want["event_scores"] is not None:
            assert got["event_scores"] == pytest.approx(want["event_scores"], abs=1e-5)
            for g, w in zip(got["stance_probabilities"], want["stance_probabilities"]):
                assert g == pytest.approx(w, abs=1e-5)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_killed_run_resumes_without_duplicates_or_drops(tiny_models, storm_source, uninterrupted, read_output,
                                                        tmp_path, fmt):
    from serve.cli import main

    output = tmp_path / f"results.{fmt}"
    process = predict_process(tiny_models, storm_source, output, "--id-column", "id", "--chunk-size", str(CHUNK))
    saved = kill_after_some_rows(process, output, rows=6 * CHUNK)
    assert saved < ROWS and not output.exists()
    tear_last_write(output)

    flags = ["--stance-model", str(tiny_models["stance"]), "--event-model", str(tiny_models["event"]),
             "--summary-model", str(tiny_models["summary"]), "--threads", "1", "--quiet", "--id-column", "id"]
    assert main(["predict", str(storm_source), "-o", str(output), *flags]) == 2  # no silent restart without --resume

    resumed = predict_process(tiny_models, storm_source, output, "--id-column", "id", "--chunk-size", str(CHUNK),
                              "--resume")
    _, errors = resumed.communicate(timeout=300)
    assert resumed.returncode == 1, errors.decode()[-2000:]  # 1: the empty articles failed
    assert f"resumed after row {saved:,}" in errors.decode()
    assert_same_rows(read_output(output), uninterrupted)
    assert not RunState.path_for(output).exists()


def run_measuring_peak_rss(tiny_models, source: Path, output: Path) -> int:
    """Peak resident memory (KiB) of one `newslens predict --tasks event` process."""
    process = predict_process(tiny_models, source, output, "--tasks", "event", "--chunk-size", "256")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, process.stderr.read().decode()[-2000:]
    return usage.ru_maxrss


def test_memory_stays_flat_on_100k_rows(tiny_models, tmp_path):
    """Peak RSS on 100k rows is close to the peak on 2k rows of the same shape. Each row also carries 1 KB
    in an unused column, so reading the whole file, or keeping results, would show as 100+ MB."""
    padding = "x" * 1000

    def write(path: Path, n: int) -> Path:
        with path.open("w", encoding="utf-8") as handle:
            for i in range(n):
                handle.write(json.dumps({"article": f"Rain hit town {i} today.", "padding": padding}) + "\n")
        return path

    small_source = write(tmp_path / "small.jsonl", 2_000)
    small = run_measuring_peak_rss(tiny_models, small_source, tmp_path / "small.out.jsonl")
    big_source = write(tmp_path / "big.jsonl", 100_000)
    big_output = tmp_path / "big.out.jsonl"
    try:
        big = run_measuring_peak_rss(tiny_models, big_source, big_output)
        with big_output.open("rb") as handle:
            assert sum(1 for _ in handle) == 100_000
    finally:
        big_source.unlink()
        big_output.unlink(missing_ok=True)
    growth_mb = (big - small) / 1024
    assert growth_mb < 64, f"peak RSS grew by {growth_mb:.0f} MB from 2k to 100k rows"
