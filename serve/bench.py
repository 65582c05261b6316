"""`newslens bench`: throughput, latency, memory and cold start of NewsLens against a plain-pipeline baseline,
both run in this process on the same real articles; each speed step of the shared encoder on its own
(serve/bench_steps.py); optionally Ray scaling of the batch path (serve/bench_ray.py). Writes JSON and a section
of BENCHMARKS.md."""
from __future__ import annotations

import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

from model.analyzer import Analyzer, ArticleInput
from model.event_lm import EventLMModel
from model.backends import BACKENDS, backend_name
from model.encoder import default_threads
from model.resolve import REPO_ROOT
from model.storage import atomic_write_text, check_writable
from serve.bench_ray import format_ray, parse_workers, ray_scaling
from serve.bench_steps import format_shared, format_steps, shared_pass_effect
from training.options import check_at_least

QUICK_ARTICLES = 8  # --quick's sample; a run on fewer articles is flagged as too small to trust
TASK_SETS = {"full": ("stance", "event", "summary"), "stance": ("stance",), "event": ("event",), "summary": ("summary",)}


@dataclass
class BenchConfig:
    """What `newslens bench` measures.

    articles: number of real articles (a fixed sample of ``article_source``) timed for throughput.
    article_source: 'bbc' (BBC News Summary: the title line is the headline) or 'fnc1' (FNC-1 competition-test
        bodies, news the event corpora do not hold, so the event gate sends more of it to the language model).
    latency_runs: articles analysed one at a time for p50/p95 latency.
    backend: auto, torch, bf16 or onnx (see model/backends.py) for the NewsLens path; the baseline is always torch
        fp32. The report names what 'auto' chose.
    batch_size: articles per analyze_batch call on the NewsLens path.
    quick: a small run for CI: at most 8 articles, 5 latency runs and 2 FNC-1 bodies for the pairs row; speed steps
    on 2 articles without ONNX; no abstractive timing, no cold-start subprocesses, no demo start.
    threads: torch threads; 0 is the same as leaving it out (default: all cores, at most 8).
    steps: measure each speed step of the shared encoder on its own (pipeline baseline, batch 1, batching,
    bucketing, inference_mode, 1 thread vs all cores, ONNX Runtime plain, fused and int8) on the sentences of the
    first 24 articles.
    ray_workers: comma-separated Ray worker counts, e.g. 1,2: rows/s of `newslens predict --backend ray` on the
    bench articles at each count, beside the local runner (needs the ray extra; empty: skipped).
    abstractive: articles for the abstractive summariser's speed (s/article against a plain fp32 text-generation
    pipeline, and the generator's cold load in a fresh process); 0 or --quick: skipped.
    pair_bodies: for the 'pairs' row (stance over a file of claim-body pairs, as in FNC-1), this many FNC-1
    competition-test bodies with all their claims, rows shuffled; the article cache then serves repeated bodies.
    0: skipped.
    event_model: the event model timed (and used by the baseline): a shipped name ('event', or 'event-fast', the
    MiniLM-only model) or a folder.
    """

    articles: int = 96
    article_source: str = "bbc"
    latency_runs: int = 24
    backend: str = "auto"
    batch_size: int = 32
    quick: bool = False
    threads: int | None = None
    steps: bool = True
    ray_workers: str = ""
    abstractive: int = 8
    pair_bodies: int = 16
    event_model: str = "event"

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}")
        if self.article_source not in ARTICLE_SOURCES:
            raise ValueError(f"article_source must be one of {', '.join(ARTICLE_SOURCES)}")
        parse_workers(self.ray_workers)  # raises ValueError for a bad list
        # checked before --quick caps them (min(-3, 8) would keep -3), and before any model loads
        check_at_least(self, 1, "articles", "latency_runs", "batch_size")
        check_at_least(self, 0, "threads", "abstractive", "pair_bodies")  # threads 0: the default, as None
        if self.quick:
            self.articles, self.latency_runs = min(self.articles, QUICK_ARTICLES), min(self.latency_runs, 5)
            self.pair_bodies = min(self.pair_bodies, 2)
            self.abstractive = 0  # not timed under --quick: the report's config says what was done


