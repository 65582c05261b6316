"""The language model's view of a stance pair: claim tokens after the evidence, their mean and the last token's
state at the chosen layer, the same whatever the batch; the probe's log-probabilities feed the stacker."""
import numpy as np
import pytest
import torch


@pytest.fixture(scope="module")
def reader(tiny_generator):
    from model.lm_pairs import LMPairConfig, LMPairReader

    reader = LMPairReader(LMPairConfig(name=str(tiny_generator), layer=1, evidence_tokens=24, claim_tokens=8))
    reader.load_lm("torch")  # fp32, so the comparison with the full model is exact on every CPU
    return reader


def test_vectors_read_the_claim_after_the_evidence_at_the_chosen_layer(reader, tiny_generator):
    from transformers import AutoModel

    claim, evidence = "Troops leave the border", "The army pulled out two brigades on Monday, officials said."
    got = reader.vectors([claim], [evidence])[0]
    ids, c0, c1 = reader._token_ids(claim, evidence)
    assert 0 < c0 < c1 < len(ids)
    full = AutoModel.from_pretrained(tiny_generator, dtype=torch.float32).eval()
    with torch.inference_mode():
        hidden = full(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states[1][0]
    dim = reader.lm.dim
    np.testing.assert_allclose(got[:dim], hidden[c0:c1].mean(0).numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got[dim:], hidden[-1].numpy(), rtol=1e-4, atol=1e-5)
    # the claim's states depend on the evidence before it
    assert not np.allclose(reader.vectors([claim], ["Shares fell sharply in early trading."])[0][:dim], got[:dim])


def test_vectors_do_not_depend_on_the_batch_and_the_cache_returns_them(reader):
    claims = ["Troops leave the border", "A hoax about a giant spider"]
    evidence = ["The army pulled out two brigades on Monday.", "Experts said the photo was fake and edited. " * 3]
    alone = np.stack([reader.vectors([c], [e])[0] for c, e in zip(claims, evidence)])
    together = reader.vectors(claims, evidence)
    np.testing.assert_allclose(together, alone, rtol=1e-4, atol=1e-5)
    reader.cache = {}
    try:
        first = reader.vectors(claims + claims[:1], evidence + evidence[:1])
        assert len(reader.cache) == 2
        np.testing.assert_allclose(first[:2], together, rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(reader.vectors(claims[::-1], evidence[::-1]), first[:2][::-1])
    finally:
        reader.cache = None


def test_evidence_and_claim_are_cut_to_their_budgets(reader):
    ids, c0, c1 = reader._token_ids("word " * 50, "evidence " * 100)
    assert c0 <= 1 + reader.config.evidence_tokens and c1 - c0 == reader.config.claim_tokens


def test_stacker_reads_the_probe_only_for_pairs_the_gate_calls_related(reader):
    from model.linear import StandardizedLinear
    from model.stance import ArticleView

    dim = 2 * reader.lm.dim
    rng = np.random.default_rng(0)
    reader.probe = StandardizedLinear(np.zeros(dim), np.ones(dim), rng.normal(size=(3, dim)), np.zeros(3))
    try:
        model = _stance_model(reader)
        articles = [ArticleView(["The army pulled out.", "Officials confirmed it."], np.eye(2, 8, dtype=np.float32), [4, 3])] * 2
        claims, evidence = ["Troops leave", "Troops stay"], [[0, 1], [0]]
        probs = torch.full((2, 3), 1 / 3)
        feats = model.stack_features(claims, articles, evidence, np.zeros((2, 0)), probs, related=np.array([True, False]))
        lm = feats[:, -3:]
        expected = reader.log_probabilities(["Troops leave"], ["The army pulled out. Officials confirmed it."])[0]
        np.testing.assert_allclose(lm[0], np.maximum(expected, np.log(1e-6)), rtol=1e-5)
        np.testing.assert_allclose(lm[1], np.log(1 / 3), rtol=1e-6)  # not read: uniform
    finally:
        reader.probe = None


def _stance_model(reader):
    from model.labels import RELATED_STANCE_LABELS
    from model.pair_classifier import PairClassifier
    from model.resolve import TINY_ENCODER
    from model.stance import StanceModel

    return StanceModel(PairClassifier(TINY_ENCODER, RELATED_STANCE_LABELS, max_length=32), lm_reader=reader)


def test_a_reader_without_a_probe_refuses_to_score(reader):
    with pytest.raises(ValueError, match="probe"):
        reader.log_probabilities(["a"], ["b"])


def test_the_event_models_language_model_is_shared_when_it_reads_the_same_layer(reader, tiny_generator):
    from model.lm_features import LMFeatureConfig, LMFeatureEncoder
    from model.lm_pairs import LMPairConfig, LMPairReader

    same = LMFeatureEncoder(LMFeatureConfig(name=str(tiny_generator), layer=1), runtime="torch")
    other = LMFeatureEncoder(LMFeatureConfig(name=str(tiny_generator), layer=2), runtime="torch")
    fresh = LMPairReader(LMPairConfig(name=str(tiny_generator), layer=1))
    assert fresh.load_lm("torch", share=other) is not other
    assert fresh.load_lm("torch", share=same) is same
