"""Text vectors from the middle of a small language model: the mean of one decoder layer's hidden states over the
headline and opening sentences. By default the packaged Gemma-3-270M (the abstractive summary's generator), cut
after its 9th of 18 layers, so a forward pass costs half the model."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from model.lexical import lead_text

LM_FEATURES_MODEL = "gemma-3-270m"
RUNTIMES = ("torch", "bf16", "onnx")


@dataclass
class LMFeatureConfig:
    """Which language model and layer give the vectors, and what text they read.

    name: 'gemma-3-270m' (the packaged generator), a checkpoint folder or a hub id.
    layer: read the output of this decoder layer (1-based); the layers after it are dropped.
    max_length: tokens read from the headline and opening.
    lead_sentences: the headline and this many opening sentences (0: the whole text).
    batch_size: texts per forward pass (sorted by length, so batches pad little); int8 ONNX runs each text alone.
    """

    name: str = LM_FEATURES_MODEL
    layer: int = 9
    max_length: int = 128
    lead_sentences: int = 3
    batch_size: int = 32

    def __post_init__(self):
        if self.layer < 1:
            raise ValueError("layer must be 1 or more")
        if self.max_length < 8:
            raise ValueError("max_length must be at least 8")


class LMFeatureEncoder:
    """``encode(texts)`` -> (len(texts), hidden) float32: mean of layer ``config.layer``'s hidden states over the
    tokens of each text's lead, the first (BOS) token left out.

    runtime: 'torch' (fp32), 'bf16' (torch bfloat16), 'onnx' (the kept layers as an int8 ONNX Runtime graph,
    exported once into the model cache; the embedding lookup stays in torch) or None: bf16 on CPUs that compute it
    natively, else fp32.
    """

    def __init__(self, config: LMFeatureConfig | None = None, dtype: torch.dtype | None = None,
                 runtime: str | None = None):
        from transformers import AutoModel, AutoTokenizer

        from model.backends import native_bf16
        from model.generator import converted_checkpoint

        if runtime not in (None, *RUNTIMES):
            raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}")
        self.config = config or LMFeatureConfig()
        path = converted_checkpoint(self.config.name)
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        if runtime is None:
            runtime = "bf16" if dtype == torch.bfloat16 or (dtype is None and native_bf16()) else "torch"
        self.runtime = runtime
        graph = _graph_path(Path(path), self.config.layer) if runtime == "onnx" else None
        # the ONNX path keeps only the embedding table in torch: bf16 is enough once the graph is exported
        self.dtype = torch.bfloat16 if runtime == "bf16" or (graph is not None and graph.exists()) else torch.float32
        model = AutoModel.from_pretrained(path, dtype=self.dtype)
        model = getattr(model, "model", model)  # a causal-LM checkpoint: keep the decoder, drop the LM head
        if self.config.layer > len(model.layers):
            raise ValueError(f"{self.config.name} has {len(model.layers)} layers; layer {self.config.layer} asked for")
        model.layers = model.layers[: self.config.layer]
        model.config.num_hidden_layers = self.config.layer
        if getattr(model.config, "layer_types", None):
            model.config.layer_types = model.config.layer_types[: self.config.layer]
        self.model = model.eval()
        self.dim = int(model.config.hidden_size)
        self._local = threading.local()  # the hook's output per thread: requests may share this encoder
        model.layers[-1].register_forward_hook(lambda _m, _i, out: self._captured.append(
            out[0] if isinstance(out, tuple) else out))
        self._session = None
        if graph is not None:
            self._session = _onnx_layers(self, graph)
            self.model = None  # the graph holds the layers; only the embedding table stays in torch
            self._embed = model.embed_tokens.to(torch.bfloat16)  # half the memory; the graph reads fp32

    @property
    def _captured(self) -> list[torch.Tensor]:
        """The last layer's outputs caught by the forward hook in this thread (a shared list let concurrent
        requests take each other's vectors)."""
        captured = getattr(self._local, "captured", None)
        if captured is None:
            captured = self._local.captured = []
        return captured

    def hidden_states(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(batch, tokens, hidden) float32 output of the kept layers."""
        if self._session is not None:  # int8: each text alone, so its vector does not depend on the batch
            from model.onnx_backend import run_rows_alone

            feeds = {"inputs_embeds": self._embed(ids).float().numpy(), "attention_mask": mask.numpy().astype("int64")}
            hidden = run_rows_alone(lambda row: self._session.run(["hidden"], row)[0], feeds, feeds["attention_mask"])
            return torch.from_numpy(hidden)
        self._captured.clear()
        self.model(input_ids=ids, attention_mask=mask)
        return self._captured.pop().float()  # taken out, so the list holds no batch between calls

    @torch.inference_mode()
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        leads = [lead_text(t, self.config.lead_sentences) for t in texts]
        out = np.zeros((len(leads), self.dim), dtype=np.float32)
        order = np.argsort([len(t) for t in leads], kind="stable")
        bos = self.tokenizer.bos_token_id
        for start in range(0, len(leads), self.config.batch_size):
            idx = order[start: start + self.config.batch_size]
            enc = self.tokenizer([leads[i] for i in idx], return_tensors="pt", padding=True, truncation=True,
                                 max_length=self.config.max_length)
            hidden = self.hidden_states(enc["input_ids"], enc["attention_mask"])
            mask = enc["attention_mask"].bool()
            if bos is not None:
                mask &= enc["input_ids"] != bos
            mask = mask.unsqueeze(-1).float()
            out[idx] = ((hidden * mask).sum(1) / mask.sum(1).clamp_min(1.0)).numpy()
        return out


def _graph_path(checkpoint: Path, layer: int) -> Path:
    """Cache path of the int8 graph of ``checkpoint``'s first ``layer`` layers, keyed by the checkpoint's files (name,
    size, first and last MiB), so a cached graph is found without loading the weights in fp32."""
    import hashlib

    from model.onnx_backend import INT8_SUFFIX, cache_dir

    digest = hashlib.sha256(f"{checkpoint.resolve()}|layer={layer}".encode())
    for file in sorted(checkpoint.glob("*.json")) + sorted(checkpoint.glob("*.safetensors")):
        size = file.stat().st_size
        digest.update(f"{file.name}|{size}".encode())
        with file.open("rb") as handle:
            digest.update(handle.read(1 << 20))
            handle.seek(max(size - (1 << 20), 0))
            digest.update(handle.read())
    return cache_dir() / f"lm-{digest.hexdigest()[:16]}" / f"layers{INT8_SUFFIX}.onnx"


def _onnx_layers(encoder: LMFeatureEncoder, target: Path):
    """A session running ``encoder``'s kept layers from input embeddings, int8 weights (per channel), read from
    ``target``; exported there first when missing (about a minute for Gemma's nine layers; needs the fp32 model)."""
    from model.onnx_backend import OTHER_RUNTIME_HINT, cpu_session, export_note
    from model.resolve import writable_cache

    if not target.exists():
        writable_cache(target.parent, f"the ONNX Runtime graph of {encoder.config.name}", OTHER_RUNTIME_HINT)
        with export_note(f"{encoder.config.name}'s first {encoder.config.layer} layers", target):
            _export_layers(encoder, target)
    return cpu_session(target)


def _export_layers(encoder: LMFeatureEncoder, target: Path) -> None:
    """Trace ``encoder``'s kept layers (from input embeddings) and write them to ``target`` with int8 weights."""
    from torch import nn

    from model.onnx_backend import eager_attention, export_traced, quantize_weights

    model = encoder.model
    target.parent.mkdir(parents=True, exist_ok=True)
    plain = target.parent / f"layers.{os.getpid()}.onnx"  # per process: Ray workers may export the same graph at once

    class FromEmbeddings(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, inputs_embeds, attention_mask):
            encoder._captured.clear()
            self.inner(inputs_embeds=inputs_embeds, attention_mask=attention_mask)
            return encoder._captured.pop()

    mask = torch.ones(2, 16, dtype=torch.long)
    mask[1, :3] = 0  # a left-padded row, so the traced mask code is the general one
    with eager_attention(model.config):
        embeds = model.embed_tokens(torch.randint(5, 1000, (2, 16)))
        export_traced(FromEmbeddings(), (embeds, mask), ["inputs_embeds", "attention_mask"], plain)
    quantize_weights(plain, target, float_inputs=int(model.config.intermediate_size))
    plain.unlink(missing_ok=True)  # fp32 graph: only the int8 one is read
