"""`newslens predict`: stance, event type and summary for every row of a CSV, JSONL or Parquet file, or for
every article file in a folder.

Usage::

    newslens predict articles.csv -o results.jsonl --text-column article --id-column url
    newslens predict big.parquet -o results.parquet --tasks event,summary --chunk-size 128
    newslens predict articles.jsonl -o results.csv --claims-column claims --resume   # after Ctrl-C or a crash
    newslens predict news/ -o results.csv   # every .txt, .text or .md file under news/, its path as id

The input is read in chunks (record by record for CSV, line by line for JSONL, row groups for Parquet), so memory stays
flat however long the file is. Named columns must be in the CSV/TSV header, the Parquet schema, or the keys of a
JSONL file's first 1,000 rows. Every input row yields exactly one output row, in input order, with its id (the
0-based row number when there is no id column); a row that cannot be analysed gets an ``error`` and the run goes
on. An id on more than one row is a warning in the summary, which names the first few with their rows (the ids
seen are kept in memory for this; a resumed run reads back those already written, and says so first). A row whose
id could not be read is left out of that check: an empty id, or the row number that a JSONL line that is not JSON,
or a CSV record with the wrong field count, gets in its place. Output format follows the suffix of OUTPUT (.jsonl,
.csv, .parquet); list and dict fields are JSON strings in CSV. A folder's rows are its
article files (subfolders included, hidden ones left out), in the order of their relative paths, which are their
ids (a path cannot repeat, so a folder's ids are never checked); each file is read like
`newslens predict ARTICLE.txt`. Claims come from a list column, a JSON list, or text with claims separated by
" || "; without claims the headline is the claim. Exit status: 0 every row ok, 1 some rows failed, 2 fatal (no
file, missing column).

While running, rows go to OUTPUT.partial (Parquet: OUTPUT.parts/) and progress to OUTPUT.progress.json after
every chunk; OUTPUT appears when the run completes. ``--resume`` continues an interrupted run exactly where the
last complete chunk ended: no row is duplicated or dropped.

``--backend ray`` runs the same per-chunk function on Ray actors, one per worker with its own models
(serve/batch_ray.py; ``pip install 'newslens[ray]'``), on a local Ray cluster bound to 127.0.0.1; reading, writing
and resume stay in this process::

    newslens predict articles.jsonl -o results.jsonl --backend ray --workers 4
"""
from __future__ import annotations

import argparse
import itertools
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, ContextManager, Iterator, Sequence

from model.analyzer import (SUMMARY_MODES, TASKS, Analysis, Analyzer, ArticleInput, check_task_names,
                            prepare_article)
from model.errors import InputError
from model.storage import check_writable
from serve.batch_read import INPUT_HINT, INPUT_SUFFIXES, BatchInput, Columns, InputRow, check_input, suffix_of
from serve.batch_write import MAX_EXAMPLE_ROWS, OUTPUT_FIELDS, OUTPUT_SUFFIXES, RunState, in_progress_path, open_writer
from serve.model_flags import ModelSpec, add_model_flags, model_spec_from_args

BACKENDS = ("local", "ray")
DEFAULT_CHUNK_SIZE, DEFAULT_WORKERS = 64, 2
Records = list[dict]
ChunkRunner = Callable[[Iterator[list[InputRow]]], Iterator[Records]]


def batch_backend(value: str) -> str:
    """--backend's value; an encoder runtime given here (as evaluate and bench spell it) is pointed to --runtime."""
    from model.backends import BACKENDS as RUNTIMES

    if value in BACKENDS:
        return value
    if value in RUNTIMES:
        raise argparse.ArgumentTypeError(f"{value!r} is an encoder runtime: predict takes it as --runtime {value} "
                                         "(--backend is local or ray)")
    raise argparse.ArgumentTypeError(f"invalid choice: {value!r} (choose from 'local', 'ray')")


