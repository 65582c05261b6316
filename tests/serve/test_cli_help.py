"""Every `newslens` subcommand documents its flags: --help works, names each default once, and reads well."""
import re

import pytest

from serve.cli import build_parser

SUBCOMMANDS = ("demo", "predict", "train", "evaluate", "bench")


def _help(command: str) -> str:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sub.choices[command].format_help()


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_help_names_real_defaults_and_plain_group_titles(command):
    text = " ".join(_help(command).split())
    assert "(default: None)" not in text and "(default: )" not in text
    assert text.count("(default: ") == len(re.findall(r"\(default: [^)]*\)", text))
    assert not re.search(r"\b[A-Z][a-z]+Config:", text)  # group titles say what the flags do, not a class name


def test_help_points_at_real_flags():
    text = " ".join(_help("train").split())
    assert "--stance-init as it is" in text
    for flag in ("--port", "--concurrency", "--max-upload-mb"):
        assert re.search(re.escape(flag) + r" \S+ [^-]*\(default: ", " ".join(_help("demo").split())), flag


def test_predict_backend_points_an_encoder_runtime_to_runtime(capsys):
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["predict", "in.csv", "-o", "out.csv", "--backend", "torch"])
    assert stopped.value.code == 2
    assert "'torch' is an encoder runtime: predict takes it as --runtime torch" in capsys.readouterr().err
    assert build_parser().parse_args(["predict", "in.csv", "--backend", "ray"]).backend == "ray"
