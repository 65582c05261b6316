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


def test_onnx_backend_agrees_with_torch(tiny_models, tiny_analyzer, seed_text, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    from model.analyzer import Analyzer

    monkeypatch.setenv("NEWSLENS_CACHE", str(tmp_path))
    fast = Analyzer(stance=tiny_models["stance"], event=tiny_models["event"], summary=tiny_models["summary"],
                    threads=1, backend="onnx")
    for text in [seed_text] + ARTICLES:
        a, b = tiny_analyzer.analyze(text), fast.analyze(text)
        assert [s.label for s in a.stances] == [s.label for s in b.stances]
        assert a.event.label == b.event.label
        assert a.event.scores == pytest.approx(b.event.scores, abs=0.02)


def test_quick_bench_writes_a_report(shared_data, tmp_path):
    from serve.cli import main

    out, md = tmp_path / "bench.json", tmp_path / "BENCH.md"
    assert main(["bench", "--quick", "--output", str(out), "--markdown", str(md), "--data-dir", str(shared_data)]) == 0
    report = json.loads(out.read_text())
    assert report["articles"] == 8
    for row in report["tasks"].values():
        assert row["newslens_articles_per_s"] > 0 and row["baseline_articles_per_s"] > 0
        assert row["speedup"] == pytest.approx(row["newslens_articles_per_s"] / row["baseline_articles_per_s"])
        assert row["newslens_latency"]["p50_ms"] <= row["newslens_latency"]["p95_ms"]
    assert "NewsLens art/s" in md.read_text()
