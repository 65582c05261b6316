"""ONNX Runtime path for the encoders: export once, quantise weights to int8 (dynamic), cache outside the repo.

Needs the `onnx` extra (onnxruntime, onnx). The exported graph replaces a torch encoder in inference only.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import torch
from torch import nn

from model.encoder import EncoderOutput
from model.errors import NewsLensError
from model.resolve import cache_root


def cache_dir() -> Path:
    return cache_root() / "onnx"


def _fingerprint(module: nn.Module) -> str:
    # Every byte of every tensor: a float sum would depend on the thread count (Ray workers run with fewer threads
    # than the parent), give another key and export the same graph again.
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def _require_onnxruntime():
    try:
        import onnxruntime  # noqa: F401
        import onnx  # noqa: F401
    except ImportError:
        raise NewsLensError("the ONNX backend needs the onnx extra: pip install -e '.[onnx]'") from None


def export_encoder(module: nn.Module, folder: Path, quantize: bool = True) -> Path:
    """Write ``module`` as ONNX (dynamic batch and length) into ``folder``; returns the (int8) model path."""
    _require_onnxruntime()
    folder.mkdir(parents=True, exist_ok=True)
    fp32, int8 = folder / "encoder.onnx", folder / "encoder.int8-per-channel.onnx"
    target = int8 if quantize else fp32
    if target.exists():
        return target
    vocab = int(module.config.vocab_size)
    ids = torch.randint(5, min(vocab, 1000), (2, 16))
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)

    class Wrapped(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    previous = getattr(module.config, "_attn_implementation", None)
    try:
        module.config._attn_implementation = "eager"  # the exporter traces eager attention most reliably
    except Exception:
        pass
    tmp = fp32.with_suffix(f".{os.getpid()}.tmp")  # per process: workers may export the same model at once
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about masks that are constant for BERT
        torch.onnx.export(Wrapped(module).eval(), (ids, mask, types), str(tmp), dynamo=False,
                          input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["hidden"],
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in ("input_ids", "attention_mask", "token_type_ids", "hidden")},
                          opset_version=17)
    if previous is not None:
        module.config._attn_implementation = previous
    os.replace(tmp, fp32)
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        tmp = int8.with_suffix(f".{os.getpid()}.tmp.onnx")
        # one scale per output channel: int8 weights then track fp32 closely enough for the accuracy guard
        quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
        os.replace(tmp, int8)
    return target


class OnnxEncoder(nn.Module):
    """Drop-in for a transformers encoder at inference: same call, returns ``.last_hidden_state``."""

    def __init__(self, path: Path, config, threads: int | None = None):
        super().__init__()
        _require_onnxruntime()
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # No busy-waiting after a run: the article encoder, the pair classifier and torch's heads take turns on the
        # same cores, and spinning threads of one session starve the next (measured: full analysis 25.5 -> 33.4
        # articles/s on 2 cores with spinning off).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.config = config
        self.path = path

    def forward(self, input_ids, attention_mask, token_type_ids=None, **_) -> EncoderOutput:
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        feeds = {"input_ids": input_ids.numpy().astype("int64"), "attention_mask": attention_mask.numpy().astype("int64"),
                 "token_type_ids": token_type_ids.numpy().astype("int64")}
        (hidden,) = self.session.run(["hidden"], feeds)
        return EncoderOutput(torch.from_numpy(hidden))


def onnx_encoder(module: nn.Module, quantize: bool = True, threads: int | None = None) -> OnnxEncoder:
    """The cached ONNX (int8 by default) version of ``module``, exported on first use."""
    folder = cache_dir() / _fingerprint(module)
    return OnnxEncoder(export_encoder(module, folder, quantize), module.config, threads)
