"""gdlab.check.ch07: right answers PASS, untouched tasks TODO, planted mistakes FAIL with the right hint."""
import itertools

import numpy as np
import pytest

from conftest import assert_reports, stub
from gdlab import check
from gdlab.descent import gradient_descent

# ---------------------------------------------------------------------------------------------
# Task 1 · classify a critical point


def classify(grad, hessian, x, mistake=None):
    tolerance = 1e-2 if mistake == "loose tolerance" else 1e-6
    if np.linalg.norm(grad(x)) > tolerance and mistake != "no gradient check":
        return "not critical"
    if mistake == "exact zero" and np.any(grad(x) != 0):
        return "not critical"
    H = hessian(x)
    eigenvalues = np.diag(H) if mistake == "diagonal" else np.linalg.eigvalsh(H)
    if np.any(np.abs(eigenvalues) <= 1e-8) and mistake != "no degenerate":
        return "degenerate"
    if mistake == "determinant":
        return "minimum" if np.linalg.det(H) > 0 else "saddle"
    if np.all(eigenvalues > 0):
        return "maximum" if mistake == "swapped" else "minimum"
    if np.all(eigenvalues < 0):
        return "minimum" if mistake == "swapped" else "maximum"
    return "saddle"


def classify_abbreviated(grad, hessian, x):
    return {"minimum": "min", "maximum": "max"}.get(classify(grad, hessian, x), "saddle")


# ---------------------------------------------------------------------------------------------
# Task 2 · a Newton step


def newton_in_place(grad, hessian, x):
    x -= np.linalg.solve(hessian(x), grad(x))
    return x


# ---------------------------------------------------------------------------------------------
# Task 3 · Armijo backtracking


def armijo(f, x, g, lr=1.0, c=1e-4, shrink=0.5, mistake=None):
    lr, c, shrink = {"lr ignored": (1.0, c, shrink), "c ignored": (lr, 1e-4, shrink),
                     "shrink ignored": (lr, c, 0.5)}.get(mistake, (lr, c, shrink))
    alpha, fx = lr, f(x)
    if mistake == "no loop":
        return alpha
    if mistake == "if":
        if f(x - alpha * g) > fx - c * alpha * (g @ g):
            alpha *= shrink
        return alpha
    if mistake == "capped":
        for _ in range(8):
            if f(x - alpha * g) <= fx - c * alpha * (g @ g):
                break
            alpha *= shrink
        return alpha
    if mistake == "reversed":
        while f(x - alpha * g) < fx - c * alpha * (g @ g):
            alpha *= shrink
        return alpha
    if mistake == "late start":
        alpha *= shrink
    if mistake == "by c":
        shrink = c
    bound = {"no c": lambda a: fx, "plus": lambda a: fx + c * a * (g @ g), "no alpha": lambda a: fx - c * (g @ g),
             "norm": lambda a: fx - c * a * np.linalg.norm(g)}.get(mistake, lambda a: fx - c * a * (g @ g))
    trial = (lambda a: f(x + a * g)) if mistake == "uphill" else (lambda a: f(x - a * g))
    while trial(alpha) > bound(alpha):
        alpha *= shrink
    return alpha


def armijo_power(f, x, g, lr=1.0, c=1e-4, shrink=0.5):
    j = 0
    while f(x - lr * shrink**j * g) > f(x) - c * lr * shrink**j * (g @ g):
        j += 1
    return lr * shrink**j


# ---------------------------------------------------------------------------------------------
# Task 4 · basins of attraction


def basins(f, grad, starts, lr, steps, mistake=None):
    minima = np.array(f.minima)
    labels = []
    for start in starts:
        end = start if mistake == "nearest to start" else gradient_descent(f, grad, start, lr, steps=steps).x
        distances = np.linalg.norm(minima - end, axis=1)
        ok = distances.min() <= 1e-6 or mistake in ("nearest to start", "no -1")
        labels.append(int(np.argmin(distances)) + (mistake == "from 1") if ok else -1)
    return np.array(labels)


def basins_vectorised(f, grad, starts, lr, steps):
    x = starts.T.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            x = x - lr * grad(x)
        distances = np.linalg.norm(x[:, None, :] - np.array(f.minima).T[:, :, None], axis=0)
    distances = np.where(np.isfinite(distances), distances, np.inf)
    return np.where(distances.min(axis=0) <= 1e-6, distances.argmin(axis=0), -1)


# ---------------------------------------------------------------------------------------------
# Task 5 · random restarts


