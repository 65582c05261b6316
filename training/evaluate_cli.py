"""`newslens evaluate`: score a saved model on a named split or a user's file, print the table and write the
JSON report (with baselines, bootstrap intervals and a second model side by side on request)."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from model.backends import BACKEND_HELP, BACKENDS
from model.errors import InputError
from model.resolve import SHIPPED_WEIGHTS
from model.storage import atomic_write_text
from training.card import command_line
from training.cli_data import (TASKS, add_column_flags, load_event_data, load_stance_data, load_summary_data,
                               model_task, require_event_corpus, summary_user_file)
from training.paths import default_data_dir


def _split_help() -> str:
    """--split's help, built from the names `evaluate` accepts (training/data/splits.py)."""
    from training.data.event_audit import AUDIT_SPLITS
    from training.data.event_outside import OUTSIDE_SPLITS
    from training.data.splits import BUILT_SPLITS, CONTRADICTION_SPLITS, DEFAULT_SPLITS, FNC_SPLITS, OWN_HEADLINE_SPLITS

    built = "|".join(BUILT_SPLITS)
    return (f"a named split to score instead of --data. stance: {'|'.join(FNC_SPLITS)} of FNC-1 (default "
            f"{DEFAULT_SPLITS['stance']}), or {'|'.join(OWN_HEADLINE_SPLITS)} (BBC News Summary articles of that "
            "split with their own headline, agree by construction: the product's default claim), or "
            f"{'|'.join(CONTRADICTION_SPLITS)} (the same articles, each with a claim it contradicts: disagree by "
            "construction); "
            f"event: {built} of the built split (default {DEFAULT_SPLITS['event']}), "
            f"{'|'.join(AUDIT_SPLITS)} (the test texts whose mapped label a blind re-reading confirms, or every test "
            f"text against the blind label), or {'|'.join(OUTSIDE_SPLITS)} (hand-labelled FNC-1 news bodies, a "
            "corpus the event model never trains on; "
            f"-clear leaves out the close calls); summary: {built} of the BBC News Summary split (default "
            f"{DEFAULT_SPLITS['summary']})")


def add_evaluate_parser(sub) -> None:
    parser = sub.add_parser("evaluate", help="score a model on labelled data",
                            description="Score a saved model; prints a table (naming the data, the number scored and "
                                        "the backend that ran) and, with --output, writes JSON.")
    parser.add_argument("task", choices=TASKS)
    parser.add_argument("--model", help="model folder (default: the shipped weights for the task)")
    parser.add_argument("--split", help=_split_help())
    parser.add_argument("--data", type=Path, help="a labelled file (or FNC-1 style folder) instead of --split")
    parser.add_argument("--output", type=Path, help="write the report as JSON here (checked before the models load)")
    parser.add_argument("--predictions", type=Path, help="stance/event: write one JSON line per example here, to read "
                        "the errors: gold, predicted, confidence, and the claim and body id (FNC-1's Body ID, or for a "
                        "table the body's number in order of first appearance) or the text's first 300 characters")
    parser.add_argument("--seed", type=int, default=13, help="seed of the built event/summary splits (default 13)")
    parser.add_argument("--threads", type=int, help="torch threads (0 or default: all cores, at most 8)")
    parser.add_argument("--backend", choices=BACKENDS, default="torch",
                        help="run the encoders with " + BACKEND_HELP + " (default here: torch, so scores are fp32's). "
                             "The table and the report name the backend that ran, e.g. what auto chose")
    parser.add_argument("--record", action="store_true",
                        help="also add the result to the model card (README.md) and evaluation-<split>.json in the model folder")
    parser.add_argument("--baselines", action="store_true",
                        help="also train and score the TF-IDF baselines on the same training data (event with --data "
                             "FILE: the built corpus mix's train split, for a model with the nine event types)")
    parser.add_argument("--bootstrap", type=int, default=0, metavar="N",
                        help="stance/event: also report 95%% intervals from N resamples of the scored data (0: none; "
                             "1000 is usual): stance resamples whole stories, event single texts; with --baselines, "
                             "also the interval of the model's lead over each baseline (training/bootstrap.py)")
    parser.add_argument("--compare", type=Path, metavar="MODEL",
                        help="stance/event: also score this second model folder (same labels) on the same data and "
                             "backend, side by side; with --bootstrap, the paired interval of --model's lead over it")
    parser.add_argument("--kind", choices=("extractive", "abstractive"), default="extractive",
                        help="summary: which summariser to score (default extractive)")
    parser.add_argument("--limit", type=int, default=0,
                        help="score only the first N examples (0: all): stance pairs, event texts or summary "
                             "articles, in the order of the split or file (rows left out for empty cells not "
                             "counted). The table then says it scored a slice, whose scores are not comparable with "
                             "the whole split's")
    parser.add_argument("--opening", type=int, default=0, metavar="N",
                        help="event: score each text cut to its first N body sentences, headline left out (0: whole "
                             "texts), to see how the model reads short news snippets; the baselines score the same "
                             "cut texts and still train on whole ones")
    parser.add_argument("--chunks", type=int, default=0, metavar="N",
                        help="event: read each text as chunks (the text as the model reads it, then windows of N body "
                             "sentences after its first N, up to 12 in all) and label it by the mean of the chunks' "
                             "probabilities, instead of from its headline and opening (0: off): the other way to read "
                             "a long article; the baselines read the whole texts")
    parser.add_argument("--zero-shot", action="store_true",
                        help="summary --kind abstractive: also score the base generator without the adapter")
    add_column_flags(parser)
    parser.set_defaults(handler=run_evaluate)


