"""Word evidence of the event model: same numbers as sklearn, saved and loaded without pickles, blended."""
import numpy as np
import pytest

from model.lexical import VOCABULARY_FILE, LexicalClassifier

TEXTS = ["Troops shelled the town overnight", "Rebels attacked an army post", "The central bank raised rates",
         "Shares fell as inflation rose", "The striker scored twice in the final", "The team won the cup"] * 3
TARGETS = [0, 0, 1, 1, 2, 2] * 3


def test_probabilities_match_sklearn_and_survive_save_and_load(tmp_path):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    words = LexicalClassifier.fit(TEXTS, TARGETS, 3)
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_features=50_000)
    clf = LogisticRegression(max_iter=3000, C=5.0, class_weight="balanced", random_state=13).fit(
        vec.fit_transform(TEXTS), TARGETS)
    probe = ["Army post shelled by rebels", "Bank shares rose", "nothing known here"]
    expected = clf.predict_proba(vec.transform(probe))
    assert np.exp(words.log_probabilities(probe)) == pytest.approx(expected, abs=1e-4)
    words.save_vocabulary(tmp_path)
    tensors = {k: v for k, v in words.tensors().items()}
    again = LexicalClassifier.load(tmp_path, tensors, words.ngram_max)
    assert again.log_probabilities(probe) == pytest.approx(words.log_probabilities(probe), abs=1e-6)
    (tmp_path / VOCABULARY_FILE).write_text('["only"]')
    with pytest.raises(Exception, match="does not match"):
        LexicalClassifier.load(tmp_path, tensors, 2)


def test_two_labels_and_a_label_missing_from_train():
    words = LexicalClassifier.fit(TEXTS[:4], [0, 0, 2, 2], 3)
    probs = np.exp(words.log_probabilities(["Troops attacked", "Bank rates"]))
    assert probs.argmax(1).tolist() == [0, 2]
    assert probs[:, 1].max() < 1e-6


def test_event_model_blends_head_and_words_and_round_trips(tiny_models, seed_text, tmp_path):
    from model.analyzer import Analyzer
    from model.heads import EventModel
    from model.labels import EVENT_LABELS

    base = EventModel.load(tiny_models["event"])
    targets = [EVENT_LABELS.index(label) for label in ("armed_conflict", "economy", "other")]
    words = LexicalClassifier.fit(TEXTS, [targets[t] for t in TARGETS], len(EVENT_LABELS))
    EventModel(base.head, base.labels, base.features, base.base_model, words, 0.0).save(tmp_path / "event")
    analyzer = Analyzer(stance=None, event=tmp_path / "event", summary=None, threads=1, abstractive=None)
    words_only = analyzer.analyze("Rebels shelled an army post\n\nFighting went on overnight.").event
    assert words_only.label == "armed_conflict"  # blend 0: the words alone decide
    loaded = EventModel.load(tmp_path / "event")
    assert loaded.lexical is not None and loaded.blend == 0.0
    head_only = Analyzer(stance=None, event=tiny_models["event"], summary=None, threads=1, abstractive=None)
    assert head_only.analyze(seed_text).event.scores != analyzer.analyze(seed_text).event.scores
    from model.stance import ArticleView

    view = ArticleView(["a"], np.zeros((1, base.head.in_dim // 2), np.float32), [1])
    with pytest.raises(ValueError, match="pass the article texts"):
        loaded.predict([view])
    # saved again over that folder without word evidence: the old vocabulary does not stay beside it
    base.save(tmp_path / "event")
    assert not (tmp_path / "event" / "vocabulary.json").exists() and EventModel.load(tmp_path / "event").lexical is None


def test_lead_view_reads_only_the_headline_and_opening_and_round_trips(tiny_models, tmp_path):
    from model.heads import EventModel
    from model.lexical import lead_text

    article = "Army ends its deployment\nThe last soldiers left the base. They flew home. Rebels shelled a town."
    assert lead_text(article, 2) == "Army ends its deployment\nThe last soldiers left the base. They flew home."
    assert lead_text(article, 0) == article
    words = LexicalClassifier.fit(TEXTS, TARGETS, 3, lead_sentences=1)
    probe = "Bank news\nThe central bank raised rates. Troops shelled the town overnight. Rebels attacked an army post."
    assert words.log_probabilities([probe]).argmax() == 1  # the shelling after the lead is not read
    assert LexicalClassifier.fit(TEXTS, TARGETS, 3).log_probabilities([probe]).argmax() == 0

    base = EventModel.load(tiny_models["event"])
    words = LexicalClassifier.fit(TEXTS, TARGETS, len(base.labels), lead_sentences=1)
    EventModel(base.head, base.labels, base.features, base.base_model, words, 0.5).save(tmp_path / "event")
    assert EventModel.load(tmp_path / "event").lexical.lead_sentences == 1
