"""The prediction API: load once, then analyse articles for stance, event type and summary."""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from model.article import read_articles
from model.backends import fast_encoder, resolve_backend
from model.encoder import EncoderConfig, SentenceEncoder, configure_threads
from model.errors import InputError, ModelNotFoundError
from model.event_lm import EventLMModel
from model.heads import EventModel, SentenceScorer, SummaryBudget
from model.resolve import BASE_ENCODER, SHIPPED_WEIGHTS
from model.stance import ArticleView, StanceModel
from model.text import MAX_ARTICLE_CHARS, clean_article, join_excerpt, normalize_text, split_headline

TASKS = ("stance", "event", "summary")
SUMMARY_MODES = ("extractive", "abstractive", "none")
MAX_CLAIMS = 50
MAX_CLAIM_CHARS = 2000
MAX_CACHED_BODY_CHARS = 200_000  # a huge body is read again rather than held in the cache


@dataclass
class ClaimStance:
    """One claim's stance. With a relatedness gate the label comes in two steps: unrelated when ``related`` (P(the
    claim is about the article)) is below ``related_threshold``, else the most probable label of ``if_related``.
    ``probabilities`` spreads ``related`` over the related labels, so 'unrelated' can hold most of it while a pair
    the gate passed gets a related label."""

    claim: str
    label: str
    probabilities: dict[str, float]
    evidence: list[str]
    evidence_indices: list[int]
    related: float | None = None
    related_threshold: float | None = None
    if_related: dict[str, float] = field(default_factory=dict)


@dataclass
class EventResult:
    label: str
    scores: dict[str, float]
    reader: str = ""  # a gated event model: 'gate' (answered without the language model) or 'language model'


@dataclass
class SummaryResult:
    text: str
    mode: str
    sentence_indices: list[int] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class Analysis:
    """Everything NewsLens says about one article. ``sentences`` are the body sentences that indices refer to
    (only the opening ones, or none, when event type was the only task asked for: that is all the event model
    reads). ``article_cached``: the article's sentences and vectors came from the recent-articles cache, so its
    article pass took no encoder time."""

    headline: str | None
    sentences: list[str]
    stances: list[ClaimStance]
    event: EventResult | None
    summary: SummaryResult | None
    timings: dict[str, float]
    unavailable: dict[str, str]
    article_cached: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ArticleInput:
    article: str | bytes
    headline: str | None = None
    claims: Sequence[str] = ()


@dataclass
class PreparedArticle:
    headline: str | None
    body: str
    claims: list[str]
    # the headline came from the caller, not from the text's first line: a claim the article may not support
    headline_given: bool = False
    # the text's own title line when the caller gave a different headline: kept as the body's first line (evidence
    # for the claims) but never picked for a summary, where it would run into the next sentence
    title: str | None = None

    @property
    def text(self) -> str:
        """Headline line (when there is one) and body: what the word evidence and a fine-tuned event model read."""
        return f"{self.headline}\n{self.body}" if self.headline else self.body


def prepare_article(item: ArticleInput, what: str = "article") -> PreparedArticle:
    """Clean and check one input; the first line is taken as headline when none is given and it reads as one."""
    if not isinstance(item, ArticleInput):
        raise InputError(f"{what}: expected an ArticleInput, got {type(item).__name__}")
    if not isinstance(item.article, (str, bytes)):
        raise InputError(f"{what} must be text (str or bytes), got {type(item.article).__name__}")
    if item.headline is not None and not isinstance(item.headline, str):
        raise InputError(f"{what}: the headline must be text, got {type(item.headline).__name__}")
    claims_given = _claim_list(item.claims, what)
    text = clean_article(item.article, what, MAX_ARTICLE_CHARS)
    # a headline is one line: line breaks inside it become spaces
    headline = " ".join(normalize_text(item.headline).split()) if item.headline and item.headline.strip() else None
    body, title, given = text, None, headline is not None
    first, rest = split_headline(text)
    if first is not None and (headline is None or first == headline):
        headline, body, given = first, rest, False
    elif first is not None:
        title = first
    # a claim given twice is judged once (the answer would be the same); the first order is kept
    claims = list(dict.fromkeys(normalize_text(c) for c in claims_given if c.strip()))
    if len(claims) > MAX_CLAIMS:
        raise InputError(f"{what}: {len(claims)} different claims given; at most {MAX_CLAIMS} per article")
    for c in claims:
        if len(c) > MAX_CLAIM_CHARS:
            raise InputError(f"{what}: a claim of {len(c):,} characters, starting {c[:40]!r}; a claim may have at "
                             f"most {MAX_CLAIM_CHARS:,} (a headline-like sentence, not a text)")
    if not claims and headline:
        claims = [headline]
    return PreparedArticle(headline, body, claims, given, title)


