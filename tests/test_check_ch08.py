"""gdlab.check.ch08: right answers PASS, untouched tasks TODO, and planted mistakes FAIL with the right hint."""
import numpy as np
import pytest

from conftest import assert_reports, stub
from gdlab import check, metrics


def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_in_place(z):
    positive = z >= 0
    e = np.exp(-np.abs(z))
    z[positive] = 1 / (1 + e[positive])
    z[~positive] = e[~positive] / (1 + e[~positive])
    return z


def loss_terms(z, y, mistake=None):
    """The cross-entropy of each row, or what a learner who makes `mistake` computes."""
    if mistake == "naive log":
        p = 1 / (1 + np.exp(-z))
        return -(y * np.log(p) + (1 - y) * np.log(1 - p))
    if mistake in ("clipped", "clipped 1e-7"):
        eps = 1e-15 if mistake == "clipped" else 1e-7
        p = np.clip(sigmoid(z), eps, 1 - eps)
        return -(y * np.log(p) + (1 - y) * np.log(1 - p))
    if mistake == "log1p":
        return np.log1p(np.exp(z)) - y * z
    if mistake == "labels ±1":
        return np.logaddexp(0, -y * z)
    terms = np.logaddexp(0, z) - y * z
    return -terms if mistake == "minus" else terms


def loss_and_grad(w, b, X, y, l2=0.0, mistake=None):
    z = X @ w if mistake == "no bias" else X @ w + b
    terms = loss_terms(z, y, mistake)
    penalty = {"no half": l2 * (w @ w), "bias penalised": l2 / 2 * (w @ w + b * b), "no penalty": 0.0}.get(
        mistake, l2 / 2 * (w @ w))
    if mistake == "penalty over n":
        penalty = penalty / len(y)
    loss = (np.sum(terms) if mistake == "sum" else np.mean(terms)) + penalty
    error = (z if mistake == "no sigmoid" else sigmoid(z)) - y
    if mistake == "gradient ±1":
        error = -y * sigmoid(-y * z)
    if mistake == "X @ error":
        return loss, X @ error / len(y) + l2 * w, np.mean(error)
    if mistake == "dot":
        return loss, np.dot(X, error) / len(y) + l2 * w, np.mean(error)
    if mistake == "grad penalty over n":
        return loss, (X.T @ error + l2 * w) / len(y), np.mean(error)
    if mistake == "sign":
        error = -error
    if mistake == "sigma prime":
        error = error * sigmoid(z) * (1 - sigmoid(z))
    dw = (X.T @ error if mistake == "sum dw" else X.T @ error / len(y)) + {
        "no l2 grad": 0.0, "2 l2": 2 * l2 * w, "half l2": l2 / 2 * w}.get(mistake, l2 * w)
    db = {"db zero": 0.0, "db l2": np.mean(error) + l2 * b, "db sum": np.sum(error)}.get(mistake, np.mean(error))
    return loss, dw, db


def scores_from_confusion(cm, mistake=None):
    (tn, fp), (fn, tp) = cm
    if mistake == "class 0":
        (tp, fn), (fp, tn) = cm
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    if mistake == "swapped":
        precision, recall = recall, precision
    if mistake in ("specificity", "specificity in F1"):
        recall = tn / (tn + fp)
        if mistake == "specificity in F1":
            f1_from_ratios = 2 * precision * recall / (precision + recall)
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    if mistake == "mean f1":
        f1 = (precision + recall) / 2
    if mistake == "specificity in F1":
        f1 = f1_from_ratios
    if mistake == "0/0 is 1":
        precision = tp / (tp + fp) if tp + fp else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = tp / (tn + fp + fn + tp) if mistake == "accuracy" else (tp + tn) / (tn + fp + fn + tp)
    if mistake == "percent":
        return 100 * accuracy, 100 * precision, 100 * recall, 100 * f1
    return accuracy, precision, recall, f1