# article_source -> (name in BENCHMARKS.md, file under the data folder)
ARTICLE_SOURCES = {"bbc": ("BBC News Summary", Path("bbc_news_summary") / "bbc_news_summary.jsonl"),
                   "fnc1": ("FNC-1 competition-test bodies", Path("fnc1") / "competition_test_bodies.csv")}


def bench_articles(data_dir: Path, n: int, seed: int = 7, source: str = "bbc") -> list[ArticleInput]:
    """A fixed sample of BBC articles (title line = headline = claim) or of FNC-1 competition-test bodies."""
    import csv

    path = data_dir / ARTICLE_SOURCES[source][1]
    if not path.exists():
        from model.errors import InputError

        raise InputError(f"benchmark articles not found at {path}; pass --data-dir")
    if source == "bbc":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        texts = [r["article"] for r in sorted(rows, key=lambda r: r["id"])]
    else:
        with path.open(encoding="utf-8", newline="") as handle:
            texts = [r["articleBody"] for r in sorted(csv.DictReader(handle), key=lambda r: int(r["Body ID"]))]
    random.Random(seed).shuffle(texts)
    return [ArticleInput(t) for t in texts[:n]]


def bench_pairs(data_dir: Path, n_bodies: int, seed: int = 7) -> list[ArticleInput]:
    """Claim-body pairs as a stance batch file holds them: every FNC-1 competition-test claim of ``n_bodies``
    randomly chosen bodies, one row per pair, rows in random order."""
    import csv

    folder = data_dir / "fnc1"
    stances, bodies_file = folder / "competition_test_stances.csv", folder / "competition_test_bodies.csv"
    if not (stances.exists() and bodies_file.exists()):
        from model.errors import InputError

        raise InputError(f"benchmark pairs not found in {folder}; pass --data-dir or --pair-bodies 0")
    with bodies_file.open(encoding="utf-8", newline="") as handle:
        bodies = {row["Body ID"]: row["articleBody"] for row in csv.DictReader(handle)}
    if n_bodies > len(bodies):
        from model.errors import InputError

        raise InputError(f"--pair-bodies {n_bodies}: {bodies_file} holds only {len(bodies)} bodies")
    chosen = set(random.Random(seed).sample(sorted(bodies), n_bodies))
    with stances.open(encoding="utf-8", newline="") as handle:
        pairs = [(row["Headline"], row["Body ID"]) for row in csv.DictReader(handle) if row["Body ID"] in chosen]
    pairs.sort()
    random.Random(seed).shuffle(pairs)
    return [ArticleInput(bodies[body], claims=[claim]) for claim, body in pairs]


def _throughput(run: Callable[[], object], n: int, repeats: int = 2) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return n / best


def _latencies(run_one: Callable[[ArticleInput], object], items: Sequence[ArticleInput]) -> dict[str, float]:
    times = []
    for item in items:
        start = time.perf_counter()
        run_one(item)
        times.append(time.perf_counter() - start)
    times.sort()
    return {"p50_ms": 1000 * statistics.median(times), "p95_ms": 1000 * times[min(len(times) - 1, int(0.95 * len(times)))]}


_COLD = """
import json, sys, time
start = time.perf_counter()
from model.analyzer import Analyzer, ArticleInput
items = [ArticleInput(t) for t in json.loads(sys.stdin.read())]
{setup}
{one}(items[0])
first = time.perf_counter() - start
for item in items:
    {one}(item)
# VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec and would report the parent bench process's peak
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({{"cold_start_s": first, "peak_rss_mb": peak_kb / 1024}}))
"""


