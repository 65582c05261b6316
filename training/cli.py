"""`newslens train` and `newslens evaluate`: argument parsing and dispatch to the task trainers."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from model.errors import InputError
from training.card import command_line, write_model_card
from training.loop import LoopConfig
from training.options import add_dataclass_arguments, build_dataclass, read_config_file
from training.paths import default_data_dir, require_path

TASKS = ("stance", "event", "summary")


def add_train_parser(sub) -> None:
    parser = sub.add_parser("train", help="train or retrain a model on your data",
                            description="Train a NewsLens model. Flags override the --config file; "
                                        "the resolved config is saved beside the weights.")
    parser.add_argument("task", choices=TASKS)
    parser.add_argument("--data", type=Path, help="training data: a CSV/JSONL/Parquet file, or a folder in the "
                                                  "task's reference format (default: the task's corpus under ../shared/data)")
    parser.add_argument("--output", type=Path, required=True, help="folder for the trained model")
    parser.add_argument("--config", type=Path, help="TOML or YAML file with [loop] and [task] tables")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in OUTPUT/checkpoints")
    parser.add_argument("--claim-column", default="claim")
    parser.add_argument("--body-column", default="body")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--label-column", default="label")
    add_dataclass_arguments(parser, LoopConfig)
    from training.stance import StanceTrainConfig

    add_dataclass_arguments(parser, StanceTrainConfig, prefix="stance_")
    parser.set_defaults(handler=run_train)


def run_train(args: argparse.Namespace) -> int:
    file_config = read_config_file(args.config)
    loop = build_dataclass(LoopConfig, args, file_config.get("loop"))
    if args.task == "stance":
        return _train_stance(args, loop, file_config.get("stance"))
    raise InputError(f"`newslens train {args.task}` is not available yet in this version")


def _load_stance_data(args, path: Path | None, split: str):
    from training.data.stance_data import load_fnc_split, load_stance_table

    if path is None:
        path = default_data_dir() / "fnc1"
    require_path(path, "stance data")
    if path.is_dir():
        return load_fnc_split(path, split), f"FNC-1 {split} ({path})"
    return load_stance_table(path, args.claim_column, args.body_column, args.label_column), str(path)


def _train_stance(args, loop: LoopConfig, file_values: dict | None) -> int:
    from training.stance import StanceTrainConfig, train_stance

    config = build_dataclass(StanceTrainConfig, args, file_values, prefix="stance_")
    data, source = _load_stance_data(args, args.data, "train")
    started = time.time()
    card = train_stance(data, args.output, config, loop, resume=args.resume,
                        extra_card={"data": source, "command": command_line()})
    card["wall_seconds"] = round(time.time() - started, 1)
    write_model_card(args.output, "NewsLens stance model", {
        "Data": f"Trained on {source}: {card['trained_on']['pairs']} pairs, dev {card['trained_on']['dev_pairs']} "
                f"pairs held out by body (seed {loop.seed}).",
        "Command": f"`{card['command']}`",
        "Time": f"{card['wall_seconds'] / 60:.1f} minutes wall time on this machine.",
        "Dev metrics": f"macro-F1 {card['dev_metrics']['macro_f1']:.4f}"
                       + (f", FNC {card['dev_metrics']['fnc_percent']:.2f}% of max" if 'fnc_percent' in card['dev_metrics'] else ""),
    }, card)
    print(json.dumps({"output": str(args.output), "dev_macro_f1": card["dev_metrics"]["macro_f1"]}, indent=2))
    return 0
