"""The optimised paths agree with the plain-pipeline baseline; the quick bench writes a well-formed report.
Timings are reported, never asserted."""
import json

import pytest

from model.analyzer import ArticleInput

ARTICLES = [
    "Floods hit Lagos\n\nHeavy rain flooded large parts of Lagos on Monday. Thousands of homes were damaged. "
    "The governor asked residents to move to higher ground.",
    "Central bank raises rates\n\nThe central bank raised its main interest rate by half a point. "
    "Inflation reached 9% in May. Markets fell after the announcement.",
]


def test_baseline_and_optimised_paths_agree(tiny_analyzer, seed_text):
    from serve.baseline import PipelineBaseline

    baseline = PipelineBaseline(tiny_analyzer)
    for text in [seed_text] + ARTICLES:
        fast = tiny_analyzer.analyze(text)
        plain = baseline.analyze(ArticleInput(text))
        assert plain["stance"] == [s.label for s in fast.stances]
        assert plain["event"] == fast.event.label
        assert plain["summary"] == fast.summary.sentence_indices


@pytest.mark.parametrize("backend", ["onnx", "bf16"])
def test_fast_backends_agree_with_torch(backend, tiny_models, tiny_analyzer, seed_text, tmp_path, monkeypatch):
    if backend == "onnx":
        pytest.importorskip("onnxruntime")
    from model.analyzer import Analyzer

    monkeypatch.setenv("NEWSLENS_CACHE", str(tmp_path))
    fast = Analyzer(stance=tiny_models["stance"], event=tiny_models["event"], summary=tiny_models["summary"],
                    threads=1, backend=backend)
    for text in [seed_text] + ARTICLES:
        a, b = tiny_analyzer.analyze(text), fast.analyze(text)
        assert [s.label for s in a.stances] == [s.label for s in b.stances]
        assert a.event.label == b.event.label
        assert a.event.scores == pytest.approx(b.event.scores, abs=0.02)
        assert a.summary.sentence_indices == b.summary.sentence_indices


def test_unknown_backend_is_named(tiny_models):
    from model.analyzer import Analyzer
    from model.errors import InputError

    with pytest.raises(InputError, match="unknown backend 'gpu'"):
        Analyzer(stance=None, event=tiny_models["event"], summary=None, threads=1, backend="gpu")


def test_quick_bench_writes_a_report(shared_data, tmp_path):
    from serve.cli import main

    out, md = tmp_path / "bench.json", tmp_path / "BENCH.md"
    assert main(["bench", "--quick", "--threads", "1", "--ray-workers", "1", "--output", str(out),
                 "--markdown", str(md), "--data-dir", str(shared_data)]) == 0
    report = json.loads(out.read_text())
    assert report["articles"] == 8 and report["config"]["event_model"] == "event"
    for row in report["tasks"].values():
        assert row["newslens_articles_per_s"] > 0 and row["baseline_articles_per_s"] > 0
        assert row["speedup"] == pytest.approx(row["newslens_articles_per_s"] / row["baseline_articles_per_s"])
        assert row["newslens_latency"]["p50_ms"] <= row["newslens_latency"]["p95_ms"]
    for name in ("event", "full"):  # the shipped event model's gate: the share its language model read
        assert 0 <= report["tasks"][name]["event_read_by_lm"] <= 1
    steps = report["steps"]
    assert [r["key"] for r in steps["rows"]] == ["a", "b", "c", "d", "e", "j"]  # one thread; no ONNX under --quick
    assert steps["articles"] == 2 and steps["sentences"] > 0
    assert all(r["sentences_per_s"] > 0 and r["min_cosine_vs_a"] > 0.99 for r in steps["rows"])
    if {"full", "stance", "event", "summary"} <= set(report["tasks"]):
        assert report["shared_pass"]["newslens"]["gain"] > 0
    if "stance" in report["tasks"]:
        assert report["pairs"]["bodies"] == 2 and report["tasks"]["pairs"]["newslens_articles_per_s"] > 0
    ray = report["ray"]
    assert ray["workers"] == [1]
    assert ("note" in ray) != ("runs" in ray)
    text = md.read_text()
    assert "NewsLens art/s" in text and "speed steps" in text and "ray scaling" in text


