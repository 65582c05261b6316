"""Text preparation: decoding, normalisation, sentence splitting, chunking and evidence selection.

Everything here is pure Python (no downloads, no model) so training, serving and tests share it.
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

from model.errors import InputError

MAX_ARTICLE_CHARS = 1_000_000  # about 150k words: longer inputs are almost surely not one article

_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^<>]{0,500}>")
# tags that end a block of text: they become paragraph breaks, so a heading does not run into the next sentence
_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:p|div|br|h[1-6]|li|ul|ol|tr|td|th|title|header|footer|section|article|"
                        r"blockquote|figcaption|hr)\b[^<>]{0,500}>", re.IGNORECASE)
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")
_MANY_NEWLINES = re.compile(r"\n\s*\n\s*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def looks_like_utf16(data: bytes) -> bool:
    """A UTF-16 byte-order mark, or (without one) NUL in most odd or most even bytes, as UTF-16 writes ASCII."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") and data[2:4] != b"\x00\x00":  # FF FE 00 00 is UTF-32's mark
        return True
    head = data[:512]
    if len(head) < 8:
        return False
    return max(head[0::2].count(0), head[1::2].count(0)) >= 0.8 * (len(head) // 2)


def decode_text(data: bytes | str, what: str = "article") -> str:
    """Decode bytes as UTF-8 (with or without BOM); raise InputError naming ``what`` if they are not text."""
    if isinstance(data, str):
        return data
    if looks_like_utf16(data):
        raise InputError(f"{what} looks like UTF-16 text; re-save it as UTF-8")
    if b"\x00" in data[:4096]:
        raise InputError(f"{what} looks like binary data (it contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            f"{what} is not valid UTF-8 (bad byte at position {err.start}); re-save it as UTF-8"
        ) from None


def normalize_text(text: str) -> str:
    """Unicode NFKC, HTML tags and entities removed, runs of spaces collapsed, paragraphs kept as one blank line."""
    text = unicodedata.normalize("NFKC", text)
    if "<" in text:
        text = _SCRIPT.sub(" ", text)
        text = _BLOCK_TAG.sub("\n\n", text)
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _MANY_NEWLINES.sub("\n\n", text).strip()


def clean_article(data: bytes | str, what: str = "article", max_chars: int = MAX_ARTICLE_CHARS) -> str:
    """Decode and normalise an article, rejecting empty, binary and oversized input with a clear message."""
    text = decode_text(data, what)
    if "\x00" in text[:4096]:  # the same rule for text given as a string (JSONL, CSV, the demo) as for bytes
        raise InputError(f"{what} looks like binary data (it contains NUL bytes), not text")
    if len(text) > max_chars:
        raise InputError(f"{what} is {len(text):,} characters long; the limit is {max_chars:,}")
    if sum(ch.isprintable() or ch.isspace() for ch in text[:10000]) < 0.9 * min(len(text), 10000):
        raise InputError(f"{what} is mostly non-printable characters; is it a binary file?")
    text = normalize_text(text)
    if not any(ch.isalnum() for ch in text):
        raise InputError(f"{what} is empty (no letters or digits after cleaning)")
    if not any(ch.isalpha() for ch in text):
        raise InputError(f"{what} has no words, only numbers and symbols: {text[:40]!r}")
    return text


# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "gen", "col", "lt", "sgt", "capt", "cmdr", "adm",
    "gov", "sen", "rep", "pres", "rev", "hon", "no", "vs", "etc", "inc", "ltd", "co", "corp", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.g", "i.e",
    "a.m", "p.m", "approx", "dept", "est", "fig", "al",
}
# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace and a capital,
# digit or opening quote; newlines that separate paragraphs always end a sentence.
_BOUNDARY = re.compile(r"([.!?…]+[\"'”’)\]]*)\s+(?=[\"'“‘(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Split text into sentences with rules (no model, no download); paragraph breaks always split."""
    sentences: list[str] = []
    for paragraph in re.split(r"\n+", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        start = 0
        for match in _BOUNDARY.finditer(paragraph):
            end = match.end(1)
            before = paragraph[start:match.start(1)]
            last_word = before.rsplit(None, 1)[-1].lower() if before.strip() else ""
            if match.group(1) == "." and (last_word.rstrip(".") in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last_word)):
                continue
            sentences.append(paragraph[start:end].strip())
            start = match.end()
        tail = paragraph[start:].strip()
        if tail:
            sentences.append(tail)
    return [s for s in sentences if any(ch.isalnum() for ch in s)]


def _quote_depth(text: str, depth: int) -> int:
    """How many double quotations are open after ``text``, given ``depth`` open before it.

    A straight quote opens when it follows a space or bracket (or starts the text) and precedes a non-space, and
    closes otherwise, so a stray closing mark never opens a quotation. A quote mark that starts a sentence while a
    quotation is open continues it (news style reopens a running quote at each new paragraph)."""
    for k, ch in enumerate(text):
        opening = ch == "\u201c" or (ch == '"' and (k == 0 or text[k - 1].isspace() or text[k - 1] in "([")
                                      and k + 1 < len(text) and not text[k + 1].isspace())
        if opening:
            if not (depth and not text[:k].strip()):
                depth += 1
        elif ch in '"\u201d':
            depth = max(0, depth - 1)
    return depth


def quote_passages(sentences: Sequence[str], max_span: int) -> list[list[int]]:
    """Sentence indices grouped so that a quotation running over several sentences stays in one group.

    A group starts at a sentence and takes the following ones until every double quote it opened is closed, if
    that happens within ``max_span`` sentences; otherwise (an unclosed or very long quote) the sentence stands
    alone. Every index appears once, in order."""
    groups: list[list[int]] = []
    i, n = 0, len(sentences)
    while i < n:
        depth = _quote_depth(sentences[i], 0)
        j = i
        while depth and j + 1 < n and j + 1 - i < max_span:
            j += 1
            depth = _quote_depth(sentences[j], depth)
        end = j if not depth else i
        groups.append(list(range(i, end + 1)))
        i = end + 1
    return groups


def join_excerpt(sentences: Sequence[str], chosen: Sequence[int], max_span: int = 6) -> str:
    """The ``chosen`` sentences joined in article order. Where a run of consecutive chosen sentences starts or stops
    inside a quotation that spans several sentences (``quote_passages``), an ellipsis and the missing quotation mark
    show the cut, as an editor would: 'he said: "You are coming home ... friends. ..."'."""
    passage_of: dict[int, list[int]] = {}
    for group in quote_passages(sentences, max_span):
        for i in group:
            passage_of[i] = group
    runs: list[list[int]] = []
    for i in sorted(set(chosen)):
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    parts = []
    for run in runs:
        text = " ".join(sentences[i] for i in run)
        first, last = passage_of[run[0]], passage_of[run[-1]]
        if run[0] != first[0]:
            text = ("\u201c" if "\u201c" in sentences[first[0]] else '"') + "\u2026 " + text
        if run[-1] != last[-1]:
            text += " \u2026" + ("\u201d" if "\u201c" in sentences[last[0]] else '"')
        parts.append(text)
    return " ".join(parts)


def split_headline(text: str, max_words: int = 25) -> tuple[str | None, str]:
    """Return (headline, body) when the first line reads as a headline (short, no final full stop), else (None, text)."""
    first, sep, rest = text.partition("\n")
    first = first.strip()
    words = first.split()
    reads_as_headline = (
        sep and rest.strip() and 2 <= len(words) <= max_words and not first.endswith((".", ",", ";", ":"))
    )
    if reads_as_headline:
        return first, rest.strip()
    return None, text


def headline_and_lead(text: str, lead_sentences: int) -> tuple[str, str]:
    """(headline or '', the first ``lead_sentences`` body sentences) of an article whose first line may be a title."""
    headline, body = split_headline(text)
    return headline or "", " ".join(split_sentences(body)[:lead_sentences])


def opening_sentences(text: str, n: int) -> str:
    """The first ``n`` body sentences of an article, its headline line left out: a snippet-length view of it
    (the text itself when no sentence is found)."""
    sentences = split_sentences(split_headline(text)[1])
    return " ".join(sentences[:n]) if sentences else text


def article_chunks(text: str, sentences: int, limit: int = 12) -> list[str]:
    """A long article as up to ``limit`` texts to read one by one: the article itself first (a model that reads the
    headline and opening reads it as usual), then windows of ``sentences`` body sentences from the one after the
    first ``sentences`` on, without the headline."""
    if sentences < 1 or limit < 1:
        raise ValueError("sentences and limit must be at least 1")
    body = split_sentences(split_headline(text)[1])
    rest = [" ".join(body[i : i + sentences]) for i in range(sentences, len(body), sentences)]
    return [text] + rest[: limit - 1]


@dataclass(frozen=True)
class Chunk:
    """A window of token positions ``[start, end)`` of a tokenised article."""

    start: int
    end: int


def chunk_tokens(n_tokens: int, max_tokens: int, boundaries: Sequence[int] = ()) -> list[Chunk]:
    """Cut ``n_tokens`` positions into consecutive windows of at most ``max_tokens``.

    Windows end at a sentence boundary (a token position from ``boundaries``) when one lies in the
    second half of the window, so sentences are rarely cut. Every position is covered exactly once, in order.
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    cut_points = sorted(set(b for b in boundaries if 0 < b < n_tokens))
    chunks: list[Chunk] = []
    start = 0
    while start < n_tokens:
        limit = min(start + max_tokens, n_tokens)
        end = limit
        if limit < n_tokens:
            inside = [b for b in cut_points if start + max_tokens // 2 <= b <= limit]
            if inside:
                end = inside[-1]
        chunks.append(Chunk(start, end))
        start = end
    return chunks


_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being it its this that
    these those he she they we you i his her their our your my him them us me who whom which what when where why how
    not no do does did has have had will would shall should can could may might must than then there here so such
    also just about into over after before up down out off said says say new one two more most other some any all
    s t says told according""".split()
)


