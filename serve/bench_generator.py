"""Benchmark of the abstractive summariser: cold load in a fresh process, then seconds per article against the same
weights through a plain transformers text-generation pipeline in fp32, both run in this process."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

from model.resolve import REPO_ROOT

_COLD_LOAD = """
import json, time
start = time.perf_counter()
from model.abstractive import AbstractiveSummarizer
s = AbstractiveSummarizer.load({folder!r})
print(json.dumps({{"cold_load_s": time.perf_counter() - start}}))
"""


def generator_cold_load(folder: Path) -> dict:
    """Seconds for a fresh process to import and load the summariser (after the one-time conversion)."""
    proc = subprocess.run([sys.executable, "-c", _COLD_LOAD.format(folder=str(folder))], capture_output=True,
                          text=True, cwd=REPO_ROOT, timeout=600)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_generator(folder: Path, articles: Sequence[str]) -> dict:
    """Seconds per article: NewsLens (adapter merged, stops at the line end) vs a plain fp32 pipeline on the same
    loaded weights and prompt."""
    from transformers import pipeline

    from model.abstractive import AbstractiveSummarizer
    from model.generator import build_prompt

    report = generator_cold_load(folder)
    ours = AbstractiveSummarizer.load(folder)
    ours.summarize([articles[0]])  # warm-up
    start = time.perf_counter()
    outputs = ours.summarize(list(articles))
    report["newslens_s_per_article"] = (time.perf_counter() - start) / len(articles)
    report["mean_words"] = sum(len(o.split()) for o in outputs) / len(outputs)

    # The same loaded weights (fp32, adapter merged) through the plain pipeline: no line-end stop, no post-processing.
    generate = pipeline("text-generation", model=ours.model, tokenizer=ours.tokenizer)
    prompts = [build_prompt(ours.tokenizer, a, ours.settings.max_input_tokens) for a in articles]
    generate(prompts[0], max_new_tokens=ours.settings.max_new_tokens, do_sample=False)
    start = time.perf_counter()
    for prompt in prompts:
        generate(prompt, max_new_tokens=ours.settings.max_new_tokens, do_sample=False, return_full_text=False)
    report["baseline_s_per_article"] = (time.perf_counter() - start) / len(articles)
    report["speedup"] = report["baseline_s_per_article"] / report["newslens_s_per_article"]
    report["articles"] = len(articles)
    return report


def format_generator(report: dict) -> str:
    if "error" in report and "newslens_s_per_article" not in report:
        return f"abstractive: {report['error']}"
    load = f"cold load {report['cold_load_s']:.1f} s" if "cold_load_s" in report else f"cold load failed: {report.get('error')}"
    return (f"abstractive: {report['newslens_s_per_article']:.2f} s/article (plain fp32 pipeline "
            f"{report['baseline_s_per_article']:.2f} s, {report['speedup']:.1f}x), {report['mean_words']:.0f} words, "
            f"{load} ({report['articles']} articles)")
