"""ONNX Runtime path for the encoders: export once, quantise weights to int8 (dynamic), cache outside the repo.
ONNX Runtime's fused BERT operators are available as a variant (``fuse=True``); measured here they were no faster
(pairs of 256 tokens) or slower (short sentences), so the default graph is the plain one.

Needs the `onnx` extra (onnxruntime, onnx). The exported graph replaces a torch encoder in inference only.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from model.encoder import EncoderOutput
from model.errors import NewsLensError
from model.resolve import cache_root, writable_cache


# the way out of an ONNX cache that cannot be written; the commands name the encoder runtime differently
OTHER_RUNTIME_HINT = ("run the encoders with torch or bf16 (--runtime for predict and demo, --backend for evaluate "
                      "and bench)")


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


# Names the int8 recipe in cached file names, so a graph quantised another way is never read back
INT8_SUFFIX = ".int8-7bit-float-ffn-out"


def graph_path(folder: Path, fuse: bool, quantize: bool) -> Path:
    """Cache file of one variant: plain export, with fused BERT operators, and either one with int8 weights."""
    return folder / ("encoder" + (".fused" if fuse else "") + (INT8_SUFFIX if quantize else "") + ".onnx")


def export_encoder(module: nn.Module, folder: Path, quantize: bool = True, fuse: bool = False) -> Path:
    """Write ``module`` as ONNX (dynamic batch and length) into ``folder``; returns the path of the variant asked
    for (default: plain graph, int8 weights). Every intermediate graph stays cached beside it."""
    _require_onnxruntime()
    target = graph_path(folder, fuse, quantize)
    if target.exists():  # a read-only cache that holds the graph is fine
        return target
    writable_cache(folder, "the ONNX Runtime graph", OTHER_RUNTIME_HINT)
    with export_note(f"the {getattr(module.config, 'model_type', 'encoder')} encoder", target):
        plain = graph_path(folder, False, False)
        if not plain.exists():
            _export_plain(module, plain)
        source = plain
        if fuse:
            source = graph_path(folder, True, False)
            if not source.exists():
                fuse_bert_blocks(plain, source, module.config)
        if quantize:
            quantize_weights(source, target, float_inputs=getattr(module.config, "intermediate_size", None))
    return target


@contextlib.contextmanager
def export_note(what: str, target: Path):
    """Tell stderr that a graph is being written once into the cache and how long it took: the first run on a
    machine (or after an upgrade that changes the graphs) waits for it."""
    import sys
    import time

    started = time.time()
    print(f"preparing the ONNX Runtime graph of {what} in {target.parent} (one time)...", file=sys.stderr, flush=True)
    yield
    print(f"  done in {time.time() - started:.0f} s", file=sys.stderr, flush=True)


def takes_token_types(module: nn.Module) -> bool:
    """Whether the encoder reads token type ids (BERT does; MPNet has none)."""
    import inspect

    return "token_type_ids" in inspect.signature(module.forward).parameters


def _export_plain(module: nn.Module, path: Path) -> None:
    vocab = int(module.config.vocab_size)
    ids = torch.randint(5, min(vocab, 1000), (2, 16))
    mask = torch.ones_like(ids)
    with_types = takes_token_types(module)

    class Wrapped(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            extra = {"token_type_ids": token_type_ids} if with_types else {}
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state

    args, names = (ids, mask), ["input_ids", "attention_mask"]
    if with_types:
        args, names = (ids, mask, torch.zeros_like(ids)), names + ["token_type_ids"]
    with eager_attention(module.config):
        export_traced(Wrapped(module), args, names, path)


@contextlib.contextmanager
def eager_attention(config):
    """Eager attention on ``config`` for the duration (the exporter traces it most reliably), then the previous
    implementation again; a config that refuses the switch is left as it is."""
    previous = getattr(config, "_attn_implementation", None)
    try:
        config._attn_implementation = "eager"
    except Exception:
        pass
    try:
        yield
    finally:
        if previous is not None:
            config._attn_implementation = previous


def quantize_weights(source: Path, target: Path, float_inputs: int | None = None) -> None:
    """Dynamic int8 quantisation of the weights (one scale per output channel), except the matrix products that
    read ``float_inputs`` features: pass the feed-forward width so that each block's output projection stays in
    float. Its input (after GELU or Gemma's gated activation) has the outliers that one int8 activation scale per
    text handles worst; kept in float, int8 changed 60 instead of 79 of the stance model's 3,200 dev answers against
    fp32, and 6 instead of 17 of the event model's 634, for about a fifth of the speed (BENCHMARKS.md, 2026-12-05).
    Fused operators carry no inferred output types, so the default type is named."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = target.with_suffix(f".{os.getpid()}.tmp.onnx")
    keep_float = float_products(onnx.load(str(source)).graph, float_inputs) if float_inputs else []
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))  # the quantiser logs a 'consider pre-processing' note to the root logger
    try:
        # 7-bit weights (reduce_range): u8 x s8 products of full-range weights can overflow the 16-bit
        # accumulation of AVX2 kernels on CPUs without VNNI (an error of 0.83 against torch on such a machine).
        quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                         nodes_to_exclude=keep_float, extra_options={"DefaultTensorType": 1})  # onnx.TensorProto.FLOAT
    finally:
        root.setLevel(level)
    os.replace(tmp, target)