def _subprocess_cost(setup: str, analyze_one: str, items: Sequence[ArticleInput]) -> dict:
    """Cold start (imports, loading, first answer) and peak RSS of a fresh process analysing ``items``."""
    code = _COLD.format(setup=setup, one=analyze_one)
    payload = json.dumps([i.article if isinstance(i.article, str) else i.article.decode() for i in items])
    proc = subprocess.run([sys.executable, "-c", code], input=payload, capture_output=True, text=True, cwd=REPO_ROOT,
                          timeout=900)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def demo_ready_seconds(article: str, timeout: float = 180.0) -> dict:
    """Seconds from starting `newslens demo` in a fresh process to the first answer of its API."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "serve.cli", "demo", "--port", str(port)], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from gradio_client import Client

        while time.perf_counter() - start < timeout:
            if proc.poll() is not None:
                return {"error": f"demo exited with code {proc.returncode}"}
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
                client.predict(article, "", "", "extractive", api_name="/analyze")
                return {"demo_ready_s": time.perf_counter() - start}
            except Exception:  # not listening yet
                time.sleep(0.25)
        return {"error": f"no answer within {timeout:.0f} s"}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def say(message: str) -> None:
    """One progress line on stderr (stdout keeps the result table), so that a slow run can be told from a stuck one."""
    print(message, file=sys.stderr, flush=True)


def load_average() -> float | None:
    """The machine's 1-minute load average, or None where the platform has none."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def start_warnings(config: BenchConfig, articles: int, load: float | None) -> list[str]:
    """Why this run's numbers may not be trusted, known before any timing: a busy machine, or too few articles."""
    warnings = []
    cores = os.cpu_count() or 1
    threads = default_threads(config.threads)
    # The load average counts runnable processes on the whole machine, so it is compared with the machine's cores,
    # not with the bench's threads alone: the bench needs `threads` cores that nothing else wants, and other work
    # already takes about `load` of them. Warn when load > cores - threads, i.e. the cores left over are fewer than
    # the bench's threads; the floor of 1 keeps background noise on an idle machine (a load of 0.1-0.5 when the
    # bench uses every core) from warning. Each path is slowed by a different amount, so the ratios are off too.
    if load is not None and load > max(cores - threads, 1):
        warnings.append(f"the machine is busy: 1-minute load average {load:.1f} at the start, on "
                        f"{_count(cores, 'core')} with {_count(threads, 'torch thread')} for the bench; other work "
                        "competes for the cores, so timings and ratios are unreliable")
    if articles < QUICK_ARTICLES:
        warnings.append(f"only {_count(articles, 'article')} timed: too few for the numbers to be trusted "
                        f"(--quick uses {QUICK_ARTICLES}, a full run {BenchConfig.articles})")
    return warnings


_TASK_NAMES = {"full": "full analysis", "stance": "stance", "event": "event type", "summary": "summary"}