def _model_folder(args) -> Path:
    from model.analyzer import task_folder  # a folder, or a shipped name (stance-fast), as predict takes them

    path = task_folder(args.model) if args.model else SHIPPED_WEIGHTS / model_task(args)
    if not (path / "config.json").exists():
        raise InputError(f"no {args.task} model at {path}; train one with `newslens train {args.task} --output DIR`")
    return path


def _check_evaluate_args(args: argparse.Namespace) -> None:
    """Refuse an unknown --split, a negative --limit or --threads, --limit with --record, an --output or --predictions
    that cannot be written and an event corpus folder with files missing, before any model is loaded."""
    from model.encoder import check_threads
    from model.storage import check_writable
    from training.data.splits import evaluate_splits

    if args.limit < 0:
        raise InputError(f"--limit must be 0 (score all) or more, got {args.limit}")
    check_threads(args.threads)
    if args.split and args.split not in evaluate_splits(args.task):
        raise InputError(f"unknown {args.task} split '{args.split}'; choose one of "
                         f"{', '.join(evaluate_splits(args.task))}")
    if args.limit and getattr(args, "record", False):
        raise InputError("--record keeps a model's measured score in its folder; a --limit slice would replace it, "
                         "so record a whole split or file (or write the slice's report with --output)")
    if args.opening < 0:
        raise InputError(f"--opening must be 0 (whole texts) or more sentences, got {args.opening}")
    if args.opening and args.task != "event":
        raise InputError("--opening is for event")
    if args.opening and getattr(args, "record", False):
        raise InputError("--record keeps a model's measured score on whole texts in its folder; --opening scores "
                         "cut ones, so write that report with --output instead")
    if args.chunks < 0:
        raise InputError(f"--chunks must be 0 (off) or more sentences per chunk, got {args.chunks}")
    if args.chunks and args.task != "event":
        raise InputError("--chunks is for event")
    if args.chunks and args.opening:
        raise InputError("--chunks reads whole texts in chunks and --opening cuts them to a snippet: give one of them")
    if args.chunks and getattr(args, "record", False):
        raise InputError("--record keeps a model's measured score as it reads articles in its folder; --chunks scores "
                         "another reading, so write that report with --output instead")
    if args.predictions and args.task == "summary":
        raise InputError("--predictions is for stance and event; summary reports ROUGE only")
    if args.bootstrap < 0:
        raise InputError(f"--bootstrap must be 0 (none) or more resamples, got {args.bootstrap}")
    if args.baselines and args.task == "summary":
        raise InputError("--baselines is for stance and event; summary always scores LEAD beside the model")
    if args.bootstrap and args.task == "summary":
        raise InputError("--bootstrap is for stance and event; summary reports ROUGE only")
    if args.compare and args.task == "summary":
        raise InputError("--compare is for stance and event")
    if args.compare:
        from model.analyzer import task_folder

        args.compare = task_folder(args.compare)
    if args.data and args.split and Path(args.data).is_file():
        raise InputError(f"--split names a split of the built data and --data the file {args.data} to score; "
                         "give one of them")
    if args.compare and not (Path(args.compare) / "config.json").exists():
        raise InputError(f"no {args.task} model to compare at {args.compare} (no config.json there)")
    for given, what in ((args.output, "--output"), (args.predictions, "--predictions")):
        if given and args.data and Path(args.data).resolve() == Path(given).resolve():
            raise InputError(f"{what} names the --data file {args.data}, which it would overwrite; give another file")
    if args.output:
        check_writable(args.output, "the report (--output)")
    if args.predictions:
        check_writable(args.predictions, "the predictions (--predictions)")
        if args.output and Path(args.output).resolve() == Path(args.predictions).resolve():
            raise InputError(f"--output and --predictions both name {args.output}; give two files")
    if args.task == "event" and not args.data and not (args.split or "").startswith("outside"):
        require_event_corpus(default_data_dir())


