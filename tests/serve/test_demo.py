"""The demo over HTTP with gradio_client (tiny models, loopback): the seed, bad input, the Batch tab, and a
bounded load test. Timings are never asserted."""
from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor

import pytest

from model.labels import EVENT_LABELS, STANCE_LABELS


@pytest.fixture(scope="module")
def client(demo_url, tmp_path_factory):
    from gradio_client import Client

    return Client(demo_url, verbose=False, max_workers=50, analytics_enabled=False,
                  download_files=str(tmp_path_factory.mktemp("downloads")))


def analyze(client, article, headline="", claims="", mode="extractive") -> dict:
    return client.predict(article, headline, claims, mode, api_name="/analyze")


def test_seed_gives_a_well_formed_result(client, seed_text):
    result = analyze(client, seed_text, claims="Russia sends more troops to Syria")
    json.dumps(result)  # the API answer is plain JSON
    assert result["headline"] == "Putin orders pull-out of Russian troops from Syria"
    assert [s["claim"] for s in result["stances"]] == [result["headline"], "Russia sends more troops to Syria"]
    for stance in result["stances"]:
        assert stance["label"] in STANCE_LABELS
        assert set(stance["probabilities"]) == set(STANCE_LABELS)
        assert math.isclose(sum(stance["probabilities"].values()), 1.0, abs_tol=1e-4)
        assert stance["evidence"] == [result["sentences"][i] for i in stance["evidence_indices"]]
        assert (stance["label"] == "unrelated") == (stance["related"] < stance["related_threshold"])
    assert set(result["event"]["scores"]) == set(EVENT_LABELS)
    assert result["event"]["label"] == max(result["event"]["scores"], key=result["event"]["scores"].get)
    assert result["summary"]["mode"] == "extractive" and result["summary"]["text"]
    assert result["unavailable"] == {} and result["total_ms"] > 0


def test_abstractive_request_is_guarded(client, seed_text):
    """The tiny generator writes noise: either it passes the guard as an abstractive sentence, or it is withheld
    and the extractive summary is shown with a note naming what the article does not contain."""
    summary = analyze(client, seed_text, mode="abstractive")["summary"]
    assert summary["text"]
    if summary["mode"] == "abstractive":
        assert summary["flagged"] == [] and summary["note"] == ""
    else:
        assert summary["mode"] == "extractive" and summary["flagged"] and "withheld" in summary["note"]


def test_bad_input_is_a_readable_error_and_the_server_keeps_serving(client, seed_text):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="empty"):
        analyze(client, "   ")
    with pytest.raises(AppError, match="claims"):
        analyze(client, seed_text, claims="\n".join(f"claim {i}" for i in range(60)))
    assert analyze(client, seed_text)["stances"]


def test_rendering_shows_every_part(tiny_analyzer, seed_text):
    from serve.demo import DemoConfig, DemoService, render

    result = DemoService(tiny_analyzer, DemoConfig()).analyze(seed_text, "", "Putin visits Syria", "extractive")
    table, note, choices, highlights, event, summary, timings = render(result)
    assert note == ""  # claims were judged
    assert list(table.columns[:4]) == ["#", "claim", "stance", "related (from 0.3)"]  # the tiny model's gate
    assert {f"{label} if related" for label in STANCE_LABELS if label != "unrelated"} <= set(table.columns)
    assert len(table) == 2  # headline and the extra claim
    tagged = [label for _, label in highlights["value"] if label]
    assert tagged and set(tagged) == {f"claim 1: {result['stances'][0]['label']}"}
    assert set(highlights["color_map"]) == set(tagged)
    assert [value for _, value in choices["choices"]] == [1, 2] and choices["visible"]
    assert "".join(text for text, _ in highlights["value"]).count(result["sentences"][0]) == 1
    assert set(event) == set(EVENT_LABELS)
    assert result["summary"]["text"] in summary and "Total" in timings
    assert "Event type:" not in timings  # the tiny event model has no gate


