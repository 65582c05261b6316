"""Turn documented config dataclasses into command-line flags (and back), so --help documents every field."""
from __future__ import annotations

import argparse
import dataclasses
import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from model.errors import InputError


def field_docs(cls) -> dict[str, str]:
    """Field help from the class docstring lines of the form ``name: what it does``."""
    docs: dict[str, str] = {}
    current = None
    for line in (cls.__doc__ or "").splitlines():
        match = re.match(r"\s*([a-z_][a-z0-9_]*): (.*)", line)
        if match:
            current = match.group(1)
            docs[current] = match.group(2).strip()
        elif current and line.strip():
            docs[current] += " " + line.strip()
        else:
            current = None
    return docs


def _scalar_type(annotation) -> type:
    hints = typing.get_args(annotation) if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union else ()
    options = [h for h in hints if h is not type(None)] or [annotation]
    return options[0] if isinstance(options[0], type) else str


def _default_note(doc: str, default: Any) -> str:
    """' (default: X)' for the help line, unless the field's doc already says its default; None and '' read 'none'."""
    if "default" in doc.lower():
        return ""
    return f" (default: {'none' if default in (None, '') else default})"


def flag_name(prefix: str, name: str) -> str:
    """The command-line flag of field ``name`` (``--stance-max-length`` for prefix 'stance_', name 'max_length')."""
    return "--" + (prefix + name).replace("_", "-")


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls, prefix: str = "", skip: tuple[str, ...] = (),
                            title: str | None = None) -> None:
    """One ``--flag`` per scalar field of ``cls`` (default None: config file or dataclass default applies), in a
    help group named ``title`` (default: the first line of the class docstring)."""
    docs = field_docs(cls)
    hints = typing.get_type_hints(cls)
    group = parser.add_argument_group(title or (cls.__doc__ or cls.__name__).strip().splitlines()[0].rstrip("."))
    for f in dataclasses.fields(cls):
        if f.name in skip or dataclasses.is_dataclass(hints[f.name]):
            continue
        kind = _scalar_type(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        flag = flag_name(prefix, f.name)
        doc = docs.get(f.name, "")
        help_text = doc + _default_note(doc, default)
        if kind is bool:
            group.add_argument(flag, dest=prefix + f.name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            group.add_argument(flag, dest=prefix + f.name, type=kind if kind in (int, float) else str, default=None,
                               help=help_text, metavar=kind.__name__.upper() if kind in (int, float) else "TEXT")


def build_dataclass(cls, args: argparse.Namespace, file_values: dict[str, Any] | None = None, prefix: str = "",
                    section: str | None = None):
    """An instance of ``cls`` from config-file values (the ``section`` table of --config; default: ``prefix``
    without its '_'), overridden by flags that were given. A bad value's error names what the user typed: the flag
    (``--latency-runs must be at least 1, got 0``) or the config file's key (``[stance] max_length ...``)."""
    values = dict(file_values or {})
    flagged = set()
    for f in dataclasses.fields(cls):
        given = getattr(args, prefix + f.name, None)
        if given is not None:
            values[f.name] = given
            flagged.add(f.name)
    try:
        return _from_values(cls, values)
    except InputError as err:
        table = section or prefix.rstrip("_")
        if str(err).startswith(f"unknown setting(s) for {cls.__name__}:") and table:  # the table, not the class
            known = ", ".join(f.name for f in dataclasses.fields(cls))
            raise InputError(str(err).replace(f"for {cls.__name__}", f"in [{table}]", 1)
                             + f"; [{table}] knows {known}") from None
        raise
    except (TypeError, ValueError) as err:
        raise InputError(_named_as_typed(str(err), cls, prefix, section or prefix.rstrip("_"), flagged,
                                         set(file_values or ()))) from None


def _named_as_typed(message: str, cls, prefix: str, section: str, flagged: set[str], from_file: set[str]) -> str:
    """``message`` with the field it starts with (as the dataclasses' checks word their errors: 'max_length must be
    ...', 'features.use_body must be ...') named as the user typed it: its flag when a flag gave the value, its key
    in the --config table when the file did; 'invalid CLASS: message' when it starts with no such field."""
    match = re.match(r"([a-z_][a-z0-9_]*)((?:\.[a-z_][a-z0-9_]*)*)\b", message)
    name = match.group(1) if match else None
    if name in flagged:
        return flag_name(prefix, name) + message[match.end():]
    if name in from_file:
        table, key = f"{section}.{name}{match.group(2)}".rsplit(".", 1)
        return (f"[{table}] {key}" if table else key) + message[match.end():]
    return f"invalid {cls.__name__}: {message}"


def _from_values(cls, values: dict[str, Any], where: str = ""):
    """``cls(**values)`` with unknown keys named, nested tables built and each scalar's type checked first (so a
    wrong type reads 'epochs must be a number, got 'three'' rather than a failed comparison)."""
    if not isinstance(values, dict):
        raise TypeError(f"{where.rstrip('.')} must be a table of settings, got {values!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise InputError(f"unknown setting(s) for {cls.__name__}: {', '.join(where + k for k in sorted(unknown))}")
    values = dict(values)
    for name, value in values.items():
        if dataclasses.is_dataclass(hints[name]):
            if not dataclasses.is_dataclass(value):
                values[name] = _from_values(hints[name], value, f"{where}{name}.")
            continue
        values[name] = _checked_scalar(where + name, hints[name], value)
    return cls(**values)


def _checked_scalar(name: str, annotation, value):
    """``value`` converted to the field's scalar type (int to float, str to Path), or a TypeError naming it."""
    kind = _scalar_type(annotation)
    optional = type(None) in typing.get_args(annotation)
    if value is None and optional:
        return None
    if kind is bool:
        ok = isinstance(value, bool)
        wanted = "true or false"
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        wanted = "a whole number"
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        wanted = "a number"
        value = float(value) if ok else value
    elif kind is Path:
        ok = isinstance(value, (str, Path))
        wanted = "a path"
        value = Path(value) if ok else value
    else:
        ok = isinstance(value, str)
        wanted = "text"
    if not ok:
        raise TypeError(f"{name} must be {wanted}, got {value!r}")
    return value


def check_at_least(config, minimum: float, *names: str) -> None:
    """ValueError for the first of ``names`` whose value (unless None) is below ``minimum``."""
    for name in names:
        value = getattr(config, name)
        if value is not None and value < minimum:
            raise ValueError(f"{name} must be at least {minimum}, got {value}")


def check_share(config, *names: str) -> None:
    """ValueError for the first of ``names`` whose value (unless None) is outside [0, 1), e.g. a dropout."""
    for name in names:
        value = getattr(config, name)
        if value is not None and not 0 <= value < 1:
            raise ValueError(f"{name} must be in [0, 1), got {value}")


CONFIG_TABLES = ("loop", "stance", "event", "summary", "abstractive")  # one per config dataclass of `newslens train`


def read_config_file(path: Path | None) -> dict[str, Any]:
    """A TOML (or YAML, if PyYAML is installed) config with one table per concern."""
    if path is None:
        return {}
    path = Path(path)
    if not path.is_file():
        raise InputError(f"config file {path} not found")
    if path.suffix.lower() == ".json":
        raise InputError(f"config file {path}: write the settings as TOML (.toml) or YAML (.yaml), not JSON; "
                         "weights/*/resolved_config.toml shows the layout")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = tomllib.loads(text)
    except Exception as err:
        raise InputError(f"config file {path} cannot be parsed: {err}") from None
    if not isinstance(data, dict):
        raise InputError(f"config file {path} must hold tables of settings")
    unknown = [key for key in data if key not in CONFIG_TABLES]
    if unknown:  # a misspelt table or a setting outside any table would otherwise be ignored
        raise InputError(f"config file {path}: unknown table(s) or top-level setting(s) {', '.join(unknown)}; "
                         f"settings go in the tables {', '.join(f'[{t}]' for t in CONFIG_TABLES)}")
    return data
