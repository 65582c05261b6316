"""The shipped weights on the seed article the product was specified from (the brief's two acceptance checks)."""
import pytest

from model.analyzer import SHIPPED_WEIGHTS, Analyzer


@pytest.mark.skipif(not (SHIPPED_WEIGHTS / "stance" / "model.safetensors").exists(), reason="no shipped weights")
def test_seed_article_agrees_with_its_headline_and_is_military_posture(seed_text):
    analyzer = Analyzer(summary=None, abstractive=None, threads=2)
    result = analyzer.analyze(seed_text)
    assert result.headline == "Putin orders pull-out of Russian troops from Syria"
    assert [s.label for s in result.stances] == ["agree"]
    assert result.event.label == "military_posture"
    assert max(result.event.scores, key=result.event.scores.get) == "military_posture"


@pytest.mark.skipif(not (SHIPPED_WEIGHTS / "event-fast" / "model.safetensors").exists(), reason="no fast event model")
def test_the_fast_event_model_also_reads_the_seed_article_as_military_posture(seed_text):
    from model.heads import EventModel

    analyzer = Analyzer(stance=None, event="event-fast", summary=None, abstractive=None, threads=2)
    assert type(analyzer.event) is EventModel  # MiniLM only: no language model loaded
    assert analyzer.analyze(seed_text, tasks=("event",)).event.label == "military_posture"