def _claim_list(claims, what: str) -> list[str]:
    """The claims as a list of strings: None is none, one string is one claim; anything else is an InputError."""
    if claims is None:
        return []
    if isinstance(claims, str):
        return [claims]
    if isinstance(claims, (bytes, bytearray)) or not hasattr(claims, "__iter__"):
        raise InputError(f"{what}: claims must be a list of strings, got {type(claims).__name__}")
    listed = list(claims)
    bad = [type(c).__name__ for c in listed if not isinstance(c, str)]
    if bad:
        raise InputError(f"{what}: every claim must be a string, got {', '.join(sorted(set(bad)))}")
    return listed


def task_tuple(tasks) -> tuple[str, ...]:
    """Tasks as a tuple: one string may name one task or several separated by commas ("stance,event")."""
    if isinstance(tasks, str):
        return tuple(t.strip() for t in tasks.split(",") if t.strip())
    if tasks is None or not hasattr(tasks, "__iter__"):
        raise InputError(f"tasks must be a list of task names ({', '.join(TASKS)}), got {type(tasks).__name__}")
    return tuple(tasks)


def check_task_names(tasks: Sequence[str]) -> None:
    """InputError naming the tasks NewsLens does not have."""
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown:
        raise InputError(f"unknown task(s) {', '.join(unknown)}; choose from {', '.join(TASKS)}")


def mixed_encoders_message(bases: dict[str, str | None]) -> str:
    """Why task models on different base encoders cannot load together, and for each encoder which tasks to switch
    off to keep its models (flags of predict and demo, keywords of Analyzer)."""
    loaded = {task: base for task, base in bases.items() if base is not None}
    ways = []
    for base in sorted(set(loaded.values())):
        keep = [task for task, b in loaded.items() if b == base]
        drop = [task for task in loaded if task not in keep]
        ways.append(f"to keep {', '.join(keep)} ({base}), switch off {', '.join(drop)}: "
                    + " ".join(f"--{task}-model none" for task in drop) + " in predict and demo, "
                    + ", ".join(f"{task}=None" for task in drop) + " in Analyzer")
    return ("task models were trained on different base encoders ("
            + ", ".join(f"{task}: {base}" for task, base in loaded.items())
            + "), and they share one encoder pass over the article; " + "; or ".join(ways)
            + " (predict's --tasks also picks the tasks to load)")


def task_folder(spec: str | Path) -> Path:
    """``spec`` as a path, or the shipped folder of that name when no such path exists."""
    path = Path(spec)
    if not path.exists() and not path.is_absolute() and (SHIPPED_WEIGHTS / str(spec)).exists():
        path = SHIPPED_WEIGHTS / str(spec)
    return path


def _load_optional(kind, spec: str | Path | None, default_name: str, task: str, unavailable: dict):
    """Load a task model; a missing *shipped* model marks the task unavailable, a missing given path is an error."""
    if spec is None:
        unavailable[task] = "switched off"
        return None
    path = task_folder(spec)
    if not path.exists():
        if str(spec) == default_name:
            unavailable[task] = f"no {task} weights shipped in {SHIPPED_WEIGHTS / default_name}"
            return None
        raise ModelNotFoundError(f"{task} model not found at {spec}")
    return kind.load(path)


