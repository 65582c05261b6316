"""Fixtures shared by the training tests."""
import pytest


@pytest.fixture(scope="module")
def fnc_rows(shared_data):
    from training.data.stance_data import load_fnc_split

    data = load_fnc_split(shared_data / "fnc1", "train")
    rows, per_label = [], {}
    for e in data.examples:  # a balanced slice: 15 pairs of each label
        if per_label.get(e.label, 0) < 15:
            per_label[e.label] = per_label.get(e.label, 0) + 1
            rows.append({"claim": e.claim, "body": data.bodies[e.body_id][:1500], "label": e.label})
    return rows