def _slice(args, items: list, noun: str, whole: str, source: str,
           caveat: str = "") -> tuple[list, dict, str, str | None]:
    """The first --limit of ``items`` (all of them without --limit), what the JSON report records about it,
    ``source`` naming the slice, and the line the table prints when only a slice is scored."""
    if not args.limit:
        return items, {}, source, None
    kept = items[: args.limit]
    record = {"limit": args.limit, "n_available": len(items)}
    if len(kept) == len(items):
        return items, record, source, None
    return kept, record, f"{source}, first {len(kept)} {noun} of the {whole}", (
        f"a slice: the first {len(kept)} of the {len(items)} {noun} of the {whole} in {whole} order (--limit "
        f"{args.limit}); its scores are not comparable with those of the whole {whole}{caveat}")


def _evaluate_stance_task(args, folder: Path, backend: str, rows):
    from model.stance import StanceModel
    from training.data.stance_data import StanceData
    from training.evaluate import evaluate_stance
    from training.metrics import format_report

    model = StanceModel.load(folder)
    other = _compared_model(args, model.labels, StanceModel.load)
    if args.data and Path(args.data).is_file():
        from training.data.stance_data import stance_data_from_frame

        frame = _evaluation_frame(args, [args.claim_column, args.body_column], model.labels)
        data, source = stance_data_from_frame(frame, args.claim_column, args.body_column, args.label_column), str(args.data)
        whole = "file"
    else:
        data, source = load_stance_data(args, args.data, args.split or "competition_test")
        whole = "split"
    caveat = "; nor is its FNC score the FNC-1 challenge's score" if whole == "split" else ""
    examples, limit, source, note = _slice(args, data.examples, "pairs", whole, source, caveat)
    if note:
        data = StanceData(examples, {b: data.bodies[b] for b in {e.body_id for e in examples}})
    scores = evaluate_stance(model, data, source, backend=backend, rows=rows)
    report = {"model": str(folder), "data": source, **limit, **scores}
    baselines, guesses = "", {}
    if args.baselines:
        from training.baselines import stance_baselines

        train, _ = load_stance_data(args, None, "train")
        report["baselines"] = stance_baselines(train, data, predictions=guesses)
        for name, rep in report["baselines"].items():
            baselines += "\n\n" + format_report(rep, f"baseline {name}")
    baselines += _compare(args, report, guesses, other,
                          lambda other, out: evaluate_stance(other, data, source, backend=backend, rows=out))
    if args.bootstrap:
        from training.data.stance_data import story_ids

        baselines += _bootstrap(args, report, [e.label for e in data.examples], [r["predicted"] for r in rows],
                                list(model.labels), guesses, story_ids(data.examples), "stories")
    return report, f"stance on {source}", note, lambda head: format_report(report, head) + baselines


def _compared_model(args, labels, load):
    """The --compare model, loaded and checked to predict ``labels`` before either model scores anything (None
    without --compare)."""
    if not args.compare:
        return None
    other = load(Path(args.compare))
    if tuple(other.labels) != tuple(labels):
        raise InputError(f"--compare {args.compare} predicts {', '.join(other.labels)}, not the labels of --model "
                         f"({', '.join(labels)}), so the two cannot be scored side by side")
    return other


