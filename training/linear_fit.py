"""Fit a StandardizedLinear (model.linear) with scikit-learn's logistic regression."""
from __future__ import annotations

import numpy as np

from model.linear import StandardizedLinear

ABSENT_INTERCEPT = -30.0  # a label with no training example is never chosen


def fit_standardized_linear(x: np.ndarray, y: np.ndarray, n_labels: int, c: float, sample_weight=None,
                            class_weight: str | None = None, max_iter: int = 3000,
                            seed: int | None = None) -> tuple[StandardizedLinear, int]:
    """L2 logistic regression over ``x`` standardised by its own mean and spread; one row of weights per label in
    ``range(n_labels)`` (sklearn keeps one row for two classes, and none for a label missing from ``y``).
    Returns the model and the solver's iteration count. (The event reader, its gate, the stance probe and the stance
    stacker all fit this way.)"""
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(0), x.std(0) + 1e-6
    fit = LogisticRegression(C=c, max_iter=max_iter, class_weight=class_weight, random_state=seed).fit(
        (x - mean) / scale, y, sample_weight=sample_weight)
    coef = np.zeros((n_labels, x.shape[1]), dtype=np.float32)
    intercept = np.full(n_labels, ABSENT_INTERCEPT, dtype=np.float32)
    rows, bias = fit.coef_, fit.intercept_
    if len(fit.classes_) == 2:
        rows, bias = np.concatenate([-rows, rows]) / 2, np.concatenate([-bias, bias]) / 2
    coef[fit.classes_], intercept[fit.classes_] = rows, bias
    return StandardizedLinear(mean, scale, coef, intercept), int(np.max(fit.n_iter_))
