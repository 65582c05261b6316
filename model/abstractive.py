"""One-sentence abstractive summaries from the small generator with a LoRA adapter (or zero-shot without one)."""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Sequence

import torch
from transformers import StoppingCriteria

from model.errors import ModelNotFoundError
from model.faithfulness import unsupported_terms
from model.generator import GENERATOR_NAME, GenerationSettings, build_prompt, converted_checkpoint, first_sentence

# transformers 5 warns about its own renamed attribute when peft reads it; nothing a NewsLens user can act on
warnings.filterwarnings("ignore", message=r".*is_gradient_checkpointing.* is deprecated", category=FutureWarning)

ADAPTER_FILE = "adapter_model.safetensors"


class LineEnd(StoppingCriteria):
    """Stop generating once a line of text is complete (leading blank lines do not count)."""

    def __init__(self, tokenizer, prompt_length: int):
        self.tokenizer = tokenizer
        self.prompt_length = prompt_length

    def __call__(self, input_ids: torch.Tensor, scores, **kwargs) -> torch.Tensor:
        text = self.tokenizer.decode(input_ids[0, self.prompt_length:], skip_special_tokens=True).lstrip()
        done = bool(text) and "\n" in text
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool)


class AbstractiveSummarizer:
    """Loads the generator once (adapter merged into the weights for speed); ``summarize`` is greedy by default."""

    def __init__(self, model, tokenizer, settings: GenerationSettings, base_model: str):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.settings = settings
        self.base_model = base_model

    @classmethod
    def load(cls, folder: Path | None = None, base_model: str | None = None, dtype: torch.dtype = torch.float32,
             log=None) -> "AbstractiveSummarizer":
        """The adapter in ``folder`` (config.json + adapter files) on its base, or the base alone (zero-shot).

        fp32 by default: on this 2-core CPU (no bf16 units) bf16 generation measured slower, 3.0 vs 2.1 s/article."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        config = {}
        if folder is not None:
            folder = Path(folder)
            if not (folder / "config.json").exists() or not (folder / ADAPTER_FILE).exists():
                raise ModelNotFoundError(f"{folder} holds no abstractive summariser (config.json and {ADAPTER_FILE})")
            config = json.loads((folder / "config.json").read_text())
        base = base_model or config.get("base_model", GENERATOR_NAME)
        path = converted_checkpoint(base, log=log)
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
        if folder is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, folder).merge_and_unload()
        settings = GenerationSettings(**config.get("generation", {}))
        return cls(model, tokenizer, settings, base)

    @torch.inference_mode()
    def summarize(self, articles: Sequence[str]) -> list[str]:
        """One summary sentence per article (articles are generated one at a time: no padding waste)."""
        out = []
        s = self.settings
        for article in articles:
            prompt = build_prompt(self.tokenizer, article, s.max_input_tokens)
            enc = self.tokenizer(prompt, return_tensors="pt")
            # one token past the limit shows whether the text stops inside a word
            ids = self.model.generate(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                                      max_new_tokens=s.max_new_tokens + 1, num_beams=s.num_beams, do_sample=False,
                                      stopping_criteria=[LineEnd(self.tokenizer, enc["input_ids"].shape[1])],
                                      pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id)
            new_tokens = ids[0, enc["input_ids"].shape[1]:]
            cut_off = len(new_tokens) > s.max_new_tokens
            text = self.tokenizer.decode(new_tokens[: s.max_new_tokens], skip_special_tokens=True)
            following = self.tokenizer.decode(new_tokens[s.max_new_tokens:], skip_special_tokens=True)
            # the next token continues the last word unless it starts with a space or closing punctuation
            mid_word = cut_off and bool(following) and not (following[0].isspace() or following[0] in ".,;:!?)]}\"'”’")
            out.append(first_sentence(text, s.max_words, cut_off=cut_off, mid_word=mid_word))
        return out


def guard(summary: str, article: str) -> list[str]:
    """Terms of ``summary`` not supported by ``article``; an empty summary is flagged as such."""
    if not summary.strip():
        return ["(empty summary)"]
    return unsupported_terms(summary, article)