def _compare(args, report: dict, guesses: dict[str, list[str]], other, evaluate) -> str:
    """Score the --compare model (``evaluate(other, rows)``) on the same data, keep its report under ``compared`` and
    its predictions for the bootstrap; returns its table ('' without --compare)."""
    from training.metrics import format_report

    if other is None:
        return ""
    rows: list[dict] = []
    report["compared"] = {"model": str(args.compare), **evaluate(other, rows)}
    guesses["compared"] = [r["predicted"] for r in rows]
    return "\n\n" + format_report(report["compared"], f"compared model {args.compare}")


def _bootstrap(args, report: dict, gold: list[str], predicted: list[str], labels: list[str],
               baselines: dict[str, list[str]], groups: list[str] | None = None, unit: str = "") -> str:
    """Add --bootstrap intervals (and the model's lead over each baseline) to ``report``; returns their table lines."""
    from training.bootstrap import BootstrapConfig, bootstrap_intervals, format_intervals

    report["bootstrap"] = bootstrap_intervals(gold, predicted, labels, groups, baselines,
                                              BootstrapConfig(resamples=args.bootstrap), unit)
    return "\n\n" + format_intervals(report["bootstrap"])


def _confirmed_only(folder: Path) -> bool:
    """Whether the event model in ``folder`` trained on confirmed labels only, so that the TF-IDF baseline of
    --baselines trains on the same texts."""
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return bool(config.get("training", {}).get("train_config", {}).get("confirmed_only", False))


def _event_baseline_train(args, folder: Path, labels) -> list:
    """The texts --baselines trains TF-IDF on for a --data file or an outside split: the built corpus mix's train
    split, which the shipped event model trained on; a model with other labels trained on data this command cannot
    know."""
    from model.labels import EVENT_LABELS

    if set(labels) != set(EVENT_LABELS):
        raise InputError(f"--baselines trains the TF-IDF baseline on the built corpus mix, whose labels are "
                         f"the nine event types; this model's labels are {', '.join(labels)}, so its training data is "
                         f"not that mix: leave --baselines off")
    built = argparse.Namespace(**{**vars(args), "data": None})
    return load_event_data(built, args.seed, 0.1, _confirmed_only(folder))[0]["train"]


def _evaluate_event_task(args, folder: Path, backend: str, rows):
    from model.heads import EventModel
    from training.data.event_audit import AUDIT_SPLITS, audited_split
    from training.evaluate import evaluate_event
    from training.metrics import format_report

    model = EventModel.load(folder)
    other = _compared_model(args, model.labels, EventModel.load)
    caveat, stories = "", None  # stories: the outside sets' FNC-1 story per body, which the bootstrap resamples
    if args.data:
        frame = _evaluation_frame(args, [args.text_column], model.labels)
        texts, gold, source = list(frame[args.text_column].astype(str)), list(frame[args.label_column].astype(str)), str(args.data)
        train, whole = _event_baseline_train(args, folder, model.labels) if args.baselines else None, "file"
    elif args.split and args.split.startswith("outside"):  # training/data/event_outside.py
        from training.data.event_outside import load_outside, outside_stories

        part = load_outside(default_data_dir(), args.split)
        texts, gold = [e.text for e in part], [e.label for e in part]
        if args.bootstrap:  # only the bootstrap reads them: it resamples whole stories
            stories = outside_stories(default_data_dir(), args.split, part)
        train = _event_baseline_train(args, folder, model.labels) if args.baselines else None
        source, whole = f"FNC-1 bodies labelled by hand, split {args.split} (training/data/event_outside.py)", "split"
    else:
        split = args.split or "test"
        splits, source = load_event_data(args, args.seed, 0.1, _confirmed_only(folder))  # test: never filtered
        part = splits["test" if split in AUDIT_SPLITS else split]
        texts, gold, train = [e.text for e in part], [e.label for e in part], splits["train"]
        if split in AUDIT_SPLITS:  # training/data/event_audit.py
            texts, gold = audited_split(texts, gold, split)
            source += f", split {split} ({len(texts)} texts; blind re-reading: training/data/event_audit.py)"
        else:
            source += f", split {split}"
        whole = "split"
        caveat = "; the built split lists its examples corpus by corpus and label by label, so a slice holds few of them"
    kept, limit, source, note = _slice(args, list(range(len(texts))), "examples", whole, source, caveat)
    if note:
        texts, gold = [texts[i] for i in kept], [gold[i] for i in kept]
        stories = [stories[i] for i in kept] if stories else None
    if args.opening:
        from model.text import opening_sentences

        texts = [opening_sentences(text, args.opening) for text in texts]
        source += f", each text cut to its first {args.opening} body sentence(s) (--opening)"
    if args.chunks:
        source += f", each text read as chunks of {args.chunks} body sentences, their probabilities averaged (--chunks)"
    report = {"model": str(folder), "data": source, **limit,
              **evaluate_event(model, texts, gold, backend, rows, args.chunks)}
    baselines, guesses = "", {}
    if args.baselines and train is not None:
        from training.baselines import tfidf_event_baseline

        guesses["tfidf_logreg"] = []
        report["baselines"] = {"tfidf_logreg": tfidf_event_baseline(train, texts, gold, list(model.labels),
                                                                    predictions=guesses["tfidf_logreg"])}
        baselines = "\n\n" + format_report(report["baselines"]["tfidf_logreg"], "baseline TF-IDF + logistic regression")
    baselines += _compare(args, report, guesses, other,
                          lambda other, out: evaluate_event(other, texts, gold, backend, out, args.chunks))
    if args.bootstrap:
        baselines += _bootstrap(args, report, list(gold), [r["predicted"] for r in rows], list(model.labels), guesses,
                                stories, "FNC-1 stories" if stories else "")
    return report, f"event type on {source}", note, lambda head: format_report(report, head) + baselines