def float_products(graph, inputs: int) -> list[str]:
    """Names of the MatMul nodes of ``graph`` whose weight matrix reads ``inputs`` features (shape (inputs, out))."""
    shapes = {init.name: tuple(init.dims) for init in graph.initializer}
    return [node.name for node in graph.node if node.op_type == "MatMul"
            and any(len(shapes.get(name, ())) == 2 and shapes[name][0] == inputs for name in node.input)]


def fuse_bert_blocks(source: Path, target: Path, config) -> None:
    """Rewrite a BERT graph with ONNX Runtime's fused operators (embedding + LayerNorm, multi-head Attention,
    bias + GELU, residual + LayerNorm); other architectures, or a graph the fuser cannot read, are copied as is."""
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    try:
        if getattr(config, "model_type", "") != "bert":
            raise ValueError("not a BERT graph")
        from onnxruntime.transformers.optimizer import optimize_model

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fused = optimize_model(str(source), model_type="bert", num_heads=int(config.num_attention_heads),
                                   hidden_size=int(config.hidden_size))
        fused.save_model_to_file(str(tmp))
    except Exception:  # fusion is an optimisation: the unfused graph computes the same
        import shutil

        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def cpu_session(path: Path, threads: int | None = None):
    """An ONNX Runtime CPU session on ``threads`` intra-op threads (default: torch's count)."""
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
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def export_traced(module: nn.Module, args: tuple, input_names: list[str], path: Path) -> None:
    """Trace ``module`` on ``args`` into ``path`` (dynamic batch and length on every input and on the one output,
    'hidden'), atomically."""
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # per process: workers may export the same model at once
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about masks that are constant for the traced shapes
        torch.onnx.export(module.eval(), args, str(tmp), dynamo=False, input_names=input_names,
                          output_names=["hidden"], opset_version=17,
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*input_names, "hidden"]})
    os.replace(tmp, path)


def unpadded_spans(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each row's attended tokens in an attention ``mask`` (right or left padding)."""
    spans = []
    for row in mask:
        attended = np.flatnonzero(row)
        spans.append((int(attended[0]), int(attended[-1]) + 1) if len(attended) else (0, 1))
    return spans


def run_rows_alone(run: Callable[[dict[str, np.ndarray]], np.ndarray], feeds: dict[str, np.ndarray],
                   mask: np.ndarray) -> np.ndarray:
    """``run`` on each row of ``feeds`` (arrays of shape (batch, tokens, ...)) cut to its attended tokens, outputs
    placed back at their positions (zeros elsewhere). int8 graphs quantise activations with one scale per tensor,
    so in a batch a text's numbers would depend on the texts beside it; row by row they do not (about 9% slower on
    pairs, 27% on short sentences, measured on 2 cores)."""
    out = None
    for i, (start, end) in enumerate(unpadded_spans(mask)):
        hidden = run({name: value[i: i + 1, start:end] for name, value in feeds.items()})
        if out is None:
            out = np.zeros((mask.shape[0], mask.shape[1], *hidden.shape[2:]), dtype=np.float32)
        out[i, start:end] = hidden[0]
    return out


class OnnxEncoder(nn.Module):
    """Drop-in for a transformers encoder at inference: same call, returns ``.last_hidden_state``. Each text runs
    alone (``run_rows_alone``), so its vector is the same whatever else is in the batch."""

    def __init__(self, path: Path, config, threads: int | None = None):
        super().__init__()
        self.session = cpu_session(path, threads)
        self.config = config
        self.path = path
        self.input_names = {i.name for i in self.session.get_inputs()}

    def forward(self, input_ids, attention_mask, token_type_ids=None, **_) -> EncoderOutput:
        feeds = {"input_ids": input_ids.numpy().astype("int64"), "attention_mask": attention_mask.numpy().astype("int64")}
        if "token_type_ids" in self.input_names:  # graphs of encoders with token types (BERT) take them
            types = torch.zeros_like(input_ids) if token_type_ids is None else token_type_ids
            feeds["token_type_ids"] = types.numpy().astype("int64")
        hidden = run_rows_alone(lambda row: self.session.run(["hidden"], row)[0], feeds, feeds["attention_mask"])
        return EncoderOutput(torch.from_numpy(hidden))


def onnx_encoder(module: nn.Module, quantize: bool = True, threads: int | None = None, fuse: bool = False) -> OnnxEncoder:
    """The cached ONNX version of ``module`` (int8 weights by default), exported on first use."""
    folder = cache_dir() / _fingerprint(module)
    return OnnxEncoder(export_encoder(module, folder, quantize, fuse), module.config, threads)
