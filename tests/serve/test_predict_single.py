"""`newslens predict` on one article (.txt or standard input): the printed report, JSON, and bad input. Tiny models."""
from __future__ import annotations

import io
import json
import re
import sys

import pytest

from model.labels import EVENT_LABELS, STANCE_LABELS
from serve.cli import main

ARTICLE = ("Floods hit Lagos\n\nHeavy rain flooded large parts of Lagos on Monday. Thousands of homes were damaged. "
           "The state government opened shelters in schools and churches.")


@pytest.fixture
def flags(tiny_models) -> list[str]:
    return ["--stance-model", str(tiny_models["stance"]), "--event-model", str(tiny_models["event"]),
            "--summary-model", str(tiny_models["summary"]), "--threads", "1"]


def test_a_text_file_prints_a_report_with_the_headline_as_claim(flags, tmp_path, capsys):
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    assert main(["predict", str(article), *flags]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Floods hit Lagos\n")
    stance_line = out.split("Stance\n", 1)[1].splitlines()[0]
    assert stance_line.strip().endswith(": Floods hit Lagos")
    label = stance_line.strip().split(":")[0].lower()
    assert label in STANCE_LABELS
    scores = out.split("Stance\n", 1)[1].splitlines()[1].strip()  # the two steps the label comes from
    related, threshold = re.fullmatch(r"related (\S+) \((?:related from|unrelated below) (\S+)\).*", scores).groups()
    assert (label == "unrelated") == (float(related) < float(threshold))
    assert label == "unrelated" or f"if related: {label} " in scores  # the most probable related label comes first
    event = out.split("Event type: ", 1)[1].split(" ", 1)[0]
    assert event in EVENT_LABELS
    assert "Summary (extractive)" in out and re.search(r"Took \S+ s \(.*\), after \S+ s loading the models", out)


def test_claims_headline_and_json_on_standard_input(flags, monkeypatch, capsys):
    body = ARTICLE.split("\n\n", 1)[1]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(body.encode("utf-8"))))
    assert main(["predict", "-", "--headline", "Lagos floods", "--claim", "Lagos is flooded", "--claim",
                 "Nobody lost a home", "--json", "--tasks", "stance,event", *flags]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["headline"] == "Lagos floods"
    assert [s["claim"] for s in result["stances"]] == ["Lagos is flooded", "Nobody lost a home"]
    assert all(s["label"] in STANCE_LABELS and abs(sum(s["probabilities"].values()) - 1) < 1e-4
               for s in result["stances"])
    assert result["event"]["label"] in EVENT_LABELS and result["summary"] is None


def test_output_is_json_and_other_suffixes_are_refused(flags, tmp_path, capsys):
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    assert main(["predict", str(article), "-o", str(tmp_path / "result.csv"), *flags]) == 2
    assert ".json" in capsys.readouterr().err and not (tmp_path / "result.csv").exists()
    assert main(["predict", str(article), "-o", str(tmp_path / "result.json"), *flags]) == 0
    assert json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))["headline"] == "Floods hit Lagos"
    assert main(["predict", str(article), "-o", str(tmp_path / "new" / "result.json"), *flags]) == 0  # folder made
    assert json.loads((tmp_path / "new" / "result.json").read_text(encoding="utf-8"))["headline"] == "Floods hit Lagos"


@pytest.mark.parametrize("content, message", [
    (b"   \n\n  ", "empty"),
    (b"Caf\xe9 owners protest new tax in the city centre.", "UTF-8"),
    (b"\x00\x01\x02\x03\x04\x05\x06\x07\x08" * 20, "binary"),
    (None, "no such file"),
    (b"word " * 250_000, "the limit is 1,000,000"),  # over the analyzer's character limit
    (b"a" * (4_000_000 + 1), "more than 4,000,000 bytes"),  # not even read whole
])
def test_bad_articles_fail_with_a_message(flags, tmp_path, capsys, content, message):
    article = tmp_path / "article.txt"
    if content is not None:
        article.write_bytes(content)
    assert main(["predict", str(article), *flags]) == 2
    err = capsys.readouterr().err
    assert "newslens: error:" in err and message in err


def test_an_article_without_headline_or_claim_says_how_to_get_a_stance(flags, tmp_path, capsys):
    article = tmp_path / "article.txt"
    article.write_text("Heavy rain flooded large parts of Lagos on Monday.", encoding="utf-8")
    assert main(["predict", str(article), *flags]) == 0
    out = capsys.readouterr().out
    assert out.startswith("(no headline)") and "Stance: no claim to judge" in out and "Event type: " in out


def test_an_empty_task_list_is_refused_for_one_article_as_for_a_batch(flags, tmp_path, capsys):
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    assert main(["predict", str(article), "--tasks", "", *flags]) == 2
    assert "--tasks names no task" in capsys.readouterr().err


def test_a_one_line_file_explains_why_there_is_no_claim(flags, tmp_path, capsys):
    article = tmp_path / "headline.txt"
    article.write_text("Storm hits the coast\n\n", encoding="utf-8")
    assert main(["predict", str(article), "--tasks", "stance", *flags]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "a file of one line is read as the article, not as a headline" in out


@pytest.mark.parametrize("args, message", [
    (["--resume"], "--resume applies to a table or a folder, not to one article"),
    (["--chunk-size", "8"], "--chunk-size applies to a table or a folder"),
    (["--resume", "--text-column", "body"], "--resume, --text-column apply to a table or a folder"),
    (["--claims-column", "claims"], "give its headline with --headline and claims with --claim"),
    (["--id-column", "id"], "--id-column applies to a table or a folder"),
    (["--threads", "-2"], "--threads must be 1 or more"),
    (["--claim", " "], "--claim is empty"),
])
def test_options_one_article_would_ignore_are_refused(args, message, flags, tmp_path, capsys):
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    assert main(["predict", str(article), *flags, *args]) == 2  # args last: the fixture sets --threads too
    assert message in capsys.readouterr().err


def test_a_utf16_file_is_named_as_such(flags, tmp_path, capsys):
    article = tmp_path / "article.txt"
    article.write_bytes(ARTICLE.encode("utf-16"))
    assert main(["predict", str(article), *flags]) == 2
    assert "looks like UTF-16 text; re-save it as UTF-8" in capsys.readouterr().err


def test_a_long_article_says_the_wait_is_long(flags, tmp_path, capsys):
    from serve.single import LONG_ARTICLE_BYTES

    article = tmp_path / "long.txt"
    sentence = "Heavy rain flooded large parts of Lagos on Monday. "
    article.write_text("Floods hit Lagos\n\n" + sentence * (LONG_ARTICLE_BYTES // len(sentence) + 1), encoding="utf-8")
    assert main(["predict", str(article), "--tasks", "event", *flags]) == 0
    assert "a long article (0.2 MB): every sentence is read" in capsys.readouterr().err
    short = tmp_path / "short.txt"
    short.write_text(ARTICLE, encoding="utf-8")
    assert main(["predict", str(short), "--tasks", "event", *flags]) == 0
    assert "a long article" not in capsys.readouterr().err
