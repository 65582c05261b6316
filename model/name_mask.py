"""Name masking for the pair classifier: the names an article uses become numbered placeholders in the claim and
the evidence, so the classifier reads how a body treats a claim rather than which story it is about.

There is no named-entity tagger offline, so a name is read off the article itself: a word it writes capitalised
away from a sentence start (or in capitals) and never in lower case. Headlines are often in title case, so a claim's
words count as names only when the article writes them as names.
"""
from __future__ import annotations

import re
from typing import Sequence

from model.text import STOPWORDS

_LETTERS = re.compile(r"[^\W\d_]+")
# a run of name words: word characters joined by spaces or hyphens (not across other punctuation)
_JOIN = re.compile(r"[ \t-]+")
PLACEHOLDER = "name{}"


def article_names(sentences: Sequence[str]) -> frozenset[str]:
    """Lower-cased words that ``sentences`` write as names: capitalised after a sentence's first word, or all in
    capitals (two letters or more), and never written in lower case; stopwords and single letters excluded."""
    capital: set[str] = set()
    lower: set[str] = set()
    for sentence in sentences:
        for i, match in enumerate(_LETTERS.finditer(sentence)):
            word = match.group()
            if word[0].islower():
                lower.add(word.lower())
            elif i > 0 or (len(word) > 1 and word.isupper()):
                capital.add(word.lower())
    return frozenset(w for w in capital - lower if len(w) > 1 and w not in STOPWORDS)


def _runs(text: str, names: frozenset[str]) -> list[tuple[int, int, str]]:
    """(start, end, key) of each run of name words in ``text``; the key is the run's last word, so "Robert Plant"
    and a later "Plant" share a placeholder."""
    runs: list[tuple[int, int, str]] = []
    for match in _LETTERS.finditer(text):
        word = match.group().lower()
        if word not in names:
            continue
        if runs and _JOIN.fullmatch(text[runs[-1][1] : match.start()]):
            runs[-1] = (runs[-1][0], match.end(), word)
        else:
            runs.append((match.start(), match.end(), word))
    return runs


def mask_names(texts: Sequence[str], names: frozenset[str]) -> list[str]:
    """``texts`` with each run of name words replaced by ``name1``, ``name2``, ..., numbered by first appearance
    across the texts in order (the same name gets the same placeholder in every text)."""
    numbers: dict[str, int] = {}
    out = []
    for text in texts:
        pieces, last = [], 0
        for start, end, key in _runs(text, names):
            number = numbers.setdefault(key, len(numbers) + 1)
            pieces += [text[last:start], PLACEHOLDER.format(number)]
            last = end
        out.append("".join(pieces) + text[last:])
    return out
