"""How the transformer encoders run at inference: torch fp32, torch bfloat16, or int8 ONNX Runtime.

Every path that predicts (Analyzer, evaluate, bench) converts its encoders with ``fast_encoder``, so the accuracy
guard measures exactly what users run.
"""
from __future__ import annotations

from model.errors import InputError

BACKENDS = ("torch", "bf16", "onnx")
BACKEND_HELP = ("torch (fp32, default), bf16 (torch bfloat16: fast on CPUs with AVX512-BF16 or AMX, slow elsewhere) "
                "or onnx (int8 ONNX Runtime; the onnx extra)")


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise InputError(f"unknown backend '{backend}'; choose {', '.join(BACKENDS)}")
    return backend


def fast_encoder(module, backend: str):
    """``module`` as ``backend`` runs it (inference only); 'torch' returns it unchanged."""
    check_backend(backend)
    if backend == "bf16":
        from model.bf16_backend import Bf16Encoder

        return Bf16Encoder(module)
    if backend == "onnx":
        from model.onnx_backend import onnx_encoder

        return onnx_encoder(module)
    return module
