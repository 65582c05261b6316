"""Does a claim's stance depend on which other claims share its batch? Run with each runtime:

    python benchmarks/batch_dependence.py onnx   # also bf16, torch

Prints each claim's P(related) and its related-label probabilities asked alone and beside three other claims.
int8 ONNX quantises activations with one scale per tensor, so batched it moved these numbers ("Quake hits": 0.22
alone, 0.31 shared); since int8 graphs run each text alone (``model.onnx_backend.run_rows_alone``) every runtime
prints the same numbers both ways.
"""
from __future__ import annotations

import sys
from pathlib import Path

from model import Analyzer

QUAKE = ("Quake hits\n\nA 6.1 magnitude earthquake struck the region early on Tuesday, killing at least 12 people. "
         "Rescue teams searched collapsed buildings through the night.\n")
SEED = (Path(__file__).resolve().parents[1] / "seeds" / "000_552402bfee337202.txt").read_text(encoding="utf-8")
OTHERS = ["Scientists deny that an earthquake struck", "Apple releases a new phone",
          "A storm floods the capital after weeks of rain"]
CASES = [(QUAKE, "Quake hits"), (SEED, "Russia leaves Syria"), (SEED, "Putin orders troops to stay in Syria")]


def main(runtime: str) -> None:
    analyzer = Analyzer(summary=None, abstractive=None, backend=runtime)
    for text, claim in CASES:
        alone = analyzer.analyze(text, claims=[claim], tasks=("stance",)).stances[0]
        shared = analyzer.analyze(text, claims=[claim, *OTHERS], tasks=("stance",)).stances[0]
        show = lambda s: f"related {s.related:.3f} " + " ".join(f"{k} {v:.3f}" for k, v in s.if_related.items())  # noqa: E731
        print(f"{analyzer.backend:5} {claim!r}\n  alone:  {show(alone)}\n  shared: {show(shared)}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "auto")
