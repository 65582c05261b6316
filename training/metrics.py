"""Every metric NewsLens reports, implemented once: evaluate, bench and tests all call these."""
from __future__ import annotations

from typing import Sequence

RELATED = ("agree", "disagree", "discuss")


def fnc_credit(gold: str, predicted: str) -> tuple[float, float]:
    """One pair's FNC-1 credit and the most it could earn, as the challenge defined it: 0.25 when relatedness is right
    (both unrelated, or both among agree/disagree/discuss), and 0.75 more when a related pair gets its exact stance."""
    related = gold in RELATED
    earned = 0.0
    if related == (predicted in RELATED):
        earned = 1.0 if related and gold == predicted else 0.25
    return earned, 1.0 if related else 0.25


def fnc_score(gold: Sequence[str], predicted: Sequence[str], weights: Sequence[float] | None = None) -> tuple[float, float]:
    """FNC-1 weighted score (fnc_credit summed over pairs) and its maximum for these gold labels.
    ``weights`` (one per pair, default 1) lets a dev set stand in for another class mix.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    score = best = 0.0
    for i, (g, p) in enumerate(zip(gold, predicted)):
        w = 1.0 if weights is None else float(weights[i])
        earned, most = fnc_credit(g, p)
        score += w * earned
        best += w * most
    return score, best


def has_fnc_labels(labels: Sequence[str]) -> bool:
    """Whether ``labels`` hold FNC-1's four (so an FNC score can be computed)."""
    return set(RELATED) <= set(labels) and "unrelated" in labels


def fnc_percent(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """FNC-1 score as a percentage of the best possible score."""
    score, best = fnc_score(gold, predicted)
    return 100.0 * score / best if best else 0.0


def confusion_matrix(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str],
                     weights: Sequence[float] | None = None) -> list[list[float]]:
    """Rows are gold labels, columns predictions, both in ``labels`` order; each pair counts ``weights[i]`` (default 1,
    and then the counts are ints)."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for i, (g, p) in enumerate(zip(gold, predicted)):
        if g not in index or p not in index:
            raise ValueError(f"label {g if g not in index else p!r} is not one of {list(labels)}")
        matrix[index[g]][index[p]] += 1 if weights is None else float(weights[i])
    return matrix


def scores_from_confusion(matrix: Sequence[Sequence[float]], labels: Sequence[str]) -> dict:
    """Accuracy, macro-F1 (over the labels with gold examples; all labels when none has) and per-class
    precision/recall/F1/support from a confusion matrix (rows gold, columns predicted, in ``labels`` order)."""
    per_class = {}
    for i, label in enumerate(labels):
        tp = matrix[i][i]
        predicted_n = sum(row[i] for row in matrix)
        gold_n = sum(matrix[i])
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / gold_n if gold_n else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": precision, "recall": recall, "f1": f1, "support": gold_n}
    present = [label for label in labels if per_class[label]["support"] > 0] or list(labels)
    correct = sum(matrix[i][i] for i in range(len(labels)))
    total = sum(map(sum, matrix))
    return {
        "accuracy": correct / total if total else 0.0,
        "macro_f1": sum(per_class[label]["f1"] for label in present) / len(present),
        "macro_f1_labels": present,  # the labels the gold data holds (all of them when it holds none)
        "per_class": per_class,
    }


def fnc_percent_from_confusion(matrix: Sequence[Sequence[float]], labels: Sequence[str]) -> float:
    """The FNC-1 score as a percentage of its maximum, from a confusion matrix over the four FNC-1 labels (fnc_credit
    per cell, times its count)."""
    score = best = 0.0
    for i, gold in enumerate(labels):
        for j, predicted in enumerate(labels):
            earned, most = fnc_credit(gold, predicted)
            score += matrix[i][j] * earned
            best += matrix[i][j] * most
    return 100.0 * score / best if best else 0.0


def classification_report(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str],
                          weights: Sequence[float] | None = None) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix; ``weights`` (one per
    pair) lets a dev set stand in for another class mix, as in fnc_score."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    matrix = confusion_matrix(gold, predicted, labels, weights)
    return {"n": len(gold), **scores_from_confusion(matrix, labels), "labels": list(labels),
            "confusion_matrix": matrix}


def stance_report(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict:
    """classification_report plus the FNC-1 score (as % of max) when the labels are the FNC-1 ones."""
    report = classification_report(gold, predicted, labels)
    if has_fnc_labels(labels):
        score, best = fnc_score(gold, predicted)
        report.update(fnc_score=score, fnc_max=best, fnc_percent=100.0 * score / best if best else 0.0)
    return report


def format_report(report: dict, title: str = "") -> str:
    """A plain-text table of a classification report (and FNC score when present)."""
    lines = [title] if title else []
    head = f"n={report['n']}  accuracy={report['accuracy']:.4f}  macro-F1={report['macro_f1']:.4f}"
    averaged = report.get("macro_f1_labels", report["labels"])
    if len(averaged) < len(report["labels"]):
        head += f" (over the {len(averaged)} label{'s' * (len(averaged) != 1)} the data holds)"
    if "fnc_percent" in report:
        head += f"  FNC={report['fnc_percent']:.2f}% of max ({report['fnc_score']:.2f}/{report['fnc_max']:.2f})"
    lines.append(head)
    width = max(len(label) for label in report["labels"]) + 2
    lines.append(f"{'label':<{width}}{'prec':>8}{'recall':>8}{'F1':>8}{'support':>9}")
    predicted_n = dict(zip(report["labels"], map(sum, zip(*report["confusion_matrix"]))))
    undefined = False
    for label, m in report["per_class"].items():
        # 0/0 is printed '-': precision with no prediction of the label, recall with no gold example, F1 with neither
        # (in the table only: the JSON report keeps 0.0)
        cells = [(m["precision"], predicted_n.get(label, 0) == 0), (m["recall"], m["support"] == 0),
                 (m["f1"], predicted_n.get(label, 0) == 0 and m["support"] == 0)]
        undefined |= any(blank for _, blank in cells)
        lines.append(f"{label:<{width}}" + "".join(f"{'-' if blank else format(v, '.3f'):>8}" for v, blank in cells)
                     + f"{m['support']:>9}")
    if undefined:
        lines.append("-: undefined (0/0): precision of a label never predicted, recall of a label the data lacks, "
                     "F1 of a label with neither")
    lines.append("confusion (rows gold, columns predicted): " + " ".join(report["labels"]))
    for label, row in zip(report["labels"], report["confusion_matrix"]):
        lines.append(f"{label:<{width}}" + "".join(f"{v:>9}" for v in row))
    return "\n".join(lines)


def rouge_scores(references: Sequence[str], predictions: Sequence[str]) -> dict[str, float]:
    """Mean ROUGE-1/2/L F1 (percent) with Porter stemming, from the rouge-score package."""
    from rouge_score import rouge_scorer

    if len(references) != len(predictions):
        raise ValueError(f"{len(references)} references but {len(predictions)} predictions")
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    for ref, pred in zip(references, predictions):
        for key, score in scorer.score(ref, pred).items():
            totals[key] += score.fmeasure
    n = max(len(references), 1)
    return {key: 100.0 * value / n for key, value in totals.items()}
