"""Classification metrics named and computed like scikit-learn's (chapter 08), for labels 0 and 1.

With TP, FP, FN, TN counted on the positive class (pos_label):
precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2 TP / (2 TP + FP + FN).
An undefined ratio (0 / 0) gives 0.0 without a warning: the value of scikit-learn's default
zero_division="warn", which also warns.
"""
import numpy as np

from gdlab._validate import one_of

__all__ = ["accuracy_score", "precision_score", "recall_score", "f1_score", "confusion_matrix", "roc_auc_score"]


def accuracy_score(y_true, y_pred):
    """The fraction of predictions equal to the true label (any labels)."""
    y_true, y_pred = _pair(y_true, y_pred, "y_pred")
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred):
    """[[TN, FP], [FN, TP]]: rows are the true label 0, 1 and columns the predicted label 0, 1.

    Always 2 x 2 (scikit-learn's is 1 x 1 when only one label occurs and no `labels` is given).
    """
    y_true, y_pred = _binary(y_true), _binary(y_pred, "y_pred")
    _pair(y_true, y_pred, "y_pred")
    return np.bincount(2 * y_true + y_pred, minlength=4).reshape(2, 2)


def precision_score(y_true, y_pred, pos_label=1):
    """TP / (TP + FP): of the rows predicted positive, the fraction that are positive."""
    tp, fp, fn = _counts(y_true, y_pred, pos_label)
    return _ratio(tp, tp + fp)


def recall_score(y_true, y_pred, pos_label=1):
    """TP / (TP + FN): of the positive rows, the fraction predicted positive."""
    tp, fp, fn = _counts(y_true, y_pred, pos_label)
    return _ratio(tp, tp + fn)


def f1_score(y_true, y_pred, pos_label=1):
    """2 TP / (2 TP + FP + FN), the harmonic mean of precision and recall."""
    tp, fp, fn = _counts(y_true, y_pred, pos_label)
    return _ratio(2 * tp, 2 * tp + fp + fn)


def roc_auc_score(y_true, y_score):
    """Area under the ROC curve: the probability that a random positive scores above a random negative.

    Counted by the Mann-Whitney U statistic, ties between a positive and a negative counting 1/2
    (mid-ranks), which equals the trapezoidal area under the ROC curve.
    Reference: Hanley & McNeil, "The meaning and use of the area under a ROC curve" (1982).
    """
    y_true = _binary(y_true)
    y_score = np.asarray(y_score, dtype=float)
    _pair(y_true, y_score, "y_score")
    if not np.all(np.isfinite(y_score)):
        raise ValueError("y_score must be finite (no NaN or inf)")
    n_pos = int(y_true.sum())
    n_neg = len(y_true) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"y_true must contain both classes 0 and 1 for ROC AUC; it holds only {y_true[0]}")
    _, group, group_size = np.unique(y_score, return_inverse=True, return_counts=True)
    mid_ranks = np.cumsum(group_size) - (group_size - 1) / 2  # ranks 1..n, a tied group sharing its mean rank
    rank_sum = mid_ranks[group][y_true == 1].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _counts(y_true, y_pred, pos_label):
    """TP, FP, FN for the class pos_label."""
    one_of(pos_label, "pos_label", (0, 1))
    y_true = _binary(y_true) == pos_label
    y_pred = _binary(y_pred, "y_pred") == pos_label
    _pair(y_true, y_pred, "y_pred")
    return np.sum(y_true & y_pred), np.sum(~y_true & y_pred), np.sum(y_true & ~y_pred)


def _ratio(numerator, denominator):
    return float(numerator / denominator) if denominator > 0 else 0.0


def _binary(y, name="y_true"):
    """y as an integer array of 0s and 1s (bools and floats 0.0, 1.0 accepted)."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of labels, got shape {y.shape}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"{name} must hold the labels 0 and 1 only, got {np.unique(y)[:5]}")
    return y.astype(int)


def _pair(y_true, other, name):
    """1-D arrays of the same non-zero length."""
    y_true, other = np.asarray(y_true), np.asarray(other)
    if y_true.ndim != 1 or other.ndim != 1:
        raise ValueError(f"y_true and {name} must be 1-D arrays, got shapes {y_true.shape} and {other.shape}")
    if len(y_true) != len(other):
        raise ValueError(f"y_true and {name} must have the same length, got {len(y_true)} and {len(other)}")
    if len(y_true) == 0:
        raise ValueError(f"y_true and {name} must not be empty")
    return y_true, other
