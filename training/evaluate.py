"""Score saved models on labelled data with the metrics in training.metrics."""
from __future__ import annotations

import time
from typing import Sequence

import numpy as np
from tqdm.auto import tqdm

from model.article import read_articles
from model.backends import fast_encoder, resolve_backend
from model.encoder import EncoderConfig, SentenceEncoder
from model.event_lm import EventLMModel
from model.heads import EventModel, EventPrediction, SentenceScorer, SummaryBudget
from model.stance import StanceModel
from training.data.stance_data import StanceData, check_stance_labels
from training.metrics import classification_report, rouge_scores, stance_report


def sentence_encoder(name: str, backend: str = "torch") -> SentenceEncoder:
    """The frozen encoder as ``backend`` runs it (the accuracy guard evaluates each backend)."""
    encoder = SentenceEncoder(EncoderConfig(name=name))
    encoder.module = fast_encoder(encoder.module, backend)
    return encoder


def evaluate_stance(model: StanceModel, data: StanceData, where: str = "data", batch: int = 2000,
                    backend: str = "torch", rows: list | None = None) -> dict:
    """Predict every pair (bodies read once) and report FNC score, macro-F1, per-class F1 and confusion.
    With ``rows``, one dict per pair (claim, body id, gold, predicted, confidence) is appended to it."""
    check_stance_labels(data, model.labels, where)
    started = time.time()
    encoder = sentence_encoder(model.sentence_model, backend)
    model.pairs.encoder = fast_encoder(model.pairs.encoder, backend)
    if model.lm_reader is not None:  # the language model runs on the same backend as the encoders
        model.lm_reader.load_lm(resolve_backend(backend))
    body_ids = sorted(data.bodies)
    views = dict(zip(body_ids, read_articles([data.bodies[b] for b in body_ids], encoder)))
    claims = sorted({e.claim for e in data.examples})
    claim_vecs = dict(zip(claims, encoder.embed(claims)))
    predicted: list[str] = []
    for lo in tqdm(range(0, len(data.examples), batch), desc="stance", unit="batch"):
        part = data.examples[lo : lo + batch]
        preds = model.predict([e.claim for e in part], np.stack([claim_vecs[e.claim] for e in part]),
                              [views[e.body_id] for e in part], skip_unrelated=True)
        predicted += [p.label for p in preds]
        if rows is not None:
            rows += [{"claim": e.claim, "body_id": e.body_id, "gold": e.label, "predicted": p.label,
                      "confidence": round(p.probabilities[p.label], 4)} for e, p in zip(part, preds)]
    report = stance_report([e.label for e in data.examples], predicted, list(model.labels))
    report["seconds"] = round(time.time() - started, 1)
    return report


def evaluate_event(model: EventModel, texts: Sequence[str], gold: Sequence[str], backend: str = "torch",
                   rows: list | None = None, chunks: int = 0) -> dict:
    """Accuracy, macro-F1, per-class F1 and confusion of ``model`` on ``texts``. With ``rows``, one dict per text
    (its opening, gold, predicted, confidence, reader) is appended to it. With ``chunks`` N, each text is read as
    model.text.article_chunks (the text, then windows of N body sentences) and labelled by the mean of the chunks'
    probabilities, instead of from its headline and opening."""
    unknown = sorted(set(gold) - set(model.labels))
    if unknown:
        from model.errors import InputError

        raise InputError(f"labels {unknown} are not labels of this model ({', '.join(model.labels)})")
    started = time.time()
    if isinstance(model, EventLMModel):  # its language model runs on the same backend as the encoder
        model.load_lm(resolve_backend(backend))
    encoder = None
    if not model.reads_vectors:  # a fine-tuned event model reads the text through its own encoder
        model.classifier.encoder = fast_encoder(model.classifier.encoder, backend)
    else:
        encoder = sentence_encoder(model.base_model, backend)
    predictions = (_chunk_predictions(model, texts, encoder, chunks) if chunks
                   else model.predict(_event_views(model, texts, encoder), list(texts)))
    predicted = [p.label for p in predictions]
    if rows is not None:
        rows += [{"text": " ".join(t.split())[:300], "gold": g, "predicted": p.label,
                  "confidence": round(p.scores[p.label], 4), **({"reader": p.reader} if p.reader else {})}
                 for t, g, p in zip(texts, gold, predictions)]
    report = classification_report(list(gold), predicted, list(model.labels))
    report["seconds"] = round(time.time() - started, 1)
    return report


def _event_views(model, texts: Sequence[str], encoder: SentenceEncoder | None):
    """The article pass an event model reads (None for a fine-tuned one, which reads the texts itself)."""
    if encoder is None:
        return None
    return read_articles(list(texts), encoder, None if model.features.use_body else model.features.lead_sentences)


def _chunk_predictions(model, texts: Sequence[str], encoder, sentences: int) -> list[EventPrediction]:
    """One prediction per text: the mean of the probabilities ``model`` gives each of its article_chunks."""
    from model.text import article_chunks

    pieces = [article_chunks(text, sentences) for text in texts]
    flat = [piece for chunks in pieces for piece in chunks]
    read = iter(model.predict(_event_views(model, flat, encoder), flat))
    out = []
    for chunks in pieces:
        parts = [next(read) for _ in chunks]
        mean = {label: float(np.mean([p.scores[label] for p in parts])) for label in model.labels}
        out.append(EventPrediction(max(mean, key=mean.get), mean, f"mean of {len(parts)} chunks"))
    return out


def evaluate_extractive(scorer: SentenceScorer, articles: Sequence[str], references: Sequence[str],
                        budget: SummaryBudget, backend: str = "torch") -> dict:
    """ROUGE of the scorer and of LEAD under the same budget, on the same articles."""
    from training.summary import lead_summary, summaries_from
    from model.text import split_headline

    started = time.time()
    encoder = sentence_encoder(scorer.base_model, backend)
    views = read_articles([split_headline(a.strip())[1] for a in articles], encoder)
    return {
        "n": len(articles),
        "budget": {"sentences": budget.sentences, "words": budget.words},
        "extractive": rouge_scores(references, summaries_from(views, lambda v: scorer.select(v, budget))),
        f"lead_{budget.sentences}": rouge_scores(references, summaries_from(views, lambda v: lead_summary(v, budget))),
        "seconds": round(time.time() - started, 1),
    }
