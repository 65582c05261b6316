"""The abstractive benchmark runs on the tiny generator and reports well-formed numbers (never asserted)."""


def test_generator_bench_report_is_well_formed(tiny_models, seed_text):
    from serve.bench_generator import bench_generator, format_generator

    report = bench_generator(tiny_models["abstractive"], [seed_text, seed_text[:400]])
    assert report["articles"] == 2 and "error" not in report
    assert report["cold_load_s"] > 0 and report["newslens_s_per_article"] > 0 and report["baseline_s_per_article"] > 0
    assert "s/article" in format_generator(report)
