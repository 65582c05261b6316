"""The article pass: sentences of many articles embedded together by the frozen encoder, once."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from model.encoder import SentenceEncoder
from model.stance import ArticleView
from model.text import chunk_tokens, normalize_text, split_sentences


def article_sentences(text: str, encoder: SentenceEncoder) -> list[str]:
    """Sentences of ``text``; a sentence longer than the encoder window is cut into token windows."""
    limit = encoder.config.max_length - 2
    sentences = split_sentences(normalize_text(text))
    if not sentences:
        return []
    out: list[str] = []
    encoded = encoder.tokenizer(sentences, add_special_tokens=False, return_offsets_mapping=True)
    for sentence, offsets in zip(sentences, encoded["offset_mapping"]):
        if len(offsets) <= limit:
            out.append(sentence)
            continue
        for chunk in chunk_tokens(len(offsets), limit):
            piece = sentence[offsets[chunk.start][0] : offsets[chunk.end - 1][1]].strip()
            if piece:
                out.append(piece)
    return out


def read_articles(texts: Sequence[str], encoder: SentenceEncoder, max_sentences: int | None = None) -> list[ArticleView]:
    """One ArticleView per text; all sentences of all texts go through the encoder in shared batches.
    ``max_sentences`` keeps only each article's opening sentences (for models that read only the lead)."""
    if max_sentences == 0:  # nothing reads the vectors (a fine-tuned event model reads the text itself)
        return [ArticleView([], np.zeros((0, encoder.dim), dtype=np.float32), []) for _ in texts]
    per_article = [article_sentences(t, encoder)[:max_sentences] for t in texts]
    flat = [s for sentences in per_article for s in sentences]
    vectors = encoder.embed(flat) if flat else np.zeros((0, encoder.dim), dtype=np.float32)
    counts = encoder.token_counts(flat) if flat else []
    views, at = [], 0
    for sentences in per_article:
        n = len(sentences)
        views.append(ArticleView(sentences, vectors[at : at + n], counts[at : at + n]))
        at += n
    return views
