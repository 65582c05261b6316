"""`newslens demo`: a Gradio page for one article (stance per claim with evidence, event type, summary) and a
Batch tab for files. The models load once; requests share them through a queue and a lock.

The analyze endpoint is usable from gradio_client::

    from gradio_client import Client
    result = Client("http://127.0.0.1:7860/").predict(article, "", "", "extractive", api_name="/analyze")
    result["stances"][0]["label"], result["event"]["label"], result["summary"]["text"]
"""
from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from model.analyzer import (MAX_CLAIM_CHARS, MAX_CLAIMS, SUMMARY_MODES, TASKS, Analyzer, ArticleInput,
                            prepare_article)
from model.errors import InputError, NewsLensError
from model.labels import STANCE_LABELS
from model.text import MAX_ARTICLE_CHARS, decode_text
from serve.batch import BatchConfig, run_batch
from serve.batch_read import INPUT_SUFFIXES, Columns
from serve.examples import STANCE_EXAMPLES, demo_examples, seed_article
from serve.model_flags import add_model_flags, model_spec_from_args
from serve.single import read_capped, related_text, threshold_text

if TYPE_CHECKING:
    import gradio as gr
    import pandas as pd

BATCH_OUTPUT_FORMATS = ("csv", "jsonl", "parquet")


@dataclass
class DemoConfig:
    """How the demo serves.

    concurrency: requests processed at once (model calls still take turns on one lock; the rest is formatting).
    queue_size: waiting requests beyond which new ones are refused with a "queue full" message.
    max_upload_mb: Batch tab file limit (Gradio refuses bigger uploads; the handler checks again).
    """

    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    concurrency: int = 2
    queue_size: int = 256
    max_upload_mb: float = 50.0
    batch_chunk_size: int = 32


def model_status(analyzer: Analyzer) -> str:
    """One visible line: what is loaded and which models are missing, with why."""
    loaded = [t for t in TASKS if t not in analyzer.unavailable]
    line = f"Models loaded in {analyzer.load_seconds:.1f} s: {', '.join(loaded) if loaded else 'none'}."
    if analyzer.unavailable:
        missing = "; ".join(f"**{task}** ({why})" for task, why in analyzer.unavailable.items())
        line += f" Not available: {missing}."
    return line


