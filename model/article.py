"""The article pass: sentences of many articles embedded together by the frozen encoder, once."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from model.encoder import SentenceEncoder
from model.stance import ArticleView
from model.text import chunk_tokens, normalize_text, split_sentences


def sentence_pieces(texts: Sequence[str], encoder: SentenceEncoder) -> list[tuple[list[str], list[list[int]]]]:
    """For each text: its sentences and their word-piece ids (no special tokens), from one tokenizer call over all
    sentences of all texts. A sentence longer than the encoder window is cut into token windows."""
    limit = encoder.config.max_length - 2
    per_text = [split_sentences(normalize_text(t)) for t in texts]
    flat = [s for sentences in per_text for s in sentences]
    encoded = encoder.tokenizer(flat, add_special_tokens=False, return_offsets_mapping=True,
                                verbose=False) if flat else None  # long sentences are windowed below: no warning
    out, at = [], 0
    for sentences in per_text:
        pieces: list[str] = []
        ids: list[list[int]] = []
        for k, sentence in enumerate(sentences, start=at):
            offsets, token_ids = encoded["offset_mapping"][k], encoded["input_ids"][k]
            if len(offsets) <= limit:
                pieces.append(sentence)
                ids.append(token_ids)
                continue
            for chunk in chunk_tokens(len(offsets), limit):
                piece = sentence[offsets[chunk.start][0] : offsets[chunk.end - 1][1]].strip()
                if piece:
                    pieces.append(piece)
                    ids.append(token_ids[chunk.start : chunk.end])
        at += len(sentences)
        out.append((pieces, ids))
    return out


def article_sentences(text: str, encoder: SentenceEncoder) -> list[str]:
    """Sentences of ``text``; a sentence longer than the encoder window is cut into token windows."""
    return sentence_pieces([text], encoder)[0][0]


def read_articles(texts: Sequence[str], encoder: SentenceEncoder, max_sentences: int | None = None) -> list[ArticleView]:
    """One ArticleView per text; all sentences of all texts go through the encoder in shared batches, tokenised
    once. ``max_sentences`` keeps only each article's opening sentences (for models that read only the lead)."""
    if max_sentences == 0:  # nothing reads the vectors (a fine-tuned event model reads the text itself)
        return [ArticleView([], np.zeros((0, encoder.dim), dtype=np.float32), []) for _ in texts]
    per_article = [(sentences[:max_sentences], ids[:max_sentences]) for sentences, ids in sentence_pieces(texts, encoder)]
    flat_ids = [i for _, ids in per_article for i in ids]
    vectors = encoder.embed_ids(flat_ids) if flat_ids else np.zeros((0, encoder.dim), dtype=np.float32)
    views, at = [], 0
    for sentences, ids in per_article:
        n = len(sentences)
        views.append(ArticleView(sentences, vectors[at : at + n], [len(i) for i in ids]))
        at += n
    return views
