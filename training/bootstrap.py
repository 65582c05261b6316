"""How far a test score could move with another draw of the test data: percentile bootstrap intervals.

A test set is one sample of what a model will meet. Resampling it (with replacement, the same size) many times and
scoring each resample shows how much the score owes to that sample: a disagree F1 of 0.4499 against a target of 0.45
says nothing either way when the interval spans 0.40 to 0.50. Where examples come in groups that share text (FNC-1
pairs share claims and bodies within a story), whole groups are resampled, since pairs of one story are not
independent draws. Against a baseline scored on the same examples, each resample scores both, so the interval of
the difference is paired.

Every score is computed from the resample's confusion matrix with the functions in training.metrics.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from training.metrics import confusion_matrix, fnc_percent_from_confusion, has_fnc_labels, scores_from_confusion


@dataclass
class BootstrapConfig:
    """``resamples`` draws of the test data; a central ``level`` interval; ``seed`` fixes the draws."""

    resamples: int = 1000
    level: float = 0.95
    seed: int = 13

    def __post_init__(self):
        if self.resamples < 1:
            raise ValueError(f"resamples must be 1 or more, got {self.resamples}")
        if not 0 < self.level < 1:
            raise ValueError(f"level must be between 0 and 1, got {self.level}")


def group_confusions(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str],
                     groups: Sequence[str] | None = None) -> np.ndarray:
    """(groups, labels, labels) confusion counts, one matrix per group (per example when ``groups`` is None)."""
    if len(gold) != len(predicted) or (groups is not None and len(groups) != len(gold)):
        raise ValueError("gold, predicted and groups must have one entry per example")
    members: dict = {}
    for row, group in enumerate(groups if groups is not None else range(len(gold))):
        members.setdefault(group, []).append(row)
    return np.array([confusion_matrix([gold[i] for i in rows], [predicted[i] for i in rows], labels)
                     for rows in members.values()], dtype=np.int64).reshape(len(members), len(labels), len(labels))


def resample_weights(n_groups: int, config: BootstrapConfig) -> Iterator[np.ndarray]:
    """For each resample, how often each of the ``n_groups`` groups is drawn (``n_groups`` draws with replacement)."""
    rng = np.random.default_rng(config.seed)
    even = np.full(n_groups, 1.0 / n_groups)
    for _ in range(config.resamples):
        yield rng.multinomial(n_groups, even)


def _scores(matrix: np.ndarray, labels: Sequence[str], fnc: bool) -> dict[str, float]:
    """The scores of one (resampled) confusion matrix; a label's F1 is NaN (undefined, left out of its interval) when
    the sample neither holds nor predicts it, as in a resample that draws none of the stories it occurs in."""
    seen = (matrix.sum(0) + matrix.sum(1)) > 0
    matrix = matrix.tolist()
    scores = scores_from_confusion(matrix, labels)
    out = {"macro_f1": scores["macro_f1"], "accuracy": scores["accuracy"],
           **{f"f1_{label}": m["f1"] if seen[i] else float("nan")
              for i, (label, m) in enumerate(scores["per_class"].items())}}
    if fnc:
        out["fnc_percent"] = fnc_percent_from_confusion(matrix, labels)
    return out


def _interval(estimate: float, draws: np.ndarray, level: float) -> dict[str, float]:
    tail = 100 * (1 - level) / 2
    defined = draws[~np.isnan(draws)]  # resamples where the score is undefined are left out
    low, high = np.percentile(defined, [tail, 100 - tail]) if len(defined) else (float("nan"), float("nan"))
    return {"estimate": estimate, "low": float(low), "high": float(high)}


def bootstrap_intervals(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str],
                        groups: Sequence[str] | None = None, baselines: dict[str, Sequence[str]] | None = None,
                        config: BootstrapConfig | None = None, unit: str = "") -> dict:
    """Percentile intervals of macro-F1, accuracy, each label's F1 (and the FNC-1 score when ``labels`` are FNC-1's),
    and of the model's difference from each baseline in each of those scores (model minus baseline, on the same
    resamples). ``unit`` names what a group is, for the report (default: 'examples' without groups, else 'groups')."""
    config = config or BootstrapConfig()
    fnc = has_fnc_labels(labels)
    confusions = {name: group_confusions(gold, pred, labels, groups)
                  for name, pred in {"": predicted, **(baselines or {})}.items()}  # "" is the model
    units = len(confusions[""])
    estimates = {name: _scores(c.sum(0), labels, fnc) for name, c in confusions.items()}
    draws: dict[str, list[dict[str, float]]] = {name: [] for name in confusions}
    for w in resample_weights(units, config):  # every confusion set is scored on the same resample
        for name, c in confusions.items():
            draws[name].append(_scores(np.tensordot(w, c, axes=1), labels, fnc))
    estimate, model_draws = estimates.pop(""), draws.pop("")
    # a label neither in the data nor predicted has no F1 (NaN from _scores; the table's '-'): no interval either
    estimate = {key: value for key, value in estimate.items() if not np.isnan(value)}
    report = {
        "method": "percentile bootstrap",
        "resamples": config.resamples,
        "level": config.level,
        "seed": config.seed,
        "resampled": unit or ("groups" if groups is not None else "examples"),
        "units": units,
        "scores": {key: _interval(value, np.array([d[key] for d in model_draws]), config.level)
                   for key, value in estimate.items()},
    }
    for name, base in estimates.items():
        report.setdefault("differences", {})[name] = {
            key: _interval(estimate[key] - base[key],
                           np.array([d[key] - b[key] for d, b in zip(model_draws, draws[name])]), config.level)
            for key in estimate}
    return report


def format_intervals(report: dict) -> str:
    """The intervals as table lines."""
    level = f"{report['level']:.0%}"
    lines = [f"{level} bootstrap intervals ({report['resamples']} resamples of the {report['units']} "
             f"{report['resampled']}, drawn with replacement):"]
    for key, r in report["scores"].items():
        lines.append(f"  {key:<22}{r['estimate']:>9.4f}   [{r['low']:.4f}, {r['high']:.4f}]")
    for name, diffs in report.get("differences", {}).items():
        for key, r in diffs.items():
            lines.append(f"  {key} minus {name}: {r['estimate']:+.4f}   [{r['low']:+.4f}, {r['high']:+.4f}]")
    return "\n".join(lines)
