"""The `newslens` command: demo, predict, train, evaluate, bench."""
from __future__ import annotations

import argparse
import os
import sys

for _key, _value in (("HF_HUB_OFFLINE", "1"), ("HF_DATASETS_OFFLINE", "1"), ("GRADIO_ANALYTICS_ENABLED", "False"),
                     ("TOKENIZERS_PARALLELISM", "false")):
    os.environ.setdefault(_key, _value)


def build_parser() -> argparse.ArgumentParser:
    from training.cli import add_train_parser
    from training.evaluate_cli import add_evaluate_parser

    parser = argparse.ArgumentParser(prog="newslens", description="Stance, event type and summary for news articles.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_train_parser(sub)
    add_evaluate_parser(sub)
    from serve.batch import add_predict_parser
    from serve.bench import add_bench_parser
    from serve.demo import add_demo_parser

    add_demo_parser(sub)
    add_predict_parser(sub)
    add_bench_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from model.errors import NewsLensError

    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except NewsLensError as err:
        print(f"newslens: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("newslens: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
