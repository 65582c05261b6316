"""The speed steps of the shared sentence encoder, each measured on its own (`newslens bench`, table "speed steps").

A cumulative ladder on the same fixed sentences (the body sentences of the bench's BBC sample), every setting
timed in this process, end to end from text to unit vectors (tokenising included):

(a) transformers ``pipeline("feature-extraction")``, fp32, one sentence per call (the baseline of serve/baseline.py)
(b) the encoder module called directly, one sentence per call, under ``torch.no_grad``
(c) + batches of 32 in input order, padded to the longest sentence of the batch
(d) + batches of 32 after sorting by length, so each batch is padded only to its own longest (bucketing)
(e) + ``torch.inference_mode`` instead of ``no_grad`` (what ``SentenceEncoder.embed`` does)
(f) the thread setting: the whole ladder runs at 1 thread and at all cores (one column each)
(g) (e) with the encoder exported to an ONNX Runtime graph, fp32 (model/onnx_backend.py), when onnxruntime is
    importable; (h) + int8 weights (what ``--backend onnx`` runs); (i) (h) with the BERT blocks rewritten as ONNX
    Runtime's fused operators (measured, not used: no faster here)
(j) (e) with the encoder as a bfloat16 torch module (what ``--backend bf16`` runs, and 'auto' on CPUs with native
    bfloat16)

Every row also records the smallest and the mean cosine between its vectors and those of (a) (at the first
thread count) for the same sentence, so a faster setting that changed the answers would show. Timings are
measured, never asserted.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from model.analyzer import ArticleInput, prepare_article
from model.article import article_sentences
from model.backends import onnx_installed as onnx_available
from model.encoder import SentenceEncoder, mean_pool

Embed = Callable[[Sequence[str]], np.ndarray]
LADDER_BATCH = 32


@dataclass
class Step:
    key: str
    setting: str
    embed: Embed


def bench_sentences(items: Sequence[ArticleInput], encoder: SentenceEncoder) -> list[str]:
    """Body sentences of ``items`` (headline split off as in ``analyze``), in article order."""
    sentences: list[str] = []
    for item in items:
        sentences.extend(article_sentences(prepare_article(item).body, encoder))
    return sentences


def _unit(vectors: torch.Tensor) -> np.ndarray:
    return torch.nn.functional.normalize(vectors, dim=-1).float().numpy()


def pipeline_embedder(encoder: SentenceEncoder) -> Embed:
    """(a): the plain-transformers way, one text per ``pipeline`` call, mean over the returned token vectors."""
    from transformers import pipeline

    pipe = pipeline("feature-extraction", model=encoder.module, tokenizer=encoder.tokenizer, framework="pt",
                    device="cpu")
    kwargs = {"truncation": True, "max_length": encoder.config.max_length}

    def embed(texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            v = np.asarray(pipe(text, tokenize_kwargs=kwargs)[0]).mean(0)
            out[i] = v / max(float(np.linalg.norm(v)), 1e-9)
        return out

    return embed


def module_embedder(encoder: SentenceEncoder, module=None, batch_size: int = 1, sort: bool = False,
                    inference_mode: bool = False) -> Embed:
    """(b)-(e), (g)-(i): ``module`` (default: the encoder's torch module) on batches of ``batch_size`` texts, in input
    order or sorted by length, padded to the longest text of each batch, under no_grad or inference_mode."""
    module = module if module is not None else encoder.module
    tokenizer, max_length = encoder.tokenizer, encoder.config.max_length

    def embed(texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i])) if sort else list(range(len(texts)))
        context = torch.inference_mode() if inference_mode else torch.no_grad()
        with context:
            for lo in range(0, len(order), batch_size):
                idx = order[lo : lo + batch_size]
                batch = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length,
                                  return_tensors="pt")
                hidden = module(**batch).last_hidden_state
                out[idx] = _unit(mean_pool(hidden, batch["attention_mask"]))
        return out

    return embed


def ladder(encoder: SentenceEncoder, batch_size: int = LADDER_BATCH) -> list[Step]:
    """The torch settings (a)-(e), cheapest change first; each adds one change to the row above."""
    b = batch_size
    return [
        Step("a", "pipeline('feature-extraction') fp32, batch 1", pipeline_embedder(encoder)),
        Step("b", "encoder module, batch 1, no_grad", module_embedder(encoder)),
        Step("c", f"+ batches of {b}, input order, pad to longest", module_embedder(encoder, batch_size=b)),
        Step("d", f"+ length-sorted batches of {b} (bucketing)", module_embedder(encoder, batch_size=b, sort=True)),
        Step("e", "+ torch.inference_mode", module_embedder(encoder, batch_size=b, sort=True, inference_mode=True)),
    ]


ONNX_STEPS = (("g", "(e) as ONNX Runtime graph, fp32", False, False),
              ("h", "+ int8 weights (--backend onnx)", False, True),
              ("i", "(h) with fused BERT operators", True, True))


def bf16_step(encoder: SentenceEncoder, batch_size: int = LADDER_BATCH) -> Step:
    """(j): setting (e) with the encoder as ``--backend bf16`` runs it (model/backends.py)."""
    from model.backends import fast_encoder

    return Step("j", "(e) as bfloat16 torch module (--backend bf16)",
                module_embedder(encoder, fast_encoder(encoder.module, "bf16"), batch_size=batch_size, sort=True,
                                inference_mode=True))


def onnx_steps(encoder: SentenceEncoder, threads: int, batch_size: int = LADDER_BATCH) -> list[Step]:
    """(g)-(i): setting (e) with the encoder as ONNX Runtime graphs (cached; exported on first use)."""
    from model.onnx_backend import onnx_encoder

    return [Step(key, setting, module_embedder(encoder, onnx_encoder(encoder.module, quantize, threads, fuse),
                                               batch_size=batch_size, sort=True, inference_mode=True))
            for key, setting, fuse, quantize in ONNX_STEPS]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine between two arrays of vectors of the same shape."""
    na = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-9)
    nb = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-9)
    return (na * nb).sum(1)