def scores_dividing_by_zero(cm):
    (tn, fp), (fn, tp) = (int(v) for v in cm[0]), (int(v) for v in cm[1])
    return (tp + tn) / (tn + fp + fn + tp), tp / (tp + fp), tp / (tp + fn), 2 * tp / (2 * tp + fp + fn)


def scores_nan(cm):
    (tn, fp), (fn, tp) = cm
    return (tp + tn) / cm.sum(), tp / (tp + fp), tp / (tp + fn), 2 * tp / (2 * tp + fp + fn)


def roc_auc(y_true, scores, tie=0.5):
    positive, negative = scores[y_true == 1], scores[y_true == 0]
    return np.mean((positive[:, None] > negative[None, :]) + tie * (positive[:, None] == negative[None, :]))


def roc_auc_by_walking(y_true, scores, ties_first=None):
    """The trapezoid area of a ROC curve that takes tied scores one at a time (in sorted order, or positives or
    negatives first among equal scores)."""
    order = np.argsort(-scores, kind="stable")
    if ties_first is not None:  # sort by score, then by label: the positives (or the negatives) first among ties
        order = np.lexsort((-y_true if ties_first == "positives" else y_true, -scores))
    tpr = np.r_[0, np.cumsum(y_true[order]) / y_true.sum()]
    fpr = np.r_[0, np.cumsum(1 - y_true[order]) / (1 - y_true).sum()]
    return np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2)


def best_threshold(y_val, p_val, rule=">=", score="f1"):
    candidates = np.unique(p_val)
    if rule == "grid":
        candidates = np.linspace(0.1, 0.9, 9)
    decide = (lambda t: p_val > t) if rule == ">" else (lambda t: p_val >= t)
    values = [metrics.f1_score(y_val, decide(t).astype(int)) if score == "f1" else
              metrics.recall_score(y_val, decide(t).astype(int)) - np.mean(p_val[y_val == 0] >= t) if score == "youden"
              else metrics.accuracy_score(y_val, decide(t).astype(int)) for t in candidates]
    if score == "best f1":
        return max(metrics.f1_score(y_val, decide(t).astype(int)) for t in candidates)
    if rule == "index":
        return int(np.argmax(values))
    return candidates[int(np.argmax(values))]


def best_threshold_strict(y_val, p_val):
    """Best threshold for p > t, returned as the probability that is then left out."""
    candidates = np.unique(p_val)
    values = [metrics.f1_score(y_val, (p_val >= t).astype(int)) for t in candidates]
    return candidates[int(np.argmax(values)) - 1]


