"""Keep freed memory in the process during training instead of handing it back to the OS at every step.

A CPU training step allocates and frees the same large activation buffers again and again. With glibc's defaults,
big blocks are mmap-ed and unmapped each time (and the heap top is trimmed), so every step faults its memory in
anew. `python benchmarks/train_step_malloc.py` times the shipped stance recipe's step (through the frozen-layer
cache) both ways in one process: 1.00x and 1.06x on 2 cores (AMD EPYC, 2026-12-05), with minor page faults per step
falling from 14,000-54,000 to about 500; a shortened `newslens train stance` run took 14:02 minutes against 14:32
with glibc's defaults (1.04x, identical results; BENCHMARKS.md). The cost is
resident memory that stays reserved after a peak, which suits a training run but not a long-lived demo, so only
`newslens train` calls this. ``NEWSLENS_MALLOPT=0`` keeps glibc's defaults.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers (malloc.h)
TRIM_THRESHOLD = 1 << 30  # free heap top kept up to 1 GiB before it is returned to the OS
MMAP_THRESHOLD = 32 << 20  # blocks below 32 MiB (glibc's ceiling for this setting) come from the heap, not mmap


def keep_freed_memory(environ: dict | None = None) -> bool:
    """Set glibc's trim and mmap thresholds for training; True when they were set, False on other C libraries or
    when ``NEWSLENS_MALLOPT=0`` asks to keep the defaults."""
    environ = os.environ if environ is None else environ
    if environ.get("NEWSLENS_MALLOPT", "1") == "0":
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows): nothing to tune
        return False
    return bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
