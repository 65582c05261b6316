"""Errors a user can cause, raised early with a message that names the problem."""
from __future__ import annotations


class NewsLensError(Exception):
    """Base class for errors NewsLens reports to users (the CLI prints these without a traceback)."""


class InputError(NewsLensError, ValueError):
    """The text, file, row or column given to NewsLens cannot be used as it is."""


class ModelNotFoundError(NewsLensError, FileNotFoundError):
    """No model could be found for the given name, path or package."""
