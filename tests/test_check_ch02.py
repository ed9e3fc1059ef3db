"""gdlab.check.ch02: right answers PASS, untouched tasks TODO, and planted mistakes FAIL with the right hint."""
import numpy as np
import pytest

from conftest import assert_reports, stub
from gdlab import check


def descend(grad, x0, lr, steps, first=0, sign=-1, frozen=False):
    x = np.array(x0, dtype=float)
    xs = [x]
    for _ in range(steps):
        x = x + sign * lr * grad(xs[0] if frozen else x)
        xs.append(x)
    return np.array(xs[first:])


def appends_the_same_array(grad, x0, lr, steps):
    x, xs = np.array(x0, dtype=float), []
    xs.append(x)
    for _ in range(steps):
        x -= lr * grad(x)
        xs.append(x)
    return np.array(xs)


def moves_x0_in_place(grad, x0, lr, steps):
    x, xs = x0, [x0.copy()]
    for _ in range(steps):
        x -= lr * grad(x)
        xs.append(x.copy())
    return np.array(xs)


def steps_to_tolerance(grad, x0, lr, tol=1e-6, max_steps=10_000, offset=0, give_up=None, last=1, squared=False,
                       norm_of=np.linalg.norm):
    x = np.array(x0, dtype=float)
    for k in range(max_steps + last):
        g = grad(x)
        norm = g @ g if squared else norm_of(g)
        if not np.isfinite(norm):
            return give_up
        if norm <= tol:
            return k + offset
        x = x - lr * g
    return give_up


def fastest(lrs, steps):
    return min((s, lr) for s, lr in zip(steps, lrs) if s is not None)[1]


def lambda_max_wrong_order(A):
    return 2 / np.linalg.eigvalsh(A)[0]


def standardize_in_place(X):
    X -= X.mean(axis=0)
    X /= X.std(axis=0)
    return X