class DemoService:
    """The demo's request handlers, independent of the page layout so they can be tested directly."""

    def __init__(self, analyzer: Analyzer, config: DemoConfig):
        self.analyzer = analyzer
        self.config = config
        # Tokenizers and modules are not safe to share across threads; the lock makes model calls take turns.
        self.model_lock = threading.Lock()
        # Batch results live here until Gradio has copied them to its cache; removed when the server exits.
        self.results_dir = tempfile.TemporaryDirectory(prefix="newslens-demo-")

    def analyze(self, article: str, headline: str, claims: str, summary_mode: str) -> dict:
        """The JSON result for one article (Analysis.to_dict plus wall-clock ``total_ms``)."""
        import gradio as gr

        started = time.perf_counter()
        try:
            claim_list = self._claims(article, headline, claims)
            asked = time.perf_counter()
            with self.model_lock:
                waited = time.perf_counter() - asked  # behind another request, such as a batch run
                analysis = self.analyzer.analyze(article or "", headline=headline or None, claims=claim_list,
                                                 summary_mode=summary_mode or "extractive")
        except NewsLensError as err:
            raise gr.Error(str(err), print_exception=False) from None
        result = analysis.to_dict()
        result["total_ms"] = 1000 * (time.perf_counter() - started)
        result["waited_ms"] = 1000 * waited
        return result

    @staticmethod
    def _claims(article: str, headline: str, extra_claims: str) -> list[str]:
        """The headline (given, or the article's first line when it reads as one) followed by the extra claims:
        the page asks for *extra* claims, while the Analyzer uses the headline only when no claim is given."""
        prepared = prepare_article(ArticleInput(article or "", headline or None))
        extras = [line.strip() for line in (extra_claims or "").splitlines() if line.strip()]
        first = [prepared.headline] if prepared.headline else []
        claims = first + list(dict.fromkeys(claim for claim in extras if claim != prepared.headline))
        # the page's own fields named, where the Analyzer's messages speak of claims in general
        if first and len(first[0]) > MAX_CLAIM_CHARS:
            raise InputError(f"the headline has {len(first[0]):,} characters; a headline is the first claim, of at "
                             f"most {MAX_CLAIM_CHARS:,}")
        if len(claims) > MAX_CLAIMS:
            raise InputError(f"{len(claims) - len(first)} different extra claims"
                             + (" and the headline" if first else "") + f" make {len(claims)} claims; at most "
                             f"{MAX_CLAIMS} per article")
        return claims

    def run_batch_file(self, upload: str | None, text_column: str, headline_column: str, claims_column: str,
                       id_column: str, tasks: list[str], summary_mode: str, output_format: str,
                       progress: Any = None) -> tuple[str, str]:
        """Analyse an uploaded table; returns (results file, report markdown)."""
        import gradio as gr

        try:
            source = self._checked_upload(upload)
            if not tasks:
                raise InputError("choose at least one task")
            if output_format not in BATCH_OUTPUT_FORMATS:
                raise InputError(f"unknown output format '{output_format}'")
            folder = Path(tempfile.mkdtemp(prefix="batch-", dir=self.results_dir.name))
            config = BatchConfig(
                input=source, output=folder / f"{source.stem}-results.{output_format}",
                columns=Columns(text_column.strip() or "article", headline_column.strip() or None,
                                claims_column.strip() or None, id_column.strip() or None),
                tasks=tuple(tasks), summary_mode=summary_mode, chunk_size=self.config.batch_chunk_size,
                progress=False)

            def report_progress(done: int, total: int | None) -> None:
                if progress is not None:
                    progress((done, total) if total else None, desc=f"{done:,} rows", unit="rows")

            report = run_batch(config, self.analyzer, lock=self.model_lock, on_progress=report_progress)
        except NewsLensError as err:  # named by the uploaded file's name, not where the server keeps it
            message = str(err).replace(str(upload), Path(upload).name) if upload else str(err)
            raise gr.Error(message, print_exception=False) from None
        # the page names the results file, not where the server keeps it
        return str(report.output), "```\n" + report.summary().replace(str(report.output), report.output.name) + "\n```"

    def _checked_upload(self, upload: str | None) -> Path:
        if not upload:
            raise InputError("upload a file first")
        path = Path(upload)
        if path.suffix.lower() not in INPUT_SUFFIXES:
            raise InputError(f"'{path.name}' is not a supported file type; upload one of {', '.join(INPUT_SUFFIXES)}")
        size_mb = path.stat().st_size / 2**20
        if size_mb > self.config.max_upload_mb:
            raise InputError(f"'{path.name}' is {size_mb:.1f} MB; the demo takes files up to "
                             f"{self.config.max_upload_mb:g} MB (use `newslens predict` for bigger ones)")
        return path


# ---------------------------------------------------------------- the Batch tab's preview

PREVIEW_ROWS = 20
PREVIEW_COLUMNS = ["row", "id", "stance", "event", "summary", "error"]


def _listed(value: Any) -> list:
    """A list field as written by any output format: a list (JSONL, Parquet) or a JSON string (CSV)."""
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else None
    return list(value) if value is not None else []


