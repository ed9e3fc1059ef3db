"""Checks for exercises/02_gradient_descent.ipynb."""
import numpy as np

from gdlab import descent
from gdlab.check.core import (
    Chapter,
    Failed,
    as_array,
    call,
    close,
    fail,
    near,
    number,
    show,
)
from gdlab.functions import Quadratic

_Q2 = Quadratic([[3.0, 1.0], [1.0, 2.0]], [1.0, 0.0])


def _rotated(L, mu):
    c, s = np.cos(0.5), np.sin(0.5)
    R = np.array([[c, -s], [s, c]])
    return Quadratic(R @ np.diag([L, mu]) @ R.T)


def _descend(grad, x0, lr, steps, sign=-1.0, frozen=False):
    xs = [np.array(x0, dtype=float)]
    for _ in range(steps):
        xs.append(xs[-1] + sign * lr * grad(xs[0] if frozen else xs[-1]))
    return np.array(xs)


def _outcome(trace):
    return {"converged": f"converges in {trace.steps} steps",
            "diverged": f"diverges (step {trace.steps})",
            "max_steps": f"has not converged after {trace.steps} steps"}[trace.status]


def _steps_by(norm, grad, x0, lr, tol, max_steps):
    """Updates until norm(grad(x), lr) <= tol, another rule than the Euclidean norm (None if never or diverged)."""
    x = np.array(x0, dtype=float)
    with np.errstate(all="ignore"):
        for k in range(max_steps + 1):
            g = grad(x)
            value = norm(g, lr)
            if not np.isfinite(value):
                return None
            if value <= tol:
                return k
            x = x - lr * g
    return None


_OTHER_STOPPING_RULES = {  # what a stopping rule that is not ||grad|| <= tol compares with tol, and the hint
    "compare the norm ||g|| = np.linalg.norm(g) with tol, not its square": lambda g, lr: g @ g,
    "that stops on the largest |entry| of the gradient; compare its Euclidean norm, np.linalg.norm(g), with tol":
        lambda g, lr: np.abs(g).max(),
    "that stops on the sum of |entries| of the gradient; compare its Euclidean norm, np.linalg.norm(g), with tol":
        lambda g, lr: np.abs(g).sum(),
    "that stops on the length of the step, lr·||grad||, the change-in-x rule of chapter 02, section 5; compare the "
    "gradient norm itself with tol": lambda g, lr: lr * np.linalg.norm(g),
}


def _steps(q, x0, lr, tol=1e-6, max_steps=10_000):
    trace = descent.gradient_descent(q, q.grad, x0, lr, steps=max_steps, tol=tol)
    return trace.steps if trace.status == "converged" else None


