"""Lexical stance cues: how much an article hedges, refutes or negates, overall and in the evidence sentences.

A pair classifier that reads only a few evidence sentences misses how the whole body frames a claim
("reportedly", "a hoax"); these counts give the stacker that view, independent of the claim's topic.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

REFUTE_WORDS = frozenset(
    "fake fakes faked hoax hoaxes fraud fraudulent false falsely untrue bogus debunk debunked debunks deny denies "
    "denied denial refute refutes refuted dismiss dismissed dismisses retract retracted retraction myth prank "
    "pranks satire satirical fabricated fabrication misleading rumour rumor nonsense baseless doubt doubts "
    "doubted dispute disputes disputed".split()
)
HEDGE_WORDS = frozenset(
    "reportedly allegedly apparently purportedly supposedly unconfirmed unverified claim claims claimed "
    "claiming speculation speculate speculated rumoured rumored may might could possibly perhaps appears "
    "appear seems seem believed alleged allege alleges suggests suggest suggested according report reports "
    "reported".split()
)
NEGATION_WORDS = frozenset("not no never nothing none neither nor cannot isn't wasn't aren't weren't don't "
                           "doesn't didn't won't wouldn't hasn't haven't hadn't n't".split())
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")

CUE_FEATURES = (
    "body_refute", "body_hedge", "body_negation",
    "evidence_refute", "evidence_hedge", "evidence_negation",
    "claim_refute", "claim_hedge", "claim_negation", "claim_question", "log_sentences",
)


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def has_refute_word(text: str) -> bool:
    """Whether ``text`` holds one of REFUTE_WORDS."""
    return bool(_words(text) & REFUTE_WORDS)


def _rates(sentences: Sequence[str]) -> list[float]:
    """Share of ``sentences`` holding at least one refute / hedge / negation word."""
    if not sentences:
        return [0.0, 0.0, 0.0]
    hits = np.zeros(3)
    for sentence in sentences:
        words = _words(sentence)
        hits += [bool(words & REFUTE_WORDS), bool(words & HEDGE_WORDS), bool(words & NEGATION_WORDS)]
    return (hits / len(sentences)).tolist()


def cue_features(claim: str, sentences: Sequence[str], evidence: Sequence[int]) -> np.ndarray:
    """The CUE_FEATURES of one (claim, article) pair; ``evidence`` indexes the chosen sentences."""
    claim_words = _words(claim)
    claim_flags = [
        float(bool(claim_words & REFUTE_WORDS)),
        float(bool(claim_words & HEDGE_WORDS)),
        float(bool(claim_words & NEGATION_WORDS)),
        float("?" in claim),
    ]
    body = _rates(sentences)
    chosen = _rates([sentences[i] for i in evidence])
    return np.array(body + chosen + claim_flags + [float(np.log1p(len(sentences)))], dtype=np.float32)