CH08 = [
    ("task1", sigmoid, "PASS", "rounds to exactly 1.0 from z = 38"),
    ("task1", lambda z: 0.5 * (1 + np.tanh(z / 2)), "PASS", "no overflow"),
    ("task1", stub(1), "TODO", "not implemented yet"),
    ("task1", lambda z: 1 / (1 + np.exp(-z)), "FAIL", "computing them overflowed"),
    ("task1", lambda z: np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z))), "FAIL",
     "np.where(z >= 0, a, b) computes both"),
    ("task1", lambda z: np.exp(z) / (1 + np.exp(z)), "FAIL", "σ(1000) came out nan"),
    ("task1", lambda z: sigmoid(-z), "FAIL", "that is σ(-z)"),
    ("task1", sigmoid_in_place, "FAIL", "changed z in place"),
    ("task1", lambda z: 1 / (1 + np.exp(-z)) if z >= 0 else np.exp(z) / (1 + np.exp(z)), "FAIL",
     "choose per entry with np.where"),
    ("task2", loss_and_grad, "PASS", "stay finite for |z| above 1000"),
    ("task2", stub(2), "TODO", "not implemented yet"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="naive log"), "FAIL",
     "|z| up to 1145) is nan: with p = σ(z), log(1 - p) is log(0) = -inf once z > 37; compute each term as"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="log1p"), "FAIL",
     "is inf: exp(z) overflows to inf once z > 709 (here z reaches 1145), so log(1 + exp(z)) or np.log1p(np.exp(z))"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="clipped"), "FAIL",
     "|z| up to 1145): clipping p to [1e-15, 1 - 1e-15] caps each person's loss at -log(1e-15) = 34.5"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="clipped 1e-7"), "FAIL",
     "clipping p to [1e-07, 1 - 1e-07] caps each person's loss at -log(1e-07) = 16.1"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="half l2"), "FAIL",
     "your dw (n = 50, l2 = 0.1): the derivative of l2/2 ||w||² is l2 * w, not l2/2 * w"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="sum"), "FAIL", "your loss (n = 50, l2 = 0.1): divide by n"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="no half"), "FAIL", "the penalty is l2/2 ||w||², with the 1/2"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="bias penalised"), "FAIL", "without b²"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="no penalty"), "FAIL", "the L2 penalty l2/2 ||w||² is missing"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="no bias"), "FAIL", "your loss (n = 50, l2 = 0.1): the bias is"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="sum dw"), "FAIL", "your dw (n = 50, l2 = 0.1): divide by n"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="sign"), "FAIL", "with y - p the data term points the wrong way"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="no l2 grad"), "FAIL", "l2 * w, is missing"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="2 l2"), "FAIL", "the 2 cancels the 1/2"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="sigma prime"), "FAIL", "no σ'(z) = p(1 - p) factor"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="no sigmoid"), "FAIL", "the sigmoid is missing: the error is p - y"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="minus"), "FAIL", "that is minus the cross-entropy"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="labels ±1"), "FAIL", "that is the loss for labels -1 and +1"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="gradient ±1"), "FAIL", "that is the gradient for labels -1 and +1"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="penalty over n"), "FAIL", "added to the mean loss, not divided"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="grad penalty over n"), "FAIL", "l2 * w is not divided by n"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="X @ error"), "FAIL", "dw = X.T @ (p - y) / n, shape (d,)"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="dot"), "FAIL", "The shapes of a matrix product do not fit"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="db zero"), "FAIL", "the bias has its own gradient"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="db l2"), "FAIL", "db = mean(p - y), without l2 * b"),
    ("task2", lambda *a: loss_and_grad(*a, mistake="db sum"), "FAIL", "db = mean(p - y), not the sum"),
    ("task2", lambda *a: loss_and_grad(*a)[:2], "FAIL", "should return the 3 values (loss, dw, db)"),
    ("task3", scores_from_confusion, "PASS", "one with no predicted positive"),
    ("task3", stub(3), "TODO", "not implemented yet"),
    ("task3", lambda cm: scores_from_confusion(cm, "swapped"), "FAIL", "precision and recall are swapped"),
    ("task3", lambda cm: scores_from_confusion(cm, "specificity"), "FAIL",
     "that recall is TN / (TN + FP), the specificity"),
    ("task3", lambda cm: scores_from_confusion(cm, "specificity in F1"), "FAIL",
     "that recall is TN / (TN + FP), the specificity (the share of non-buyers recognised); recall is TP / (TP + FN), "
     "the share of the buyers found, and F1 uses it"),
    ("task3", lambda cm: scores_from_confusion(cm, "class 0"), "FAIL", "those are the scores of class 0"),
    ("task3", lambda cm: scores_from_confusion(cm, "mean f1"), "FAIL", "F1 is the harmonic mean"),
    ("task3", lambda cm: scores_from_confusion(cm, "accuracy"), "FAIL", "accuracy counts both right cells"),
    ("task3", lambda cm: scores_from_confusion(cm, "percent"), "FAIL", "not percentages"),
    ("task3", lambda cm: scores_from_confusion(cm, "0/0 is 1"), "FAIL", "return 0.0 then, as scikit-learn"),
    ("task3", scores_dividing_by_zero, "FAIL", "raised ZeroDivisionError: division by zero. Nothing is predicted"),
    ("task3", scores_nan, "FAIL", "so precision is 0 / 0: return 0.0"),
    ("task4", roc_auc, "PASS", "7% of the pairs tied"),
    ("task4", stub(4), "TODO", "not implemented yet"),
    ("task4", lambda y, s: roc_auc(y, s, tie=0.0), "FAIL", "not 0 (ties counted as losses: >, or a sort"),
    ("task4", lambda y, s: roc_auc(y, s, tie=1.0), "FAIL", "not 1 (ties counted as wins: >=, or a sort"),
    ("task4", lambda y, s: roc_auc_by_walking(y, s, ties_first="positives"), "FAIL",
     "a sort that puts the positives first among equal scores"),
    ("task4", lambda y, s: roc_auc_by_walking(y, s, ties_first="negatives"), "FAIL",
     "a sort that puts the negatives first among equal scores"),
    ("task4", lambda y, s: 1 - roc_auc(y, s), "FAIL", "that is 1 - AUC"),
    ("task4", lambda y, s: roc_auc(y, s) * y.sum() * (1 - y).sum(), "FAIL", "divide the count by the number"),
    ("task4", roc_auc_by_walking, "FAIL", "stepping through tied scores one at a time"),
    ("task5", lambda w, b, mean, scale: (w / scale, b - np.sum(w * mean / scale)), "PASS", "education 0.5819 (0.4)"),
    ("task5", stub(5), "TODO", "not implemented yet"),
    ("task5", lambda w, b, mean, scale: (w * scale, b - np.sum(w * mean / scale)), "FAIL", "divide by the scale"),
    ("task5", lambda w, b, mean, scale: (w, b), "FAIL", "the standardised weights unchanged"),
    ("task5", lambda w, b, mean, scale: (w / scale**2, b - np.sum(w * mean / scale)), "FAIL", "not by the variance"),
    ("task5", lambda w, b, mean, scale: (w / scale, b), "FAIL", "the bias changes too"),
    ("task5", lambda w, b, mean, scale: (w / scale, b + np.sum(w * mean / scale)), "FAIL", "subtract Σ w_j m_j / s_j"),
    ("task5", lambda w, b, mean, scale: (w / scale, b - np.sum(w * mean)), "FAIL", "divide each term by s_j too"),
    ("task6", best_threshold, "PASS", "p >= 0.310 gives validation F1 0.681 (at 0.5: 0.662)"),
    ("task6", stub(6), "TODO", "not implemented yet"),
    ("task6", lambda y, p: best_threshold(y, p, rule="grid"), "FAIL", "A grid can miss it"),
    ("task6", best_threshold_strict, "FAIL", "the rule here is predict 1 when p >= threshold"),
    ("task6", lambda y, p: best_threshold(y, p, score="best f1"), "FAIL", "is the best F1 itself"),
    ("task6", lambda y, p: best_threshold(y, p, score="accuracy"), "FAIL", "maximises accuracy"),
    ("task6", lambda y, p: best_threshold(y, p, score="youden"), "FAIL",
     "maximises accuracy and Youden's J = TPR - FPR; the task asks for the best F1"),
    ("task6", lambda y, p: best_threshold(y, p, rule="index"), "FAIL", "an index? return the threshold itself"),
]


@pytest.mark.parametrize("task, answer, status, hint", CH08, ids=[f"{t}-{s}-{h[:30]}" for t, _, s, h in CH08])
def test_ch08(task, answer, status, hint, capsys):
    assert_reports(capsys, getattr(check.ch08, task)(answer), status, hint)


def test_the_threshold_check_reports_fresh_data(capsys):
    result = check.ch08.task6(best_threshold)
    capsys.readouterr()
    assert "On 1000 fresh people from the generator (seed 1): F1 0.636 at your threshold, 0.592 at 0.5" \
        in result.message