def test_an_answer_without_claims_keeps_the_stance_table_header(tiny_analyzer):
    from serve.demo import DemoConfig, DemoService, empty_stance_table, render

    result = DemoService(tiny_analyzer, DemoConfig()).analyze("Floods hit the city. Many homes were lost.", "", "",
                                                              "extractive")
    assert result["stances"] == []
    table, note = render(result, tiny_analyzer)[:2]
    assert table.empty and list(table.columns) == list(empty_stance_table(tiny_analyzer).columns)
    assert "No claim to judge" in note  # said where the table is, not only in the timings line


def test_timings_say_which_part_of_a_gated_event_model_answered():
    from serve.demo import timings_markdown

    base = {"timings": {"event": 0.01}, "total_ms": 10.0, "stances": [{"label": "agree"}]}
    assert "fast gate" in timings_markdown({**base, "event": {"label": "economy", "scores": {}, "reader": "gate"}})
    assert "Gemma" in timings_markdown({**base, "event": {"label": "economy", "scores": {}, "reader": "language model"}})
    assert "Event type:" not in timings_markdown({**base, "event": {"label": "economy", "scores": {}, "reader": ""}})


def test_timings_name_a_wait_behind_another_request(tiny_analyzer, seed_text):
    import threading

    from serve.demo import DemoConfig, DemoService, timings_markdown

    base = {"timings": {"event": 0.01}, "total_ms": 3900.0, "waited_ms": 3600.0}
    assert "3600 ms of the total went to waiting for another request" in timings_markdown(base)
    assert "waiting" not in timings_markdown({**base, "waited_ms": 2.0})
    pytest.importorskip("gradio")  # imported by the first request otherwise, which took longer than the wait

    service = DemoService(tiny_analyzer, DemoConfig())
    service.analyze(seed_text, "", "", "extractive")  # the first request's one-off costs, out of the way
    service.model_lock.acquire()  # a batch run holds the models
    threading.Timer(0.3, service.model_lock.release).start()
    result = service.analyze(seed_text, "", "", "extractive")
    assert result["waited_ms"] >= 250 and result["total_ms"] >= result["waited_ms"]


def test_too_many_claims_or_a_too_long_headline_are_named_as_the_page_names_them(tiny_analyzer, seed_text):
    import gradio as gr

    from model.analyzer import MAX_CLAIM_CHARS, MAX_CLAIMS
    from serve.demo import DemoConfig, DemoService

    service = DemoService(tiny_analyzer, DemoConfig())
    extras = "\n".join(f"Russia keeps {n} bases in Syria" for n in range(MAX_CLAIMS + 1))
    with pytest.raises(gr.Error, match=f"{MAX_CLAIMS + 1} different extra claims and the headline make "
                                       f"{MAX_CLAIMS + 2} claims; at most {MAX_CLAIMS}"):
        service.analyze(seed_text, "", extras, "extractive")
    with pytest.raises(gr.Error, match="the headline has 2,101 characters; a headline is the first claim"):
        service.analyze(seed_text, "x" * (MAX_CLAIM_CHARS + 101), "", "extractive")
    assert len(service.analyze(seed_text, "", "\n".join(extras.splitlines()[:MAX_CLAIMS - 1]),
                               "extractive")["stances"]) == MAX_CLAIMS


def test_a_shortened_preview_ends_in_one_ellipsis():
    from serve.demo import _shortened

    assert _shortened("The deficit is set to stabilise. Yet more follows here.", 38) == "The deficit is set to stabilise..."
    assert _shortened("short", 38) == "short"


def test_missing_models_are_named_on_the_page(tiny_models, tmp_path, monkeypatch):
    from model.analyzer import Analyzer
    from serve.demo import model_status

    monkeypatch.setattr("model.analyzer.SHIPPED_WEIGHTS", tmp_path)  # a checkout with no shipped weights
    partial = Analyzer(stance=tiny_models["stance"], event=None, summary="summary-extractive", threads=1)
    line = model_status(partial)
    assert "Not available" in line and "event" in line and "summary" in line