def _shortened(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary when there is one, "..." marking a cut."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 3]
    if text[limit - 3] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip().rstrip(".") + "..."  # "stabilise...", not "stabilise...."


def _preview_row(record: dict) -> dict:
    stance = "; ".join(f"{label}: {claim[:60]}" for claim, label in zip(_listed(record.get("claims")),
                                                                         _listed(record.get("stance_labels"))))
    summary = str(record.get("summary") or "")
    return {"row": record.get("row"), "id": record.get("id"), "stance": stance,
            "event": record.get("event_label") or "", "summary": _shortened(summary, 160),
            "error": record.get("error") or ""}


def results_preview(path: str | None, limit: int = PREVIEW_ROWS) -> pd.DataFrame:
    """The first ``limit`` rows of a batch results file (CSV, JSONL or Parquet), shortened for the page."""
    import pandas as pd

    if not path:
        return pd.DataFrame(columns=PREVIEW_COLUMNS)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            records = [json.loads(line) for line in itertools.islice(handle, limit)]
    elif suffix == ".csv":
        records = pd.read_csv(path, nrows=limit, dtype=str, keep_default_na=False).to_dict("records")
    else:
        import pyarrow.parquet as pq

        batch = next(pq.ParquetFile(path).iter_batches(batch_size=limit), None)
        records = batch.to_pylist() if batch is not None else []
    return pd.DataFrame([_preview_row(r) for r in records], columns=PREVIEW_COLUMNS)


# ---------------------------------------------------------------- rendering the JSON result

def stance_columns(labels: Sequence[str], threshold: float | None) -> list[str]:
    """The stance table's header: with a gate (``threshold``), P(related) and each label's probability given related."""
    if threshold is None:
        return ["#", "claim", "stance", *labels]
    return ["#", "claim", "stance", f"related (from {threshold_text(threshold)})", *(f"{label} if related" for label in labels)]


def stance_caption(analyzer: Analyzer) -> str:
    """What the stance table's numbers are, for the loaded model (with or without a relatedness gate)."""
    model = analyzer.stance
    if model is not None and model.gate is not None:
        first = model.pairs.labels[0]
        return ("Stance per claim. related: the probability that the claim is about the article (below the "
                f"threshold in the header, the claim is {model.unrelated_label}). '{first} if related' and the "
                "others: each stance's probability when the claim is about the article")
    return "Stance per claim, with each stance's probability"


def empty_stance_table(analyzer: Analyzer) -> pd.DataFrame:
    """The table before the first request, already headed as the loaded stance model's answers will be."""
    import pandas as pd

    model = analyzer.stance
    if model is None or model.gate is None:
        labels = list(model.labels) if model is not None else list(STANCE_LABELS)
        return pd.DataFrame([], columns=stance_columns(labels, None))
    return pd.DataFrame([], columns=stance_columns(model.pairs.labels, round(float(model.gate.threshold), 6)))


# a longer claim is shortened in the table (its row would hide the rows below); the raw JSON keeps it whole
TABLE_CLAIM_CHARS = 200


def _probability(value: float) -> str:
    """Three decimals always, so 0.99998 reads 1.000 beside 0.648 rather than a bare 1."""
    return f"{value:.3f}"


def stance_table(result: dict) -> pd.DataFrame:
    """One row per claim. With a relatedness gate: P(related), then each related label's probability given related
    (the two steps the label comes from); without one, every label's probability."""
    import pandas as pd

    stances = result.get("stances") or []
    if stances and stances[0].get("related") is not None:
        labels = list(stances[0]["if_related"])
        rows = [[k, _shortened(s["claim"], TABLE_CLAIM_CHARS), s["label"],
                 related_text(s["related"], s["related_threshold"], 3),
                 *(_probability(s["if_related"][label]) if s["if_related"] else None for label in labels)]
                for k, s in enumerate(stances, 1)]
        return pd.DataFrame(rows, columns=stance_columns(labels, stances[0]["related_threshold"]))
    labels = list(stances[0]["probabilities"]) if stances else list(STANCE_LABELS)
    rows = [[k, _shortened(s["claim"], TABLE_CLAIM_CHARS), s["label"],
             *(_probability(s["probabilities"][label]) for label in labels)]
            for k, s in enumerate(stances, 1)]
    return pd.DataFrame(rows, columns=stance_columns(labels, None))


# Evidence takes its claim's stance colour; a label outside these (a custom stance model) gets the fallback.
STANCE_COLOURS = {"agree": "#86efac", "disagree": "#fca5a5", "discuss": "#93c5fd", "unrelated": "#d4d4d8"}
OTHER_COLOUR = "#fcd34d"
GATED_OUT_NOTE = " (its closest sentences; the claim is not about the article)"
CHOOSER_MAX_EM = 14
# Gradio's highlighted text breaks lines inside words (word-break: break-all); evidence reads as prose instead.
# With dozens of claims the evidence chooser would push the evidence off the screen: it scrolls inside its own box.
EVIDENCE_MAX_EM = 60
# A long article's evidence panel (every sentence, the judged ones tagged) scrolls in a box of its own too, instead of
# making the page tens of thousands of pixels tall with the event type and summary at its bottom.
DEMO_CSS = ("#evidence .textfield { word-break: normal; overflow-wrap: anywhere; "
            f"max-height: {EVIDENCE_MAX_EM}em; overflow-y: auto; }}\n"
            f"#evidence-claim {{ max-height: {CHOOSER_MAX_EM}em; overflow-y: auto; }}")


def _chosen_stance(result: dict, claim: int) -> dict | None:
    """Claim number ``claim`` (from 1) of an answer, or None when there is no such claim."""
    stances = result.get("stances") or []
    return stances[claim - 1] if 1 <= claim <= len(stances) else None


def evidence_highlights(result: dict, claim: int = 1) -> list[tuple[str, str | None]]:
    """The headline, then the article's sentences, those that claim number ``claim`` (from 1) was judged on tagged
    with its number and stance ("claim 2: disagree"). A claim the relatedness gate held back gets a tag saying that
    its sentences are only the closest ones: the gate, not they, decided its label."""
    chosen = _chosen_stance(result, claim)
    evidence = set(chosen["evidence_indices"]) if chosen else set()
    tag = None
    if chosen:
        tag = f"claim {claim}: {chosen['label']}"
        if chosen.get("related") is not None and chosen["related"] < chosen["related_threshold"]:
            tag += GATED_OUT_NOTE
    parts: list[tuple[str, str | None]] = []
    if result.get("headline"):
        parts.append(("Headline: " + result["headline"] + "\n\n", None))
    for index, sentence in enumerate(result.get("sentences") or []):
        parts.append((sentence + " ", tag if index in evidence else None))
    return parts


def evidence_panel(result: dict | None, claim: int | None = 1) -> dict:
    """The evidence component's update for one claim: the tagged text, coloured by the claim's stance."""
    import gradio as gr

    result, claim = result or {}, claim or 1
    parts = evidence_highlights(result, claim)
    chosen = _chosen_stance(result, claim)
    colour = STANCE_COLOURS.get(chosen["label"], OTHER_COLOUR) if chosen else OTHER_COLOUR
    return gr.update(value=parts, color_map={tag: colour for _, tag in parts if tag})


def claim_choices(result: dict) -> dict:
    """The evidence selector's update: one choice per judged claim, the first chosen; hidden without claims."""
    import gradio as gr

    stances = result.get("stances") or []
    choices = [(f"{k}: {_shortened(s['claim'], 50)} ({s['label']})", k) for k, s in enumerate(stances, 1)]
    return gr.update(choices=choices, value=1 if choices else None, visible=len(choices) > 1)


def event_scores(result: dict) -> dict[str, float] | None:
    event = result.get("event")
    return dict(event["scores"]) if event else None


def summary_markdown(result: dict) -> str:
    summary = result.get("summary")
    if not summary:
        return "_Summary not requested._"
    lines = ["**Summary**", "", summary["text"] or "_No summary._", "", f"Mode: {summary['mode']}"]
    if summary.get("note"):
        lines.append(f"Note: {summary['note']}")
    if summary.get("flagged"):
        lines.append("Faithfulness flag: " + "; ".join(summary["flagged"]))
    return "\n".join(lines)


EVENT_READERS = {"gate": "answered by the fast gate (MiniLM lead vector and word evidence), sure enough to skip Gemma",
                 "language model": "read by Gemma-3-270M's layer 9 as well, since the fast gate was unsure"}


WAIT_NOTE_MS = 50  # a wait for another request is named in the timings from this long on


def timings_markdown(result: dict) -> str:
    parts = [f"{name.replace('_', ' ')} {1000 * seconds:.0f} ms" for name, seconds in result["timings"].items()]
    text = f"Total {result['total_ms']:.0f} ms ({', '.join(parts)})."
    if result.get("waited_ms", 0) >= WAIT_NOTE_MS:
        text += f" {result['waited_ms']:.0f} ms of the total went to waiting for another request (a batch run) to finish."
    if result.get("article_cached"):
        text += " The article was read in an earlier request, so its sentences came from the cache."
    reader = (result.get("event") or {}).get("reader")
    if reader:
        text += f" Event type: {EVENT_READERS.get(reader, reader)}."
    if result.get("unavailable"):
        text += " Not run: " + "; ".join(f"{t} ({why})" for t, why in result["unavailable"].items()) + "."
    return text


NO_CLAIM_NOTE = ("**No claim to judge.** The article's first line did not read as a headline and no claim was "
                 "given: fill in *Headline* or *Extra claims* to see the stance. The evidence panel below lists the "
                 "article's sentences.")


def stance_note(result: dict) -> str:
    """A line under the stance table when it is empty because there was no claim (not when stance is off)."""
    if result.get("stances") or (result.get("unavailable") or {}).get("stance") or "sentences" not in result:
        return ""
    return NO_CLAIM_NOTE


def render(result: dict, analyzer: Analyzer | None = None) -> tuple:
    """The result panels for one answer; with ``analyzer``, an answer without claims keeps the table's usual header."""
    table = stance_table(result)
    if analyzer is not None and not result.get("stances"):
        table = empty_stance_table(analyzer)
    return (table, stance_note(result), claim_choices(result), evidence_panel(result), event_scores(result),
            summary_markdown(result), timings_markdown(result))


def cleared(analyzer: Analyzer) -> tuple:
    """What the result panels show before an answer: a headed, empty stance table and nothing else."""
    return empty_stance_table(analyzer), "", claim_choices({}), evidence_panel(None), None, "", ""


# ---------------------------------------------------------------- the page

ARTICLE_FILE_SUFFIXES = (".txt", ".text", ".md")


def article_from_file(path: str | None) -> str:
    """The text of an uploaded article file for the Article box; gr.Error naming the file when it is not UTF-8
    text or is longer than an article can be."""
    import gradio as gr

    if not path:
        return gr.update()
    name = Path(path).name
    try:
        with open(path, "rb") as handle:
            text = decode_text(read_capped(handle, f"'{name}'"), f"'{name}'")
        if len(text) > MAX_ARTICLE_CHARS:
            raise InputError(f"'{name}' is longer than {MAX_ARTICLE_CHARS:,} characters; NewsLens reads one article "
                             "at a time (use the Batch tab or `newslens predict` for files of many)")
    except OSError as err:
        raise gr.Error(f"cannot read '{name}': {err.strerror or err}", print_exception=False) from None
    except InputError as err:
        raise gr.Error(str(err), print_exception=False) from None
    if not text.strip():
        raise gr.Error(f"'{name}' is empty: the Article box keeps its text", print_exception=False)
    return text


STANCE_HELP = """**Stance** of a claim toward the article (the FNC-1 convention):
- **agree**: the article says the claim is true; **disagree**: the article says or shows it is false;
  **discuss**: the article reports the claim without taking a side; **unrelated**: the article is about something else.
- *related* is the probability that the claim is about the article at all; the other columns are each stance's
  probability if it is. The model learned disagree mostly from articles debunking a rumour, so a claim that only
  contradicts an article's facts is often read as agree."""

EVENT_HELP = """**Event type**: what the article's main event is (its headline and first paragraphs), one of nine:
armed_conflict (organised violence), military_posture (military moves without fighting), diplomacy (relations
between states), protest (collective public dissent and its policing), crime_justice (crime and the justice system),
politics (domestic government and power), disaster (harm not caused on purpose), economy (money, trade and
business), other (sport, culture, science, technology products, human interest). All nine scores are shown."""

SUMMARY_HELP = """**Summary**: extractive picks the article's key sentences; abstractive writes one sentence (a small model, so it
mostly restates the headline and the lead) and is withheld for the extractive one when it names something the
article does not."""

LANGUAGE_HELP = "Every shipped model was trained on English news: text in other languages gets answers, but not reliable ones."

OWN_LABELS = "a model trained on other data, whose labels mean what they meant there"


def has_shipped_stance_labels(stance) -> bool:
    """Whether a stance model answers in FNC-1's labels, with 'unrelated' decided by its gate, as the shipped one."""
    return set(stance.labels) == set(STANCE_LABELS) and stance.unrelated_label == "unrelated"


def labels_help(analyzer: Analyzer) -> str:
    """"What the labels mean" for the loaded models: the taxonomy's definitions for models with the shipped label
    sets, the model's own labels (listed) for one trained on other data, nothing for a task switched off."""
    from model.labels import EVENT_LABELS

    parts = []
    stance = analyzer.stance
    if stance is not None and has_shipped_stance_labels(stance):
        parts.append(STANCE_HELP)
    elif stance is not None:
        listed = ", ".join(f"**{label}**" for label in stance.pairs.labels)
        if stance.gate is not None:
            parts.append(f"**Stance** of a claim toward the article, from {OWN_LABELS}: {listed}, or "
                         f"**{stance.unrelated_label}** when the claim is not about the article. *related* is the "
                         "probability that it is about the article at all; the other columns are each label's "
                         "probability if it is.")
        else:
            parts.append(f"**Stance** of a claim toward the article, from {OWN_LABELS}: {listed}; each column is "
                         "that label's probability.")
    event = analyzer.event
    if event is not None and set(event.labels) == set(EVENT_LABELS):
        parts.append(EVENT_HELP)
    elif event is not None:
        parts.append(f"**Event type** of the article, from {OWN_LABELS}: "
                     + ", ".join(event.labels) + f". All {len(event.labels)} scores are shown.")
    if "summary" not in analyzer.unavailable:
        parts.append(SUMMARY_HELP)
    return "\n\n".join(parts + [LANGUAGE_HELP])


def build_demo(analyzer: Analyzer, config: DemoConfig | None = None) -> gr.Blocks:
    """The page: Analyze tab (inputs, examples, results) and Batch tab; the analyzer is shared, never reloaded."""
    import gradio as gr

    config = config or DemoConfig()
    service = DemoService(analyzer, config)
    available = [t for t in TASKS if t not in analyzer.unavailable]
    # Uploads and results in Gradio's cache are deleted after a day, checked hourly.
    with gr.Blocks(title="NewsLens", delete_cache=(3600, 86400)) as demo:
        gr.Markdown("# NewsLens\nStance toward claims, event type and a summary for a news article.")
        gr.Markdown(model_status(analyzer), elem_id="model-status")
        with gr.Tab("Analyze"):
            with gr.Row():
                # the results column needs about 700 px for the stance table: narrower, it goes below the inputs
                with gr.Column(scale=3, min_width=320):
                    article = gr.Textbox(value=seed_article(), lines=14, max_lines=30, label="Article",
                                         info="The first line is taken as the headline when it reads as one.",
                                         elem_id="article")
                    article_file = gr.File(label="...or load the article from a .txt or .md file", type="filepath",
                                           file_types=list(ARTICLE_FILE_SUFFIXES), height=120,
                                           elem_id="article-file")
                    headline = gr.Textbox(value="", label="Headline (optional)", elem_id="headline")
                    claims = gr.Textbox(value="", lines=3, label="Extra claims, one per line (optional)",
                                        info=f"The headline is always the first claim; up to {MAX_CLAIMS} claims "
                                             f"of at most {MAX_CLAIM_CHARS:,} characters each.", elem_id="claims")
                    summary_mode = gr.Radio(list(SUMMARY_MODES), value="extractive", label="Summary",
                                            info="abstractive: one sentence from a small generator (a few seconds; the first "
                                                 "request loads it); withheld for the extractive one when it "
                                                 "names something the article does not.")
                    analyze_button = gr.Button("Analyze", variant="primary", elem_id="analyze")
                with gr.Column(scale=4, min_width=700):
                    stances = gr.Dataframe(label=stance_caption(analyzer), interactive=False,
                                           value=empty_stance_table(analyzer),
                                           elem_id="stance-table", wrap=True,
                                           column_widths=["32px", "184px", "100px", "90px", "88px", "90px", "86px"])
                    no_claim = gr.Markdown(elem_id="stance-note")
                    evidence_claim = gr.Radio([], label="Show the evidence for claim", visible=False,
                                              elem_id="evidence-claim")
                    evidence = gr.HighlightedText(label="Evidence: the sentences the claim was judged on",
                                                  show_legend=True, combine_adjacent=False, elem_id="evidence")
                    event = gr.Label(label="Event type", elem_id="event-label",
                                     num_top_classes=len(analyzer.event.labels) if analyzer.event else 9)
                    summary = gr.Markdown(label="Summary", elem_id="summary")
                    timings = gr.Markdown(elem_id="timings")
                    with gr.Accordion("What the labels mean", open=False):
                        gr.Markdown(labels_help(analyzer), elem_id="labels-help")
                    with gr.Accordion("Raw result (JSON, as the API returns it)", open=False):
                        raw = gr.JSON(elem_id="raw-json")
            inputs = [article, headline, claims, summary_mode]
            own_stance = analyzer.stance is not None and not has_shipped_stance_labels(analyzer.stance)
            fnc = " (FNC-1)" if own_stance else ""  # the examples were written for the shipped labels
            examples = gr.Examples(demo_examples(), inputs=inputs, preload=False,
                        label="Examples: the seed, then short invented articles, each written so that its claim has "
                              "the stance named first (the model does not always read it that way)",
                        example_labels=["Seed: Putin orders pull-out of Russian troops from Syria"]
                        + [f"written as {e.stance}{fnc}: {e.claims}" for e in STANCE_EXAMPLES])
            outputs = [stances, no_claim, evidence_claim, evidence, event, summary, timings]
            # the last answer is cleared first, so a request that fails leaves no stale result on the page
            # ``shown`` counts the texts the page has held: an example or a loaded file replaces the text and bumps
            # it, so an answer still being computed for the old text is dropped when it arrives (a running request
            # cannot be cancelled); ``asked`` is the count a request was made at
            shown, asked = gr.State(0), gr.State(0)

            def render_if_current(result: dict, asked_at: int, now: int) -> tuple:
                if asked_at != now:
                    return (None, *cleared(analyzer))
                return (result, *render(result, analyzer))

            request = analyze_button.click(lambda now: (None, *cleared(analyzer), now), shown,
                                           [raw, *outputs, asked], queue=False, api_visibility="private").then(
                service.analyze, inputs, raw, api_name="analyze")
            request.success(render_if_current, [raw, asked, shown], [raw, *outputs], api_visibility="private")

            def load_article_file(path, now: int):
                """A loaded file replaces the article and clears the previous answer; a refused one leaves both as
                they were and says why. Either way the file box empties, ready for another file."""
                try:
                    text = article_from_file(path)
                except gr.Error as err:
                    gr.Warning(err.message)
                    return (gr.update(), None, gr.update(), *(gr.update() for _ in outputs), now)
                return (text, None, None, *cleared(analyzer), now + 1)

            # queued, so that a refused file's message reaches the page
            article_file.upload(load_article_file, [article_file, shown], [article, article_file, raw, *outputs, shown],
                                api_visibility="private")
            evidence_claim.input(evidence_panel, [raw, evidence_claim], evidence, queue=False,
                                 api_visibility="private")
            # a clicked example replaces the inputs, so the answer about the previous text goes too, even one that
            # is still being computed
            examples.load_input_event.then(lambda now: (None, *cleared(analyzer), now + 1), shown,
                                           [raw, *outputs, shown], queue=False, api_visibility="private")
        with gr.Tab("Batch"):
            gr.Markdown(f"Upload a CSV, TSV, JSONL or Parquet file (up to {config.max_upload_mb:g} MB) with one "
                        "article per row; every row gets one result row (bad rows get an `error`).")
            upload = gr.File(label="Table", file_types=list(INPUT_SUFFIXES), type="filepath", elem_id="batch-file")
            with gr.Row():
                text_column = gr.Textbox(value="article", label="Text column")
                headline_column = gr.Textbox(label="Headline column (optional)")
                claims_column = gr.Textbox(label="Claims column (optional; ' || ' or JSON list)")
                id_column = gr.Textbox(label="Id column (optional)")
            with gr.Row():
                tasks = gr.CheckboxGroup(available, value=available, label="Tasks")
                batch_mode = gr.Radio(list(SUMMARY_MODES), value="extractive", label="Summary")
                output_format = gr.Radio(list(BATCH_OUTPUT_FORMATS), value="csv", label="Results format")
            run_button = gr.Button("Run batch", variant="primary", elem_id="run-batch")
            results = gr.File(label="Results", interactive=False, elem_id="batch-results")
            report = gr.Markdown(elem_id="batch-report")
            preview = gr.Dataframe(results_preview(None), label=f"First {PREVIEW_ROWS} result rows (download the "
                                   "file above for all of them)", wrap=True, interactive=False, elem_id="batch-preview",
                                   column_widths=["56px", "120px", "240px", "130px", "300px", "200px"])

            def run_batch_tab(upload, text_column, headline_column, claims_column, id_column, tasks, mode, fmt,
                              progress=gr.Progress()):
                return service.run_batch_file(upload, text_column, headline_column, claims_column, id_column,
                                              tasks, mode, fmt, progress)

            # the last run's file, report and preview are cleared first, so a failed run leaves none of them
            run_button.click(lambda: (None, "", results_preview(None)), None, [results, report, preview],
                             queue=False, api_visibility="private").then(
                run_batch_tab, [upload, text_column, headline_column, claims_column, id_column, tasks,
                                batch_mode, output_format], [results, report],
                api_name="batch", concurrency_limit=1).success(
                results_preview, results, preview, api_visibility="private")
    return demo


def start_demo(analyzer: Analyzer, config: DemoConfig | None = None, block: bool = True) -> tuple[gr.Blocks, str]:
    """Queue and launch; with ``block=False`` returns at once (tests), else serves until interrupted."""
    config = config or DemoConfig()
    demo = build_demo(analyzer, config)
    demo.queue(default_concurrency_limit=config.concurrency, max_size=config.queue_size)
    _, local_url, _ = demo.launch(server_name=config.host, server_port=config.port, share=config.share,
                                  prevent_thread_lock=True, show_error=True, ssr_mode=False, quiet=not block,
                                  max_file_size=f"{config.max_upload_mb:g}mb", css=DEMO_CSS)
    if block:
        demo.block_thread()
    return demo, local_url


def launch_demo(host: str = "127.0.0.1", port: int = 7860, share: bool = False, analyzer: Analyzer | None = None,
                config: DemoConfig | None = None, block: bool = True) -> gr.Blocks:
    """Load the shipped models (whichever exist) unless ``analyzer`` is given, and serve the demo."""
    config = config or DemoConfig(host=host, port=port, share=share)
    demo, _ = start_demo(analyzer or Analyzer(), config, block=block)
    return demo


def add_demo_parser(sub) -> None:
    parser = sub.add_parser("demo", help="open the Gradio demo (http://127.0.0.1:7860)",
                            description="Serve the NewsLens demo page and its API.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port to serve on (default: 7860)")
    parser.add_argument("--share", action="store_true", help="also open a public Gradio share link (off by default)")
    parser.add_argument("--concurrency", type=int, default=2, help="requests processed at once (default: 2)")
    parser.add_argument("--max-upload-mb", type=float, default=50.0, help="Batch tab file size limit in MB (default: 50)")
    add_model_flags(parser)
    parser.set_defaults(handler=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    if args.concurrency < 1:
        raise InputError("--concurrency must be at least 1")
    analyzer = model_spec_from_args(args).load()
    print(model_status(analyzer).replace("**", ""))
    config = DemoConfig(host=args.host, port=args.port, share=args.share, concurrency=args.concurrency,
                        max_upload_mb=args.max_upload_mb)
    launch_demo(analyzer=analyzer, config=config)
    return 0
