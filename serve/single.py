"""`newslens predict ARTICLE.txt` (or `-` for standard input): one article, read whole, with the analysis printed
for a person (or as JSON) instead of a results table. The file's first line is its headline when a blank line
follows it, as in seeds/; ``--headline`` and ``--claim`` say it explicitly."""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import BinaryIO, Sequence

from model.analyzer import Analysis, ClaimStance
from model.errors import InputError
from model.text import MAX_ARTICLE_CHARS

SINGLE_SUFFIXES = (".txt", ".text", ".md")
# UTF-8 spends at most 4 bytes on a character, so more bytes than this are surely over the analyzer's own limit;
# shorter files are left to it (clean_article names the length). This only stops reading a huge file whole.
MAX_ARTICLE_BYTES = 4 * MAX_ARTICLE_CHARS
WIDTH = 100
LONG_ARTICLE_BYTES = 200_000  # about 30k words: a note says the analysis will take a while


def is_single_article(path: Path) -> bool:
    return str(path) == "-" or (path.suffix.lower() in SINGLE_SUFFIXES and not path.is_dir())


def read_article(path: Path) -> bytes:
    """The raw bytes of one article (the analyzer decodes them and names a wrong encoding or binary content)."""
    hint = " (for many articles use a CSV, JSONL or Parquet file, or a folder)"
    if str(path) == "-":
        return read_capped(sys.stdin.buffer, "standard input", hint)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with path.open("rb") as handle:
        return read_capped(handle, str(path), hint)


def read_capped(handle: BinaryIO, where: str, hint: str = "") -> bytes:
    """All of ``handle``, or InputError when it holds more bytes than one article can have (only that much is read)."""
    raw = handle.read(MAX_ARTICLE_BYTES + 1)
    if len(raw) > MAX_ARTICLE_BYTES:
        raise InputError(f"{where}: more than {MAX_ARTICLE_BYTES:,} bytes, over the limit of {MAX_ARTICLE_CHARS:,} "
                         f"characters for one article{hint}")
    return raw


def _probabilities(probs: dict[str, float]) -> str:
    return "  ".join(f"{label} {p:.2f}" for label, p in sorted(probs.items(), key=lambda kv: -kv[1]))


def threshold_text(threshold: float) -> str:
    """The gate's threshold as it was tuned (a 0.025 grid: 0.1, 0.275), without rounding it onto another value."""
    return f"{threshold:.3f}".rstrip("0").rstrip(".")


def related_text(related: float, threshold: float, digits: int = 2) -> str:
    """P(related) with ``digits`` decimals, or as many more as it takes to stay on its side of the threshold (0.0996
    against 0.1 reads 0.0996, not 0.10)."""
    for digits in range(digits, 6):
        text = f"{related:.{digits}f}"
        if (float(text) >= threshold) == (related >= threshold):
            return text
    return text


def stance_scores(stance: ClaimStance) -> str:
    """A claim's scores as the model decides: P(related) against the gate's threshold, then the related labels'
    probabilities given related (all four joint probabilities for a model without a gate)."""
    if stance.related is None or stance.related_threshold is None:
        return _probabilities(stance.probabilities)
    side = "related from" if stance.related >= stance.related_threshold else "unrelated below"
    threshold = stance.related_threshold
    text = f"related {related_text(stance.related, threshold)} ({side} {threshold_text(threshold)})"
    return text + (f"; if related: {_probabilities(stance.if_related)}" if stance.if_related else "")


def _wrapped(text: str, indent: str) -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent)


def format_analysis(analysis: Analysis, tasks: Sequence[str], load_seconds: float | None = None) -> str:
    """A plain-text report of the ``tasks`` that ran: stance per claim (with its evidence), event type, summary,
    notes and timings (and, given ``load_seconds``, how long the models took to load before)."""
    lines = [analysis.headline or "(no headline)", ""]
    if analysis.stances:
        lines.append("Stance")
        for stance in analysis.stances:
            lines.append(_wrapped(f"{stance.label.upper()}: {stance.claim}", "  "))
            lines.append(_wrapped(stance_scores(stance), "    "))
            for sentence in stance.evidence[:3]:
                lines.append(_wrapped(f"> {sentence}", "    "))
        lines.append("")
    elif "stance" in tasks:
        lines += [_wrapped("Stance: no claim to judge. Give --claim or --headline, or start the file with its headline "
                           "(one line of 2-25 words without a final full stop), a blank line, then the article; a "
                           "file of one line is read as the article, not as a headline.", ""), ""]
    if analysis.event is not None:
        top = sorted(analysis.event.scores.items(), key=lambda kv: -kv[1])
        runners = ", ".join(f"{label} {score:.2f}" for label, score in top[1:3])
        lines += [f"Event type: {analysis.event.label} ({top[0][1]:.2f}; next: {runners})", ""]
    if analysis.summary is not None:
        lines.append(f"Summary ({analysis.summary.mode})")
        lines.append(_wrapped(analysis.summary.text, "  "))
        if analysis.summary.note:
            lines.append(_wrapped(f"note: {analysis.summary.note}", "  "))
        lines.append("")
    for task, reason in analysis.unavailable.items():
        lines.append(f"{task}: not available ({reason})")
    total = sum(analysis.timings.values())
    lines.append(f"Took {total:.2f} s (" + ", ".join(f"{k} {v:.2f}" for k, v in analysis.timings.items()) + ")"
                 + ("" if load_seconds is None else f", after {load_seconds:.1f} s loading the models"))
    return "\n".join(lines)


def predict_single(analyzer, raw: bytes, headline: str | None, claims: Sequence[str], tasks: Sequence[str],
                   summary_mode: str, output: Path | None, as_json: bool) -> int:
    """Analyse one article (``raw``, from ``read_article``); print the report (or JSON), or write JSON to ``output``."""
    if len(raw) > LONG_ARTICLE_BYTES:  # every sentence is read: say why the wait is long
        print(f"newslens: a long article ({len(raw) / 1e6:.1f} MB): every sentence is read, which can take a "
              "minute on a small CPU", file=sys.stderr, flush=True)
    analysis = analyzer.analyze(raw, headline=headline or None, claims=list(claims), tasks=tasks,
                                summary_mode=summary_mode)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)  # as batch output and evaluate --output do
        output.write_text(json.dumps(analysis.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    elif as_json:
        print(json.dumps(analysis.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_analysis(analysis, tasks, analyzer.load_seconds))
    return 0
