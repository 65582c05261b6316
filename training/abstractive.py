"""Fine-tune the small generator (LoRA) to write one-sentence summaries, and score it against zero-shot and LEAD-1.

Targets come from the BBC data itself: the editor's title, which says what happened in the paper's own words,
joined with the first sentence (in article order) that the reference summary keeps, which carries who, where
and when. Both are in the data; nothing is invented, so the faithfulness guard can hold the model to it."""
from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import torch
from tqdm.auto import tqdm

from model.abstractive import ADAPTER_FILE, AbstractiveSummarizer, guard
from model.generator import GENERATOR_NAME, GenerationSettings, build_prompt, converted_checkpoint
from model.errors import InputError
from model.storage import atomic_write_text
from model.text import split_headline, split_sentences
from training import distributed
from training.data.summary_data import SummaryExample, extractive_labels
from training.loop import LoopConfig, config_dict, train_loop
from training.metrics import rouge_scores
from training.options import check_at_least, check_share


@dataclass
class AbstractiveTrainConfig:
    """What the abstractive trainer builds.

    base_model: generator to adapt (the packaged gemma-3-270m, a checkpoint folder or a hub id).
    lora_r: rank of the LoRA update on the attention projections.
    lora_alpha: LoRA scaling numerator.
    lora_dropout: dropout on the LoRA input.
    max_input_tokens: article tokens in the prompt (headline and opening first).
    target_words: target length: title plus key sentence, cut at a clause boundary within this many words.
    max_train_articles: training articles used (the first N after the seeded shuffle; 0: all).
    dev_articles: dev articles whose loss selects the best step.
    """

    base_model: str = GENERATOR_NAME
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    max_input_tokens: int = 256
    target_words: int = 32
    max_train_articles: int = 400
    dev_articles: int = 40

    def __post_init__(self):
        check_at_least(self, 1, "lora_r", "lora_alpha", "max_input_tokens", "target_words", "dev_articles")
        check_at_least(self, 0, "max_train_articles")
        check_share(self, "lora_dropout")


def clip_words(sentence: str, limit: int) -> str:
    """``sentence`` within ``limit`` words, cut after the last comma or dash that fits, else at the limit."""
    words = sentence.split()
    if len(words) <= limit:
        return sentence.strip()
    head = words[:limit]
    for i in range(len(head) - 1, limit // 2, -1):
        if head[i].endswith((",", ";", ":")) or head[i] in ("-", "–"):
            head = head[: i + 1]
            break
    return " ".join(head).rstrip(",;:-– ") + "."


def abstractive_target(example: SummaryExample, target_words: int = 32) -> str | None:
    """'Title: key sentence.' for one article, or None when there is no title or no kept sentence."""
    title, body = split_headline(example.article.strip())
    if not title:
        return None
    sentences = split_sentences(body)
    kept = [s for s, keep in zip(sentences, extractive_labels(sentences, example.summary)) if keep]
    if not kept:
        return None
    room = max(8, target_words - len(title.split()))
    return f"{title.strip().rstrip('.')}: {clip_words(kept[0], room)}"


def require_targets(train: Sequence[SummaryExample], target_words: int) -> None:
    """InputError when no training article gives a target (abstractive_target), saying what each one lacks."""
    if any(abstractive_target(e, target_words) is not None for e in train):
        return
    untitled = sum(split_headline(e.article.strip())[0] is None for e in train)
    raise InputError(f"none of the {len(train)} training articles gives a target, which is the article's title line "
                     f"and the first of its sentences that the reference summary repeats: {untitled} have no title "
                     f"line (a short first line without a final full stop, then the body) and the other "
                     f"{len(train) - untitled} no sentence repeated in their summary")


@dataclass
class GenItem:
    prompt_ids: list[int]
    target_ids: list[int]


def _items(examples: Sequence[SummaryExample], tokenizer, config: AbstractiveTrainConfig) -> list[GenItem]:
    items = []
    for e in examples:
        target = abstractive_target(e, config.target_words)
        if target is None:
            continue
        prompt = build_prompt(tokenizer, e.article.strip(), config.max_input_tokens)
        prompt_ids = tokenizer(prompt)["input_ids"]  # with the model's start token
        target_ids = tokenizer(" " + target, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        items.append(GenItem(prompt_ids, target_ids))
    return items


def generation_loss(model, batch: Sequence[GenItem], pad_id: int) -> torch.Tensor:
    """Mean token loss over the targets only; sequences are left-padded so all targets end together and only the
    last positions' logits (not the whole 262k-vocabulary sequence) are computed."""
    seqs = [b.prompt_ids + b.target_ids for b in batch]
    width = max(map(len, seqs))
    keep = max(len(b.target_ids) for b in batch) + 1
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    labels = torch.full((len(seqs), keep - 1), -100, dtype=torch.long)
    for row, (seq, b) in enumerate(zip(seqs, batch)):
        ids[row, width - len(seq):] = torch.tensor(seq)
        mask[row, width - len(seq):] = 1
        labels[row, keep - 1 - len(b.target_ids):] = torch.tensor(b.target_ids)
    logits = model(input_ids=ids, attention_mask=mask, logits_to_keep=keep).logits[:, :-1]
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1),
                                             ignore_index=-100)