def test_bench_articles_come_from_either_source(shared_data):
    import csv

    from serve.bench import BenchConfig, bench_articles

    bbc = bench_articles(shared_data, 5)
    fnc = bench_articles(shared_data, 5, source="fnc1")
    assert [a.article for a in fnc] == [a.article for a in bench_articles(shared_data, 5, source="fnc1")]
    with (shared_data / "fnc1" / "competition_test_bodies.csv").open(encoding="utf-8", newline="") as handle:
        bodies = {row["articleBody"] for row in csv.DictReader(handle)}
    assert len({a.article for a in fnc}) == 5 and all(a.article in bodies for a in fnc)
    assert not any(a.article in bodies for a in bbc)
    with pytest.raises(ValueError, match="article_source"):
        BenchConfig(article_source="cnn")


def test_bench_pairs_are_every_claim_of_the_chosen_bodies(shared_data):
    import csv

    from serve.bench import bench_pairs

    pairs = bench_pairs(shared_data, 3)
    bodies = {p.article for p in pairs}
    assert len(bodies) == 3
    with (shared_data / "fnc1" / "competition_test_bodies.csv").open(encoding="utf-8", newline="") as handle:
        ids = {row["articleBody"]: row["Body ID"] for row in csv.DictReader(handle)}
    with (shared_data / "fnc1" / "competition_test_stances.csv").open(encoding="utf-8", newline="") as handle:
        expected = sorted((r["Headline"], r["Body ID"]) for r in csv.DictReader(handle) if r["Body ID"] in
                          {ids[b] for b in bodies})
    assert sorted((p.claims[0], ids[p.article]) for p in pairs) == expected
    assert [p.claims for p in pairs] != [[c] for c, _ in expected]  # rows shuffled, not grouped by body


# ---------------------------------------------------------------- speed steps (serve/bench_steps.py)

@pytest.fixture()
def tiny_encoder(tiny_analyzer):
    from model.encoder import SentenceEncoder

    return SentenceEncoder(tiny_analyzer.encoder.config)


def test_speed_steps_give_the_same_vectors_as_the_pipeline(tiny_encoder, seed_text, tmp_path, monkeypatch):
    import torch

    from serve.bench_steps import bench_sentences, format_steps, measure_steps, min_cosine, onnx_available

    monkeypatch.setenv("NEWSLENS_CACHE", str(tmp_path))
    items = [ArticleInput(t) for t in ARTICLES + [seed_text]]
    sentences = bench_sentences(items, tiny_encoder)[:20]
    assert sentences and not any(s.startswith(("Floods hit Lagos", "Central bank raises")) for s in sentences)
    threads_before = torch.get_num_threads()
    # batches of 4 so that (c) pads across sentences of different length and (d) reorders them
    result = measure_steps(tiny_encoder, sentences, threads=(1,), articles=len(items), batch_size=4, repeats=1,
                           keep_vectors=True)
    assert torch.get_num_threads() == threads_before
    vectors = result.pop("vectors")
    keys = ["a", "b", "c", "d", "e"] + (["g", "h", "i"] if onnx_available() else []) + ["j"]
    assert [r["key"] for r in result["rows"]] == keys
    assert result["sentences"] == len(sentences) and result["threads"] == [1]
    for row in result["rows"]:
        assert row["threads"] == 1 and row["setting"]
        assert row["sentences_per_s"] > 0 and row["articles_per_s"] > 0
        assert row["ratio_vs_a"] == pytest.approx(row["sentences_per_s"] / result["rows"][0]["sentences_per_s"])
        assert vectors[(row["key"], 1)].shape == (len(sentences), tiny_encoder.dim)
    reference = vectors[("a", 1)]
    for key in ("b", "c", "d", "e"):
        assert min_cosine(reference, vectors[(key, 1)]) > 0.99, key
    assert min_cosine(reference, tiny_encoder.embed(sentences)) > 0.99  # the product path, too
    if "g" in keys:
        assert min_cosine(reference, vectors[("g", 1)]) > 0.99  # the same fp32 arithmetic
        for key in ("h", "i"):
            assert min_cosine(reference, vectors[(key, 1)]) > 0.95, key  # int8 weights: close, not equal
    assert min_cosine(reference, vectors[("j", 1)]) > 0.95  # bfloat16: close, not equal
    json.dumps(result)  # the report is plain JSON
    table = format_steps(result)
    assert "(a) pipeline" in table and "(e) + torch.inference_mode" in table and "only 1 thread" in table


