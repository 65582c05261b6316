"""Reference baselines reported beside our models: TF-IDF + logistic regression, and an embedding-similarity
relatedness gate in front of it. Trained on the same training data as the models they are compared with."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import sparse

from model.encoder import EncoderConfig, SentenceEncoder
from model.resolve import BASE_ENCODER
from training.data.stance_data import StanceData
from training.metrics import RELATED, classification_report, stance_report

LABELS = ("agree", "disagree", "discuss", "unrelated")


def _tfidf_pair_features(vectorizer, data: StanceData):
    heads = vectorizer.transform([e.claim for e in data.examples])
    body_ids = sorted(data.bodies)
    body_matrix = vectorizer.transform([data.bodies[b] for b in body_ids])
    row = {b: i for i, b in enumerate(body_ids)}
    bodies = body_matrix[[row[e.body_id] for e in data.examples]]
    cosine = sparse.csr_matrix(np.asarray(heads.multiply(bodies).sum(1)))
    return sparse.hstack([heads, bodies, cosine * 5]).tocsr()


def stance_baselines(train: StanceData, test: StanceData, seed: int = 13,
                     predictions: dict[str, list[str]] | None = None) -> dict[str, dict]:
    """TF-IDF (5k terms of headlines and bodies) + cosine -> logistic regression, 4-way; and the same 3-way
    stance classifier behind a relatedness gate fitted on frozen-encoder similarity features. ``predictions``, when
    given, receives each baseline's label per test pair."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(max_features=5000, stop_words="english", sublinear_tf=True)
    vectorizer.fit([e.claim for e in train.examples] + list(train.bodies.values()))
    x_train, x_test = _tfidf_pair_features(vectorizer, train), _tfidf_pair_features(vectorizer, test)
    y_train = [e.label for e in train.examples]
    gold = [e.label for e in test.examples]
    four_way = LogisticRegression(max_iter=2000, C=1.0, random_state=seed).fit(x_train, y_train)
    guesses = {"tfidf_logreg": list(four_way.predict(x_test))}

    related_rows = [i for i, y in enumerate(y_train) if y in RELATED]
    three_way = LogisticRegression(max_iter=2000, C=1.0, random_state=seed, class_weight="balanced").fit(
        x_train[related_rows], [y_train[i] for i in related_rows])
    stance_guess = three_way.predict(x_test)

    from training.stance import fit_gate, gate_features, view_pairs

    encoder = SentenceEncoder(EncoderConfig(name=BASE_ENCODER))
    gate = fit_gate(gate_features(train, *view_pairs(train, encoder)),
                    np.array([y in RELATED for y in y_train]), seed)
    p_related = gate.probability(gate_features(test, *view_pairs(test, encoder)))
    guesses["embedding_gate+tfidf_logreg"] = [g if p >= 0.5 else "unrelated" for p, g in zip(p_related, stance_guess)]
    if predictions is not None:
        predictions.update(guesses)
    return {name: stance_report(gold, guess, LABELS) for name, guess in guesses.items()}


def tfidf_event_baseline(train, texts: Sequence[str], gold: Sequence[str], labels: Sequence[str], seed: int = 13,
                         predictions: list[str] | None = None) -> dict:
    """TF-IDF (word 1-2 grams) + logistic regression trained on the same training examples; ``predictions``, when
    given, receives its label per text."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=50000, sublinear_tf=True)
    x = vectorizer.fit_transform([e.text for e in train])
    clf = LogisticRegression(max_iter=3000, C=5.0, class_weight="balanced", random_state=seed)
    clf.fit(x, [e.label for e in train])
    guess = [str(label) for label in clf.predict(vectorizer.transform(list(texts)))]
    if predictions is not None:
        predictions += guess
    return classification_report(list(gold), guess, list(labels))
