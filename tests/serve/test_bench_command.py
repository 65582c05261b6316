"""`newslens bench` as a command, without real models: options checked before any work, output paths checked up
front and named after writing, one progress line per phase, warnings for a busy machine or too few articles.
The models are fakes (FakeAnalyzer / FakeBaseline), so nothing here times anything real."""
import csv
import json
import os
import re

import pytest

from serve.cli import build_parser, main


def _help(command: str) -> str:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return " ".join(sub.choices[command].format_help().split())


@pytest.fixture()
def bench_data(tmp_path):
    """A data folder with 10 BBC articles and 3 FNC-1 bodies (2 claims each), in the shipped files' formats."""
    folder = tmp_path / "data"
    (folder / "bbc_news_summary").mkdir(parents=True)
    (folder / "bbc_news_summary" / "bbc_news_summary.jsonl").write_text(
        "".join(json.dumps({"id": f"b{i:02d}", "article": f"Headline {i}\n\nBody sentence {i}. Another one."}) + "\n"
                for i in range(10)), encoding="utf-8")
    (folder / "fnc1").mkdir()
    with (folder / "fnc1" / "competition_test_bodies.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Body ID", "articleBody"])
        writer.writerows([[str(i), f"FNC body {i}. It says things."] for i in range(3)])
    with (folder / "fnc1" / "competition_test_stances.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Headline", "Body ID", "Stance"])
        writer.writerows([[f"claim {i}{c}", str(i), "unrelated"] for i in range(3) for c in "ab"])
    return folder


class FakeAnalyzer:
    """Stands in for model.analyzer.Analyzer in run_bench: answers at once, loads nothing."""

    def __init__(self, event=None, threads=None, backend="auto", article_cache=0, **_):
        self.backend = "torch" if backend == "auto" else backend
        self.unavailable, self.event, self.article_cache_size = [], None, article_cache

    def analyze_batch(self, items, tasks=None):
        return [{} for _ in items]

    def clear_cache(self):
        pass


class FakeBaseline:
    def __init__(self, analyzer):
        pass

    def analyze(self, item, tasks=None):
        return {}


@pytest.fixture()
def fake_models(monkeypatch):
    import serve.baseline
    import serve.bench

    monkeypatch.setattr(serve.bench, "Analyzer", FakeAnalyzer)
    monkeypatch.setattr(serve.baseline, "PipelineBaseline", FakeBaseline)