CH02 = [
    ("task1", descend, "PASS", "10 updates, 11 points, x0 untouched"),
    ("task1", stub(1), "TODO", "not implemented yet"),
    ("task1", lambda grad, x0, lr, steps: descend(grad, x0, lr, steps, sign=1), "FAIL", "you moved uphill"),
    ("task1", lambda grad, x0, lr, steps: descend(grad, x0, lr, steps, first=1), "FAIL", "x0 is missing"),
    ("task1", lambda grad, x0, lr, steps: descend(grad, x0, lr, steps - 1), "FAIL", "one update short"),
    ("task1", lambda grad, x0, lr, steps: descend(grad, x0, lr, steps + 1), "FAIL", "one update too many"),
    ("task1", lambda grad, x0, lr, steps: descend(grad, x0, lr, steps)[-1], "FAIL", "only the last point"),
    ("task1", appends_the_same_array, "FAIL", "every row is the same point"),
    ("task1", moves_x0_in_place, "FAIL", "changed the caller's x0 in place"),
    ("task1", lambda grad, x0, lr, steps: descend(grad, x0, lr, steps, frozen=True), "FAIL",
     "every step uses the gradient at x0"),
    ("task1", lambda grad, x0, lr, steps: descend(grad, x0, lr, steps).T, "FAIL", "rows and columns are swapped"),
    ("task2", steps_to_tolerance, "PASS", "0 at the minimum"),
    ("task2", lambda *a: steps_to_tolerance(*a, offset=1), "FAIL", "one too many; count updates"),
    ("task2", lambda *a: steps_to_tolerance(*a, offset=-1), "FAIL", "one too few"),
    ("task2", lambda *a: steps_to_tolerance(*a, give_up=-1), "FAIL", "so return None"),
    ("task2", lambda grad, x0, lr, tol=1e-6, max_steps=10_000: 23, "FAIL", "expected"),
    ("task2", lambda *a: steps_to_tolerance(*a, last=0), "FAIL", "after exactly max_steps"),
    ("task2", lambda *a: steps_to_tolerance(*a, give_up=a[-1]), "FAIL", "so return None"),
    ("task2", lambda *a: steps_to_tolerance(*a, squared=True), "FAIL", "not its square"),
    ("task2", lambda *a: steps_to_tolerance(*a, norm_of=lambda g: np.abs(g).max()), "FAIL", "the largest |entry|"),
    ("task2", lambda *a: steps_to_tolerance(*a, norm_of=lambda g: np.abs(g).sum()), "FAIL", "the sum of |entries|"),
    ("task2", lambda grad, x0, lr, tol=1e-6, max_steps=10_000: steps_to_tolerance(
        grad, x0, lr, tol, max_steps, norm_of=lambda g: lr * np.linalg.norm(g)), "FAIL", "change-in-x rule"),
    ("task3", lambda A: 2 / np.linalg.eigvalsh(A)[-1], "PASS", "lr = 1.01·2/L diverges"),
    ("task3", lambda A: 1 / np.linalg.eigvalsh(A)[-1], "FAIL",
     "that is 1/L, the step with the largest guaranteed decrease"),
    ("task3", lambda_max_wrong_order, "FAIL", "that is 2/μ"),
    ("task3", lambda A: 2 / A.diagonal().max(), "FAIL", "not its largest diagonal entry"),
    ("task3", lambda A: np.linalg.eigvalsh(A)[-1], "FAIL", "that is L itself"),
    ("task3", lambda A: 2 / np.linalg.eigvals(A)[0], "FAIL", "np.linalg.eigvals does not sort"),
    ("task3", lambda A: 2 / np.linalg.eigvals(A)[-1], "FAIL", "np.linalg.eigvals does not sort"),
    ("task3", lambda A: 2 / np.max(np.linalg.eigvals(A).real), "PASS", "lr = 1.01·2/L diverges"),
    ("task3", lambda A: 2 / np.linalg.norm(A), "FAIL", "Frobenius norm"),
    ("task3", lambda A: 2 / np.trace(A), "FAIL", "the trace is the sum"),
    ("task3", lambda A: 2 / (np.linalg.eigvalsh(A)[0] + np.linalg.eigvalsh(A)[-1]), "FAIL", "that is lr* = 2/(L + μ)"),
    ("task3", lambda A: 2 / np.abs(A).sum(axis=1).max(), "FAIL", "Gershgorin"),
    ("task3", lambda A: np.linalg.eigvalsh(A)[-1] / 2, "FAIL", "that is L/2"),
    ("task4", lambda grad, x0, lrs: fastest(lrs, [steps_to_tolerance(grad, x0, lr) for lr in lrs]), "PASS",
     "lr = 0.18 needs"),
    ("task4", lambda grad, x0, lrs: max(lr for lr in lrs if steps_to_tolerance(grad, x0, lr) is not None), "FAIL",
     "the largest that converges but not the fastest"),
    ("task4", lambda grad, x0, lrs: fastest(lrs, [steps_to_tolerance(grad, x0, lr, give_up=0) for lr in lrs]),
     "FAIL", "never reaches the tolerance"),
    ("task4", lambda grad, x0, lrs: min(s for lr in lrs if (s := steps_to_tolerance(grad, x0, lr)) is not None),
     "FAIL", "not one of lrs"),
    ("task4", lambda grad, x0, lrs: fastest(lrs, [stub(2)(grad, x0, lr) for lr in lrs]), "TODO", "uses Task 2"),
    ("task4", lambda grad, x0, lrs: min(zip([steps_to_tolerance(grad, x0, lr) for lr in lrs], lrs))[1], "FAIL",
     "skip those runs"),
    ("task5", lambda X: (X - X.mean(axis=0)) / X.std(axis=0), "PASS", "condition number 1.15"),
    ("task5", lambda X: (X - X.mean(axis=0)) / X.std(axis=0, ddof=1), "PASS", "standardised: condition number"),
    ("task5", lambda X: (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True), "FAIL", "each row"),
    ("task5", lambda X: X / X.std(axis=0), "FAIL", "subtract the column mean too"),
    ("task5", lambda X: (X - X.mean(axis=0)) / X.var(axis=0), "FAIL", "not the variance"),
    ("task5", lambda X: (X - X.mean()) / X.std(), "FAIL", "per-column statistics"),
    ("task5", lambda X: (X - X.min(axis=0)) / np.ptp(X, axis=0), "FAIL", "min-max scaling"),
    ("task5", lambda X: (X - X.mean()) / X.std(axis=0), "FAIL", "each column's own mean"),
    ("task5", lambda X: (X - X.mean(axis=0)) / np.ptp(X, axis=0), "FAIL", "not by its range"),
    ("task5", lambda X: (X - X.mean(axis=0)) / np.linalg.norm(X - X.mean(axis=0), axis=0), "FAIL", "column's norm"),
    ("task5", lambda X: (X - np.median(X, axis=0)) / X.std(axis=0), "FAIL", "not its median"),
    ("task5", lambda X: (X - X.mean(axis=0)) / X.max(axis=0), "FAIL", "not by its largest value"),
    ("task5", standardize_in_place, "FAIL", "changed the caller's X in place"),
    ("task5", lambda X: ((X - X.mean(axis=0)) / X.std(axis=0)).T, "FAIL",
     "has shape (3, 200), expected (200, 3): rows and columns are swapped"),
]


@pytest.mark.parametrize("task, answer, status, hint", CH02, ids=[f"{t}-{s}-{h[:30]}" for t, _, s, h in CH02])
def test_ch02(task, answer, status, hint, capsys):
    assert_reports(capsys, getattr(check.ch02, task)(answer), status, hint)


def test_raw_features_measurably_slow_descent_down(capsys):
    result = check.ch02.task5(lambda X: (X - X.mean(axis=0)) / X.std(axis=0))
    capsys.readouterr()
    assert "raw features: condition number 1.19e+08, GD with lr = 1/L has not converged after 2000 steps" \
        in result.message
    assert "standardised: condition number 1.15, GD with lr = 1/L converges in 7 steps" in result.message