def restarts(f, grad, n, rng, mistake=None):
    low, high = np.array(f.domain).T
    if mistake == "a third":
        n = max(1, n // 3)
    if mistake == "fixed box":
        low, high = np.full(len(low), -5.12), np.full(len(low), 5.12)
    if mistake == "unit box":
        low, high = np.zeros(len(low)), np.ones(len(low))
    if mistake == "fixed seed":
        rng = np.random.default_rng(42)
    x = rng.uniform(low, high, size=(n, len(low))).T
    if mistake == "normal":
        x = rng.normal((low + high) / 2, (high - low) / 6, size=(n, len(low))).T
    if mistake == "one start":
        x = np.repeat(x[:, :1], n, axis=1)
    if mistake != "no descent":
        for _ in range(200):
            x = x - 0.0025 * grad(x)
    pick = {"worst": np.argmax(f(x)), "last": n - 1}.get(mistake, np.argmin(f(x)))
    return x[:, pick]


CALLS = itertools.count(100)  # a learner who makes a new generator at every call


def restarts_with_gdlab(f, grad, n, rng):
    low, high = np.array(f.domain).T
    ends = [gradient_descent(f, grad, rng.uniform(low, high), lr=0.0025, steps=300).x for _ in range(n)]
    return min(ends, key=f)


CH07 = [
    ("task1", classify, "PASS", "9 points right; at Himmelblau's 9 critical points your function finds 4 minima"),
    ("task1", stub(1), "TODO", "not implemented yet"),
    ("task1", lambda g, h, x: classify(g, h, x, "no gradient check"), "FAIL", "the gradient is not zero there"),
    ("task1", lambda g, h, x: classify(g, h, x, "no degenerate"), "FAIL", "return 'degenerate'"),
    ("task1", lambda g, h, x: classify(g, h, x, "exact zero"), "FAIL", "instead of testing grad(x) == 0"),
    ("task1", lambda g, h, x: classify(g, h, x, "loose tolerance"), "FAIL",
     "at saddle at (5e-05, 0) (|grad| = 0.0001, Hessian eigenvalues [-1, 2]) you said 'saddle', but the gradient is "
     "not zero there: check ||grad(x)|| <= 1e-6 first (a looser tolerance, such as 1e-2, calls this point critical)"),
    ("task1", lambda g, h, x: classify(g, h, x, "swapped"), "FAIL", "sign convention swapped"),
    ("task1", lambda g, h, x: classify(g, h, x, "determinant"), "FAIL", "det(H) > 0 alone cannot tell"),
    ("task1", lambda g, h, x: classify(g, h, x, "diagonal"), "FAIL", "use the eigenvalues"),
    ("task1", classify_abbreviated, "FAIL", "return one of the strings 'minimum'"),
    ("task1", lambda g, h, x: None, "FAIL", "you returned None"),
    ("task1", lambda g, h, x: np.linalg.eigvalsh(h(x)) > 0, "FAIL", "return one of the strings"),
    ("task2", lambda grad, hessian, x: x - np.linalg.solve(hessian(x), grad(x)), "PASS", "one step lands on"),
    ("task2", lambda grad, hessian, x: x - np.linalg.inv(hessian(x)) @ grad(x), "PASS", "f rises from 24.2 to 1412"),
    ("task2", stub(2), "TODO", "not implemented yet"),
    ("task2", lambda grad, hessian, x: x + np.linalg.solve(hessian(x), grad(x)), "FAIL", "you moved by +H⁻¹g"),
    ("task2", lambda grad, hessian, x: x - grad(x) / np.diag(hessian(x)), "FAIL", "the diagonal of H only"),
    ("task2", lambda grad, hessian, x: x - hessian(x) @ grad(x), "FAIL", "you multiplied the gradient by H"),
    ("task2", lambda grad, hessian, x: x - grad(x), "FAIL", "a gradient step with lr = 1"),
    ("task2", lambda grad, hessian, x: -np.linalg.solve(hessian(x), grad(x)), "FAIL", "you returned the step"),
    ("task2", newton_in_place, "FAIL", "changed the caller's x in place"),
    ("task2", lambda grad, hessian, x: x - np.linalg.solve(hessian(x), grad(x)) / 2, "FAIL", "you took half a Newton"),
    ("task2", lambda grad, hessian, x: np.linalg.solve(grad(x), hessian(x)), "FAIL", "raised LinAlgError"),
    ("task3", armijo, "PASS", "alpha = 0.0009766 after 10 halvings"),
    ("task3", armijo_power, "PASS", "f drops from 24.2 to 5.10"),
    ("task3", stub(3), "TODO", "not implemented yet"),
    ("task3", lambda *a: armijo(*a, mistake="no loop"), "FAIL", "you returned lr without backtracking"),
    ("task3", lambda *a: armijo(*a, mistake="if"), "FAIL", "you shrank at most once"),
    ("task3", lambda *a: armijo(*a, mistake="reversed"), "FAIL", "the loop runs the wrong way round"),
    ("task3", lambda *a: armijo(*a, mistake="no c"), "FAIL", "c is missing"),
    ("task3", lambda *a: armijo(*a, mistake="plus"), "FAIL", "wrong sign: the condition is"),
    ("task3", lambda *a: armijo(*a, mistake="norm"), "FAIL", "use the squared norm"),
    ("task3", lambda *a: armijo(*a, mistake="uphill"), "FAIL", "not x + alpha g"),
    ("task3", lambda *a: armijo(*a, mistake="by c"), "FAIL", "you shrank alpha by c"),
    ("task3", lambda *a: armijo(*a, mistake="late start"), "FAIL", "try alpha = lr itself first"),
    ("task3", lambda *a: armijo(*a, mistake="c ignored"), "FAIL", "ignores its argument c: it acts as if c = 1e-4"),
    ("task3", lambda *a: armijo(*a, mistake="shrink ignored"), "FAIL", "ignores its argument shrink: it acts as if"),
    ("task3", lambda *a: armijo(*a, mistake="lr ignored"), "FAIL", "it acts as if lr = 1.0 whatever value is passed"),
    ("task3", lambda *a: armijo(*a, mistake="capped"), "FAIL",
     "on Rosenbrock from [-1.2, 1] you stopped at alpha = 0.003906, where the Armijo condition"),
    ("task3", lambda *a: armijo(*a, mistake="no alpha"), "FAIL", "your loop never stops"),
    ("task3", lambda f, x, g, lr, c, shrink: x - armijo(f, x, g, lr, c, shrink) * g, "FAIL",
     "you returned the new point x - alpha g; return the step size alpha itself"),
    ("task3", lambda *a: np.array([armijo(*a)]), "FAIL", "should be one number, got an array of shape (1,)"),
    ("task4", basins, "PASS", "of 53 starts, 36 end at the minimum nearest to them, 5 at another one, 10 bounce"),
    ("task4", basins_vectorised, "PASS", "around C forever (lr = 0.015 > 2/L there) and 2 diverge"),
    ("task4", stub(4), "TODO", "not implemented yet"),
    ("task4", lambda *a: basins(*a, mistake="nearest to start"), "FAIL", "labelled each start by the minimum nearest"),
    ("task4", lambda *a: basins(*a, mistake="no -1"), "FAIL", "runs that do not end on a minimum"),
    ("task4", lambda *a: basins(*a, mistake="from 1"), "FAIL", "starting at 0"),
    ("task4", lambda f, grad, starts, lr, steps: basins(f, grad, starts, 0.01, steps), "FAIL",
     "these are the labels of lr = 0.01, not of the lr passed in (0.015)"),
    ("task4", lambda f, grad, starts, lr, steps: basins(f, grad, starts, lr, steps)[:-1], "FAIL",
     "has shape (52,), expected (53,)"),
    ("task5", restarts, "PASS", "one run found the global minimum for 31 of 300 seeds (p = 0.099 measured per run), "
     "best of 30 for 94 of 100 seeds"),
    ("task5", restarts_with_gdlab, "PASS", "theory 1 - (1 - p)^30 = 0.956"),
    ("task5", stub(5), "TODO", "not implemented yet"),
    ("task5", lambda *a: restarts(*a, mistake="no descent"), "FAIL", "it is not the end of a descent"),
    ("task5", lambda *a: restarts(*a, mistake="worst"), "FAIL", "did you keep the worst"),
    ("task5", lambda *a: restarts(*a, mistake="last"), "FAIL", "keep the end point with the lowest f"),
    ("task5", lambda *a: restarts(*a, mistake="a third"), "FAIL",
     "the best of 30 restarts reached the global minimum for only 69 of 100 seeds"),
    ("task5", lambda *a: restarts(*a, mistake="normal"), "FAIL",
     "of 300 seeds; from a start drawn uniformly over f.domain = [-5.12, 5.12] it does so with probability"),
    ("task5", lambda *a: restarts(*a, mistake="one start"), "FAIL", "each from its own random start"),
    ("task5", lambda *a: restarts(*a, mistake="fixed seed"), "FAIL", "draw the starts from the `rng` argument"),
    ("task5", lambda *a: restarts(*a, mistake="fixed box"), "FAIL", "draw the starts uniformly over f.domain"),
    ("task5", lambda *a: restarts(*a, mistake="unit box"), "FAIL", "rng.uniform over the whole box f.domain"),
    ("task5", lambda f, grad, n, rng: restarts(f, grad, n, np.random.default_rng(next(CALLS))), "FAIL",
     "the same rng seed gave a different answer"),
    ("task5", lambda f, grad, n, rng: restarts(f, grad, n, rng)[0], "FAIL", "shape (d,) = (1,)"),
]


@pytest.mark.parametrize("task, answer, status, hint", CH07, ids=[f"{t}-{s}-{h[:30]}" for t, _, s, h in CH07])
def test_ch07(task, answer, status, hint, capsys):
    assert_reports(capsys, getattr(check.ch07, task)(answer), status, hint)
