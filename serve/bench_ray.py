"""Ray scaling for `newslens bench --ray-workers 1,2`: the batch-inference path of `newslens predict` (serve/batch.py)
on a temporary JSONL of the bench articles, locally and with the Ray runner (serve/batch_ray.py) at each worker count.

Ray is an optional extra (``pip install 'newslens[ray]'``); without it the report holds a note instead of rows.
Each worker count gets its own local Ray cluster bound to 127.0.0.1 with that many CPUs. The same file is run
twice per setting: the first run includes starting Ray and loading the models in every worker (``first_run_s``);
the second, after Ray has reused its worker processes (models stay loaded), gives ``rows_per_s``. The local
runner (this process, models already loaded) is run the same way.
"""
from __future__ import annotations

import importlib.util
import json
import logging
import math
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from model.analyzer import Analyzer, ArticleInput
from serve.model_flags import ModelSpec

NOT_INSTALLED = "ray not installed: pip install 'newslens[ray]' (ray[data]==2.60.0) to measure Ray scaling"


def parse_workers(text: str) -> list[int]:
    """``"1,2"`` -> [1, 2]; empty text -> []. Raises ValueError for anything but positive integers."""
    try:
        counts = [int(part) for part in text.replace(",", " ").split()]
    except ValueError:
        counts = [0]
    if any(n < 1 for n in counts):
        raise ValueError(f"ray_workers must be positive integers such as 1,2, not {text!r}")
    return sorted(set(counts))


def ray_available() -> bool:
    if importlib.util.find_spec("ray") is None:
        return False
    try:
        import ray.data  # noqa: F401
    except ImportError:
        return False
    return True


def _write_jsonl(items: Sequence[ArticleInput], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for i, item in enumerate(items):
            text = item.article if isinstance(item.article, str) else item.article.decode("utf-8")
            handle.write(json.dumps({"id": str(i), "article": text}, ensure_ascii=False) + "\n")
    return path


def _timed_run(config, analyzer: Analyzer, spec: ModelSpec | None, name: str) -> tuple[float, int, int]:
    """Seconds, rows and failed rows of one `newslens predict` run into a fresh output file ``name``."""
    from serve.batch import run_batch

    config = replace(config, output=config.output.with_name(name))
    start = time.perf_counter()
    report = run_batch(config, analyzer, model_spec=spec)
    return time.perf_counter() - start, report.rows, report.failed


def ray_scaling(items: Sequence[ArticleInput], analyzer: Analyzer, spec: ModelSpec, workers: Sequence[int],
                threads_per_worker: int | None = None, chunk_size: int | None = None) -> dict:
    """rows/s of `newslens predict` on ``items``: local (``analyzer``, in this process) and Ray with each count in
    ``workers`` (each worker loads ``spec``; its torch threads are ``threads_per_worker``, by default the cores
    shared out among the workers). Chunks default to a size that gives every worker at least two."""
    from serve.batch import BatchConfig
    from serve.batch_read import Columns

    workers = sorted(set(workers))
    result: dict = {"articles": len(items), "workers": list(workers)}
    if not ray_available():
        result["note"] = NOT_INSTALLED
        return result
    import ray

    from model.encoder import default_threads

    cores = default_threads()  # the threads of one process: shared out among the workers
    chunk = chunk_size or max(1, min(32, math.ceil(len(items) / (2 * max(workers or [1])))))
    result["chunk_size"] = chunk
    with tempfile.TemporaryDirectory(prefix="newslens-bench-ray-") as tmp:
        source = _write_jsonl(items, Path(tmp) / "articles.jsonl")
        base = BatchConfig(input=source, output=Path(tmp) / "out.jsonl", columns=Columns(id="id"), chunk_size=chunk,
                           progress=False)
        first, _, _ = _timed_run(base, analyzer, None, "local-first.jsonl")
        seconds, rows, failed = _timed_run(base, analyzer, None, "local.jsonl")
        result["local"] = {"rows_per_s": rows / seconds, "seconds": seconds, "failed": failed, "first_run_s": first,
                           "threads": _torch_threads()}
        result["runs"] = []
        for n in workers:
            per_worker = threads_per_worker or max(1, cores // n)
            worker_spec = replace(spec, threads=per_worker)
            run: dict = {"workers": n, "threads_per_worker": per_worker}
            config = replace(base, backend="ray", workers=n)
            if ray.is_initialized():
                ray.shutdown()
            try:
                ray.init(address="local", include_dashboard=False, _node_ip_address="127.0.0.1", num_cpus=n,
                         log_to_driver=False, logging_level=logging.WARNING)
                run["first_run_s"], _, _ = _timed_run(config, analyzer, worker_spec, f"ray-{n}-first.jsonl")
                seconds, rows, failed = _timed_run(config, analyzer, worker_spec, f"ray-{n}.jsonl")
                run.update(rows_per_s=rows / seconds, seconds=seconds, failed=failed,
                           vs_local=(rows / seconds) / result["local"]["rows_per_s"])
            except Exception as err:  # noqa: BLE001 - one failed setting is reported, the bench goes on
                run["error"] = f"{type(err).__name__}: {err}"
            finally:
                ray.shutdown()
            result["runs"].append(run)
    return result


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def format_ray(ray_report: dict) -> str:
    if "note" in ray_report:
        return f"ray scaling: {ray_report['note']}"
    local = ray_report["local"]
    lines = [f"ray scaling: `newslens predict` on {ray_report['articles']} articles, chunks of "
             f"{ray_report['chunk_size']}, Ray on 127.0.0.1",
             f"{'runner':<22}{'rows/s':>10}{'vs local':>10}{'vs 1 worker':>13}{'first run s':>13}",
             f"{'local 1 x ' + str(local['threads']) + ' thr':<22}{local['rows_per_s']:>10.2f}{1.0:>9.2f}x"
             f"{'':>13}{local['first_run_s']:>13.1f}"]
    one = next((r["rows_per_s"] for r in ray_report["runs"] if r.get("workers") == 1 and "error" not in r), None)
    for run in ray_report["runs"]:
        label = f"ray {run['workers']} x {run['threads_per_worker']} thr"
        if "error" in run:
            lines.append(f"{label:<22} failed: {run['error']}")
        else:
            scale = f"{run['rows_per_s'] / one:>12.2f}x" if one else f"{'-':>13}"
            lines.append(f"{label:<22}{run['rows_per_s']:>10.2f}{run['vs_local']:>9.2f}x{scale}{run['first_run_s']:>13.1f}")
    if ray_report.get("local_backend", "torch") != "torch":
        lines.append(f"encoders: {ray_report['local_backend']} backend, locally and in every Ray worker")
    return "\n".join(lines)