@dataclass
class BatchConfig:
    """One `newslens predict` run.

    tasks: None means every task whose model is loaded; naming a task whose model is missing is a fatal error.
    chunk_size: rows per analyze_batch call and per resume checkpoint.
    workers: Ray workers (``backend="ray"`` only); each loads its own copy of the models.
    """

    input: Path
    output: Path
    columns: Columns = field(default_factory=Columns)
    tasks: tuple[str, ...] | None = None
    summary_mode: str = "extractive"
    chunk_size: int = DEFAULT_CHUNK_SIZE
    resume: bool = False
    backend: str = "local"
    workers: int = DEFAULT_WORKERS
    progress: bool = True

    def __post_init__(self):
        self.input, self.output = Path(self.input), Path(self.output)
        if self.chunk_size < 1:
            raise InputError("--chunk-size must be at least 1")
        if self.backend not in BACKENDS:
            raise InputError(f"unknown backend '{self.backend}'; choose from {', '.join(BACKENDS)}")
        if self.summary_mode not in SUMMARY_MODES:
            raise InputError(f"unknown summary mode '{self.summary_mode}'; choose from {', '.join(SUMMARY_MODES)}")
        check_tasks(self.tasks)
        if self.workers < 1:
            raise InputError("--workers must be at least 1")
        suffix_of(self.output, OUTPUT_SUFFIXES, "output")
        if self.output.resolve() == self.input.resolve():
            raise InputError(f"{self.output}: the output would overwrite the input; name another file")


def check_tasks(tasks: Sequence[str] | None) -> None:
    """InputError for an empty --tasks or a task name NewsLens does not have (None: every task, is fine)."""
    if tasks is None:
        return
    if not tasks:
        raise InputError(f"--tasks names no task; choose one or more of {', '.join(TASKS)}, or leave it out for all")
    check_task_names(tasks)


@dataclass
class BatchReport:
    output: Path
    rows: int
    failed: int
    errors: dict[str, int]
    error_rows: dict[str, list[int]]
    resumed_from: int
    seconds: float
    skipped_tasks: dict[str, str]
    repeated_ids: int = 0  # ids on more than one row (counted only with an id column)
    repeated_id_rows: dict[str, list[int]] = field(default_factory=dict)  # the first few, with their rows

    @property
    def exit_status(self) -> int:
        return 1 if self.failed else 0

    def summary(self) -> str:
        lines = [f"{self.rows:,} rows -> {self.output}: {self.rows - self.failed:,} ok, {self.failed:,} failed"
                 + (f" (resumed after row {self.resumed_from:,})" if self.resumed_from else "")]
        for task, reason in self.skipped_tasks.items():
            lines.append(f"  {task} not run: {reason}")
        if self.repeated_ids:
            lines.append(self._repeated_ids_warning())
        for message, count in sorted(self.errors.items(), key=lambda kv: -kv[1]):
            examples = ", ".join(map(str, self.error_rows.get(message, [])))
            lines.append(f"  {count:,} x {message} ({'row' if count == 1 else 'rows'} {examples}"
                         f"{', ...' if count > 5 else ''})")
        if self.errors or self.repeated_ids:
            lines.append("  (rows are the output's row numbers, counted from 0)")
        return "\n".join(lines)

    def _repeated_ids_warning(self) -> str:
        """2 ids appear more than once: 'a' (rows 0, 4), 'b' (rows 1, 2, 3, 5, 6, ...) (all their rows ...)."""
        shown = []
        for row_id, rows in self.repeated_id_rows.items():
            more = ", ..." if len(rows) > MAX_EXAMPLE_ROWS else ""
            shown.append(f"{_shown_id(row_id)} (rows {', '.join(map(str, rows[:MAX_EXAMPLE_ROWS]))}{more})")
        if self.repeated_ids > len(shown):
            shown.append("...")
        count = self.repeated_ids
        return (f"  warning: {count:,} {'ids appear' if count > 1 else 'id appears'} more than once: "
                f"{', '.join(shown)} (all their rows are analysed and in the output; the row column tells them apart)")


