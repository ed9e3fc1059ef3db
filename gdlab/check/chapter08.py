"""Checks for exercises/08_logistic_regression_from_scratch.ipynb."""
import functools

import numpy as np

from gdlab import metrics, models
from gdlab.check.core import Chapter, Failed, as_array, call, close, fail, number, parts, show
from gdlab.data import StandardScaler, purchase, train_val_split
from gdlab.descent import gradient_descent


def _strict(fn):
    """fn, run with floating-point overflow and invalid operations raised as errors instead of warned."""
    def strict(*args):
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            return fn(*args)

    strict.__name__ = getattr(fn, "__name__", "your function")
    return strict


_CLIP_EPSILONS = (1e-15, np.finfo(float).eps, 1e-12, 1e-10, 1e-8, 1e-7)  # sklearn's, Keras's and other tutorials'


def _clipped_loss(z, y, eps):
    """The mean cross-entropy -[y log p + (1 - y) log(1 - p)] with p = σ(z) clipped to [eps, 1 - eps]."""
    p = np.clip(models.sigmoid(z), eps, 1 - eps)
    return np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _infinite_loss(loss_and_grad, w, b, X, y, what):
    """FAIL naming why the learner's loss is not finite: the log of 0 (p = σ(z) rounded to 1), or exp(z) overflowing.

    Scores scaled down to |z| <= 300 tell them apart: p rounds to 1 from z = 37 on, exp(z) overflows only above 709.
    """
    scale = 300 / np.max(np.abs(X @ w + b))
    try:
        probe = number(parts(call(loss_and_grad, scale * w, scale * b, X.copy(), y.copy(), 0.0), ("loss", "dw", "db"),
                             "loss_and_grad")[0], "your loss")
    except Failed:
        probe = np.nan
    if np.isfinite(probe):
        fail(f"{what}: exp(z) overflows to inf once z > 709 (here z reaches 1145), so log(1 + exp(z)) or "
             "np.log1p(np.exp(z)) is inf; compute each term as np.logaddexp(0, z) - y * z, which never forms the "
             "exp of a large z.")
    fail(f"{what}: with p = σ(z), log(1 - p) is log(0) = -inf once z > 37; compute each term as "
         "np.logaddexp(0, z) - y * z, which equals -[y log p + (1 - y) log(1 - p)].")


@functools.lru_cache(maxsize=None)
def _purchase_fit():
    """Chapter 08's split of purchase(1000, seed 0), the scaler fitted on training rows, and the exact minimiser."""
    data = purchase(n=1000, seed=0)
    X_train, X_val, y_train, y_val = train_val_split(data.X, data.y, val_fraction=0.2, seed=0)
    scaler = StandardScaler().fit(X_train)
    objective = models.LogisticObjective(scaler.transform(X_train), y_train)
    L = np.linalg.eigvalsh(objective.hessian(np.zeros(4))).max()
    theta = gradient_descent(objective, objective.grad, np.zeros(4), lr=1 / L, steps=5000, tol=1e-10).x
    return data, scaler, theta, X_val, y_val


def _f1_at(y, p, threshold, strict=False):
    return metrics.f1_score(y, (p > threshold if strict else p >= threshold).astype(int))


def _from_labels(cm):
    """y_true, y_pred with the counts of cm = [[TN, FP], [FN, TP]]."""
    (tn, fp), (fn, tp) = cm
    return np.repeat([0, 0, 1, 1], [tn, fp, fn, tp]), np.repeat([0, 1, 0, 1], [tn, fp, fn, tp])


def _scores(y_true, y_pred, pos_label=1):
    return [metrics.accuracy_score(y_true, y_pred), metrics.precision_score(y_true, y_pred, pos_label),
            metrics.recall_score(y_true, y_pred, pos_label), metrics.f1_score(y_true, y_pred, pos_label)]


