"""The event-type training set: mapping tables stay inside the taxonomy, splits are clean and repeatable."""
from collections import Counter

import pytest

from model.labels import EVENT_LABELS
from training.data import event_corpora as corpora
from training.data.event_dataset import build_event_splits, lead_of


def test_every_mapping_table_maps_only_into_the_taxonomy():
    for name, table in corpora.MAPPING_TABLES.items():
        assert set(table.values()) <= set(EVENT_LABELS), name


@pytest.mark.parametrize("source_label, expected", [
    ("conflict.attack.bombing", "armed_conflict"), ("conflict.demonstrate.marchprotestpoliticalgathering", "protest"),
    ("justice.arrestjaildetain.arrestjaildetain", "crime_justice"), ("disaster.fireexplosion.fireexplosion", "disaster"),
    ("conflict.attack.stealrobhijack", None), ("contact.discussion.meet", None), ("life.die.deathcausedbyviolentevents", None),
])
def test_rams_table_covers_what_it_claims(source_label, expected):
    assert corpora.rams_label(source_label) == expected


def test_other_tables_cover_their_labels_and_drop_ambiguous_ones():
    assert corpora.ngec_label("MOBILIZE", "TROOPS") == "military_posture"
    assert corpora.ngec_label("RETREAT", "WITHDRAW") == "military_posture"
    assert corpora.ngec_label("PROTEST", "RIOT") == "protest"
    assert corpora.ngec_label("ASSAULT", "BEAT") is None
    assert corpora.ngec_label("CONCEDE", None) is None
    assert corpora.ngec_label("MOBILIZE", "POLICE") is None
    assert corpora.muc_label(["attack / bombing"]) == "armed_conflict"
    assert corpora.muc_label(["robbery"]) == "crime_justice"
    assert corpora.muc_label([]) is None
    assert corpora.india_label(["ARREST"]) == "crime_justice" and corpora.india_label(["ANY_ACTION"]) is None
    assert set(corpora.BBC_MAP) == {"business", "politics", "sport", "entertainment", "tech"}


def test_handwritten_examples_are_marked_and_labelled():
    rows = list(corpora.load_handwritten())
    counts = Counter(e.label for e in rows)
    assert set(counts) == set(EVENT_LABELS)
    assert counts["military_posture"] >= 20 and all(e.source == "handwritten" for e in rows)


def test_loaders_on_the_real_data_stay_in_the_taxonomy(shared_data):
    for name, loader in corpora.LOADERS.items():
        rows = list(loader(shared_data))
        assert rows, name
        assert {e.label for e in rows} <= set(EVENT_LABELS), name


def test_splits_are_disjoint_by_document_and_repeatable(shared_data):
    first = build_event_splits(shared_data, seed=13)
    again = build_event_splits(shared_data, seed=13)
    assert [e.id for e in first["test"]] == [e.id for e in again["test"]]
    groups = {name: {e.group for e in rows} for name, rows in first.items()}
    assert not groups["train"] & groups["dev"] and not groups["train"] & groups["test"] and not groups["dev"] & groups["test"]
    for name in ("train", "test"):
        assert {e.label for e in first[name]} == set(EVENT_LABELS)


def test_lead_snippets_keep_label_and_group():
    doc = corpora.EventExample("x", "Title here\nOne. Two sentences. Three now. Four here. Five.", "protest", "s", "g")
    lead = lead_of(doc)
    assert lead.text.startswith("Title here\n") and lead.label == "protest" and lead.group == "g"
    assert lead_of(corpora.EventExample("y", "Short. Text.", "protest", "s", "h")) is None


@pytest.mark.parametrize("split, seed, bodies_file", [("outside-a", 2026, "competition_test_bodies.csv"),
                                                      ("outside-b", 2027, "train_bodies.csv")])
def test_outside_sets_are_the_documented_sample_all_labelled_in_the_taxonomy(shared_data, split, seed, bodies_file):
    import csv
    import random

    from model.labels import EVENT_LABELS
    from training.data.event_outside import load_outside

    with (shared_data / "fnc1" / bodies_file).open(encoding="utf-8", newline="") as handle:
        ids = sorted(int(row["Body ID"]) for row in csv.DictReader(handle))
    examples = load_outside(shared_data, split)
    assert [int(e.id.split(":")[1]) for e in examples] == random.Random(seed).sample(ids, 260)
    assert {e.label for e in examples} <= set(EVENT_LABELS) and all(e.text for e in examples)
    clear = load_outside(shared_data, split + "-clear")
    assert 0 < len(clear) < len(examples)
    with pytest.raises(Exception, match="unknown outside split"):
        load_outside(shared_data, "outside-z")