def _shown_id(row_id: str, limit: int = 40) -> str:
    return repr(row_id) if len(row_id) <= limit else repr(row_id[:limit]) + "..."


# ---------------------------------------------------------------- the per-chunk function

def error_record(row: InputRow, message: str) -> dict:
    """Every field present (None) so each output format has the same columns on every row."""
    return {**dict.fromkeys(OUTPUT_FIELDS), "row": row.row, "id": row.id, "error": message}


def result_record(row: InputRow, analysis: Analysis, tasks: Sequence[str]) -> dict:
    stance_ran = "stance" in tasks
    summary = analysis.summary
    return {
        "row": row.row, "id": row.id, "headline": analysis.headline,
        "claims": [s.claim for s in analysis.stances] if stance_ran else None,
        "stance_labels": [s.label for s in analysis.stances] if stance_ran else None,
        "stance_probabilities": [s.probabilities for s in analysis.stances] if stance_ran else None,
        "stance_related": [s.related for s in analysis.stances] if stance_ran else None,
        "event_label": analysis.event.label if analysis.event else None,
        "event_scores": analysis.event.scores if analysis.event else None,
        "summary": summary.text if summary else None, "summary_mode": summary.mode if summary else None,
        "summary_note": summary.note or None if summary else None, "error": None,
    }


def predict_rows(analyzer: Analyzer, rows: Sequence[InputRow], tasks: Sequence[str], summary_mode: str) -> Records:
    """One output record per input row, in order: bad rows get ``error``, the rest share encoder batches."""
    records: list[dict | None] = [None] * len(rows)
    ready: list[tuple[int, ArticleInput]] = []
    for i, row in enumerate(rows):
        if row.error:
            records[i] = error_record(row, row.error)
            continue
        item = ArticleInput(row.article, row.headline, row.claims)
        try:
            prepare_article(item)
        except InputError as err:
            records[i] = error_record(row, str(err))
            continue
        ready.append((i, item))
    if ready:
        for (i, _), outcome in zip(ready, _analyze_isolating_failures(analyzer, [it for _, it in ready], tasks,
                                                                         summary_mode)):
            records[i] = (error_record(rows[i], outcome) if isinstance(outcome, str)
                          else result_record(rows[i], outcome, tasks))
    return records  # type: ignore[return-value]


def _analyze_isolating_failures(analyzer: Analyzer, items: list[ArticleInput], tasks: Sequence[str],
                                summary_mode: str) -> list[Analysis | str]:
    """The whole chunk in one call; if that fails, article by article so one bad row cannot sink the others."""
    try:
        return list(analyzer.analyze_batch(items, tasks, summary_mode))
    except Exception:  # noqa: BLE001 - retried per article below, where each failure is recorded
        pass
    outcomes: list[Analysis | str] = []
    for item in items:
        try:
            outcomes.append(analyzer.analyze_batch([item], tasks, summary_mode)[0])
        except InputError as err:
            outcomes.append(str(err))
        except Exception as err:  # noqa: BLE001 - a model failure on one row must not stop the run
            outcomes.append(f"analysis failed ({type(err).__name__}: {err})")
    return outcomes


def local_runner(analyzer: Analyzer, tasks: Sequence[str], summary_mode: str,
                 lock: ContextManager | None = None) -> ChunkRunner:
    """Chunks analysed in this process; ``lock`` serialises model use with other callers (the demo)."""
    def run(chunks: Iterator[list[InputRow]]) -> Iterator[Records]:
        for chunk in chunks:
            with lock or nullcontext():
                records = predict_rows(analyzer, chunk, tasks, summary_mode)
            yield records

    return run


# ---------------------------------------------------------------- the run

