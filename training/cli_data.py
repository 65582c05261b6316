"""What `newslens train` and `newslens evaluate` read: the task names, the column flags of a user file, and the
loaders of each task's data (a user table, checked, or the task's corpus under ../shared/data)."""
from __future__ import annotations

import argparse
from pathlib import Path

from model.errors import InputError
from training.paths import bbc_summary_file, default_data_dir, require_path

TASKS = ("stance", "event", "summary")
DEFAULT_MODELS = {"stance": "stance", "event": "event", "summary": "summary-extractive"}


def add_column_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("columns of a user file")
    group.add_argument("--claim-column", default="claim", help="stance: claim or headline column (default: claim)")
    group.add_argument("--body-column", default="body", help="stance: article body column (default: body)")
    group.add_argument("--text-column", default="text", help="event: text column (default: text)")
    group.add_argument("--label-column", default="label", help="stance/event: label column (default: label)")
    group.add_argument("--article-column", default="article", help="summary: article column (default: article)")
    group.add_argument("--summary-column", default="summary", help="summary: reference column (default: summary)")


def config_section(args) -> str:
    """The --config table (and resolved_config.toml table) of the task's settings."""
    return "abstractive" if args.task == "summary" and args.kind == "abstractive" else args.task


def model_task(args) -> str:
    """The task a model of this command holds: stance, event, summary-extractive or summary-abstractive."""
    return "summary-abstractive" if args.task == "summary" and args.kind == "abstractive" else DEFAULT_MODELS[args.task]


class DryRunDone(Exception):
    """Raised after a --dry-run report has been printed."""


def checked_table(args, path: Path, text_columns: list[str], label_column: str | None, known_labels=None,
                  check=None):
    """Read and validate a user table; print the report on --dry-run; raise on errors; drop duplicate rows.
    ``check(frame)``, run when the table has no other error, returns one more error (a str) or None."""
    from training.data.tables import read_table
    from training.data.validate import validate_table

    frame = read_table(path)
    report = validate_table(frame, str(path), text_columns, label_column, known_labels)
    if check is not None and report.ok:
        problem = check(frame.drop(index=frame.index[report.drop_rows]) if report.drop_rows else frame)
        if problem:
            report.errors.append(problem)
    if getattr(args, "dry_run", False):
        print(report.text())
        raise DryRunDone(0 if report.ok else 2)  # 2, as when a real run refuses the same data
    report.raise_if_errors()
    if report.warnings:
        print(report.text())
    if label_column:  # trained as validated and as `evaluate` reads them: ' war ' is the label 'war'
        frame = frame.assign(**{label_column: [str(v).strip() for v in frame[label_column]]})
    return frame.drop(index=frame.index[report.drop_rows]).reset_index(drop=True) if report.drop_rows else frame


def load_stance_data(args, path: Path | None, split: str, validate: bool = False):
    from training.data.splits import CONTRADICTION_SPLITS, OWN_HEADLINE_SPLITS
    from training.data.stance_data import load_fnc_split, load_stance_table, stance_data_from_frame

    if split in OWN_HEADLINE_SPLITS:
        from training.data.stance_own_headlines import own_headline_pairs

        path = bbc_summary_file(path, "BBC News Summary data")
        data = own_headline_pairs(path, None, 0, OWN_HEADLINE_SPLITS[split])
        return data, (f"BBC News Summary {OWN_HEADLINE_SPLITS[split]} articles with their own headline ({path}; "
                      "agree by construction, question headlines left out)")
    if split in CONTRADICTION_SPLITS:
        from training.data.stance_contradictions import CONTRADICTIONS_FILE, contradiction_pairs

        path = bbc_summary_file(path, "BBC News Summary data")
        data = contradiction_pairs(path, None, 0, CONTRADICTION_SPLITS[split])
        return data, (f"BBC News Summary {CONTRADICTION_SPLITS[split]} articles, each with a claim it contradicts "
                      f"({path}; claims from {CONTRADICTIONS_FILE.name}, disagree by construction)")
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


def data_files(args, default: Path) -> list[Path]:
    path = Path(args.data) if args.data else default
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]


def load_event_data(args, seed: int, dev_fraction: float, confirmed_only: bool = False):
    """Train/dev(/test) lists of LabeledText: the built corpus mix by default, or a user file split by seed.
    ``confirmed_only``: train and dev of the corpus mix keep only the texts a blind re-reading confirms."""
    from collections import Counter

    from training.event import DEV_MIN_PER_LABEL, LabeledText, split_dev

    if confirmed_only and args.data and Path(args.data).is_file():
        raise InputError("confirmed_only keeps the corpus mix's texts that a blind re-reading confirms "
                         "(training/data/event_audit.py); a file of your own has no such reading: leave it off")
    def labelled(frame) -> list[LabeledText]:
        return [LabeledText(str(t), str(l).strip()) for t, l in zip(frame[args.text_column], frame[args.label_column])]

    def no_dev(frame) -> str | None:
        rows = labelled(frame)
        if split_dev(rows, dev_fraction, seed)[1]:
            return None
        need = max(DEV_MIN_PER_LABEL, next(n for n in range(1, 10**6) if round(n * dev_fraction) >= 1))
        largest = max(Counter(row.label for row in rows).values())
        return (f"no row can be held out for dev, which picks the checkpoint kept: a label gives dev rows once it has "
                f"{need} or more ({DEV_MIN_PER_LABEL} at least, and enough that the dev fraction {dev_fraction:g} of "
                f"them makes one row; the largest here has {largest}); add rows or raise the dev fraction")

    if args.data and Path(args.data).is_file():
        frame = checked_table(args, Path(args.data), [args.text_column], args.label_column, check=no_dev)
        train, dev = split_dev(labelled(frame), dev_fraction, seed)
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


def summary_user_file(args) -> bool:
    """Whether --data names the user's own summary table (not the BBC corpus file)."""
    return bool(args.data) and Path(args.data).is_file() and Path(args.data).name != "bbc_news_summary.jsonl"


def load_summary_data(args, seed: int):
    from training.data.summary_data import bbc_splits

    if summary_user_file(args):
        import random

        from training.data.summary_data import summary_examples_from_frame

        frame = checked_table(args, Path(args.data), [args.article_column, args.summary_column], None)
        rows = summary_examples_from_frame(frame, args.article_column, args.summary_column)
        if len(rows) < 2:
            raise InputError(f"{args.data}: {len(rows)} article(s) with a summary; training needs at least 2, one of "
                             "them held out for dev, which picks the checkpoint kept")
        random.Random(seed).shuffle(rows)
        cut = max(1, int(len(rows) * 0.1))
        return {"train": rows[cut:], "dev": rows[:cut], "test": []}, (
            f"{args.data} (dev: {cut} of its {len(rows)} articles, seed {seed})")
    path = bbc_summary_file(args.data, "summary data")
    splits = bbc_splits(path, seed)
    if getattr(args, "dry_run", False):
        print(f"BBC News Summary ({path}): " + ", ".join(f"{name} {len(rows)} articles" for name, rows in splits.items())
              + f" (80/10/10 by article, seed {seed}); no errors")
        raise DryRunDone(0)
    return splits, f"BBC News Summary ({path}), 80/10/10 split by article, seed {seed}"