def test_the_blind_audit_labels_every_text_of_the_built_splits_once(shared_data):
    from training.data.event_audit import AUDIT_FILE, AUDIT_SEED, load_audit, text_key

    audit = load_audit()
    splits = build_event_splits(shared_data, seed=AUDIT_SEED)
    assert {text_key(e.text): name for name, rows in splits.items() for e in rows} == {
        key: row["split"] for key, row in audit.items()}
    assert len(AUDIT_FILE.read_text().splitlines()) == sum(len(rows) for rows in splits.values())
    assert all(row["label"] in EVENT_LABELS and isinstance(row["unclear"], bool) for row in audit.values())


def test_audited_splits_keep_the_confirmed_texts_or_take_the_blind_labels():
    from model.errors import InputError
    from training.data.event_audit import audited_split, text_key

    texts = ["Troops shelled the town.", "Parliament passed a law.", "Shares fell sharply."]
    mapped = ["armed_conflict", "crime_justice", "economy"]
    audit = {text_key(t): {"key": text_key(t), "label": label, "unclear": False}
             for t, label in zip(texts, ["armed_conflict", "politics", "economy"])}
    assert audited_split(texts, mapped, "test-agreed", audit) == ([texts[0], texts[2]], ["armed_conflict", "economy"])
    assert audited_split(texts, mapped, "test-blind", audit) == (texts, ["armed_conflict", "politics", "economy"])
    with pytest.raises(InputError, match="1 of the 4 texts have no blind label"):
        audited_split(texts + ["A text the audit never read."], mapped + ["other"], "test-agreed", audit)
    with pytest.raises(InputError, match="unknown audit split 'test-maybe'"):
        audited_split(texts, mapped, "test-maybe", audit)


@pytest.mark.parametrize("lines, message", [
    (['{"key": "a", "label": "war", "unclear": false}'], "label 'war' is outside the taxonomy"),
    (['{"key": "a", "label": "other", "unclear": false}', '{"key": "a", "label": "economy", "unclear": true}'],
     "line 2: key a occurs twice"),
])
def test_a_broken_audit_file_is_refused_with_its_line(tmp_path, lines, message):
    from model.errors import InputError
    from training.data.event_audit import load_audit

    path = tmp_path / "audit.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=message):
        load_audit(path)


@pytest.mark.parametrize("split, fnc_split", [("outside-a", "competition_test"), ("outside-b-clear", "train")])
def test_outside_bodies_are_grouped_by_their_fnc1_story(shared_data, split, fnc_split):
    from collections import defaultdict

    from training.data.event_outside import load_outside, outside_stories
    from training.data.stance_data import load_fnc_split

    examples = load_outside(shared_data, split)
    stories = outside_stories(shared_data, split, examples)
    assert len(stories) == len(examples) and 1 < len(set(stories)) < len(examples)
    story_of = {e.id.split(":")[1]: s for e, s in zip(examples, stories)}
    stories_per_claim = defaultdict(set)
    for pair in load_fnc_split(shared_data / "fnc1", fnc_split).examples:
        if pair.label != "unrelated" and pair.body_id in story_of:
            stories_per_claim[pair.claim].add(story_of[pair.body_id])
    assert stories_per_claim and all(len(s) == 1 for s in stories_per_claim.values())  # a claim's bodies: one story


def test_outside_bootstrap_resamples_fnc1_stories(shared_data, tiny_models, tmp_path):
    import json

    from serve.cli import main

    report_path = tmp_path / "r.json"
    assert main(["evaluate", "event", "--model", str(tiny_models["event"]), "--split", "outside-a", "--limit", "40",
                 "--threads", "1", "--bootstrap", "20", "--output", str(report_path)]) == 0
    boot = json.loads(report_path.read_text())["bootstrap"]
    assert boot["resampled"] == "FNC-1 stories" and 1 < boot["units"] < 40


def test_confirmed_only_trains_on_the_texts_the_blind_reading_confirms(shared_data, tmp_path):
    from types import SimpleNamespace

    from model.errors import InputError
    from training.cli_data import load_event_data
    from training.data.event_audit import load_audit, text_key

    audit = load_audit()
    args = SimpleNamespace(data=None, dry_run=False)
    everything, _ = load_event_data(args, 13, 0.1)
    kept, source = load_event_data(args, 13, 0.1, confirmed_only=True)
    for name in ("train", "dev"):
        expected = [e.text for e in everything[name] if audit[text_key(e.text)]["label"] == e.label]
        assert [e.text for e in kept[name]] == expected and 0 < len(expected) < len(everything[name])
    assert [e.text for e in kept["test"]] == [e.text for e in everything["test"]]  # the test split stays whole
    assert "blind re-reading confirms" in source
    table = tmp_path / "mine.csv"
    table.write_text("text,label\nOne text.,a\nTwo texts.,b\n")
    with pytest.raises(InputError, match="a file of your own has no such reading"):
        load_event_data(SimpleNamespace(data=table, dry_run=False), 13, 0.1, confirmed_only=True)