class Analyzer:
    """Loads the task models and the shared encoder once; ``analyze`` and ``analyze_batch`` reuse them.
    ``article_cache``: how many article views (sentences and their vectors) to keep for bodies seen again (0: none).
    ``lazy_language_model``: the event model's language model (Gemma) loads on the first article its gate does not
    answer, instead of now; a one-off call whose article the gate answers, or that asks for no event type, then never
    pays its load (about 3 s). A server keeps the default, so no request waits for it.
    ``read_unrelated_pairs``: the stance pair classifier also reads the claims the relatedness gate calls unrelated,
    so their agree/disagree/discuss probabilities say what it would answer were they related (the default). False
    skips them, the label being unrelated either way: much faster on files of claim-body pairs, where most pairs are
    unrelated; those claims then split P(related) evenly over the related labels and have no probabilities given
    related (``ClaimStance.if_related`` is empty)."""

    def __init__(
        self,
        stance: str | Path | None = "stance",
        event: str | Path | None = "event",
        summary: str | Path | None = "summary-extractive",
        threads: int | None = None,
        summary_budget: SummaryBudget | None = None,
        backend: str = "auto",
        abstractive: str | Path | None = "summary-abstractive",
        article_cache: int = 256,
        lazy_language_model: bool = False,
        read_unrelated_pairs: bool = True,
    ):
        started = time.perf_counter()
        configure_threads(threads)
        self.unavailable: dict[str, str] = {}
        self.stance: StanceModel | None = _load_optional(StanceModel, stance, "stance", "stance", self.unavailable)
        self.event: EventModel | None = _load_optional(EventModel, event, "event", "event", self.unavailable)
        self.scorer: SentenceScorer | None = _load_optional(SentenceScorer, summary, "summary-extractive", "summary",
                                                            self.unavailable)
        named = {"stance": self.stance.sentence_model if self.stance is not None else None,
                 "event": self.event.base_model if self.event is not None else None,
                 "summary": self.scorer.base_model if self.scorer is not None else None}
        bases = {base for base in named.values() if base is not None}
        if len(bases) > 1:  # they share one encoder pass over the article
            raise ModelNotFoundError(mixed_encoders_message(named))
        self.encoder = SentenceEncoder(EncoderConfig(name=bases.pop() if bases else BASE_ENCODER))
        self.summary_budget = summary_budget or SummaryBudget()
        self.abstractive_spec = abstractive
        self._generator = None  # loaded on the first abstractive request: it is large and most calls never need it
        self._generator_lock = threading.Lock()
        self.article_cache_size = max(article_cache, 0)
        self.read_unrelated_pairs = read_unrelated_pairs
        self._article_cache: OrderedDict = OrderedDict()
        self._cache_lock = threading.Lock()
        backend = resolve_backend(backend)  # 'auto' becomes this machine's choice (model/backends.py)
        self.encoder.module = fast_encoder(self.encoder.module, backend)
        if self.stance is not None:
            self.stance.pairs.encoder = fast_encoder(self.stance.pairs.encoder, backend)
        if self.event is not None and not self.event.reads_vectors:
            self.event.classifier.encoder = fast_encoder(self.event.classifier.encoder, backend)
        self.backend = backend
        if isinstance(self.event, EventLMModel):
            # the language model runs like the encoders (fp32, bf16 or int8 ONNX); loaded now unless asked to wait
            self.event.lm_runtime = backend  # also what a lazy load runs on (the stance probe's share below loads it)
            if not lazy_language_model:
                self.event.load_lm(backend)
        if self.stance is not None and self.stance.lm_reader is not None:  # one copy when both read the same layer
            self.stance.lm_reader.load_lm(backend, share=self.event.lm if isinstance(self.event, EventLMModel) else None)
        self.load_seconds = time.perf_counter() - started

    def analyze(self, article: str | bytes, headline: str | None = None, claims: Sequence[str] = (),
                tasks: Sequence[str] = TASKS, summary_mode: str = "extractive") -> Analysis:
        """Analyse one article; see ``analyze_batch``."""
        return self.analyze_batch([ArticleInput(article, headline, claims)], tasks, summary_mode)[0]

    def analyze_batch(self, items: Sequence[ArticleInput], tasks: Sequence[str] = TASKS,
                      summary_mode: str = "extractive") -> list[Analysis]:
        """Analyse many articles with shared encoder batches. Raises InputError for the first bad item
        (callers that must go on past bad rows check each with ``prepare_article`` first)."""
        tasks = task_tuple(tasks)
        if isinstance(items, (str, bytes, ArticleInput)):
            raise InputError("analyze_batch takes a list of ArticleInput; use analyze() for one article")
        check_task_names(tasks)
        if summary_mode not in SUMMARY_MODES:
            raise InputError(f"unknown summary mode '{summary_mode}'; choose from {', '.join(SUMMARY_MODES)}")
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        prepared = [prepare_article(item, f"article {i + 1}" if len(items) > 1 else "article") for i, item in enumerate(items)]
        want_stance = "stance" in tasks and self.stance is not None
        views, cached = self._read_bodies([p.body for p in prepared], self._sentences_needed(tasks, want_stance))
        timings["article_pass"] = time.perf_counter() - clock

        heads = [p.headline or "" for p in prepared]
        wants_headlines = "event" in tasks and self.event is not None and self.event.reads_vectors
        short_texts = sorted(({c for p in prepared for c in p.claims} if want_stance else set())
                             | ({h for h in heads if h} if wants_headlines else set()))
        clock = time.perf_counter()
        short_vecs = dict(zip(short_texts, self.encoder.embed(short_texts))) if short_texts else {}
        timings["claim_pass"] = time.perf_counter() - clock

        stances: list[list[ClaimStance]] = [[] for _ in prepared]
        if want_stance:
            clock = time.perf_counter()
            pairs = [(i, c) for i, p in enumerate(prepared) for c in p.claims]
            if pairs:
                preds = self.stance.predict([c for _, c in pairs], np.stack([short_vecs[c] for _, c in pairs]),
                                            [views[i] for i, _ in pairs], skip_unrelated=not self.read_unrelated_pairs)
                for (i, claim), pred in zip(pairs, preds):
                    stances[i].append(ClaimStance(claim, pred.label, pred.probabilities,
                                                  [views[i].sentences[j] for j in pred.evidence], pred.evidence,
                                                  pred.related, pred.threshold, pred.if_related))
            timings["stance"] = time.perf_counter() - clock

        events: list[EventResult | None] = [None] * len(prepared)
        if "event" in tasks and self.event is not None:
            clock = time.perf_counter()
            lead_views = ([self._with_headline(v, h, short_vecs) for v, h in zip(views, heads)]
                          if self.event.reads_vectors else None)
            texts = [p.text for p in prepared]
            for i, pred in enumerate(self.event.predict(lead_views, texts)):
                events[i] = EventResult(pred.label, pred.scores, pred.reader)
            timings["event"] = time.perf_counter() - clock

        summaries: list[SummaryResult | None] = [None] * len(prepared)
        if "summary" in tasks:
            clock = time.perf_counter()
            summaries = [self._summarize(v, summary_mode, p) for v, p in zip(views, prepared)]
            timings["summary"] = time.perf_counter() - clock

        unavailable = {t: r for t, r in self.unavailable.items() if t in tasks}
        share = {k: v / max(len(prepared), 1) for k, v in timings.items()}
        return [Analysis(p.headline, v.sentences, s, e, m, dict(share), dict(unavailable), c)
                for p, v, s, e, m, c in zip(prepared, views, stances, events, summaries, cached)]

    def _sentences_needed(self, tasks: Sequence[str], want_stance: bool) -> int | None:
        """How many opening body sentences the requested tasks read (None: all). The event head alone reads only
        the lead, so an event-only request encodes just those sentences (none for a fine-tuned event model,
        which reads the text itself)."""
        if want_stance or "summary" in tasks or self.event is None or self.event.features.use_body:
            return None
        return self.event.features.lead_sentences if self.event.reads_vectors else 0

    def _read_bodies(self, bodies: Sequence[str], max_sentences: int | None) -> tuple[list[ArticleView], list[bool]]:
        """The article pass, once per distinct body: a file of claim-body pairs repeats each body for many claims,
        so bodies read recently come from a small LRU cache (``article_cache`` entries) instead of the encoder.
        Returns the views and, for each body, whether it came from the cache."""
        keys = [(hashlib.sha1(b.encode("utf-8")).hexdigest(), max_sentences) for b in bodies]
        views: dict = {}
        with self._cache_lock:
            for key in keys:
                if key in self._article_cache:
                    self._article_cache.move_to_end(key)
                    views[key] = self._article_cache[key]
        hits = [k in views for k in keys]
        todo = {k: b for k, b in zip(keys, bodies) if k not in views}
        if todo:
            views.update(zip(todo, read_articles(list(todo.values()), self.encoder, max_sentences)))
            with self._cache_lock:
                for key, body in todo.items():
                    if len(body) <= MAX_CACHED_BODY_CHARS:
                        self._article_cache[key] = views[key]
                while len(self._article_cache) > self.article_cache_size:
                    self._article_cache.popitem(last=False)
        return [views[k] for k in keys], hits

    def clear_cache(self) -> None:
        """Forget the article views read so far (benchmarks call this between timed runs)."""
        with self._cache_lock:
            self._article_cache.clear()

    @staticmethod
    def _with_headline(view: ArticleView, headline: str, vecs: dict) -> ArticleView:
        if not headline:
            return view
        return ArticleView([headline] + view.sentences, np.vstack([vecs[headline][None, :], view.vectors]),
                           [0] + list(view.token_counts))

    def generator(self):
        """The abstractive summariser, loaded once on first use; None when it is not available (reason noted)."""
        with self._generator_lock:
            if self._generator is None and "abstractive" not in self.unavailable:
                spec = self.abstractive_spec
                path = task_folder(spec) if spec is not None else None
                if path is None or not path.exists():
                    self.unavailable["abstractive"] = (
                        "abstractive summariser switched off" if spec is None
                        else f"no abstractive summariser at {path}")
                else:
                    try:
                        from model.abstractive import AbstractiveSummarizer

                        self._generator = AbstractiveSummarizer.load(path)
                    except (ImportError, ModelNotFoundError, OSError) as exc:
                        self.unavailable["abstractive"] = f"abstractive summariser could not load: {exc}"
            return self._generator

    def _summarize(self, view: ArticleView, mode: str, article: PreparedArticle | None = None) -> SummaryResult:
        if mode == "none":
            return SummaryResult("", "none")
        note, flagged = "", []
        if mode == "abstractive":
            generator = self.generator()
            if generator is None:
                note = self.unavailable["abstractive"]
            else:
                from model.abstractive import guard

                # the article's own words only: a headline the caller gave may be a claim the article does not
                # support, and the generator would restate it (it learned to open with the title)
                text = article.body if article else " ".join(view.sentences)
                if article and article.headline and not article.headline_given:
                    text = article.headline + "\n\n" + text
                summary = generator.summarize([text])[0]
                flagged = guard(summary, text)
                if not flagged:
                    return SummaryResult(summary, "abstractive")
                note = (f"abstractive summary withheld: {', '.join(flagged)} not found in the article "
                        f"(it read: {summary!r})")
        if self.scorer is None:  # nothing to fall back on
            return SummaryResult("", "none", flagged=flagged, note=(
                f"{note}; no extractive summariser is loaded to fall back on" if note
                else self.unavailable.get("summary", "no summariser loaded")))
        note = f"{note}; extractive summary shown" if note else ""
        title = [0] if article and article.title and view.sentences[:1] == [article.title] else []
        chosen = self.scorer.select(view, self.summary_budget, skip=title)
        return SummaryResult(join_excerpt(view.sentences, chosen), "extractive", chosen, flagged=flagged, note=note)
