"""The mirrored view: each related pair also read with its claim refuted, agree and disagree swapped back."""
import json

import numpy as np
import pytest
import torch

from model.refutation import flip_permutation, mirror_claim
from model.stance import StanceModel


def test_flip_permutation_swaps_agree_and_disagree_only():
    assert flip_permutation(("agree", "disagree", "discuss")) == [1, 0, 2]
    assert flip_permutation(("discuss", "other", "disagree", "agree")) == [0, 1, 3, 2]
    assert flip_permutation(("positive", "negative")) is None


def test_mirror_claim_is_repeatable_and_refutes():
    assert mirror_claim("Spider burrowed into man's ear.") == mirror_claim("Spider burrowed into man's ear.")
    assert mirror_claim("Spider burrowed into man's ear.") == "It is not true that Spider burrowed into man's ear"


def _views(tiny_models):
    from model.article import read_articles
    from model.encoder import EncoderConfig, SentenceEncoder

    model = StanceModel.load(tiny_models["stance"])
    encoder = SentenceEncoder(EncoderConfig(name=model.pairs.base_model))
    bodies = ["A giant spider was seen in Sydney. Officials called the video a hoax.",
              "Markets fell on Monday. The central bank said rates would stay put."]
    claims = ["Giant spider seen in Sydney", "Central bank raises rates"]
    articles = read_articles(bodies, encoder)
    evidence = [model.select(c, v, a) for c, v, a in zip(claims, encoder.embed(claims), articles)]
    return model, claims, articles, evidence, encoder


def test_mirrored_view_is_the_refuted_claim_with_columns_swapped(tiny_models):
    model, claims, articles, evidence, _ = _views(tiny_models)
    plain, none = model.classifier_views(claims, articles, evidence)
    assert none is None
    model.mirror = True
    probs, mirrored = model.classifier_views(claims, articles, evidence)
    assert torch.allclose(probs, plain, atol=1e-5)
    texts = [" ".join(a.sentences[j] for j in ev) for a, ev in zip(articles, evidence)]
    refuted = model.pairs.predict_proba([mirror_claim(c) for c in claims], texts)
    swap = flip_permutation(model.pairs.labels)
    assert torch.allclose(mirrored, refuted[:, swap], atol=1e-5)
    assert not torch.allclose(mirrored, probs, atol=1e-4)  # a random tiny model reads the two claims differently
    averaged = model.pair_probabilities(claims, articles, evidence, np.zeros((2, 0)))  # no stacker: features unused
    assert torch.allclose(averaged, (probs + mirrored) / 2, atol=1e-5)


def test_mirror_survives_save_and_load_and_feeds_the_stacker(tiny_models, tmp_path):
    from model.relatedness import FEATURES
    from model.stance_cues import CUE_FEATURES
    from training.stance_stack import fit_stacker

    model, claims, articles, evidence, encoder = _views(tiny_models)
    model.mirror = True
    n = len(model.pairs.labels)
    width = 2 * n + len(FEATURES) + len(CUE_FEATURES)
    rng = np.random.default_rng(0)
    model.stacker, _, _ = fit_stacker(rng.normal(size=(60, width)).astype(np.float32), rng.integers(0, n, 60),
                                      [f"c{i % 10}" for i in range(60)], n, seed=0)
    related = model.relatedness(claims, encoder.embed(claims), articles)
    probs, mirrored = model.classifier_views(claims, articles, evidence)
    features = model.stack_features(claims, articles, evidence, related, probs, mirrored)
    assert features.shape == (2, width)
    assert np.allclose(features[:, -n:], np.log(mirrored.numpy()), atol=1e-5)
    model.save(tmp_path / "mirrored")
    assert json.loads((tmp_path / "mirrored" / "config.json").read_text())["mirror"] is True
    again = StanceModel.load(tmp_path / "mirrored")
    assert again.mirror
    before = model.pair_probabilities(claims, articles, evidence, related)
    assert torch.allclose(again.pair_probabilities(claims, articles, evidence, related), before, atol=1e-4)


def test_mirror_needs_agree_disagree_and_discuss(tiny_models):
    from model.pair_classifier import PairClassifier

    pairs = PairClassifier(StanceModel.load(tiny_models["stance"]).pairs.base_model, ("negative", "positive"), 32)
    with pytest.raises(ValueError, match="agree, disagree and discuss"):
        StanceModel(pairs, mirror=True)