def content_words(text: str) -> set[str]:
    """Lower-cased words of ``text`` without stopwords, with a crude plural/verb suffix strip."""
    words = set()
    for word in _WORD.findall(text.lower()):
        if word in STOPWORDS or len(word) < 2:
            continue
        for suffix in ("'s", "ing", "ed", "es", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        words.add(word)
    return words


def overlap_scores(claim: str, sentences: Sequence[str]) -> list[float]:
    """Share of the claim's content words found in each sentence (0..1)."""
    claim_words = content_words(claim)
    if not claim_words:
        return [0.0] * len(sentences)
    return [len(claim_words & content_words(s)) / len(claim_words) for s in sentences]


def select_evidence(
    claim: str,
    sentences: Sequence[str],
    k: int = 4,
    similarity: Sequence[float] | None = None,
    lexical_weight: float = 0.5,
    token_counts: Sequence[int] | None = None,
    max_tokens: int | None = None,
    keep_first: bool = False,
    prefer: Sequence[bool] | None = None,
) -> list[int]:
    """Indices (in article order) of up to ``k`` sentences most relevant to ``claim``.

    Relevance is the share of the claim's content words a sentence contains, blended with
    ``similarity`` (e.g. embedding cosines) when given. With ``token_counts`` and ``max_tokens``,
    sentences are taken in order of relevance while they fit the token budget (the best one always).
    Ties keep the earlier sentence. With ``keep_first`` the article's first sentence is always taken; with
    ``prefer`` (one flag per sentence) so is the most relevant flagged sentence, right after it.
    """
    if not sentences:
        return []
    lexical = overlap_scores(claim, sentences)
    if similarity is None:
        scores = lexical
    else:
        if len(similarity) != len(sentences):
            raise ValueError("similarity must have one score per sentence")
        scores = [lexical_weight * a + (1 - lexical_weight) * float(b) for a, b in zip(lexical, similarity)]
    ranked = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
    if prefer is not None:
        if len(prefer) != len(sentences):
            raise ValueError("prefer must have one flag per sentence")
        flagged = [i for i in ranked if prefer[i]]
        if flagged:
            ranked = [flagged[0]] + [i for i in ranked if i != flagged[0]]
    if keep_first:
        ranked = [0] + [i for i in ranked if i != 0]
    if token_counts is None or max_tokens is None:
        return sorted(ranked[:k])
    chosen, used = [], 0
    for i in ranked:
        if len(chosen) == k:
            break
        if chosen and used + token_counts[i] > max_tokens:
            continue
        chosen.append(i)
        used += token_counts[i]
    return sorted(chosen)