def run_bench(config: BenchConfig, data_dir: Path, progress: Callable[[str], None] = say) -> dict:
    from serve.baseline import PipelineBaseline

    load = load_average()
    # the data first: a missing file or too many --pair-bodies fails before minutes of model loading
    items = bench_articles(data_dir, config.articles, source=config.article_source)
    pairs = bench_pairs(data_dir, config.pair_bodies) if config.pair_bodies else []
    warnings = start_warnings(config, len(items), load)
    for warning in warnings:
        progress(f"warning: {warning}")
    progress(f"loading the models (NewsLens with backend {config.backend}, and the fp32 baseline)...")
    # no article cache on the article rows: the timed runs repeat the same articles, which a cache would serve
    analyzer = Analyzer(event=config.event_model, threads=config.threads, backend=config.backend, article_cache=0)
    baseline = PipelineBaseline(Analyzer(event=config.event_model, threads=config.threads,
                                         backend="torch"))  # always the plain fp32 modules
    analyzer.analyze_batch(items[:2])  # warm-up: first calls allocate
    baseline.analyze(items[0])
    report: dict = {"config": asdict(config), "backend": analyzer.backend, "articles": len(items),
                    "unavailable": analyzer.unavailable, "load_average_1min": load, "warnings": warnings,
                    "tasks": {}}

    def ours(tasks):
        return lambda: [analyzer.analyze_batch(items[i : i + config.batch_size], tasks)
                        for i in range(0, len(items), config.batch_size)]

    for name, tasks in TASK_SETS.items():
        if any(t in analyzer.unavailable for t in tasks):
            continue
        n_base = min(len(items), 24 if not config.quick else len(items))
        base_items = items[:n_base]
        lat = items[: config.latency_runs]
        progress(f"timing {_TASK_NAMES[name]}: NewsLens ({len(items)} articles), then the baseline ({n_base}), "
                 "then each one article at a time...")
        gated = dict(analyzer.event.counts) if "event" in tasks and isinstance(analyzer.event, EventLMModel) else {}
        row = {"newslens_articles_per_s": _throughput(ours(tasks), len(items))}
        if gated:  # share of the timed articles the event model's language model read (the gate answered the rest)
            now = analyzer.event.counts
            row["event_read_by_lm"] = ((now["read_by_lm"] - gated["read_by_lm"])
                                       / max(now["articles"] - gated["articles"], 1))
        row["baseline_articles_per_s"] = _throughput(lambda: [baseline.analyze(i, tasks) for i in base_items], n_base, 1)
        row["speedup"] = row["newslens_articles_per_s"] / row["baseline_articles_per_s"]
        row["newslens_latency"] = _latencies(lambda i: analyzer.analyze_batch([i], tasks), lat)
        row["baseline_latency"] = _latencies(lambda i: baseline.analyze(i, tasks), lat[: max(3, len(lat) // 2)])
        report["tasks"][name] = row

    if config.pair_bodies:
        progress(f"timing stance on {len(pairs)} claim-body pairs of {config.pair_bodies} FNC-1 bodies: NewsLens, "
                 "then the baseline...")
        report["tasks"]["pairs"] = _pairs_row(config, analyzer, baseline, pairs)
        report["pairs"] = {"bodies": config.pair_bodies, "pairs": len(pairs)}
    shared = shared_pass_effect(report["tasks"])
    if shared:
        report["shared_pass"] = shared
    if config.steps:
        progress(f"timing the speed steps of the shared encoder on the sentences of "
                 f"{len(steps_articles(config, items))} articles...")
        report["steps"] = run_steps(config, analyzer, items)
    workers = parse_workers(config.ray_workers)
    if workers:
        from serve.model_flags import ModelSpec

        progress(f"timing the batch runner: local, then Ray with {', '.join(map(str, workers))} worker(s)...")
        report["ray"] = ray_scaling(items, analyzer, ModelSpec(threads=config.threads, article_cache=0, runtime=config.backend), workers,
                                    threads_per_worker=config.threads)
        report["ray"]["local_backend"] = analyzer.backend
    if config.abstractive:  # 0 under --quick
        from model.resolve import SHIPPED_WEIGHTS
        from serve.bench_generator import bench_generator

        folder = SHIPPED_WEIGHTS / "summary-abstractive"
        progress(f"timing the abstractive summariser on {len(items[: config.abstractive])} articles, then its cold "
                 "load in a fresh process...")
        report["abstractive"] = (bench_generator(folder, [str(i.article) for i in items[: config.abstractive]])
                                 if (folder / "config.json").exists() else {"error": f"no adapter at {folder}"})
    if not config.quick:
        sample = items[:16]
        backend, event = repr(config.backend), repr(config.event_model)
        progress(f"measuring cold start and peak memory in fresh processes on {len(sample)} articles: NewsLens, "
                 "then the baseline...")
        report["process"] = {
            "newslens": _subprocess_cost(f"a = Analyzer(event={event}, backend={backend})\n"
                                         "one = lambda item: a.analyze_batch([item])", "one", sample),
            "baseline": _subprocess_cost("from serve.baseline import PipelineBaseline\n"
                                         f"b = PipelineBaseline(Analyzer(event={event}, backend='torch'))",
                                         "b.analyze", sample),
        }
        progress("timing `newslens demo` from start to its first answer...")
        report["demo"] = demo_ready_seconds(items[0].article)
    report["machine"] = machine_line()
    report["date"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return report


def _pairs_row(config: BenchConfig, analyzer: Analyzer, baseline, pairs: Sequence[ArticleInput]) -> dict:
    """Stance over claim-body pair rows with the article cache on (cleared before every timed run), against the
    pipeline baseline, which reads the body again for each pair as a plain script would."""
    analyzer.article_cache_size = 1024
    analyzer.read_unrelated_pairs = False  # as `newslens predict` runs a file (--read-unrelated-pairs: all)

    def ours():
        analyzer.clear_cache()
        for i in range(0, len(pairs), config.batch_size):
            analyzer.analyze_batch(pairs[i : i + config.batch_size], ("stance",))

    def one(item):
        analyzer.clear_cache()
        analyzer.analyze_batch([item], ("stance",))

    base_items = pairs[: min(len(pairs), 24)]
    try:
        row = {"newslens_articles_per_s": _throughput(ours, len(pairs)),
               "baseline_articles_per_s": _throughput(lambda: [baseline.analyze(i, ("stance",)) for i in base_items],
                                                      len(base_items), 1)}
        row["speedup"] = row["newslens_articles_per_s"] / row["baseline_articles_per_s"]
        lat = pairs[: config.latency_runs]
        row["newslens_latency"] = _latencies(one, lat)  # an uncached body each time: the cost of a new article
        row["baseline_latency"] = _latencies(lambda i: baseline.analyze(i, ("stance",)), lat[: max(3, len(lat) // 2)])
    finally:
        analyzer.article_cache_size = 0
        analyzer.read_unrelated_pairs = True
        analyzer.clear_cache()
    return row


STEPS_ARTICLES = 24  # like the baseline rows: the pipeline at batch 1 is slow


def steps_articles(config: BenchConfig, items: Sequence[ArticleInput]) -> Sequence[ArticleInput]:
    """The first articles of the sample, whose sentences the speed steps time (2 under --quick)."""
    return items[: 2 if config.quick else STEPS_ARTICLES]


def run_steps(config: BenchConfig, analyzer: Analyzer, items: Sequence[ArticleInput]) -> dict:
    """The speed-step ladder (serve/bench_steps.py) on the body sentences of the first articles of the sample,
    at 1 thread and at the bench's thread count (all cores by default)."""
    from model.encoder import SentenceEncoder
    from serve.bench_steps import bench_sentences, measure_steps

    encoder = SentenceEncoder(analyzer.encoder.config)  # the torch module, whatever --backend says
    chosen = steps_articles(config, items)
    steps = measure_steps(encoder, bench_sentences(chosen, encoder), threads=(1, default_threads(config.threads)),
                          articles=len(chosen), repeats=1 if config.quick else 2, onnx=not config.quick)
    if config.quick:
        steps["notes"].append("(g)-(i) ONNX skipped under --quick")
    return steps


def machine_line() -> str:
    """Architecture, CPU model and its bfloat16 support (what 'auto' decides on), cores, torch and Python."""
    import torch

    from model.backends import NATIVE_BF16_FLAGS, cpu_flags, cpuinfo_field

    name = cpuinfo_field("model name")
    native = sorted(cpu_flags() & NATIVE_BF16_FLAGS)
    cpu = f"{name} ({', '.join(native) if native else 'no native bfloat16'}), " if name else ""
    return (f"{platform.machine()}, {cpu}{os.cpu_count()} cores, torch {torch.__version__} "
            f"({_count(torch.get_num_threads(), 'thread')}), Python {platform.python_version()}")


def _count(n: int, noun: str) -> str:
    """'1 thread', '2 threads'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def format_bench(report: dict) -> str:
    """The task table, then the speed steps (with the shared-pass line) and Ray scaling when measured."""
    parts = [format_tasks(report)]
    steps = [format_steps(report["steps"])] if "steps" in report else []
    if "shared_pass" in report:
        steps.append(format_shared(report["shared_pass"]))
    if steps:
        parts.append("\n".join(steps))
    if "ray" in report:
        parts.append(format_ray(report["ray"]))
    if "abstractive" in report:
        from serve.bench_generator import format_generator

        parts.append(format_generator(report["abstractive"]))
    return "\n\n".join(parts)


def format_tasks(report: dict) -> str:
    lines = [f"{'task':<8}{'NewsLens art/s':>16}{'baseline art/s':>16}{'ratio':>8}{'p50 ms':>9}{'p95 ms':>9}{'base p50':>10}"]
    for name, row in report["tasks"].items():
        lines.append(f"{name:<8}{row['newslens_articles_per_s']:>16.1f}{row['baseline_articles_per_s']:>16.2f}"
                     f"{row['speedup']:>7.1f}x{row['newslens_latency']['p50_ms']:>9.0f}{row['newslens_latency']['p95_ms']:>9.0f}"
                     f"{row['baseline_latency']['p50_ms']:>10.0f}")
    for name, row in report["tasks"].items():
        if "event_read_by_lm" in row:
            lines.append(f"{name}: the event gate answered {1 - row['event_read_by_lm']:.0%} of the articles alone; "
                         f"the language model read {row['event_read_by_lm']:.0%} (the baseline reads all)")
    if "pairs" in report:
        lines.append(f"pairs: stance only, rows are claim-body pairs (all {report['pairs']['pairs']} FNC-1 "
                     f"competition-test claims of {report['pairs']['bodies']} bodies, shuffled); rates are pairs/s; as "
                     "`newslens predict` runs a file, the pair classifier skips the pairs the gate calls unrelated")
    if "demo" in report:
        demo = report["demo"]
        lines.append(f"demo: first answer {demo['demo_ready_s']:.1f} s after `newslens demo` started"
                     if "demo_ready_s" in demo else f"demo: {demo['error']}")
    for who, cost in report.get("process", {}).items():
        if "error" in cost:
            lines.append(f"{who}: subprocess failed: {cost['error']}")
        else:
            lines.append(f"{who}: cold start to first answer {cost['cold_start_s']:.1f} s, peak RSS {cost['peak_rss_mb']:.0f} MB")
    return "\n".join(lines)


def append_markdown(report: dict, command: str, path: Path) -> None:
    """Add this run as a section of BENCHMARKS.md (newest last)."""
    head = "# Benchmarks\n\nEvery section is one `newslens bench` run: NewsLens and the baseline measured in the same process.\n"
    text = path.read_text(encoding="utf-8") if path.exists() else head
    config = report["config"]
    backend = backend_name(config["backend"], report.get("backend", config["backend"]))
    block = [f"\n## {report['date']}: `{command}`\n", f"Machine: {report['machine']}. Articles: {report['articles']} "
             f"({ARTICLE_SOURCES[config.get('article_source', 'bbc')][0]} sample), backend {backend}.\n"]
    block += [f"**Warning:** {warning}.\n" for warning in report.get("warnings", [])]
    block += ["```", format_bench(report), "```\n"]
    atomic_write_text(path, text + "\n".join(block))


def add_bench_parser(sub) -> None:
    from training.options import add_dataclass_arguments

    parser = sub.add_parser("bench", help="measure speed and memory against a plain-pipeline baseline",
                            description="Times NewsLens and a plain transformers-pipeline baseline (same weights, fp32, "
                                        "batch 1) in one process. Prints the table of ratios on stdout, one line per "
                                        "phase on stderr (and a warning when the machine is busy at the start or fewer "
                                        f"than {QUICK_ARTICLES} articles are timed); appends a section to the repo's "
                                        "BENCHMARKS.md unless --markdown says otherwise, and writes JSON with --output.")
    parser.add_argument("--data-dir", type=Path, help="folder holding bbc_news_summary/ (default: ../shared/data)")
    parser.add_argument("--output", type=Path, help="write the JSON report here")
    parser.add_argument("--markdown", type=Path, default=REPO_ROOT / "BENCHMARKS.md",
                        help="append this run as a section of this markdown file, created if missing (default: the "
                             "repo's BENCHMARKS.md, even under --quick); 'none' to skip. Both paths are checked before "
                             "the run and printed after it")
    add_dataclass_arguments(parser, BenchConfig, title="what to measure")
    parser.set_defaults(handler=run_bench_command)


def run_bench_command(args) -> int:
    from training.card import command_line
    from training.options import build_dataclass
    from training.paths import default_data_dir

    config = build_dataclass(BenchConfig, args)  # bad numbers fail here, before any model loads
    output = Path(args.output).expanduser().resolve() if args.output else None
    markdown = None if str(args.markdown).lower() == "none" else Path(args.markdown).expanduser().resolve()
    if output:  # found now, not after minutes of timing
        check_writable(output, "the JSON report")
    if markdown:
        check_writable(markdown, "the markdown report")
    report = run_bench(config, Path(args.data_dir) if args.data_dir else default_data_dir())
    print(format_bench(report))
    if output:
        atomic_write_text(output, json.dumps(report, indent=2) + "\n")
        say(f"JSON report written to {output}")
    if markdown:
        existed = markdown.exists()
        append_markdown(report, command_line(), markdown)
        say(written_markdown_message(markdown, existed))
    return 0


def written_markdown_message(path: Path, existed: bool) -> str:
    """What the default run did to a (tracked) file, and how to not do it."""
    if existed:
        return f"markdown section appended to {path} (--markdown none skips the append)"
    return f"markdown section written to {path}, a new file (--markdown none skips it)"