def choose_tasks(requested: Sequence[str] | None,
                 unavailable: dict[str, str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """The tasks to run and the ones skipped (with why); asking for a task without a model is fatal."""
    if requested is not None:
        missing = {t: unavailable[t] for t in requested if t in unavailable}
        if missing:
            raise InputError("no model for " + "; ".join(f"{t} ({why})" for t, why in missing.items()))
        return tuple(requested), {}
    tasks = tuple(t for t in TASKS if t not in unavailable)
    if not tasks:
        raise InputError("no task model is loaded: " + "; ".join(f"{t}: {why}" for t, why in unavailable.items()))
    return tasks, {t: why for t, why in unavailable.items() if t in TASKS}


def _models_used(spec: ModelSpec, tasks: Sequence[str], summary_mode: str) -> dict:
    """The models (shipped names, or folders as absolute paths) and runtime that answer ``tasks``."""
    named = {"stance": spec.stance, "event": spec.event, "summary": spec.summary}
    used = {task: name for task, name in named.items() if task in tasks}
    if "summary" in tasks and summary_mode == "abstractive":
        used["abstractive"] = spec.abstractive
    used = {task: _model_identity(name) for task, name in used.items()}
    return {**used, "runtime": spec.runtime, "read_unrelated_pairs": spec.read_unrelated_pairs}


def _model_identity(name: str | None) -> str | None:
    """A model folder as an absolute path (a shipped name stays bare) with a hash of its config.json, which a
    retraining into the same folder rewrites (labels, training record): a resumed run must not mix two models."""
    import hashlib

    from model.analyzer import task_folder

    if not name:
        return name
    folder = task_folder(name)
    config = folder / "config.json"
    shown = str(Path(name).resolve()) if Path(name).exists() else name
    if not config.is_file():
        return shown
    return f"{shown} (config sha256 {hashlib.sha256(config.read_bytes()).hexdigest()[:16]})"


def _fingerprint(config: BatchConfig, tasks: Sequence[str], source: BatchInput | None = None,
                 model_spec: ModelSpec | None = None) -> dict:
    """What a resumed run must find unchanged. ``source``: the checked input, whose folder listing is reused;
    ``model_spec``: the models, so that a resumed file never mixes two models' answers."""
    if config.input.is_dir():
        from serve.batch_folder import folder_fingerprint

        files = {"input_files": folder_fingerprint(config.input, source.files if source else None)}
    else:
        stat = config.input.stat()
        files = {"input_bytes": stat.st_size, "input_mtime_ns": stat.st_mtime_ns}
    return {"input": str(config.input.resolve()), **files,
            "columns": asdict(config.columns), "tasks": list(tasks), "summary_mode": config.summary_mode,
            "output_fields": list(OUTPUT_FIELDS),  # a version that writes other columns cannot append to this file
            **({"models": _models_used(model_spec, tasks, config.summary_mode)} if model_spec else {})}


def _start_state(config: BatchConfig, fingerprint: dict) -> tuple[RunState, bool]:
    """The saved state when resuming (checked against this run), else a new one. Returns (state, resumed)."""
    saved = RunState.load(config.output)
    if saved is None:
        if config.resume and config.output.exists():
            raise InputError(f"nothing to resume: {config.output} is a finished run (no progress file); "
                             "leave out --resume to run again and overwrite it")
        return RunState(fingerprint), False
    if not config.resume:
        raise InputError(f"an unfinished run into {config.output} exists ({saved.rows_done:,} rows done); "
                         f"pass --resume to continue it, or delete {RunState.path_for(config.output)} to start over")
    changed = [k for k in fingerprint if saved.fingerprint.get(k) != fingerprint[k]]
    if changed:
        raise InputError(f"cannot resume: {', '.join(changed)} differ from the interrupted run; "
                         f"delete {RunState.path_for(config.output)} to start over")
    return saved, True


def run_batch(config: BatchConfig, analyzer: Analyzer, *, model_spec: ModelSpec | None = None,
              lock: ContextManager | None = None,
              on_progress: Callable[[int, int | None], None] | None = None) -> BatchReport:
    """Analyse every row of ``config.input`` into ``config.output``. Fatal problems raise InputError;
    bad rows are recorded in the output and the report. ``model_spec`` is needed for the Ray backend."""
    started = time.perf_counter()
    tasks, skipped = choose_tasks(config.tasks, analyzer.unavailable)
    if config.backend == "ray":
        if model_spec is None:
            raise InputError("the Ray backend needs the model spec to load models in its workers")
        from serve.batch_ray import ray_runner

        runner = ray_runner(model_spec, tasks, config.summary_mode, config.workers)
    else:
        runner = local_runner(analyzer, tasks, config.summary_mode, lock)
    source = check_input(config.input, config.columns)  # the one look at the input this run takes before reading
    state, resumed = _start_state(config, _fingerprint(config, tasks, source, model_spec))
    resumed_from = state.rows_done if resumed else 0
    # A run stopped after its final rename has nothing left to do but forget its state.
    finished = resumed and state.finishing and config.output.exists() and not in_progress_path(config.output).exists()
    if not finished:
        _write_rows(config, source, runner, state, resumed, on_progress)
    RunState.remove(config.output)
    return _report(config, state, resumed_from, started, skipped)


def _write_rows(config: BatchConfig, source: BatchInput, runner: ChunkRunner, state: RunState, resumed: bool,
                on_progress: Callable[[int, int | None], None] | None) -> None:
    """Stream the rows not yet done through ``runner`` into the output, saving progress after every chunk."""
    from tqdm import tqdm

    chunks = source.chunks(config.chunk_size, skip=state.rows_done)
    # The first chunk is read before anything is written, so a problem found there leaves no files behind.
    first = next(chunks, None)
    chunks = itertools.chain([first], chunks) if first is not None else iter(())
    writer = open_writer(config.output, state.position if resumed else None)
    check_ids = config.columns.id is not None  # row numbers and a folder's paths cannot repeat
    if resumed and check_ids and state.rows_done:  # the ids of the rows written before the stop, to find repeats
        # across it: this reads the whole partial output (every part of a Parquet one), so say what takes the time
        rows = f"{state.rows_done:,} row{'s' * (state.rows_done != 1)}"
        print(f"newslens: reading back the ids of the {rows} already written, for the repeated-id check...",
              file=sys.stderr, flush=True)
        state.count_ids(writer.written_ids())
    if not resumed:
        state.position = writer.position
        state.save(config.output)
    total = source.count_rows()
    bar = tqdm(total=total, initial=state.rows_done, unit="rows", disable=not config.progress, file=sys.stderr,
               dynamic_ncols=True, smoothing=0.1)
    try:
        for records in runner(chunks):
            writer.write(records)
            state.record(records, writer.position, check_ids)
            state.save(config.output)
            bar.update(len(records))
            if on_progress:
                on_progress(state.rows_done, total)
    finally:
        writer.close()
        bar.close()
    state.finishing = True
    state.save(config.output)
    writer.finish()


def _report(config: BatchConfig, state: RunState, resumed_from: int, started: float,
            skipped: dict[str, str]) -> BatchReport:
    return BatchReport(config.output, state.rows_done, state.failed, dict(state.errors), dict(state.error_rows),
                       resumed_from, time.perf_counter() - started, skipped, state.repeated_ids,
                       dict(state.repeated_id_rows))


# ---------------------------------------------------------------- CLI

def _task_list(text: str) -> tuple[str, ...]:
    return tuple(t for t in text.replace(",", " ").split() if t)


def add_predict_parser(sub) -> None:
    parser = sub.add_parser("predict", help="analyse one article (.txt), every row of a CSV, JSONL or Parquet file, "
                                            "or every article file in a folder",
                            description="Stance, event type and summary for one article (a .txt file, or - for "
                                        "standard input: the report is printed), for every row of a table, or for "
                                        "every .txt, .text or .md file in a folder; "
                                        "see `python -c 'import serve.batch; help(serve.batch)'` for details.")
    parser.add_argument("input", type=Path,
                        help="a .csv, .tsv, .jsonl or .parquet file, a folder of article files, "
                             "or one article: a .txt file or - (stdin)")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="results file: .jsonl, .csv or .parquet (required for a table or a folder; for one article, "
                             "a .json file instead of the printed report)")
    single = parser.add_argument_group("one article (.txt or -)")
    single.add_argument("--headline", default=None,
                        help="the article's headline (default: its first line, when a blank line follows it)")
    single.add_argument("--claim", action="append", default=[], metavar="TEXT",
                        help="a claim to judge the article's stance on; repeat for several (default: the headline)")
    single.add_argument("--json", action="store_true", help="print the analysis as JSON instead of the report")
    parser.add_argument("--tasks", type=_task_list, default=None,
                        help=f"comma-separated subset of {','.join(TASKS)} (default: every task with a model)")
    parser.add_argument("--summary-mode", choices=SUMMARY_MODES, default="extractive",
                        help="extractive (default): sentences picked from the article; abstractive: one generated "
                             "sentence (withheld for the extractive one when it names something the article does "
                             "not); none")
    table = parser.add_argument_group("a table or a folder (columns: tables only)")
    table.add_argument("--text-column", default=Columns.text,
                       help=f"column with the article text (default: {Columns.text})")
    table.add_argument("--headline-column", default=None, help="column with the headline (optional)")
    table.add_argument("--claims-column", default=None,
                       help="column with claims: a list, a JSON list, or claims separated by ' || ' (optional)")
    table.add_argument("--id-column", default=None, help="column with row ids (default: the 0-based row number)")
    table.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE,
                       help=f"rows per model batch and per checkpoint (default: {DEFAULT_CHUNK_SIZE})")
    table.add_argument("--resume", action="store_true", help="continue an interrupted run into the same OUTPUT")
    table.add_argument("--read-unrelated-pairs", action="store_true",
                       help="also run the stance pair classifier on claims the relatedness gate calls unrelated (their "
                            "label stays unrelated; their agree/disagree/discuss probabilities then say what it would "
                            "answer were they related). Default for files: skipped, several times faster on pair files "
                            "such as FNC-1's, and those probabilities split P(related) evenly")
    table.add_argument("--backend", type=batch_backend, default="local", metavar="{local,ray}",
                       help="local (default) or ray (one Ray actor per worker, on 127.0.0.1); the encoders' "
                            "torch/bf16/onnx choice is --runtime")
    table.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                       help=f"Ray workers (with --backend ray; default: {DEFAULT_WORKERS})")
    parser.add_argument("--quiet", action="store_true", help="no progress bars (rows, and the models' weight loading)")
    add_model_flags(parser)
    parser.set_defaults(handler=predict_command)