def write_table(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_batch_tab_returns_a_results_file(client, tmp_path, seed_text):
    from gradio_client import handle_file

    rows = [{"text": seed_text}, {"text": ""}, {"text": "Floods hit the city on Monday. Many homes were lost."}]
    source = write_table(tmp_path / "upload.jsonl", rows)
    results, report = client.predict(handle_file(source), "text", "", "", "", ["stance", "event", "summary"],
                                     "extractive", "jsonl", api_name="/batch")
    lines = [json.loads(line) for line in open(results, encoding="utf-8")]
    assert [r["row"] for r in lines] == [0, 1, 2]
    assert lines[1]["error"] and not lines[0]["error"] and lines[0]["event_label"] in EVENT_LABELS
    assert "3 rows" in report and "1 failed" in report


def test_batch_tab_errors_are_readable(client, tmp_path, tiny_analyzer):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    def run(path, text_column="article"):
        return client.predict(handle_file(str(path)), text_column, "", "", "", ["event"], "extractive", "csv",
                              api_name="/batch")

    wrong_type = tmp_path / "notes.txt"
    wrong_type.write_text("hello", encoding="utf-8")
    with pytest.raises(AppError, match="Invalid file type"):
        run(wrong_type)
    with pytest.raises(AppError, match=r"^rows\.jsonl: missing column"):  # the upload's name, not a server path
        run(write_table(tmp_path / "rows.jsonl", [{"body": "Floods hit the city."}]))

    import gradio as gr

    from serve.demo import DemoConfig, DemoService

    tiny_limit = DemoService(tiny_analyzer, DemoConfig(max_upload_mb=0.0001))
    big = write_table(tmp_path / "big.jsonl", [{"article": "Floods hit the city. " * 20}] * 10)
    with pytest.raises(gr.Error, match="MB"):
        tiny_limit.run_batch_file(big, "article", "", "", "", ["event"], "extractive", "csv")
    with pytest.raises(gr.Error, match="not a supported file type"):
        tiny_limit.run_batch_file(str(wrong_type), "article", "", "", "", ["event"], "extractive", "csv")


def test_fifty_concurrent_requests_are_all_answered(client):
    """Each request carries its own claim, so a lost or swapped answer would show."""
    article = "Floods hit the city\n\nHeavy rain flooded the city on Monday. Thousands of homes were damaged."

    def one(i: int) -> str:
        return analyze(client, article, claims=f"Claim number {i}")["stances"][1]["claim"]

    with ThreadPoolExecutor(max_workers=50) as pool:
        claims = list(pool.map(one, range(50), timeout=240))
    assert claims == [f"Claim number {i}" for i in range(50)]


def test_stance_table_shows_the_two_steps_of_a_gated_model():
    from serve.demo import stance_table

    gated = {"claim": "c", "label": "agree", "related": 0.3, "related_threshold": 0.1,
             "probabilities": {"agree": 0.15, "disagree": 0.03, "discuss": 0.12, "unrelated": 0.7},
             "if_related": {"agree": 0.5, "disagree": 0.1, "discuss": 0.4}}
    table = stance_table({"stances": [gated]})
    assert list(table.columns) == ["#", "claim", "stance", "related (from 0.1)", "agree if related",
                                   "disagree if related", "discuss if related"]
    assert table.iloc[0].tolist() == [1, "c", "agree", "0.300", "0.500", "0.100", "0.400"]
    long_claim = dict(gated, claim="word " * 100)  # 500 characters
    shown = stance_table({"stances": [long_claim]}).iloc[0, 1]
    assert len(shown) <= 200 and shown.endswith("word...")
    plain = dict(gated, related=None, related_threshold=None, if_related={})  # a model without a gate
    assert list(stance_table({"stances": [plain]}).columns) == ["#", "claim", "stance", *gated["probabilities"]]


def test_the_gate_threshold_is_shown_as_tuned():
    from serve.single import threshold_text

    assert [threshold_text(t) for t in (0.1, 0.275, 0.27500000596, 0.3, 1.0)] == ["0.1", "0.275", "0.275", "0.3", "1"]


def test_p_related_is_never_rounded_onto_the_other_side_of_the_threshold():
    from serve.demo import stance_table
    from serve.single import related_text

    assert [related_text(p, 0.1) for p in (0.0996, 0.1, 0.35, 0.09949)] == ["0.0996", "0.10", "0.35", "0.099"]
    assert related_text(0.27496, 0.275, 3) == "0.27496"
    gated = {"claim": "c", "label": "unrelated", "related": 0.09996, "related_threshold": 0.1,
             "probabilities": {"agree": 0.0, "disagree": 0.0, "discuss": 0.0, "unrelated": 1.0},
             "if_related": {"agree": 0.5, "disagree": 0.1, "discuss": 0.4}}
    assert stance_table({"stances": [gated]}).iloc[0].tolist()[3] == "0.09996"


def test_probabilities_always_show_three_decimals():
    from serve.demo import stance_table

    plain = {"claim": "c", "label": "agree", "related": None, "related_threshold": None, "if_related": {},
             "probabilities": {"agree": 0.99998, "disagree": 0.00001, "discuss": 0.00001, "unrelated": 0.0}}
    assert stance_table({"stances": [plain]}).iloc[0].tolist()[3:] == ["1.000", "0.000", "0.000", "0.000"]


def test_evidence_shows_the_chosen_claims_sentences_in_its_stance_colour():
    from serve.demo import STANCE_COLOURS, claim_choices, evidence_panel

    result = {"headline": "Plant to close", "sentences": ["s0.", "s1.", "s2."],
              "stances": [{"claim": "Plant to close", "label": "agree", "evidence_indices": [0, 1]},
                          {"claim": "x" * 80, "label": "disagree", "evidence_indices": [1, 2]}]}
    first = evidence_panel(result)
    assert first["value"] == [("Headline: Plant to close\n\n", None), ("s0. ", "claim 1: agree"),
                              ("s1. ", "claim 1: agree"), ("s2. ", None)]
    assert first["color_map"] == {"claim 1: agree": STANCE_COLOURS["agree"]}
    second = evidence_panel(result, 2)
    assert [tag for _, tag in second["value"]] == [None, None, "claim 2: disagree", "claim 2: disagree"]
    assert second["color_map"] == {"claim 2: disagree": STANCE_COLOURS["disagree"]}
    choices = claim_choices(result)
    assert choices["choices"] == [("1: Plant to close (agree)", 1), (f"2: {'x' * 47}... (disagree)", 2)]
    words = claim_choices({"stances": [dict(result["stances"][0], claim="Northway Motors will close its Leeds plant "
                                                                       "and cut 2,300 jobs")] * 2})
    assert words["choices"][0][0] == "1: Northway Motors will close its Leeds plant and... (agree)"  # not "and cu..."
    assert choices["value"] == 1 and choices["visible"]
    assert not claim_choices({"stances": result["stances"][:1]})["visible"]  # one claim: nothing to choose
    assert evidence_panel(None, None)["value"] == []  # before any answer
    off_topic = {"sentences": ["s0."], "stances": [{"claim": "Rates rise", "label": "unrelated", "evidence_indices": [0],
                                                    "related": 0.02, "related_threshold": 0.275}]}
    tag = "claim 1: unrelated (its closest sentences; the claim is not about the article)"
    assert evidence_panel(off_topic)["value"] == [("s0. ", tag)]
    assert evidence_panel(off_topic)["color_map"] == {tag: STANCE_COLOURS["unrelated"]}


def test_stance_table_is_headed_before_the_first_request(tiny_analyzer, seed_text):
    from serve.demo import empty_stance_table, stance_table

    before = empty_stance_table(tiny_analyzer)
    assert before.empty
    after = stance_table(tiny_analyzer.analyze(seed_text).to_dict())
    assert list(before.columns) == list(after.columns)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_batch_preview_shows_the_first_rows_of_every_results_format(tiny_analyzer, tmp_path, seed_text, fmt):
    from serve.demo import PREVIEW_COLUMNS, DemoConfig, DemoService, results_preview

    service = DemoService(tiny_analyzer, DemoConfig())
    rows = [{"text": seed_text}, {"text": ""}] + [{"text": f"Floods hit town {i} on Monday. Homes were lost."}
                                                  for i in range(25)]
    results, _ = service.run_batch_file(write_table(tmp_path / "up.jsonl", rows), "text", "", "", "",
                                        ["stance", "event", "summary"], "extractive", fmt)
    preview = results_preview(results)
    assert list(preview.columns) == PREVIEW_COLUMNS and len(preview) == 20
    assert [int(r) for r in preview["row"]] == list(range(20))
    first, empty = preview.iloc[0], preview.iloc[1]
    assert first["stance"].split(":")[0] in STANCE_LABELS and "Putin orders pull-out" in first["stance"]
    assert first["event"] in EVENT_LABELS and first["summary"] and not first["error"]
    assert empty["error"] and not empty["event"] and not empty["stance"]
    assert results_preview(None).empty


def test_stance_caption_explains_the_loaded_models_columns(tiny_analyzer):
    from types import SimpleNamespace

    from serve.demo import stance_caption

    assert "related: the probability that the claim is about the article" in stance_caption(tiny_analyzer)
    ungated = SimpleNamespace(stance=SimpleNamespace(gate=None))
    assert stance_caption(ungated) == "Stance per claim, with each stance's probability"


def test_a_repeated_article_says_its_sentences_came_from_the_cache(tiny_analyzer, seed_text):
    from serve.demo import DemoConfig, DemoService, timings_markdown

    tiny_analyzer.clear_cache()
    service = DemoService(tiny_analyzer, DemoConfig())
    first = service.analyze(seed_text, "", "", "extractive")
    again = service.analyze(seed_text, "", "", "extractive")
    assert (first["article_cached"], again["article_cached"]) == (False, True)
    assert "came from the cache" not in timings_markdown(first)
    assert "came from the cache" in timings_markdown(again)


def test_an_article_file_fills_the_article_box_or_names_what_is_wrong(tmp_path, monkeypatch):
    import gradio as gr

    from serve import demo

    good = tmp_path / "story.txt"
    good.write_text("Floods hit Lagos\n\nHeavy rain flooded the city.", encoding="utf-8")
    assert demo.article_from_file(str(good)).startswith("Floods hit Lagos")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Caf\xe9 owners protest".encode("latin-1"))
    with pytest.raises(gr.Error, match="'latin.txt' is not valid UTF-8"):
        demo.article_from_file(str(latin))
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\x00\x00\x00 data")
    with pytest.raises(gr.Error, match="binary data"):
        demo.article_from_file(str(binary))
    empty = tmp_path / "blank.txt"
    empty.write_text(" \n\n", encoding="utf-8")
    with pytest.raises(gr.Error, match="'blank.txt' is empty: the Article box keeps its text"):
        demo.article_from_file(str(empty))
    monkeypatch.setattr(demo, "MAX_ARTICLE_CHARS", 10)
    with pytest.raises(gr.Error, match="longer than 10 characters"):
        demo.article_from_file(str(good))


def test_what_the_labels_mean_follows_the_loaded_models(tiny_analyzer):
    from types import SimpleNamespace

    from serve.demo import EVENT_HELP, STANCE_HELP, labels_help, stance_caption

    shipped = labels_help(tiny_analyzer)  # the tiny models carry the shipped label sets
    assert STANCE_HELP in shipped and EVENT_HELP in shipped and "**Summary**" in shipped
    gate = SimpleNamespace(threshold=0.5)
    own_stance = SimpleNamespace(labels=("supports", "refutes", "none"), pairs=SimpleNamespace(labels=("supports",
                                 "refutes")), unrelated_label="none", gate=gate)
    own_event = SimpleNamespace(labels=("sport", "business", "tech"))
    custom = SimpleNamespace(stance=own_stance, event=own_event, unavailable={"summary": "switched off"})
    text = labels_help(custom)
    assert "FNC-1" not in text and "armed_conflict" not in text and "**Summary**" not in text
    assert "**supports**, **refutes**, or **none** when the claim is not about the article" in text
    assert "sport, business, tech. All 3 scores are shown." in text
    assert "'supports if related'" in stance_caption(custom) and "the claim is none" in stance_caption(custom)
    no_gate = SimpleNamespace(stance=SimpleNamespace(labels=("pro", "contra"), pairs=SimpleNamespace(labels=("pro",
                              "contra")), unrelated_label=None, gate=None), event=None, unavailable={})
    assert "**pro**, **contra**; each column is that label's probability" in labels_help(no_gate)
    assert "*related*" not in labels_help(no_gate) and "Event type" not in labels_help(no_gate)