class ch02(Chapter):
    """02 · Gradient descent."""

    def task1(gradient_descent):
        "the gradient descent loop"
        x0, lr, steps = np.array([2.0, -1.0]), 0.2, 10
        given = x0.copy()
        right = _descend(_Q2.grad, x0, lr, steps)
        got = call(gradient_descent, _Q2.grad, given, lr, steps)
        close(got, right, f"your iterates (lr = {lr}, steps = {steps})", {
            "you moved uphill: the update is x - lr * grad(x)": _descend(_Q2.grad, x0, lr, steps, sign=1.0),
            "x0 is missing: the first row is the starting point, then one row per update": right[1:],
            "one update short: `steps` updates give steps + 1 points, x0 included": right[:-1],
            "one update too many: `steps` updates give steps + 1 points, x0 included":
                _descend(_Q2.grad, x0, lr, steps + 1),
            "you returned only the last point; return every iterate, stacked: np.array(xs)": right[-1],
            "every row is the same point: x changed in place after you stored it; store x.copy() "
            "or write x = x - lr * g": np.tile(right[-1], (steps + 1, 1)),
            "every step uses the gradient at x0; evaluate it at the current point, grad(x)":
                _descend(_Q2.grad, x0, lr, steps, frozen=True),
        })
        if not np.array_equal(given, x0):
            fail("your function changed the caller's x0 in place; start from x = np.array(x0, dtype=float).")
        return f"{steps} updates, {steps + 1} points, x0 untouched."

    def task2(steps_to_tolerance):
        "a stopping criterion"
        exactly = _steps(_Q2, np.array([2.0, -1.0]), 0.3)
        cases = [  # (x0, lr, max_steps, why None would be right)
            (np.array([2.0, -1.0]), 0.3, 10_000, None),
            (np.array([2.0, -1.0]), 0.1, 10_000, None),  # where the 1-norm and the largest entry stop elsewhere
            (_Q2.minima[0], 0.3, 10_000, None),
            (np.array([2.0, -1.0]), 0.3, exactly, None),
            (np.array([2.0, -1.0]), 0.3, exactly - 1, f"it needs {exactly} updates, one more than max_steps"),
            (np.array([2.0, -1.0]), 0.6, 10_000, "lr = 0.6 > 2/L diverges"),
            (np.array([2.0, -1.0]), 1e-4, 50, "lr = 1e-4 is far too slow to reach tol in 50 steps"),
        ]
        results = [call(steps_to_tolerance, _Q2.grad, x0.copy(), lr, 1e-6, max_steps) for x0, lr, max_steps, _ in cases]
        other_rule = None  # the hint of another stopping rule that gives every count the learner returned
        if all(r is None or isinstance(r, (int, float, np.integer, np.floating)) for r in results):
            other_rule = next((hint for hint, norm in _OTHER_STOPPING_RULES.items()
                               if results == [_steps_by(norm, _Q2.grad, x0, lr, 1e-6, max_steps)
                                              for x0, lr, max_steps, _ in cases]), None)
        for (x0, lr, max_steps, why), answer in zip(cases, results):
            expected = _steps(_Q2, x0, lr, max_steps=max_steps)
            where = f"from x0 = {show(x0)} with lr = {lr:g}, max_steps = {max_steps}"
            if expected is None:
                if answer is not None:
                    fail(f"{where}: you returned {answer!r}; {why}, so return None.")
                continue
            if answer is None and max_steps == expected:
                fail(f"{where}: you returned None, but the gradient reaches tol after exactly max_steps = "
                     f"{max_steps} updates; check the point after the last update too (range(max_steps + 1)).")
            got = number(answer, f"your step count {where}")
            if got != expected and other_rule:
                fail(f"{where}: you returned {got:.0f}, expected {expected}: {other_rule}.")
            if got == expected + 1:
                fail(f"{where}: {got:.0f} is one too many; count updates, not gradient evaluations "
                     "(if x0 already has ||grad|| <= tol the answer is 0).")
            if got == expected - 1:
                fail(f"{where}: {got:.0f} is one too few; stop at the first x with ||grad(x)|| <= tol.")
            if got != expected:
                fail(f"{where}: you returned {got:.0f}, expected {expected}.")
        return "counts updates until ||grad|| <= tol, 0 at the minimum, None when it diverges or runs out of steps."

    def task3(largest_stable_lr):
        "the largest stable learning rate"
        # A 3 x 3 matrix first: for a 2 x 2 one, L + mu is the trace, and the hints below could not tell them apart.
        matrices = (np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]]), _Q2.A,
                    np.array([[2.0, 1.0], [1.0, 5.0]]), np.diag([3.0, 1.0, 5.0]))
        for A in matrices:
            eig, unsorted = np.linalg.eigvalsh(A), np.linalg.eigvals(A).real
            not_sorted = (f"np.linalg.eigvals does not sort its eigenvalues (here it returns {show(unsorted)}); "
                          "take the largest, or use np.linalg.eigvalsh, which sorts them in ascending order: "
                          "eigvalsh(A)[-1]")
            close(call(largest_stable_lr, A.copy()), 2 / eig[-1], f"your lr for A = {A.tolist()}", {
                "that is 1/L, the step with the largest guaranteed decrease per step; every lr below 2/L also "
                "lowers the loss and converges, so the largest stable lr is 2/L": 1 / eig[-1],
                f"that is 2/μ, from the smallest eigenvalue; the bound comes from the largest, L. {not_sorted}":
                    2 / eig[0],
                f"that is 2/λ for an eigenvalue that is not the largest. {not_sorted}": 2 / np.median(eig),
                "use the largest eigenvalue of A, not its largest diagonal entry": 2 / A.diagonal().max(),
                "np.linalg.norm(A) is the Frobenius norm, the root of the sum of all squared entries, larger than L; "
                "use the largest eigenvalue": 2 / np.linalg.norm(A),
                "that is lr* = 2/(L + μ), the learning rate with the fastest worst-case rate (chapter 02, section "
                "4); the stability limit is larger, 2/L": 2 / (eig[0] + eig[-1]),
                "the trace is the sum of all the eigenvalues; the bound uses only the largest": 2 / np.trace(A),
                "that is 2 over the largest row sum of |A|, an upper bound on L (Gershgorin's theorem): a safe "
                "learning rate, but not the largest stable one, 2/L": 2 / np.abs(A).sum(axis=1).max(),
                "that is L itself; the bound is 2/L": eig[-1],
                "that is L/2; the bound is 2/L": eig[-1] / 2,
            })
        lr_max = 2 / _Q2.L
        below, above = (descent.gradient_descent(_Q2, _Q2.grad, [2.0, -1.0], c * lr_max, steps=5000, tol=1e-6)
                        for c in (0.99, 1.01))
        return (f"2/L = {lr_max:.4f} for L = {_Q2.L:.4f}; measured: lr = 0.99·2/L {_outcome(below)}, "
                f"lr = 1.01·2/L {_outcome(above)}.")

    def task4(fastest_lr):
        "the fastest learning rate"
        q, x0 = _rotated(10.0, 1.0), np.array([1.0, 1.0])
        lrs = np.array([0.01, 0.05, 0.1, 0.15, 0.18, 0.19, 0.2, 0.25])
        steps = [_steps(q, x0, lr) for lr in lrs]
        done = [k for k, s in enumerate(steps) if s is not None]
        best = min(done, key=lambda k: steps[k])
        try:
            got = number(call(fastest_lr, q.grad, x0.copy(), lrs.copy()), "your fastest lr")
        except Failed as failure:
            if "NoneType" in str(failure):
                fail(f"{failure}: steps_to_tolerance returns None for a learning rate that never reaches tol; "
                     "skip those runs before taking the fewest steps.")
            raise
        match = np.isclose(lrs, got, rtol=1e-9, atol=0)
        if not match.any():
            fail(f"{got:g} is not one of lrs; return the learning rate itself, not its step count or index.")
        k = int(np.argmax(match))
        if k == best:
            last = done[-1]
            return (f"lr = {lrs[k]:g} needs {steps[k]} steps, the largest converging lr = {lrs[last]:g} needs "
                    f"{steps[last]}: near 2/L = {2 / q.L:.4g} the steep direction barely shrinks. (Theory: "
                    f"2/(L+μ) = {2 / (q.L + q.mu):.4f} has the best worst-case rate.)")
        if steps[k] is None:
            fail(f"lr = {got:g} never reaches the tolerance (steps_to_tolerance gives None); skip those runs.")
        if k == done[-1]:
            fail(f"lr = {got:g} is the largest that converges but not the fastest ({steps[k]} steps): "
                 "near 2/L the steep direction oscillates. Pick the fewest steps.")
        return fail(f"lr = {got:g} takes {steps[k]} steps; another lr in lrs needs fewer.")

    def task5(standardize):
        "feature scaling"
        rng = np.random.default_rng(5)
        n = 200
        X = np.column_stack([rng.uniform(18, 70, n), rng.normal(50_000, 15_000, n), rng.integers(8, 21, n)])
        y = X @ np.array([0.02, 3e-5, 0.1]) + rng.normal(0, 0.1, n)
        mean, std = X.mean(axis=0), X.std(axis=0)
        given = X.copy()
        got = as_array(call(standardize, given), "your standardised X")
        if not np.array_equal(given, X):
            fail("your function changed the caller's X in place (X -= ... or X /= ...); the raw features are still "
                 "needed: return a new array, (X - mean) / std.")
        with_ddof1 = (X - mean) / X.std(axis=0, ddof=1)  # the sample std is fine too
        Z = close(got, with_ddof1 if near(got, with_ddof1, 1e-6, 1e-9) else (X - mean) / std, "your standardised X", {
            "you standardised each row; standardise each column (axis=0)":
                (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True),
            "subtract the column mean too": X / std,
            "divide by the standard deviation, not the variance": (X - mean) / X.var(axis=0),
            "use per-column statistics (axis=0), not one mean and std for the whole matrix": (X - X.mean()) / X.std(),
            "that is min-max scaling; here each column should get mean 0 and standard deviation 1":
                (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0)),
            "now divide each column by its standard deviation": X - mean,
            "subtract each column's own mean (X.mean(axis=0)), not the mean of the whole matrix": (X - X.mean()) / std,
            "divide by the standard deviation of each column, not by its range (max - min)":
                (X - mean) / (X.max(axis=0) - X.min(axis=0)),
            "divide by the standard deviation, not by the column's norm (which is √n times larger once centred)":
                (X - mean) / np.linalg.norm(X - mean, axis=0),
            "subtract each column's mean, not its median": (X - np.median(X, axis=0)) / std,
            "divide by each column's standard deviation, not by its largest value": (X - mean) / X.max(axis=0),
        })
        report = []
        for features in (X, Z):
            H = 2 / n * features.T @ features
            q = Quadratic((H + H.T) / 2, 2 / n * features.T @ y)
            trace = descent.gradient_descent(q, q.grad, np.zeros(3), 1 / q.L, steps=2000, tol=1e-6)
            report.append(f"condition number {q.condition_number:.3g}, GD with lr = 1/L {_outcome(trace)}")
        return f"raw features: {report[0]}; standardised: {report[1]}."
