"""NewsLens model module: labels, text preparation, encoders, task models and the prediction API."""
from __future__ import annotations

__all__ = ["Analyzer", "ArticleInput", "Analysis"]


def __getattr__(name: str):
    # Lazy so that `import model.text` stays light (no torch import) for tools that only need text preparation.
    if name in __all__:
        from model import analyzer

        return getattr(analyzer, name)
    raise AttributeError(name)
