"""Shared fixtures: offline settings, the seed article, and tiny task models built on the tiny test encoder."""
from __future__ import annotations

import os

for key, value in (("HF_HUB_OFFLINE", "1"), ("HF_DATASETS_OFFLINE", "1"), ("GRADIO_ANALYTICS_ENABLED", "False"),
                   ("TOKENIZERS_PARALLELISM", "false")):
    os.environ[key] = value

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from model.resolve import REPO_ROOT, TINY_ENCODER  # noqa: E402

SEED_ARTICLE = REPO_ROOT / "seeds" / "000_552402bfee337202.txt"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def write_csv(path: Path, rows: list[dict]) -> Path:
    """Write ``rows`` (dicts with the same keys) as a CSV file with a header."""
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def seed_text() -> str:
    return SEED_ARTICLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is not beside the repository")
    return SHARED_DATA


def build_tiny_adapter(folder: Path, generator: Path) -> Path:
    """An untrained LoRA adapter on the tiny generator, saved like a real abstractive summariser."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from training.abstractive import save_adapter

    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(generator),
                           LoraConfig(r=2, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    save_adapter(model, folder, {"task": "summary-abstractive", "base_model": str(generator),
                                 "generation": {"max_input_tokens": 64, "max_new_tokens": 12}})
    return folder


def build_tiny_models(folder: Path, event_labels=None) -> dict[str, Path]:
    """Randomly initialised stance, event and summary models on the tiny encoder, saved like real ones."""
    from model.heads import EventFeatures, EventModel, MLPHead, SentenceScorer, sentence_features
    from model.labels import EVENT_LABELS, RELATED_STANCE_LABELS
    from model.pair_classifier import PairClassifier
    from model.relatedness import FEATURES, RelatednessGate
    from model.stance import StanceModel, ArticleView

    torch.manual_seed(0)
    pairs = PairClassifier(TINY_ENCODER, RELATED_STANCE_LABELS, max_length=64)
    n = len(FEATURES)
    gate = RelatednessGate(np.zeros(n, np.float32), np.ones(n, np.float32), np.ones(n, np.float32), 0.0, 0.3)
    StanceModel(pairs, gate, "unrelated").save(folder / "stance")
    dim = int(pairs.encoder.config.hidden_size)
    features = EventFeatures()
    labels = tuple(event_labels or EVENT_LABELS)
    EventModel(MLPHead(features.dim(dim), len(labels), 16), labels, features, TINY_ENCODER).save(folder / "event")
    probe = ArticleView(["a"], np.zeros((1, dim), np.float32), [1])
    SentenceScorer(MLPHead(sentence_features(probe).shape[1], 1, 16), TINY_ENCODER).save(folder / "summary")
    build_tiny_adapter(folder / "abstractive", build_tiny_generator(folder / "generator"))
    return {"stance": folder / "stance", "event": folder / "event", "summary": folder / "summary",
            "abstractive": folder / "abstractive"}


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    return build_tiny_models(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture(scope="session")
def tiny_analyzer(tiny_models):
    from model.analyzer import Analyzer

    return Analyzer(stance=tiny_models["stance"], event=tiny_models["event"], summary=tiny_models["summary"], threads=1,
                    abstractive=tiny_models["abstractive"], backend="torch")


def build_tiny_generator(folder: Path) -> Path:
    """A randomly initialised two-layer Gemma-3 causal LM with the tiny encoder's tokenizer, saved as a checkpoint."""
    from transformers import AutoTokenizer, Gemma3ForCausalLM, Gemma3TextConfig

    from model.resolve import package_model_dir

    tokenizer = AutoTokenizer.from_pretrained(package_model_dir(TINY_ENCODER))
    tokenizer.eos_token = tokenizer.sep_token
    tokenizer.bos_token = tokenizer.cls_token
    torch.manual_seed(0)
    config = Gemma3TextConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                              num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=512,
                              sliding_window=64, pad_token_id=tokenizer.pad_token_id,
                              eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.bos_token_id)
    Gemma3ForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_generator(tmp_path_factory) -> Path:
    return build_tiny_generator(tmp_path_factory.mktemp("tiny-generator"))