def _evaluate_summary_task(args, folder: Path, backend: str):
    part, limit, source, note = _summary_articles(args)
    articles, references = [e.article for e in part], [e.summary for e in part]
    if args.kind == "abstractive":
        from model.abstractive import AbstractiveSummarizer
        from training.abstractive import evaluate_abstractive

        model = AbstractiveSummarizer.load(folder)
        zero = None
        if args.zero_shot:
            zero = AbstractiveSummarizer.load(None, base_model=model.base_model)
            zero.settings = model.settings
        started = time.time()
        scores = evaluate_abstractive(model, articles, references, zero)
        scores["seconds"] = round(time.time() - started, 1)
        what = ("abstractive: one generated sentence per article"
                + ("; zero_shot: the base generator without the adapter" if zero is not None else "")
                + "; lead_1: the article's first body sentence")
    else:
        from model.heads import SentenceScorer, SummaryBudget
        from model.storage import load_checkpoint
        from training.evaluate import evaluate_extractive

        scorer = SentenceScorer.load(folder)
        budget = SummaryBudget(**load_checkpoint(folder)[1].get("budget", {}))
        scores = evaluate_extractive(scorer, articles, references, budget, backend)
        what = (f"every summary within {budget.sentences} sentences and {budget.words} words: extractive (the "
                f"scorer's sentences) and lead_{budget.sentences} (the first sentences)")
    report = {"model": str(folder), "data": source, **limit, **scores}
    head = f"n={report['n']} articles; ROUGE-1/2/L F1 (%) against the reference summaries; {what}"
    return report, f"{args.kind} summaries on {source}", note, lambda title: f"{title}\n{head}\n{_rouge_lines(report)}"


