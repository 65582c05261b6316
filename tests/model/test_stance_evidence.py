"""Stance evidence settings: the refuting sentence is read when asked for, and saved with the weights' settings."""
import numpy as np

from model.stance import ArticleView, EvidenceSettings, pick_evidence
from model.stance_cues import has_refute_word


def _view(sentences):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(sentences), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return ArticleView(sentences, vectors, [6] * len(sentences))


def test_refute_setting_keeps_the_refuting_sentence():
    sentences = [
        "A video shows a giant spider in a Sydney garden.",
        "The spider in the video was filmed in a Sydney garden on Sunday.",
        "Experts said the clip was a hoax made with software.",
        "Sydney has many spiders.",
    ]
    claim = "Giant spider filmed in Sydney garden"
    claim_vec = np.zeros(8, dtype=np.float32)  # lexical overlap alone ranks the sentences
    plain = EvidenceSettings(sentences=2, tokens=100, lexical_weight=1.0)
    assert 2 not in pick_evidence(plain, claim, claim_vec, _view(sentences))
    refute = EvidenceSettings(sentences=2, tokens=100, lexical_weight=1.0, refute=True)
    chosen = pick_evidence(refute, claim, claim_vec, _view(sentences))
    assert 2 in chosen and len(chosen) == 2
    no_refuting = [s for s in sentences if not has_refute_word(s)]
    assert pick_evidence(refute, claim, claim_vec, _view(no_refuting)) == pick_evidence(plain, claim, claim_vec,
                                                                                         _view(no_refuting))