def _check_option_combinations(args: argparse.Namespace, single: bool) -> None:
    """InputError for options that would be silently ignored (``single``: one article, not a table or a folder),
    and a note for a summary mode without the summary task."""
    if single:
        ignored = [flag for flag, given in (("--resume", args.resume),
                                            ("--chunk-size", args.chunk_size != DEFAULT_CHUNK_SIZE),
                                            ("--workers", args.workers != DEFAULT_WORKERS),
                                            ("--backend", args.backend != "local"),
                                            ("--read-unrelated-pairs", args.read_unrelated_pairs),
                                            ("--text-column", args.text_column != Columns.text),
                                            ("--headline-column", args.headline_column),
                                            ("--claims-column", args.claims_column),
                                            ("--id-column", args.id_column)) if given]
        if ignored:
            verb = "applies" if len(ignored) == 1 else "apply"
            raise InputError(f"{', '.join(ignored)} {verb} to a table or a folder, not to one article"
                             + ("; give its headline with --headline and claims with --claim"
                                if {"--headline-column", "--claims-column"} & set(ignored) else ""))
    elif args.headline or args.claim or args.json:
        raise InputError("--headline, --claim and --json are for one article (.txt or -); for a table name its "
                         "columns with --headline-column and --claims-column")
    elif args.workers != DEFAULT_WORKERS and args.backend != "ray":
        raise InputError("--workers sets the Ray workers: give --backend ray too")
    if any(not claim.strip() for claim in args.claim):
        raise InputError("--claim is empty; give the claim's text")
    if args.headline is not None and not args.headline.strip():
        raise InputError("--headline is empty; give the headline's text, or leave it out to take the article's "
                         "first line when it reads as a headline")
    if args.tasks is not None and "summary" in args.tasks and args.summary_mode == "none" and len(args.tasks) == 1:
        raise InputError("--tasks summary with --summary-mode none leaves nothing to do")
    if args.tasks is not None and "summary" not in args.tasks and args.summary_mode != "extractive":
        print(f"newslens: note: --summary-mode {args.summary_mode} has no effect without the summary task",
              file=sys.stderr)