@pytest.fixture()
def idle_machine(monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


@pytest.fixture()
def no_run(monkeypatch):
    """run_bench must not be reached (it would load models)."""
    import serve.bench

    def refuse(*args, **kwargs):
        raise AssertionError("run_bench was called")

    monkeypatch.setattr(serve.bench, "run_bench", refuse)


# ---------------------------------------------------------------- options checked before any work

@pytest.mark.parametrize("flags, field", [
    (["--articles", "0"], "articles"), (["--articles", "-3"], "articles"), (["--quick", "--articles", "-3"], "articles"),
    (["--latency-runs", "0"], "latency_runs"), (["--batch-size", "0"], "batch_size"), (["--threads", "-1"], "threads"),
    (["--pair-bodies", "-1"], "pair_bodies"), (["--abstractive", "-1"], "abstractive")])
def test_bad_numbers_fail_with_one_line_before_any_model_loads(flags, field, no_run, tmp_path, capsys):
    assert main(["bench", *flags, "--markdown", "none", "--data-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    flag = "--" + field.replace("_", "-")  # the flag typed, not the BenchConfig field
    assert re.fullmatch(rf"newslens: error: {flag} must be at least [01], got -?\d+", line), line


def test_zero_threads_means_the_default_and_help_says_so():
    from serve.bench import BenchConfig

    assert BenchConfig(threads=0).threads == 0  # accepted: Analyzer and the steps read 0 as 'all cores, at most 8'
    assert "--threads INT torch threads; 0 is the same as leaving it out (default: all cores, at most 8)" in _help("bench")


def test_too_many_pair_bodies_is_named(bench_data):
    from model.errors import InputError
    from serve.bench import bench_pairs

    assert len(bench_pairs(bench_data, 3)) == 6
    with pytest.raises(InputError, match="--pair-bodies 4: .* holds only 3 bodies"):
        bench_pairs(bench_data, 4)


def test_quick_help_and_config_say_what_quick_does(monkeypatch):
    from serve.bench import BenchConfig

    monkeypatch.setenv("COLUMNS", "1000")  # no line breaks inside 'cold-start'
    text = _help("bench")
    start = text.index("--quick, --no-quick")
    quick = text[start:text.index("--threads INT", start)]
    for part in ("8 articles", "5 latency runs", "2 FNC-1 bodies for the pairs row", "speed steps on 2 articles without ONNX",
                 "no abstractive timing", "no cold-start subprocesses", "no demo start"):
        assert part in quick, part
    config = BenchConfig(quick=True, abstractive=8, pair_bodies=16, articles=96, latency_runs=24)
    assert (config.articles, config.latency_runs, config.pair_bodies, config.abstractive) == (8, 5, 2, 0)
    assert BenchConfig(abstractive=8).abstractive == 8


@pytest.mark.parametrize("which", ["--output", "--markdown"])
def test_unwritable_report_paths_fail_before_the_run(which, no_run, tmp_path, capsys):
    (tmp_path / "afile").write_text("not a folder")
    other = ["--markdown", "none"] if which == "--output" else []
    assert main(["bench", "--quick", which, str(tmp_path / "afile" / "x"), *other, "--data-dir", str(tmp_path)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("newslens: error: cannot write the ") and "afile is a file, not a folder" in line
    assert main(["bench", "--quick", which, str(tmp_path), *other]) == 2  # a folder, not a file
    assert "is a folder; name a file" in capsys.readouterr().err


# ---------------------------------------------------------------- a whole run on fake models

def test_bench_names_each_phase_and_the_files_it_wrote(bench_data, fake_models, idle_machine, tmp_path, monkeypatch,
                                                       capsys):
    monkeypatch.chdir(tmp_path)
    args = ["bench", "--quick", "--no-steps", "--pair-bodies", "1", "--output", "out/bench.json",
            "--markdown", "B.md", "--data-dir", str(bench_data)]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("task") and "NewsLens art/s" in captured.out  # stdout: the table only
    assert "written" not in captured.out and "timing" not in captured.out
    err = captured.err.splitlines()
    assert "loading the models (NewsLens with backend auto, and the fp32 baseline)..." in err
    assert "timing full analysis: NewsLens (8 articles), then the baseline (8), then each one article at a time..." in err
    assert any(line.startswith("timing stance on 2 claim-body pairs of 1 FNC-1 bodies") for line in err)
    assert not any(line.startswith("warning") for line in err)  # 8 articles on an idle machine
    assert err[-2:] == [f"JSON report written to {tmp_path / 'out' / 'bench.json'}",
                        f"markdown section written to {tmp_path / 'B.md'}, a new file (--markdown none skips it)"]
    report = json.loads((tmp_path / "out" / "bench.json").read_text())
    assert report["warnings"] == [] and report["load_average_1min"] == 0.2
    assert report["config"]["abstractive"] == 0 and report["config"]["pair_bodies"] == 1  # what was done
    assert "abstractive" not in report

    assert main(args[:-4] + ["--markdown", str(tmp_path / "B.md"), "--data-dir", str(bench_data)]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == (f"markdown section appended to {tmp_path / 'B.md'} "
                                                         "(--markdown none skips the append)")
    assert (tmp_path / "B.md").read_text().count("\n## ") == 2

    assert main(["bench", "--quick", "--no-steps", "--pair-bodies", "0", "--markdown", "none",
                 "--data-dir", str(bench_data)]) == 0
    assert "written" not in capsys.readouterr().err  # nothing written, nothing named


def test_busy_machine_and_few_articles_are_flagged_on_stderr_in_the_json_and_in_the_markdown(
        bench_data, fake_models, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(os, "getloadavg", lambda: (4.5, 3.0, 2.0))
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    out, md = tmp_path / "b.json", tmp_path / "B.md"
    assert main(["bench", "--quick", "--no-steps", "--pair-bodies", "0", "--articles", "4", "--output", str(out),
                 "--markdown", str(md), "--data-dir", str(bench_data)]) == 0
    err = capsys.readouterr().err
    warnings = json.loads(out.read_text())["warnings"]
    assert len(warnings) == 2
    assert warnings[0].startswith("the machine is busy: 1-minute load average 4.5 at the start, on 2 cores with "
                                  "2 torch threads") and "unreliable" in warnings[0]
    assert warnings[1] == "only 4 articles timed: too few for the numbers to be trusted (--quick uses 8, a full run 96)"
    for warning in warnings:
        assert f"warning: {warning}\n" in err and f"**Warning:** {warning}." in md.read_text()
    assert err.index("warning: the machine is busy") < err.index("loading the models")  # said at the start


@pytest.mark.parametrize("load, cores, threads, busy", [
    (0.2, 2, None, False), (0.9, 2, None, False), (1.5, 2, None, True), (1.5, 2, 1, True), (0.8, 2, 1, False),
    (10.0, 64, None, False), (57.0, 64, None, True), (2.5, 4, 2, True), (1.5, 4, 2, False), (1.5, 4, 0, True)])
def test_load_warning_compares_the_load_with_the_cores_the_bench_leaves_free(load, cores, threads, busy, monkeypatch):
    from serve.bench import BenchConfig, load_average, start_warnings

    monkeypatch.setattr(os, "getloadavg", lambda: (load, 0.0, 0.0))
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    warnings = start_warnings(BenchConfig(threads=threads), 96, load_average())
    assert bool(warnings) == busy and all("machine is busy" in w for w in warnings)


def test_no_load_average_no_warning(monkeypatch):
    from serve.bench import BenchConfig, load_average, start_warnings

    monkeypatch.delattr(os, "getloadavg")
    assert load_average() is None and start_warnings(BenchConfig(), 96, None) == []
    assert start_warnings(BenchConfig(), 7, None) != [] and start_warnings(BenchConfig(), 8, None) == []
    assert "only 1 article timed" in start_warnings(BenchConfig(), 1, None)[0]


def test_machine_line_counts_threads_in_the_singular_and_plural(monkeypatch):
    import torch

    from serve.bench import machine_line

    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    assert "(1 thread)," in machine_line()
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    assert "(2 threads)," in machine_line()
