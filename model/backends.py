"""How the transformer encoders run at inference: torch fp32, torch bfloat16, or int8 ONNX Runtime; 'auto' picks.

Every path that predicts (Analyzer, evaluate, bench) converts its encoders with ``fast_encoder``, so the accuracy
guard measures exactly what users run.
"""
from __future__ import annotations

import functools
from pathlib import Path

from model.errors import InputError

BACKENDS = ("auto", "torch", "bf16", "onnx")
BACKEND_HELP = ("auto (bf16 on CPUs that compute bfloat16 natively: AMX or AVX512-BF16; else onnx when its extra "
                "is installed; else torch), torch (fp32), bf16 (torch bfloat16: slow without native bfloat16) or onnx "
                "(int8 ONNX Runtime; the onnx extra)")


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise InputError(f"unknown backend '{backend}'; choose {', '.join(BACKENDS)}")
    return backend


def cpuinfo_field(key: str, cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The value of the first ``key`` line of /proc/cpuinfo ('' where there is none, or no such file)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    for line in text.splitlines():
        if line.startswith(key):
            return line.partition(":")[2].strip()
    return ""


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU feature flags the kernel reports (empty where there is no /proc/cpuinfo)."""
    return set(cpuinfo_field("flags", cpuinfo).split())


def onnx_installed() -> bool:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


NATIVE_BF16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})


@functools.lru_cache(maxsize=1)
def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX)."""
    return bool(cpu_flags() & NATIVE_BF16_FLAGS)


def choose_backend(flags: set[str], onnx: bool) -> str:
    """bf16 where the CPU computes bfloat16 natively (AMX or AVX512-BF16), else int8 ONNX when installed, else fp32
    torch. Measured on 2 cores (BENCHMARKS.md): on a Xeon with AMX bf16 ran the full analysis fastest (2026-12-02); on
    an AMD EPYC with AVX512-BF16 but no AMX, bf16 ran at least as fast as int8 ONNX on every task once int8 kept its
    feed-forward output projections in float and ran each text alone for accuracy (full analysis 12.8-14.5 against
    10.1-10.2 articles/s, stance pairs 42-43 against 43-44/s, 2026-12-05), and bf16 stays within the accuracy guard;
    without native bfloat16, bf16 is slower than fp32 and int8 ONNX is the fast path."""
    if flags & NATIVE_BF16_FLAGS:
        return "bf16"
    return "onnx" if onnx else "torch"


@functools.lru_cache(maxsize=1)
def auto_backend() -> str:
    """What 'auto' means on this machine."""
    return choose_backend(cpu_flags(), onnx_installed())


def resolve_backend(backend: str) -> str:
    """``backend`` with 'auto' replaced by the machine's choice."""
    return auto_backend() if check_backend(backend) == "auto" else backend


def backend_name(asked: str, ran: str) -> str:
    """How reports name the backend that ran: 'bf16', or "bf16 ('auto' chose it)" when ``asked`` was 'auto'."""
    return f"{ran} ('{asked}' chose it)" if asked != ran else ran


def fast_encoder(module, backend: str):
    """``module`` as ``backend`` runs it (inference only); 'torch' returns it unchanged, or a copy with its low-rank
    adapters folded into the weights."""
    backend = resolve_backend(backend)
    from model.lora import LoRALinear, merge_lora

    owned = any(isinstance(m, LoRALinear) for m in module.modules())
    if owned:  # a copy with the adapters folded in: plain layers
        import copy

        module = merge_lora(copy.deepcopy(module))
    if backend == "bf16":
        from model.bf16_backend import Bf16Encoder

        return Bf16Encoder(module, owned=owned)  # the folded copy is ours: converted without a second copy
    if backend == "onnx":
        from model.onnx_backend import onnx_encoder

        return onnx_encoder(module)
    return module