def train_abstractive(train: Sequence[SummaryExample], dev: Sequence[SummaryExample], output: Path,
                      config: AbstractiveTrainConfig, loop: LoopConfig, resume: bool = False,
                      extra_card: dict | None = None) -> dict:
    """LoRA-tune the generator on title + key-sentence targets; the adapter with the lowest dev loss is saved."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.time()
    if config.max_train_articles:
        train = list(train)[: config.max_train_articles]
    require_targets(train, config.target_words)
    base_path = converted_checkpoint(config.base_model, log=tqdm.write)
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    torch.manual_seed(loop.seed)
    base = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32)
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=["q_proj", "k_proj", "v_proj", "o_proj"], task_type="CAUSAL_LM")
    model = get_peft_model(base, lora)
    train_items = _items(train, tokenizer, config)
    dev_items = _items(list(dev)[: config.dev_articles], tokenizer, config)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    tqdm.write(f"abstractive: {len(train_items)} train / {len(dev_items)} dev targets; "
               f"{sum(p.numel() for p in model.parameters() if p.requires_grad):,} trainable parameters")

    @torch.no_grad()
    def evaluate() -> float:
        model.eval()
        losses = [float(generation_loss(model, dev_items[i:i + 4], pad_id)) for i in range(0, len(dev_items), 4)]
        model.train()
        return -sum(losses) / max(1, len(losses))  # higher is better for the loop

    model.train()
    result = train_loop(model, train_items, lambda batch: generation_loss(model, batch, pad_id), evaluate, loop,
                        checkpoint_dir=output / "checkpoints", resume=resume)
    settings = GenerationSettings(max_input_tokens=config.max_input_tokens)
    card = {
        "trained_on": {"articles": len(train_items), "dev_articles": len(dev_items)},
        "train_config": config_dict(loop) | asdict(config),
        "loop": {"best_dev_loss": -result.best_metric if result.best_metric is not None else None,
                 "best_step": result.best_step, "steps": result.steps, "history": result.history},
        "train_seconds": round(time.time() - started, 1),
        **(extra_card or {}),
    }
    if distributed.is_main():
        save_adapter(model, output, {"task": "summary-abstractive", "base_model": config.base_model,
                                     "generation": asdict(settings), "training": card})
    return card


def save_adapter(model, output: Path, config: dict) -> None:
    """The LoRA adapter (safetensors) and config.json, each moved into place atomically."""
    import json
    import tempfile

    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        for name in os.listdir(tmp):
            if name.endswith((".safetensors", ".json")):
                os.replace(Path(tmp) / name, output / name)
    atomic_write_text(output / "config.json", json.dumps(config, indent=2) + "\n")
    if not (output / ADAPTER_FILE).exists():
        raise RuntimeError(f"adapter was not written to {output}")


def lead_one(article: str) -> str:
    body = split_headline(article.strip())[1]
    sentences = split_sentences(body)
    return sentences[0] if sentences else ""


def evaluate_abstractive(summarizer: AbstractiveSummarizer, articles: Sequence[str], references: Sequence[str],
                         zero_shot: AbstractiveSummarizer | None = None) -> dict:
    """ROUGE-1/2/L F1 and the guard's flag rate of the summariser, beside LEAD-1 (and zero-shot when given)."""
    def scored(outputs: list[str], seconds: float) -> dict:
        flags = [guard(o, a) for o, a in zip(outputs, articles)]
        return {**rouge_scores(list(references), outputs), "flag_rate": sum(map(bool, flags)) / max(1, len(outputs)),
                "mean_words": sum(len(o.split()) for o in outputs) / max(1, len(outputs)),
                "seconds_per_article": seconds / max(1, len(outputs)),
                "examples": [{"summary": o, "flagged": f} for o, f in list(zip(outputs, flags))[:5]]}

    def run(model: AbstractiveSummarizer) -> dict:
        clock = time.perf_counter()
        outputs = [model.summarize([a])[0] for a in tqdm(articles, desc="generating", leave=False)]
        return scored(outputs, time.perf_counter() - clock)

    report = {"n": len(articles), "abstractive": run(summarizer)}
    if zero_shot is not None:
        report["zero_shot"] = run(zero_shot)
    report["lead_1"] = scored([lead_one(a) for a in articles], 0.0)
    return report