def test_speed_steps_table_shows_both_thread_counts():
    from serve.bench_steps import format_steps

    rows = [{"key": k, "setting": k, "threads": n, "sentences_per_s": r, "ratio_vs_a": r / a, "min_cosine_vs_a": 1.0}
            for n, a in ((1, 10.0), (2, 15.0)) for k, r in (("a", a), ("e", 4 * a))]
    table = format_steps({"sentences": 5, "articles": 1, "threads": [1, 2], "rows": rows, "notes": ["a note"],
                          "thread_gain": {"from": 1, "to": 2, "ratio": 1.5}})
    assert "1 thr sent/s" in table and "2 thr sent/s" in table
    assert "(e) at 2 threads is 1.50x (e) at 1 thread" in table and "a note" in table


def test_shared_pass_effect_compares_full_analysis_with_separate_tasks():
    from serve.bench_steps import format_shared, shared_pass_effect

    rates = {"full": 2.0, "stance": 4.0, "event": 8.0, "summary": 8.0}
    tasks = {t: {"newslens_articles_per_s": r, "baseline_articles_per_s": r / 10} for t, r in rates.items()}
    effect = shared_pass_effect(tasks)
    assert effect["newslens"]["full_s_per_article"] == pytest.approx(0.5)
    assert effect["newslens"]["separate_s_per_article"] == pytest.approx(0.25 + 0.125 + 0.125)
    assert effect["newslens"]["gain"] == pytest.approx(1.0)
    assert "full analysis 500 ms/article" in format_shared(effect)
    assert shared_pass_effect({"full": tasks["full"]}) is None


# ---------------------------------------------------------------- Ray scaling (serve/bench_ray.py)

def test_ray_workers_option_is_checked():
    from serve.bench import BenchConfig
    from serve.bench_ray import parse_workers

    assert parse_workers("") == [] and parse_workers("2,1, 2") == [1, 2]
    for bad in ("0", "one", "1,-2"):
        with pytest.raises(ValueError):
            BenchConfig(ray_workers=bad)


def _tiny_spec(tiny_models):
    from serve.model_flags import ModelSpec

    return ModelSpec(stance=str(tiny_models["stance"]), event=str(tiny_models["event"]),
                     summary=str(tiny_models["summary"]), abstractive=None, threads=1)


def test_ray_scaling_without_ray_is_a_note(tiny_models, tiny_analyzer):
    import importlib.util

    if importlib.util.find_spec("ray") is not None:
        pytest.skip("ray is installed: Ray scaling is measured below")
    from serve.bench_ray import NOT_INSTALLED, format_ray, ray_scaling

    report = ray_scaling([ArticleInput(t) for t in ARTICLES], tiny_analyzer, _tiny_spec(tiny_models), [1, 2])
    assert report == {"articles": 2, "workers": [1, 2], "note": NOT_INSTALLED}
    assert "ray not installed" in format_ray(report)


def test_ray_scaling_measures_each_worker_count(tiny_models, tiny_analyzer):
    pytest.importorskip("ray.data")
    from serve.bench_ray import format_ray, ray_scaling

    items = [ArticleInput(t) for t in ARTICLES * 3]
    report = ray_scaling(items, tiny_analyzer, _tiny_spec(tiny_models), [1], threads_per_worker=1)
    assert report["local"]["rows_per_s"] > 0 and report["local"]["failed"] == 0
    [run] = report["runs"]
    assert "error" not in run, run.get("error")
    assert run["workers"] == 1 and run["threads_per_worker"] == 1 and run["failed"] == 0
    assert run["rows_per_s"] > 0 and run["first_run_s"] > 0
    assert run["vs_local"] == pytest.approx(run["rows_per_s"] / report["local"]["rows_per_s"])
    json.dumps(report)
    assert "ray 1 x 1 thr" in format_ray(report)