def min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Smallest row-wise cosine between two arrays of vectors (1.0 for empty input)."""
    return float(cosines(a, b).min()) if len(a) else 1.0


def measure_steps(encoder: SentenceEncoder, sentences: Sequence[str], threads: Sequence[int] = (1,),
                  articles: int | None = None, batch_size: int = LADDER_BATCH, repeats: int = 2,
                  onnx: bool = True, keep_vectors: bool = False) -> dict:
    """Time every step of the ladder on ``sentences`` at each thread count; rows in ladder order per thread count.

    ``encoder`` must hold the torch module (not an ONNX one). ``articles`` is the number of articles the sentences
    came from (for articles/s). ``onnx`` adds rows (g)-(i) when onnxruntime is importable; (j) always runs. ``keep_vectors`` puts each
    row's vectors in the result under ``vectors[(key, threads)]`` (for tests). The torch thread count is restored.
    """
    sentences = list(sentences)
    if not sentences:
        raise ValueError("no sentences to measure")
    threads = sorted(set(int(t) for t in threads))
    result: dict = {"sentences": len(sentences), "articles": articles, "batch_size": batch_size, "threads": threads,
                    "repeats": repeats, "rows": [], "notes": []}
    vectors: dict[tuple[str, int], np.ndarray] = {}
    want_onnx = onnx and onnx_available()
    if onnx and not want_onnx:
        result["notes"].append("(g)-(i) skipped: onnxruntime is not installed (pip install -e '.[onnx]')")
    reference: np.ndarray | None = None
    previous = torch.get_num_threads()
    try:
        for n in threads:
            torch.set_num_threads(n)
            steps = ladder(encoder, batch_size)
            if want_onnx:
                steps.extend(onnx_steps(encoder, n, batch_size))
            steps.append(bf16_step(encoder, batch_size))
            base_rate = None
            for step in steps:
                step.embed(sentences[:4])  # warm-up: the first calls allocate
                seconds, out = float("inf"), None
                for _ in range(max(1, repeats)):
                    start = time.perf_counter()
                    out = step.embed(sentences)
                    seconds = min(seconds, time.perf_counter() - start)
                if reference is None:
                    reference = out
                rate = len(sentences) / seconds
                base_rate = base_rate or rate
                row = {"key": step.key, "setting": step.setting, "threads": n, "seconds": seconds,
                       "sentences_per_s": rate, "ratio_vs_a": rate / base_rate,
                       "min_cosine_vs_a": min_cosine(reference, out),
                       "mean_cosine_vs_a": float(cosines(reference, out).mean())}
                if articles:
                    row["articles_per_s"] = articles / seconds
                result["rows"].append(row)
                if keep_vectors:
                    vectors[(step.key, n)] = out
    finally:
        torch.set_num_threads(previous)
    if len(threads) > 1:
        e = {r["threads"]: r["sentences_per_s"] for r in result["rows"] if r["key"] == "e"}
        lo, hi = threads[0], threads[-1]
        result["thread_gain"] = {"from": lo, "to": hi, "ratio": e[hi] / e[lo]}
    if keep_vectors:
        result["vectors"] = vectors
    return result


def shared_pass_effect(tasks: dict) -> dict | None:
    """From the per-task rows of ``run_bench``: full analysis (one shared encoder pass) against running the three
    tasks one after another (the sum of their per-article times), for NewsLens and the baseline."""
    if not all(t in tasks for t in ("full", "stance", "event", "summary")):
        return None
    out = {}
    for who in ("newslens", "baseline"):
        full = 1.0 / tasks["full"][f"{who}_articles_per_s"]
        separate = sum(1.0 / tasks[t][f"{who}_articles_per_s"] for t in ("stance", "event", "summary"))
        out[who] = {"full_s_per_article": full, "separate_s_per_article": separate, "gain": separate / full}
    return out


def format_steps(steps: dict) -> str:
    threads = steps["threads"]
    head = f"{'step setting':<50}"
    for n in threads:
        head += f"{f'{n} thr sent/s':>15}{'vs (a)':>8}"
    head += f"{'min cos':>9}{'mean cos':>10}"
    lines = [f"speed steps: {steps['sentences']} sentences of {steps['articles']} articles, shared encoder alone",
             head]
    by_key: dict[str, dict[int, dict]] = {}
    for row in steps["rows"]:
        by_key.setdefault(row["key"], {})[row["threads"]] = row
    for key, rows in by_key.items():
        first = next(iter(rows.values()))
        line = f"({key}) {first['setting']:<46}"
        for n in threads:
            row = rows.get(n)
            line += f"{row['sentences_per_s']:>15.1f}{row['ratio_vs_a']:>7.2f}x" if row else f"{'-':>15}{'':>8}"
        line += (f"{min(r['min_cosine_vs_a'] for r in rows.values()):>9.4f}"
                 f"{min(r.get('mean_cosine_vs_a', 1.0) for r in rows.values()):>10.4f}")
        lines.append(line)
    gain = steps.get("thread_gain")
    if gain:
        lines.append(f"(f) threads: (e) at {gain['to']} threads is {gain['ratio']:.2f}x (e) at {gain['from']} thread")
    else:
        lines.append(f"(f) threads: only {threads[0]} thread measured (run without --threads for 1 vs all cores)")
    lines.extend(steps.get("notes", []))
    return "\n".join(lines)


def format_shared(shared: dict) -> str:
    ours, base = shared["newslens"], shared["baseline"]
    return (f"shared pass: full analysis {1000 * ours['full_s_per_article']:.0f} ms/article vs stance, event and "
            f"summary run separately {1000 * ours['separate_s_per_article']:.0f} ms ({ours['gain']:.2f}x); "
            f"baseline (no sharing) {base['gain']:.2f}x")
