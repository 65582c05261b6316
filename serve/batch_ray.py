"""The Ray runner of `newslens predict --backend ray`: one actor per worker holds its own models, chunks stream to
whichever worker has a free slot, and results come back in input order. Reading, writing and resume stay in the
calling process. Ray runs locally, bound to 127.0.0.1 (``pip install 'newslens[ray]'``)."""
from __future__ import annotations

import json
import logging
from typing import Iterator, Sequence

from model.errors import InputError
from serve.batch_read import InputRow
from serve.model_flags import ModelSpec

IN_FLIGHT_PER_WORKER = 2  # one chunk running, one waiting: a worker never idles while the driver collects
_POOLS: dict[tuple, list] = {}  # (Ray job, spec, workers) -> actor handles: models load once per Ray session


class ChunkWorker:
    """Ray actor body: loads the models once, then analyses chunks (rows -> output records as JSON)."""

    def __init__(self, spec: ModelSpec):
        self.analyzer = spec.load()

    def run(self, chunk: list[InputRow], tasks: Sequence[str], summary_mode: str) -> str:
        from serve.batch import predict_rows

        return json.dumps(predict_rows(self.analyzer, chunk, tasks, summary_mode), ensure_ascii=False)


def _import_ray():
    try:
        import ray
    except ImportError:
        raise InputError("--backend ray needs Ray: pip install 'newslens[ray]' (ray[data]==2.60.0)") from None
    return ray


def _pool_key(ray, spec: ModelSpec, workers: int) -> tuple:
    return ray.get_runtime_context().get_job_id(), spec, workers


def _pool(ray, spec: ModelSpec, workers: int) -> list:
    key = _pool_key(ray, spec, workers)
    if key not in _POOLS:
        remote = ray.remote(num_cpus=1)(ChunkWorker)
        _POOLS[key] = [remote.remote(spec) for _ in range(workers)]
    return _POOLS[key]


def stream_chunks(ray, actors: list, chunks: Iterator[list[InputRow]], tasks: Sequence[str],
                  summary_mode: str) -> Iterator[list[dict]]:
    """Results of every chunk, in input order, with at most IN_FLIGHT_PER_WORKER chunks per actor outstanding."""
    free = [a for a in actors for _ in range(IN_FLIGHT_PER_WORKER)]
    pending: dict = {}
    done_out_of_order: dict[int, list[dict]] = {}
    numbered = enumerate(chunks)
    next_out = 0

    def submit() -> None:
        while free:
            item = next(numbered, None)
            if item is None:
                return
            index, chunk = item
            actor = free.pop()
            pending[actor.run.remote(chunk, tuple(tasks), summary_mode)] = (index, actor)

    submit()
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        index, actor = pending.pop(ready[0])
        done_out_of_order[index] = json.loads(ray.get(ready[0]))
        free.append(actor)
        submit()
        while next_out in done_out_of_order:
            yield done_out_of_order.pop(next_out)
            next_out += 1


def ray_runner(spec: ModelSpec, tasks: Sequence[str], summary_mode: str, workers: int):
    """A ChunkRunner on ``workers`` Ray actors (a local cluster is started, and stopped after, if none is up)."""
    ray = _import_ray()

    def run(chunks: Iterator[list[InputRow]]) -> Iterator[list[dict]]:
        started_here = not ray.is_initialized()
        if started_here:
            ray.init(address="local", include_dashboard=False, _node_ip_address="127.0.0.1", num_cpus=workers,
                     log_to_driver=False)
        logging.getLogger("ray").setLevel(logging.WARNING)
        try:
            yield from stream_chunks(ray, _pool(ray, spec, workers), chunks, tasks, summary_mode)
        finally:
            if started_here:
                _POOLS.pop(_pool_key(ray, spec, workers), None)  # its actors end with this Ray session
                ray.shutdown()

    return run