def run_evaluate(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from model.backends import backend_name, resolve_backend
    from model.encoder import configure_threads

    _check_evaluate_args(args)
    folder = _model_folder(args)
    if args.record:
        from model.storage import check_writable

        check_writable(folder / "README.md", "the model card (--record)")
    threads = configure_threads(args.threads)
    abstractive = args.task == "summary" and args.kind == "abstractive"
    # the backend that runs: 'auto' resolved as the Analyzer and bench resolve it; the generator is always torch fp32
    backend = "torch" if abstractive else resolve_backend(args.backend)
    date = datetime.now(timezone.utc).isoformat(timespec="seconds")
    rows: list[dict] | None = [] if args.predictions or args.bootstrap else None  # --bootstrap resamples them
    if args.task == "stance":
        report, title, note, table = _evaluate_stance_task(args, folder, backend, rows)
    elif args.task == "event":
        report, title, note, table = _evaluate_event_task(args, folder, backend, rows)
    else:
        report, title, note, table = _evaluate_summary_task(args, folder, backend)
    report["backend"] = backend
    if args.backend != backend:
        report["backend_requested"] = args.backend
    report.update(date=date, threads=threads)
    ran = (f"torch (the abstractive generator always runs fp32 torch; --backend {args.backend} does not apply to it)"
           if abstractive and args.backend != "torch" else backend_name(args.backend, backend))
    head = "\n".join([title, *([note] if note else []), f"backend {ran}, {threads} torch thread{'s' * (threads != 1)}"])
    text = table(head)
    print(text)
    failed = []
    for path, what, content, done in (
            (args.predictions, "the predictions",
             "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows or ()) if args.predictions else "",
             f"{len(rows or ())} predictions written to {args.predictions}"),
            (args.output, "the report", json.dumps(report, indent=2) + "\n", f"report written to {args.output}")):
        if path:
            try:
                atomic_write_text(Path(path), content)
                print(done)
            except OSError as err:  # check_writable cannot foresee everything (e.g. /proc for root)
                failed.append(f"cannot write {what} {path}: {err.strerror or err}")
    if args.record:
        _record(folder, report, text, args, backend)
    if failed:
        raise InputError("; ".join(failed))
    return 0


def _evaluation_frame(args, text_columns: list[str], labels=None):
    """The rows of the user's --data file to score: read, checked against the model's labels (None: the file has no
    label column, as for summaries), empty rows left out (with a printed warning naming them)."""
    from training.data.tables import read_table
    from training.data.validate import evaluation_table

    frame, warnings = evaluation_table(read_table(args.data), str(args.data), text_columns,
                                       args.label_column if labels is not None else None, list(labels or ()))
    for warning in warnings:
        print(f"warning: {warning}")
    return frame


def _summary_articles(args):
    """The articles a summary evaluation scores (a split, or all of a user file in file order, rows with an empty
    article or summary left out with a warning), cut to --limit; what the report records about the cut; their
    source; and the line saying a slice was scored (None when all were)."""
    if summary_user_file(args):
        from training.data.summary_data import summary_examples_from_frame

        frame = _evaluation_frame(args, [args.article_column, args.summary_column])
        part = summary_examples_from_frame(frame, args.article_column, args.summary_column, path=str(args.data))
        source, whole = str(args.data), "file"
    else:
        splits, source = load_summary_data(args, args.seed)
        part, whole = splits[args.split or "test"], "split"
        source += f", split {args.split or 'test'}"
    part, limit, source, note = _slice(args, part, "articles", whole, source)
    return part, limit, source, note


def _rouge_lines(report: dict) -> str:
    """One line per summariser in ``report``: ROUGE F1, plus flag rate, length and speed where measured."""
    lines = []
    for name, r in report.items():
        if not (isinstance(r, dict) and "rouge2" in r):
            continue
        line = f"{name:<12} ROUGE-1 {r['rouge1']:.2f}  ROUGE-2 {r['rouge2']:.2f}  ROUGE-L {r['rougeL']:.2f}"
        if "flag_rate" in r:
            line += (f"  flagged {r['flag_rate']:.1%}  {r['mean_words']:.1f} words  "
                     f"{r['seconds_per_article']:.2f} s/article")
        lines.append(line)
    return "\n".join(lines)


def _record(folder: Path, report: dict, text: str, args, backend: str) -> None:
    """Keep the measured result beside the weights: JSON, plus a section of the model card. Named by the backend that
    ran (what 'auto' chose)."""
    from datetime import datetime, timezone

    # a file's report is named by the file, so recording a second file keeps the first one's
    name = f"data-{Path(args.data).stem}" if args.data else (
        args.split or ("competition_test" if args.task == "stance" else "test"))
    suffix = "" if backend == "torch" else f"-{backend}"
    atomic_write_text(folder / f"evaluation-{name}{suffix}.json", json.dumps(report, indent=2) + "\n")
    card = folder / "README.md"
    existing = card.read_text(encoding="utf-8") if card.exists() else f"# {folder.name}\n"
    section = (f"\n## Measured on {report['data']} ({backend})\n\n"
               f"`{command_line()}`, {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}\n\n```\n{text}\n```\n")
    atomic_write_text(card, existing + section)
