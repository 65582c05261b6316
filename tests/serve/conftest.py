"""A demo server on a free loopback port, shared by the client, browser and load tests (tiny models)."""
from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def demo_url(tiny_analyzer):
    from serve.demo import DemoConfig, start_demo

    demo, url = start_demo(tiny_analyzer, DemoConfig(port=free_port(), concurrency=4), block=False)
    yield url
    demo.close()


def _read_output(path: Path) -> list[dict]:
    """Output rows as plain dicts, whatever the format (CSV JSON strings decoded, Parquet maps as dicts)."""
    import pandas as pd
    import pyarrow.parquet as pq

    from serve.batch_write import JSON_FIELDS, OUTPUT_FIELDS

    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if path.suffix == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert tuple(frame.columns) == OUTPUT_FIELDS
        rows = []
        for record in frame.to_dict("records"):
            row = {k: (None if v == "" else json.loads(v) if k in JSON_FIELDS else v) for k, v in record.items()}
            row["row"] = int(row["row"])
            rows.append(row)
        return rows
    rows = pq.read_table(path).to_pylist()
    for row in rows:
        if row["event_scores"] is not None:
            row["event_scores"] = dict(row["event_scores"])
        if row["stance_probabilities"] is not None:
            row["stance_probabilities"] = [dict(p) for p in row["stance_probabilities"]]
    return rows


@pytest.fixture(scope="session")
def read_output():
    return _read_output