def predict_command(args: argparse.Namespace) -> int:
    from serve.single import is_single_article, predict_single, read_article

    check_tasks(args.tasks)  # the same rule for one article and for a batch, before anything is read
    single = is_single_article(args.input)
    _check_option_combinations(args, single)
    if args.output is not None:
        check_writable(args.output, "the results (-o)")
    if single:  # read and check everything the user gave before the models load
        if args.output is not None and args.output.suffix.lower() != ".json":
            raise InputError(f"{args.output}: one article's result is written as .json")
        raw = read_article(args.input)
        # one article: Gemma loads only if the event gate cannot answer it alone
        analyzer = model_spec_from_args(args).for_tasks(args.tasks).load(progress=False, lazy_language_model=True)
        tasks, _ = choose_tasks(args.tasks, analyzer.unavailable)
        return predict_single(analyzer, raw, args.headline, args.claim, tasks, args.summary_mode,
                              args.output, args.json)
    if not args.input.exists():
        raise InputError(f"{args.input}: input file or folder not found")
    if not args.input.is_dir():  # an unsupported type says so before asking for -o
        suffix_of(args.input, INPUT_SUFFIXES, "input", INPUT_HINT)
    if args.output is None:
        raise InputError(f"{args.input}: give -o/--output for the results of a table or a folder "
                         "(one article as a .txt file, or - for standard input, prints its report instead)")
    config = BatchConfig(
        input=args.input, output=args.output,
        columns=Columns(args.text_column, args.headline_column, args.claims_column, args.id_column),
        tasks=args.tasks, summary_mode=args.summary_mode, chunk_size=args.chunk_size, resume=args.resume,
        backend=args.backend, workers=args.workers, progress=not args.quiet)
    check_input(config.input, config.columns)  # fail fast, before the models load
    spec = replace(model_spec_from_args(args).for_tasks(args.tasks), read_unrelated_pairs=args.read_unrelated_pairs)
    # a run without the event task never loads Gemma; --quiet hides the weight-loading bars too
    analyzer = spec.load(progress=not args.quiet, lazy_language_model=True)
    try:
        report = run_batch(config, analyzer, model_spec=spec)
    except KeyboardInterrupt:
        # OUTPUT appears only when a run completes, so a file there now holds an earlier run's results
        earlier = (f" (the {config.output} there now holds an earlier run's results, not this run's)"
                   if config.output.exists() else "")
        print(f"newslens: stopped; rerun the same command with --resume to continue into {config.output}{earlier}",
              file=sys.stderr)
        raise
    print(report.summary(), file=sys.stderr)
    return report.exit_status
