"""Corpora mapped onto the nine event types: one loader and one documented mapping table per corpus.

Source labels that do not map cleanly are dropped (never turned into `other`). Every example keeps its source
and a `group` (its source document) so that splits never put parts of one document on both sides.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from model.labels import EVENT_LABELS


@dataclass(frozen=True)
class EventExample:
    id: str
    text: str
    label: str
    source: str
    group: str


# The files each loader reads, relative to the data folder (the corpus layout `train event` expects).
CORPUS_FILES = {
    "bbc": ("bbc_news_summary/bbc_news_summary.jsonl",),
    "rams": ("rams/dev_event_types.jsonl", "rams/test_event_types.jsonl"),
    "plover_gsr": ("plover_gsr/plover_gsr_cameo.jsonl",),
    "ngec_synthetic": ("ngec_synthetic_plover/ngec_synthetic_plover.jsonl",),
    "glocon": ("glocon_gold_sample/document_sabinet.jsonl",),
    "india_police_events": ("india_police_events/docs.jsonl",),
    "muc4": ("muc4/train.jsonl", "muc4/dev.jsonl", "muc4/test.jsonl"),
    "crisislex": ("crisislex_t26/crisislex_t26_labeled.jsonl",),
}


def missing_corpus_files(data_dir: Path) -> list[str]:
    """The files of CORPUS_FILES that are not under ``data_dir``."""
    return [name for names in CORPUS_FILES.values() for name in names if not (Path(data_dir) / name).is_file()]


def _clean(text: str) -> str:
    text = text.replace("â€™", "'").replace("â€œ", '"').replace("â€\x9d", '"').replace("â€”", "-")
    return re.sub(r"[ \t]+", " ", re.sub(r"\s*\n\s*", "\n", text)).strip()


def _jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


# BBC News Summary categories. The first line of each article is its title.
BBC_MAP = {"business": "economy", "politics": "politics", "sport": "other", "entertainment": "other", "tech": "other"}


def load_bbc(data_dir: Path) -> Iterator[EventExample]:
    for row in _jsonl(data_dir / CORPUS_FILES["bbc"][0]):
        label = BBC_MAP.get(row["category"])
        if label:
            yield EventExample(f"bbc:{row['id']}", _clean(row["article"]), label, "bbc", f"bbc:{row['id']}")


# RAMS: only event types whose document window is reliably about that kind of event. Meetings, statements,
# transactions, movements, deaths and damage are left out: they occur inside stories of every type.
RAMS_MAP = {
    "conflict.attack.": "armed_conflict",
    "conflict.demonstrate.": "protest",
    "justice.arrestjaildetain.": "crime_justice",
    "justice.initiatejudicialprocess.": "crime_justice",
    "justice.investigate.": "crime_justice",
    "justice.judicialconsequences.": "crime_justice",
    "disaster.": "disaster",
    "government.vote.": "politics",
    "government.legislate.": "politics",
    "personnel.elect.": "politics",
    "government.agreements.acceptagreementcontractceasefire": "diplomacy",
    "contact.negotiate.": "diplomacy",
}
RAMS_DROPPED = ("conflict.attack.stealrobhijack",)  # robbery/hijacking: crime, not organised violence


def rams_label(event_type: str) -> str | None:
    if event_type.startswith(RAMS_DROPPED):
        return None
    for prefix, label in RAMS_MAP.items():
        if event_type.startswith(prefix):
            return label
    return None


def load_rams(data_dir: Path) -> Iterator[EventExample]:
    for name in CORPUS_FILES["rams"]:
        for row in _jsonl(data_dir / name):
            label = rams_label(row["event_type"])
            if label:
                text = re.sub(r" ([,.;:!?%)'])", r"\1", row["text"]).replace("( ", "(").replace(" n't", "n't")
                yield EventExample(f"rams:{row['doc_key']}", _clean(text), label, "rams", f"rams:{row['doc_key']}")


# PLOVER gold-standard sentences (CAMEO manual examples). Interactions between governments map to diplomacy;
# COERCE, RETREAT and CONCEDE mix unrelated acts (curfews, releases, resignations), so they are dropped.
PLOVER_MAP = {
    "PROTEST": "protest", "FIGHT": "armed_conflict", "ASSAULT": "armed_conflict", "MOBILIZE": "military_posture",
    "INVESTIGATE": "crime_justice", "AGREE": "diplomacy", "CONSULT": "diplomacy", "COOPERATE": "diplomacy",
    "SUPPORT": "diplomacy", "AID": "diplomacy", "DEMAND": "diplomacy", "REJECT": "diplomacy", "THREATEN": "diplomacy",
    "DISAPPROVE": "diplomacy", "SANCTION": "diplomacy",
}


def load_plover(data_dir: Path) -> Iterator[EventExample]:
    for row in _jsonl(data_dir / CORPUS_FILES["plover_gsr"][0]):
        label = PLOVER_MAP.get(row.get("event", ""))
        if label and row.get("text"):
            yield EventExample(f"plover:{row['id']}", _clean(row["text"]), label, "plover_gsr", f"plover:{row['id']}")


# NGEC synthetic stories (LLM-written, pseudo-labels): (label, mode) -> type; mode None matches any mode not listed.
NGEC_MAP = {
    ("MOBILIZE", "TROOPS"): "military_posture", ("MOBILIZE", "WEAPONS"): "military_posture",
    ("MOBILIZE", None): "military_posture", ("MOBILIZE", "MILITIA"): "military_posture",
    ("RETREAT", "WITHDRAW"): "military_posture", ("RETREAT", "DISARM"): "military_posture",
    ("RETREAT", "CEASEFIRE"): "diplomacy", ("RETREAT", "RESIGN"): "politics",
    ("PROTEST", None): "protest", ("ASSAULT", "CROWD-CONTROL"): "protest",
    ("COERCE", "ARREST"): "crime_justice", ("SANCTION", "CONVICT"): "crime_justice", ("ACCUSE", "INVESTIGATE"): "crime_justice",
    ("AGREE", None): "diplomacy", ("CONSULT", None): "diplomacy", ("AID", None): "diplomacy", ("THREATEN", "RELATIONS"): "diplomacy",
}
NGEC_AMBIGUOUS_ASSAULT = {"BEAT", "TORTURE", "SEXUAL", "EXECUTE", "CROWD-CONTROL"}


def ngec_label(label: str, mode: str | None) -> str | None:
    if (label, mode) in NGEC_MAP:
        return NGEC_MAP[(label, mode)]
    if label == "ASSAULT" and mode not in NGEC_AMBIGUOUS_ASSAULT:
        return "armed_conflict"
    if label in ("MOBILIZE", "RETREAT", "COERCE", "SANCTION", "ACCUSE", "THREATEN", "ASSAULT"):
        return None  # modes not listed above are ambiguous for these labels
    return NGEC_MAP.get((label, None))


def load_ngec(data_dir: Path) -> Iterator[EventExample]:
    for row in _jsonl(data_dir / CORPUS_FILES["ngec_synthetic"][0]):
        label = ngec_label(row["label"], row.get("mode"))
        if label:
            yield EventExample(f"ngec:{row['id']}", _clean(row["text"]), label, "ngec_synthetic", f"ngec:{row['id']}")


def load_glocon(data_dir: Path) -> Iterator[EventExample]:
    """GLOCON label 1 = a protest event; 0 (any other topic) is not `other`, so it is dropped, as is label 2."""
    for row in _jsonl(data_dir / CORPUS_FILES["glocon"][0]):
        if row["label"] == 1:
            yield EventExample(f"glocon:{row['id']}", _clean(row["text"]), "protest", "glocon", f"glocon:{row['id']}")


def india_label(labels: list[str]) -> str | None:
    """ARREST alone -> crime_justice; KILL/FORCE/FAIL (riots and crackdowns) -> protest; the rest is dropped."""
    if set(labels) & {"KILL", "FORCE", "FAIL"}:
        return "protest"
    if "ARREST" in labels:
        return "crime_justice"
    return None


def load_india(data_dir: Path) -> Iterator[EventExample]:
    for row in _jsonl(data_dir / CORPUS_FILES["india_police_events"][0]):
        label = india_label(row.get("labels") or [])
        if label:
            text = re.sub(r"^This story is from [A-Za-z]+ \d+, \d+\s*", "", row["text"])
            yield EventExample(f"ipe:{row['id']}", _clean(text), label, "india_police_events", f"ipe:{row['id']}")


MUC_MAP = {"attack": "armed_conflict", "bombing": "armed_conflict", "kidnapping": "armed_conflict",
           "arson": "armed_conflict", "robbery": "crime_justice"}


def muc_label(labels: list[str]) -> str | None:
    mapped = {MUC_MAP.get(part.strip()) for label in labels for part in label.split("/")}
    mapped.discard(None)
    return mapped.pop() if len(mapped) == 1 else None


def load_muc(data_dir: Path) -> Iterator[EventExample]:
    for name in CORPUS_FILES["muc4"]:
        for row in _jsonl(data_dir / name):
            label = muc_label(row.get("labels") or [])
            if label:
                yield EventExample(f"muc:{row['id']}", _clean(row["text"]).capitalize(), label, "muc4", f"muc:{row['id']}")


_ENGLISH = {"the", "in", "of", "to", "and", "is", "for", "on", "after", "at", "as", "by", "with", "from"}
CRISISLEX_DISASTERS = {"Floods", "Earthquake", "Wildfire", "Typhoon", "Meteorite", "Derailment", "Explosion",
                       "Collapse", "Crash", "Fire", "Haze"}


def load_crisislex(data_dir: Path) -> Iterator[EventExample]:
    """Informative disaster tweets only (no retweets, links stripped); bombings and shootings are left out."""
    seen = set()
    for row in _jsonl(data_dir / CORPUS_FILES["crisislex"][0]):
        if row["event_type"] not in CRISISLEX_DISASTERS or row["informativeness"] != "Related and informative":
            continue
        text = re.sub(r"https?://\S+|@\w+|#", "", row["text"]).strip()
        key = re.sub(r"\W+", "", text.lower())[:60]
        words = text.lower().split()
        if text.startswith("RT") or len(words) < 8 or key in seen or len(_ENGLISH.intersection(words)) < 2:
            continue  # retweets, fragments, repeats and non-English tweets
        seen.add(key)
        yield EventExample(f"crisislex:{row['id']}", _clean(text), "disaster", "crisislex", f"crisislex:{row['id']}")


def load_handwritten(path: Path | None = None) -> Iterator[EventExample]:
    """Examples written for this project (marked source=handwritten)."""
    path = path or Path(__file__).with_name("event_handwritten.jsonl")
    for row in _jsonl(path):
        yield EventExample(f"hand:{row['id']}", _clean(row["text"]), row["label"], "handwritten", f"hand:{row['id']}")


LOADERS = {
    "bbc": load_bbc, "rams": load_rams, "plover_gsr": load_plover, "ngec_synthetic": load_ngec, "glocon": load_glocon,
    "india_police_events": load_india, "muc4": load_muc, "crisislex": load_crisislex,
}
MAPPING_TABLES = {"bbc": BBC_MAP, "rams": RAMS_MAP, "plover_gsr": PLOVER_MAP, "ngec_synthetic": NGEC_MAP, "muc4": MUC_MAP}
assert all(label in EVENT_LABELS for table in MAPPING_TABLES.values() for label in table.values())
assert CORPUS_FILES.keys() == LOADERS.keys()
