"""Model-folder flags shared by `newslens demo` and `newslens predict`, and the spec they resolve to."""
from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

from model.backends import BACKEND_HELP, BACKENDS

OFF = "none"


@dataclass(frozen=True)
class ModelSpec:
    """Which task models to load: a shipped name, a folder, or None to switch the task off.

    Kept as plain strings so the spec can be pickled to other processes (Ray workers) that load their own copy.
    """

    stance: str | None = "stance"
    event: str | None = "event"
    summary: str | None = "summary-extractive"
    abstractive: str | None = "summary-abstractive"
    threads: int | None = None
    article_cache: int = 256
    runtime: str = "auto"  # how the encoders run: see model/backends.py
    read_unrelated_pairs: bool = True  # see Analyzer; `newslens predict` skips them unless --read-unrelated-pairs

    def load(self, progress: bool = True, lazy_language_model: bool = False):
        """Build the Analyzer (imports torch lazily so `--help` stays fast); ``progress=False`` hides the
        weight-loading bars, for output meant to be read; ``lazy_language_model``: see ``Analyzer``."""
        from model.analyzer import Analyzer

        if not progress:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()

        return Analyzer(stance=self.stance, event=self.event, summary=self.summary, threads=self.threads,
                        abstractive=self.abstractive, article_cache=self.article_cache, backend=self.runtime,
                        lazy_language_model=lazy_language_model, read_unrelated_pairs=self.read_unrelated_pairs)


    def for_tasks(self, tasks: Sequence[str] | None) -> "ModelSpec":
        """This spec with the task models outside ``tasks`` switched off (None: every task), so a run loads only
        what it uses (and a task model on another encoder does not clash with one it does not need)."""
        if tasks is None:
            return self
        return replace(self, stance=self.stance if "stance" in tasks else None,
                       event=self.event if "event" in tasks else None,
                       summary=self.summary if "summary" in tasks else None,
                       abstractive=self.abstractive if "summary" in tasks else None)


def _folder_or_off(value: str) -> str | None:
    return None if value.strip().lower() == OFF else str(Path(value).expanduser())


def add_model_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("models (a folder, a shipped name, or 'none' to switch the task off)")
    group.add_argument("--stance-model", default="stance", metavar="FOLDER",
                       help="default: shipped weights/stance; stance-fast: the faster MiniLM pair classifier "
                            "(weights/stance-fast)")
    group.add_argument("--event-model", default="event", metavar="FOLDER",
                       help="default: shipped weights/event; event-fast: the faster MiniLM-only model "
                            "(weights/event-fast)")
    group.add_argument("--summary-model", default="summary-extractive", metavar="FOLDER",
                       help="default: shipped weights/summary-extractive")
    group.add_argument("--abstractive-model", default="summary-abstractive", metavar="FOLDER",
                       help="generator adapter for --summary-mode abstractive, loaded on first use "
                            "(default: shipped weights/summary-abstractive)")
    group.add_argument("--threads", type=int, default=None, help="torch threads (0 or default: all cores)")
    group.add_argument("--runtime", choices=BACKENDS, default="auto", help="run the encoders with " + BACKEND_HELP)


def model_spec_from_args(args: argparse.Namespace) -> ModelSpec:
    from model.encoder import check_threads

    check_threads(args.threads)
    # Shipped names stay bare so the Analyzer can tell "not shipped yet" (a note) from "wrong path" (an error).
    def pick(value: str, shipped: str) -> str | None:
        return shipped if value == shipped else _folder_or_off(value)

    return ModelSpec(stance=pick(args.stance_model, "stance"), event=pick(args.event_model, "event"),
                     summary=pick(args.summary_model, "summary-extractive"),
                     abstractive=pick(args.abstractive_model, "summary-abstractive"), threads=args.threads,
                     runtime=args.runtime)
