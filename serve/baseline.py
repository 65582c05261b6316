"""The benchmark baseline: the same weights run the way a plain transformers user would, through
`pipeline("feature-extraction")` in fp32 at batch size 1, each task on its own (no shared passes, no batching)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from model.analyzer import Analyzer, ArticleInput, prepare_article
from model.article import article_sentences
from model.event_lm import NEVER, EventLMModel
from model.heads import pick_within_budget, sentence_features
from model.relatedness import relatedness_features
from model.stance import ArticleView, pick_evidence


class PipelineBaseline:
    """Full analysis (stance for the headline, event type, extractive summary) with plain pipelines."""

    def __init__(self, analyzer: Analyzer):
        """``analyzer`` supplies the weights; it must run the plain torch modules (backend 'torch')."""
        from transformers import pipeline

        if analyzer.backend != "torch":
            raise ValueError(f"the pipeline baseline runs the fp32 torch modules; this Analyzer runs {analyzer.backend} "
                             "(build it with backend='torch')")
        self.analyzer = analyzer
        if isinstance(analyzer.event, EventLMModel):
            analyzer.event.gate_threshold = NEVER  # a plain user runs the full classifier on every article
        enc = analyzer.encoder
        self.embed_pipe = pipeline("feature-extraction", model=enc.module, tokenizer=enc.tokenizer, framework="pt",
                                   device="cpu")
        self.pair_pipe = self.event_pipe = None
        event = analyzer.event
        if event is not None and not event.reads_vectors:
            self.event_pipe = pipeline("feature-extraction", model=event.classifier.encoder,
                                       tokenizer=event.classifier.tokenizer, framework="pt", device="cpu")
        if analyzer.stance is not None:
            pairs = analyzer.stance.pairs
            self.pair_pipe = pipeline("feature-extraction", model=pairs.encoder, tokenizer=pairs.tokenizer,
                                      framework="pt", device="cpu")

    def _vector(self, text: str) -> np.ndarray:
        hidden = np.asarray(self.embed_pipe(text, tokenize_kwargs={"truncation": True, "max_length": 128})[0])
        v = hidden.mean(0)
        return (v / max(np.linalg.norm(v), 1e-9)).astype(np.float32)

    def _view(self, body: str, max_sentences: int | None = None) -> ArticleView:
        sentences = article_sentences(body, self.analyzer.encoder)[:max_sentences]
        vectors = np.stack([self._vector(s) for s in sentences]) if sentences else np.zeros((0, 1), np.float32)
        return ArticleView(sentences, vectors, self.analyzer.encoder.token_counts(sentences))

    def analyze(self, item: ArticleInput, tasks: Sequence[str] = ("stance", "event", "summary")) -> dict:
        prepared = prepare_article(item)
        out: dict = {}
        if "stance" in tasks and self.pair_pipe is not None and prepared.claims:
            view = self._view(prepared.body)
            stance = self.analyzer.stance
            out["stance"] = []
            for claim in prepared.claims:
                claim_vec = self._vector(claim)
                p_rel = float(stance.gate.probability(relatedness_features(claim, claim_vec, view.sentences, view.vectors))[0]) if stance.gate else 1.0
                evidence = " ".join(view.sentences[j] for j in pick_evidence(stance.evidence_settings, claim, claim_vec, view))
                hidden = np.asarray(self.pair_pipe(claim, tokenize_kwargs={"text_pair": evidence, "truncation": "only_second",
                                                                           "max_length": stance.pairs.max_length})[0])
                with torch.no_grad():
                    logits = stance.pairs.head(torch.from_numpy(hidden.mean(0)).float()) + stance.pairs.bias
                if stance.gate is not None and p_rel < stance.gate.threshold:
                    out["stance"].append(stance.unrelated_label)
                else:
                    out["stance"].append(stance.pairs.labels[int(logits.argmax())])
        if "event" in tasks and self.analyzer.event is not None and not self.analyzer.event.reads_vectors:
            out["event"] = self._read_event(prepared)
        elif "event" in tasks and self.analyzer.event is not None:
            features = self.analyzer.event.features  # a plain user also feeds only what the head reads
            view = self._view(prepared.body, None if features.use_body else features.lead_sentences)
            if prepared.headline:
                view = ArticleView([prepared.headline] + view.sentences,
                                   np.vstack([self._vector(prepared.headline)[None], view.vectors]), [0] + view.token_counts)
            out["event"] = self.analyzer.event.predict([view], [prepared.text])[0].label
        if "summary" in tasks and self.analyzer.scorer is not None:
            view = self._view(prepared.body)
            with torch.no_grad():
                scores = self.analyzer.scorer.head(torch.from_numpy(sentence_features(view))).squeeze(-1).numpy() if view.sentences else []
            out["summary"] = pick_within_budget(scores, view.sentences, self.analyzer.summary_budget)
        return out

    def _read_event(self, prepared) -> str:
        """The fine-tuned event model through a feature-extraction pipeline: (headline, lead), batch 1."""
        from model.text import headline_and_lead
        from model.heads import blended_predictions
        from model.lexical import log_softmax

        event = self.analyzer.event
        headline, lead = headline_and_lead(prepared.text, event.features.lead_sentences)
        hidden = np.asarray(self.event_pipe(headline, tokenize_kwargs={"text_pair": lead, "truncation": "only_second",
                                                                       "max_length": event.classifier.max_length})[0])
        with torch.no_grad():
            logits = event.classifier.head(torch.from_numpy(hidden.mean(0)).float()[None]).numpy()
        return blended_predictions(event.labels, log_softmax(logits), event.lexical, event.blend, [prepared.text])[0].label