class ch08(Chapter):
    """08 · Logistic regression from scratch."""

    def task1(sigmoid):
        "a sigmoid that never overflows"
        z = np.array([-1000.0, -40.0, -5.0, -0.5, 0.0, 0.5, 5.0, 40.0, 1000.0])
        given = z.copy()
        try:
            got = as_array(call(sigmoid, given), "your sigmoid")
        except Failed as failure:
            if "truth value of an array" not in str(failure):
                raise
            fail("`if z >= 0:` asks one question of a whole array, which Python cannot answer; choose per entry "
                 "with np.where(z >= 0, a, b) or a boolean mask.")
        if not np.array_equal(given, z):
            fail("your sigmoid changed z in place; compute into a new array (np.where, or np.empty_like(z)).")
        bad = ~np.isfinite(got) if got.shape == z.shape else np.zeros(z.shape, bool)
        if bad.any():
            at = z[np.argmax(bad)]
            fail(f"σ({at:g}) came out {got[np.argmax(bad)]}: exp({abs(at):g}) overflows to inf, and inf / inf is "
                 "NaN; use a form whose exp never sees a large positive number, such as exp(-|z|).")
        close(got, models.sigmoid(z), "your σ(z) at z = -1000, -40, -5, -0.5, 0, 0.5, 5, 40, 1000", {
            "that is σ(-z) = 1 - σ(z): σ(z) = 1 / (1 + exp(-z)), with the minus sign in the exponent":
                models.sigmoid(-z),
        }, atol=1e-15)
        try:
            call(_strict(sigmoid), z.copy())
        except Failed as failure:
            if "FloatingPointError" not in str(failure):
                raise
            fail("your values are right, but computing them overflowed: exp(1000) is inf, which NumPy reports "
                 "with a RuntimeWarning. np.where(z >= 0, a, b) computes both a and b for every z, so each "
                 "branch must be safe for all z: e = np.exp(-np.abs(z)), then 1 / (1 + e) or e / (1 + e).")
        saturated = next(k for k in range(100) if models.sigmoid(k) == 1.0)
        return (f"σ(-1000) = 0, σ(0) = 0.5, σ(1000) = 1, no overflow. In float64 σ(z) rounds to exactly 1.0 from "
                f"z = {saturated}: log(1 - σ(z)) would be -inf there, which is why the loss uses logaddexp.")

    def task2(loss_and_grad):
        "the logistic loss and its gradient"
        data = purchase(n=50, seed=3)
        X, y = StandardScaler().fit_transform(data.X), data.y.astype(float)
        n = len(y)
        w0, b = np.array([-0.8, 0.7, 0.5]), -0.6
        for w, l2, case in [(w0, 0.1, "l2 = 0.1"), (400 * w0, 0.0, "w = 400 × (-0.8, 0.7, 0.5), |z| up to 1145")]:
            where = f"(n = {n}, {case})"
            try:
                answer = call(loss_and_grad, w.copy(), b, X.copy(), y.copy(), l2)
            except Failed as failure:
                if "matmul" not in str(failure) and "not aligned" not in str(failure):
                    raise
                fail(f"{failure}. The shapes of a matrix product do not fit: with X of shape (n, d) = {X.shape}, the "
                     "scores are z = X @ w + b, shape (n,), and dw = X.T @ (p - y) / n, shape (d,).")
            loss, dw, db = parts(answer, ("loss", "dw", "db"), "loss_and_grad")
            loss = number(loss, f"your loss {where}")
            z = X @ w + b
            p, p_no_bias = models.sigmoid(z), models.sigmoid(X @ w)
            terms, penalty = np.logaddexp(0, z) - y * z, l2 / 2 * (w @ w)
            if not np.isfinite(loss):
                _infinite_loss(loss_and_grad, w, b, X, y, f"your loss {where} is {loss}")
            right_loss = models.logistic_loss(w, b, X, y, l2)
            for eps in _CLIP_EPSILONS:  # log(1 - p) near p = 1 differs between sigmoids, hence rtol 1e-4
                clipped = _clipped_loss(z, y, eps) + penalty
                if not np.isclose(clipped, right_loss, rtol=1e-6) and np.isclose(loss, clipped, rtol=1e-4):
                    fail(f"your loss {where}: clipping p to [{eps:.3g}, 1 - {eps:.3g}] caps each person's loss at "
                         f"-log({eps:.3g}) = {-np.log(eps):.1f}, while a confidently wrong score z costs about |z|; "
                         "compute each term as np.logaddexp(0, z) - y * z, which needs no clipping.")
            close(loss, right_loss, f"your loss {where}", {
                "divide by n: the loss is the mean over the rows, not the sum": terms.sum() + penalty,
                "that is minus the cross-entropy: each term is log(1 + e^z) - y z, which is never negative":
                    -terms.mean() + penalty,
                "that is the loss for labels -1 and +1, log(1 + e^(-y z)); here y is 0 or 1, so each term is "
                "log(1 + e^z) - y z": np.mean(np.logaddexp(0, -y * z)) + penalty,
                "the penalty l2/2 ||w||² is added to the mean loss, not divided by n": terms.mean() + penalty / n,
                "the penalty is l2/2 ||w||², with the 1/2": terms.mean() + 2 * penalty,
                "the bias is not penalised: the penalty is l2/2 ||w||², without b²":
                    terms.mean() + l2 / 2 * (w @ w + b * b),
                "the L2 penalty l2/2 ||w||² is missing": terms.mean(),
                "the bias is missing from the scores: z = X @ w + b":
                    np.mean(np.logaddexp(0, X @ w) - y * (X @ w)) + penalty,
            })
            close(dw, models.logistic_grad(w, b, X, y, l2)[0], f"your dw {where}", {
                "the sigmoid is missing: the error is p - y with p = sigmoid(z), not z - y": X.T @ (z - y) / n + l2 * w,
                "divide by n: the gradient of a mean is Xᵀ(p - y) / n": X.T @ (p - y) + l2 * w,
                "the penalty's gradient l2 * w is not divided by n; only the data term is a mean":
                    X.T @ (p - y) / n + l2 * w / n,
                "that is the gradient for labels -1 and +1; here y is 0 or 1 and the error is p - y":
                    X.T @ (-y * models.sigmoid(-y * z)) / n + l2 * w,
                "the error is p - y; with y - p the data term points the wrong way": X.T @ (y - p) / n + l2 * w,
                "the gradient of the penalty, l2 * w, is missing": X.T @ (p - y) / n,
                "the derivative of l2/2 ||w||² is l2 * w (the 2 cancels the 1/2)": X.T @ (p - y) / n + 2 * l2 * w,
                "the derivative of l2/2 ||w||² is l2 * w, not l2/2 * w: differentiating ||w||² gives 2w, and the 2 "
                "cancels the 1/2": X.T @ (p - y) / n + l2 / 2 * w,
                "no σ'(z) = p(1 - p) factor: for the cross-entropy dℓ/dz = p - y exactly":
                    X.T @ ((p - y) * p * (1 - p)) / n + l2 * w,
                "the bias is missing from the scores: z = X @ w + b": X.T @ (p_no_bias - y) / n + l2 * w,
            })
            close(number(db, f"your db {where}"), models.logistic_grad(w, b, X, y, l2)[1], f"your db {where}", {
                "the sigmoid is missing: db = mean(p - y) with p = sigmoid(z), not mean(z - y)": np.mean(z - y),
                "db is not zero: the bias has its own gradient, mean(p - y)": 0.0,
                "the bias is not penalised: db = mean(p - y), without l2 * b": np.mean(p - y) + l2 * b,
                "divide by n: db = mean(p - y), not the sum": np.sum(p - y),
                "the bias is missing from the scores: z = X @ w + b": np.mean(p_no_bias - y),
            })
        return "loss, dw and db match gdlab.models, with the penalty on w only, and stay finite for |z| above 1000."

    def task3(scores_from_confusion):
        "metrics from a confusion matrix"
        for cm in ([[106, 17], [29, 48]], [[50, 10], [5, 35]], [[40, 0], [10, 0]]):
            y_true, y_pred = _from_labels(cm)
            accuracy, precision, recall, f1 = expected = _scores(y_true, y_pred)
            specificity = cm[0][0] / (cm[0][0] + cm[0][1])
            where = f"your (accuracy, precision, recall, F1) for [[TN, FP], [FN, TP]] = {cm}"
            try:
                got = parts(call(scores_from_confusion, np.array(cm)), ("accuracy", "precision", "recall", "f1"),
                             "scores_from_confusion")
            except Failed as failure:
                if cm[0][1] + cm[1][1] or "ZeroDivisionError" not in str(failure):
                    raise
                fail(f"{failure}. Nothing is predicted positive here, so precision is 0 / 0: return 0.0 then "
                     "(as scikit-learn and gdlab.metrics do), and F1 = 0.")
            got = [number(v, f"{where}[{k}]") for k, v in enumerate(got)]
            if not np.all(np.isfinite(got)) and not cm[0][1] + cm[1][1]:
                fail(f"{where}: {show(got)}. Nothing is predicted positive here, so precision is 0 / 0: return 0.0 "
                     "then (as scikit-learn and gdlab.metrics do), and F1 = 0.")
            close(got, expected, where, {
                "precision and recall are swapped: precision = TP / (TP + FP) divides by the predicted positives "
                "(column 1), recall = TP / (TP + FN) by the true positives (row 1)": [accuracy, recall, precision, f1],
                "those are the scores of class 0: the positive class is 1, TP = cm[1, 1] (rows are the true "
                "label, columns the prediction)": _scores(y_true, y_pred, pos_label=0),
                "F1 is the harmonic mean 2PR / (P + R), not the average (P + R) / 2":
                    [accuracy, precision, recall, (precision + recall) / 2],
                "accuracy counts both right cells: (TN + TP) / n": [cm[1][1] / len(y_true), precision, recall, f1],
                "return fractions between 0 and 1, not percentages": [100 * v for v in expected],
                **{"that recall is TN / (TN + FP), the specificity (the share of non-buyers recognised); recall is "
                   "TP / (TP + FN), the share of the buyers found" + extra: [accuracy, precision, specificity, f1_of]
                   for extra, f1_of in [("", f1), (", and F1 uses it",
                                               2 * precision * specificity / (precision + specificity))]},
                "nothing is predicted positive here, so precision is 0 / 0: return 0.0 then, as scikit-learn and "
                "gdlab.metrics do, not 1.0": [accuracy, 1.0 if not cm[0][1] + cm[1][1] else precision, recall, f1],
            })
        return "matches gdlab.metrics (and so scikit-learn) on 3 matrices, one with no predicted positive."

    def task4(roc_auc):
        "ROC AUC by counting pairs"
        rng = np.random.default_rng(4)
        y = (rng.random(80) < 0.4).astype(int)
        tied = np.round(0.2 * y + 0.8 * rng.random(80), 1)
        cases = [("scores rounded to 0.1 (many ties)", tied), ("all scores equal", np.full(80, 0.3)),
                 ("scores without ties", 0.2 * y + 0.8 * rng.random(80))]
        for name, scores in cases:
            positive, negative = scores[y == 1], scores[y == 0]
            above = np.mean(positive[:, None] > negative[None, :])
            tie = np.mean(positive[:, None] == negative[None, :])
            where = f"your AUC ({name}, {len(positive)} positives, {len(negative)} negatives)"
            got = number(call(roc_auc, y.copy(), scores.copy()), where)
            expected = metrics.roc_auc_score(y, scores)
            if tie and above < got < above + tie and not np.isclose(got, expected, rtol=1e-9):
                fail(f"{where} is {got:.4f}, between {above:.4f} (ties count 0) and {above + tie:.4f} (ties count 1): "
                     "a ROC curve stepping through tied scores one at a time depends on their order. Count each "
                     "tied (positive, negative) pair as 1/2.")
            close(got, expected, where, {
                "a tie between a positive and a negative counts 1/2, not 0 (ties counted as losses: >, or a sort "
                "that puts the negatives first among equal scores)": above,
                "a tie between a positive and a negative counts 1/2, not 1 (ties counted as wins: >=, or a sort "
                "that puts the positives first among equal scores)": above + tie,
                "that is 1 - AUC: count the pairs where the positive scores higher than the negative": 1 - expected,
                "divide the count by the number of (positive, negative) pairs, n_pos × n_neg":
                    expected * len(positive) * len(negative),
            }, rtol=1e-9)
        return (f"matches gdlab.metrics.roc_auc_score: {metrics.roc_auc_score(y, tied):.4f} with "
                f"{np.mean(tied[y == 1][:, None] == tied[y == 0][None, :]):.0%} of the pairs tied, 0.5 when all scores "
                "are equal.")

    def task5(to_original_scale):
        "back to the original scale"
        data, scaler, theta, X_val, _ = _purchase_fit()
        w, b, mean, scale = theta[:-1], theta[-1], scaler.mean_, scaler.scale_
        got = parts(call(to_original_scale, w.copy(), b, mean.copy(), scale.copy()), ("w", "b"), "to_original_scale")
        w_orig, b_orig = as_array(got[0], "your w"), number(got[1], "your b")
        expected_w, expected_b = w / scale, b - np.sum(w * mean / scale)
        close(w_orig, expected_w, "your weights on the original scale", {
            "divide by the scale, w_j / s_j: one year of age is 1/s_j of a standard deviation": w * scale,
            "those are the standardised weights unchanged; divide each by its s_j": w,
            "divide by the standard deviation s_j, not by the variance s_j²": w / scale**2,
        })
        close(b_orig, expected_b, "your bias on the original scale", {
            "the bias changes too: the centring moved each score by -Σ w_j m_j / s_j": b,
            "subtract Σ w_j m_j / s_j: z = Σ w_j (x_j - m_j) / s_j + b": b + np.sum(w * mean / scale),
            "divide each term by s_j too: b - Σ w_j m_j / s_j": b - np.sum(w * mean),
        })
        gap = np.max(np.abs(X_val @ w_orig + b_orig - (scaler.transform(X_val) @ w + b)))
        names, truth = data.feature_names + ("bias",), np.append(data.true_w, data.true_b)
        fitted = ", ".join(f"{name} {v:.4f} ({t:g})" for name, v, t in zip(names, np.append(w_orig, b_orig), truth))
        gap_text = "< 1e-12" if gap < 1e-12 else f"{gap:.1e}"
        return (f"the same scores on the raw features (largest difference {gap_text}). "
                f"Fitted on 800 people, with the generator's values in brackets: {fitted}.")

    def task6(best_threshold):
        "a threshold chosen on validation data"
        data, scaler, theta, X_val, y_val = _purchase_fit()
        p_val = models.predict_proba(theta[:-1], theta[-1], scaler.transform(X_val))
        candidates = np.unique(p_val)
        f1s = np.array([_f1_at(y_val, p_val, t) for t in candidates])
        best_f1 = f1s.max()
        t = number(call(best_threshold, y_val.copy(), p_val.copy()), "your threshold")
        if not 0 <= t <= 1:
            what = " (an index? return the threshold itself)" if float(t).is_integer() else ""
            fail(f"your threshold is {t:g}{what}: a threshold on probabilities lies between 0 and 1.")
        f1 = _f1_at(y_val, p_val, t)
        if not np.isclose(f1, best_f1, rtol=0, atol=1e-12):
            if np.isclose(_f1_at(y_val, p_val, t, strict=True), best_f1, rtol=0, atol=1e-12):
                fail(f"with p > {t:.4f} you get the best F1, but the rule here is predict 1 when p >= threshold "
                     f"(F1 {f1:.4f} then).")
            if np.isclose(t, best_f1, rtol=1e-9):
                fail(f"{t:.4f} is the best F1 itself; return the threshold that gives it.")
            other_scores = {
                "accuracy": [metrics.accuracy_score(y_val, (p_val >= c).astype(int)) for c in candidates],
                "Youden's J = TPR - FPR": [np.mean(p_val[y_val == 1] >= c) - np.mean(p_val[y_val == 0] >= c)
                                           for c in candidates]}
            maximised = [name for name, values in other_scores.items()
                         if np.isclose(t, candidates[int(np.argmax(values))], rtol=1e-12)]
            if maximised:
                fail(f"p >= {t:.4f} maximises {' and '.join(maximised)}; the task asks for the best F1.")
            fail(f"p >= {t:.4f} gives F1 {f1:.4f} on the validation set, and some threshold gives {best_f1:.4f}. "
                 "A grid can miss it: F1 changes only where the threshold passes a predicted probability, so try "
                 "each value of p_val as the threshold.")
        fresh = purchase(n=1000, seed=1)
        p_fresh = models.predict_proba(theta[:-1], theta[-1], scaler.transform(fresh.X))
        return (f"p >= {t:.3f} gives validation F1 {f1:.3f} (at 0.5: {_f1_at(y_val, p_val, 0.5):.3f}). On 1000 fresh "
                f"people from the generator (seed 1): F1 {_f1_at(fresh.y, p_fresh, t):.3f} at your threshold, "
                f"{_f1_at(fresh.y, p_fresh, 0.5):.3f} at 0.5. Scores on 200 validation people are noisy: judge a "
                "choice made on them on data it was not chosen on.")
