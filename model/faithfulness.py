"""Faithfulness guard: names, numbers and places in a generated summary that the article never mentions."""
from __future__ import annotations

import re

from model.text import STOPWORDS

_TOKEN = re.compile(r"[£$€]?\d[\d,.]*(?:%|bn|m|k)?|[A-Z][\w'’-]*")
_NUMBER = re.compile(r"\d[\d,.]*")


def _norm_number(text: str) -> str:
    return _NUMBER.search(text).group().replace(",", "").rstrip(".")


def checkable_terms(summary: str) -> list[str]:
    """Numbers and capitalised words (names, places, organisations) of ``summary``, in order, no repeats.

    A capitalised word that is a plain stopword ("The", "In") is not a name and is skipped."""
    out: list[str] = []
    for match in _TOKEN.finditer(summary):
        term = match.group().rstrip("'’-.,")
        if not term or (term[0].isalpha() and term.lower() in STOPWORDS) or term in out:
            continue
        out.append(term)
    return out


def unsupported_terms(summary: str, article: str) -> list[str]:
    """The checkable terms of ``summary`` that do not occur in ``article`` (numbers compared without commas)."""
    lowered = article.lower().replace("’", "'")
    numbers = {_norm_number(m.group()) for m in _NUMBER.finditer(article)}
    flagged = []
    for term in checkable_terms(summary):
        if term[0].isdigit() or term[0] in "£$€":
            if _norm_number(term) not in numbers:
                flagged.append(term)
        else:
            base = re.sub(r"'s$", "", term.replace("’", "'")).lower()
            if not re.search(r"(?<!\w)" + re.escape(base) + r"(?!\w)", lowered):
                flagged.append(term)
    return flagged
