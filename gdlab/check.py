"""Friendly checks for the exercises: each check prints one line, PASS, FAIL or TODO, then a short hint.

In an exercise notebook, after the learner's function:

    from gdlab import check
    check.ch01.task1(derivative)    # prints "PASS Task 1 · ...: ..." and returns a Result (.status)

TODO means the task still raises NotImplementedError; FAIL names what is wrong (a known mistake
such as a wrong sign or an off-by-one, a wrong shape, or the exception the learner's code raised);
the learner never sees a traceback from inside gdlab.

Adding the checks of another chapter: write a subclass of Chapter named chNN whose methods task1,
task2, ... each take the learner's function(s). The first docstring line is the task's title. A
method runs learner code only through `call`, compares with `close` (or `fail`s with a hint), and
returns the PASS message:

    class ch03(Chapter):
        "03 · Batch, stochastic and mini-batch."

        def task1(batches):
            "mini-batches of one epoch"
            got = call(batches, np.arange(10), 4)
            close(np.concatenate(got), np.arange(10), "the batches put together",
                  {"the last, shorter batch is missing": np.arange(8)})
            return "every sample appears exactly once per epoch."

torch checks import torch inside the method; close() accepts tensors.
"""
import functools
import re
from dataclasses import dataclass

import numpy as np

from gdlab import descent, gradients
from gdlab.functions import Quadratic

__all__ = ["Result", "Chapter", "run", "call", "close", "number", "fail", "ch01", "ch02"]


@dataclass(frozen=True)
class Result:
    """The outcome of one check: status is "PASS", "FAIL" or "TODO"."""

    status: str
    task: str
    message: str

    @property
    def passed(self):
        return self.status == "PASS"

    def __str__(self):
        return f"{self.status} {self.task}: {self.message}"

    def _ipython_display_(self):
        """The line was printed already; show nothing more when a cell ends with a check."""


class _Fail(Exception):
    pass


class _Todo(Exception):
    pass


def fail(message):
    """Stop the check and report FAIL with `message` (one line, kind, precise)."""
    raise _Fail(message)


def run(task, test, *args, **kwargs):
    """Run `test(*args, **kwargs)`, print its one-line Result and return it.

    `test` returns the PASS message; fail() gives FAIL; NotImplementedError anywhere gives TODO.
    """
    try:
        status, message = "PASS", test(*args, **kwargs)
    except (_Todo, NotImplementedError) as todo:
        status, message = "TODO", _not_done(task, str(todo))
    except _Fail as failure:
        status, message = "FAIL", str(failure)
    except Exception as error:  # a return value the check could not even use
        status, message = "FAIL", f"your answer made the check fail with {_describe(error)}"
    result = Result(status, task, " ".join(message.split()))
    print(result)
    return result


def call(fn, *args, **kwargs):
    """Call the learner's `fn`: NotImplementedError becomes TODO, any other exception a FAIL naming it."""
    try:
        with np.errstate(all="ignore"):  # divergence is reported by the check, not by warnings
            return fn(*args, **kwargs)
    except NotImplementedError as error:
        raise _Todo(str(error)) from None
    except Exception as error:
        raise _Fail(f"{getattr(fn, '__name__', 'your function')} raised {_describe(error)}") from None


def close(actual, expected, name, mistakes=None, rtol=1e-6, atol=1e-9):
    """FAIL unless `actual` is `expected`; when it matches a known wrong answer, say which.

    mistakes: {hint: wrong value}, looked at before the generic ones (wrong sign, factor of 2).
    Returns `actual` as an array.
    """
    actual = _array(actual, name)
    expected = np.asarray(expected, dtype=float)
    if actual.shape == expected.shape and np.all(np.isfinite(actual)) and _near(actual, expected, rtol, atol):
        return actual
    generic = {"wrong sign: you have minus the right answer": -expected,
               "off by a factor of 2 (twice the right answer)": 2 * expected,
               "off by a factor of 2 (half the right answer)": expected / 2}
    for hint, wrong in {**(mistakes or {}), **generic}.items():
        wrong = np.asarray(wrong, dtype=float)
        if wrong.shape == actual.shape and _near(actual, wrong, rtol, atol):
            fail(f"{name}: {hint}.")
    if actual.shape != expected.shape:
        fail(f"{name} has shape {actual.shape}, expected {expected.shape}{_shape_hint(actual, expected)}.")
    if not np.all(np.isfinite(actual)):
        fail(f"{name} contains NaN or inf: {_show(actual)}.")
    scale = max(np.linalg.norm(actual), np.linalg.norm(expected))
    fail(f"{name} is {_show(actual)}, expected {_show(expected)} "
         f"(relative error {np.linalg.norm(actual - expected) / scale:.2g}).")


def number(value, name):
    """The learner's answer as a float, or FAIL saying why it is not one number."""
    value = _array(value, name)
    if value.shape != ():
        fail(f"{name} should be one number, got an array of shape {value.shape}.")
    return float(value)


class Chapter:
    """Base of the per-chapter namespaces: each method taskN(...) of a subclass becomes a check."""

    def __init_subclass__(cls):
        for name, test in list(vars(cls).items()):
            if re.fullmatch(r"task\d+", name):
                setattr(cls, name, staticmethod(_as_check(name, test)))


def _as_check(name, test):
    title = f"Task {name[4:]} · {test.__doc__.splitlines()[0].rstrip('.')}"

    @functools.wraps(test)
    def check(*args, **kwargs):
        return run(title, test, *args, **kwargs)

    return check


def _not_done(task, error_message):
    this = re.match(r"Task (\d+)", task)
    other = re.match(r"Task (\d+)", error_message)
    if other and this and other.group(1) != this.group(1):
        return f"this task uses Task {other.group(1)}, which is not implemented yet: finish it first."
    if other or not error_message:
        return ("not implemented yet: replace `raise NotImplementedError(...)` with your code, "
                "run that cell, then this check again.")
    return f"your code raised NotImplementedError: {error_message}"


def _describe(error):
    text = " ".join(str(error).split())
    return type(error).__name__ + (f": {text[:200]}" if text else "")


def _array(value, name):
    if value is None:
        fail(f"{name} is None: did you forget `return`?")
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        fail(f"{name} should be numbers, got a {type(value).__name__}.")


def _near(a, b, rtol, atol):
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _shape_hint(actual, expected):
    if expected.ndim == 0:
        return ": return one number"
    if expected.ndim == 2 and actual.shape == expected.shape[::-1]:
        return ": rows and columns are swapped (transposed)"
    if actual.size == expected.size:
        return ": as many numbers, arranged differently; a column (n, 1) instead of a flat (n,) array?"
    return ""


def _show(a):
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return f"{float(a):.4g}"
    flat = a.ravel()
    body = ", ".join(f"{v:.4g}" for v in flat[:6]) + (", ..." if flat.size > 6 else "")
    return f"[{body}]" + (f" (shape {a.shape})" if a.ndim > 1 else "")


# ---------------------------------------------------------------------------------------------
# 01 · Gradients by hand


def _cubic(x):
    return x**3 - 2 * x**2 + 3 * x - 1


def _bumpy(x):
    """f(x) = sum(exp(x)) + x0 * x1^2, the function the finite-difference tasks differentiate."""
    return np.sum(np.exp(x)) + x[0] * x[1] ** 2


def _bumpy_grad(x):
    return np.exp(x) + np.array([x[1] ** 2, 2 * x[0] * x[1], 0.0])


class ch01(Chapter):
    """01 · Gradients by hand."""

    def task1(derivative):
        "the derivative of a cubic"
        xs = np.array([-2.0, -0.5, 0.0, 1.0, 2.5])
        got = [number(call(derivative, x), f"derivative({x:g})") for x in xs]
        close(got, 3 * xs**2 - 4 * xs + 3, "your f'(x) at x = -2, -0.5, 0, 1, 2.5", {
            "the derivative of 2x² is 4x (the power 2 comes down as a factor)": 3 * xs**2 - 2 * xs + 3,
            "the derivative of x³ is 3x² (the power 3 comes down as a factor)": xs**2 - 4 * xs + 3,
            "the derivative of 3x is 3: it is missing": 3 * xs**2 - 4 * xs,
            "the constant -1 has derivative 0: drop it": 3 * xs**2 - 4 * xs + 2,
            "that is f(x) itself, not its derivative": _cubic(xs),
        })
        return "f'(x) = 3x² - 4x + 3 matches at 5 points."

    def task2(quadratic_gradient):
        "the gradient of a quadratic"
        rng = np.random.default_rng(1)
        for d in (2, 3):
            M = rng.normal(size=(d, d))
            A, b, x = M @ M.T + np.eye(d), rng.normal(size=d), rng.normal(size=d)
            close(call(quadratic_gradient, A, b, x), A @ x - b, f"your gradient for a {d}-D quadratic", {
                "forgot the ½: the gradient of ½ xᵀAx is A x (the 2 from the square cancels it)": 2 * A @ x - b,
                "the ½ should cancel: differentiating xᵀAx gives 2 A x, times ½ is A x": 0.5 * A @ x - b,
                "the gradient of -bᵀx is -b, not +b": A @ x + b,
                "the linear term -bᵀx is missing; its gradient is -b": A @ x,
            })
        return "∇f(x) = A x - b, checked on a 2-D and a 3-D quadratic."

    def task3(mse_gradient):
        "the gradient of the mean squared error"
        rng = np.random.default_rng(2)
        n, d = 8, 3
        X, y, w = rng.normal(size=(n, d)), rng.normal(size=n), rng.normal(size=d)
        r = X @ w - y
        close(call(mse_gradient, X, y, w), 2 / n * X.T @ r, "your gradient", {
            "the 2 from the square is missing: the gradient is (2/n) Xᵀ(Xw - y)": X.T @ r / n,
            "that is the gradient of the sum; the mean divides it by n (the number of rows)": 2 * X.T @ r,
            "the residual is Xw - y; with y - Xw the gradient points the wrong way": -2 / n * X.T @ r,
            "you have one gradient per sample, shape (n, d); average them over the rows": 2 / n * X * r[:, None],
            "those are the n residuals; multiply by Xᵀ to get one entry per weight": 2 / n * r,
        })
        return "(2/n) Xᵀ(Xw - y) matches."

    def task4(central_difference):
        "central differences"
        x, h = np.array([0.5, -1.0, 2.0]), 1e-4
        given = x.copy()
        got = call(central_difference, _bumpy, given, h)
        if not np.allclose(given, x, rtol=1e-12, atol=1e-15):
            fail("your function changed x in place (x_plus = x does not copy); use x_plus = x.copy().")
        unit = np.eye(3) * h
        forward = np.array([(_bumpy(x + e) - _bumpy(x)) / h for e in unit])
        backward = np.array([(_bumpy(x) - _bumpy(x - e)) / h for e in unit])
        central = gradients.numerical_gradient(_bumpy, x, h=h)
        close(got, central, f"your gradient at x = {_show(x)} with h = {h:g}", {
            "that is the forward difference (f(x + h) - f(x)) / h; use f(x + h) and f(x - h)": forward,
            "that is the backward difference (f(x) - f(x - h)) / h; use f(x + h) and f(x - h)": backward,
            "divide by 2h: x + h and x - h are 2h apart": 2 * central,
        }, rtol=1e-7, atol=1e-10)
        exact = _bumpy_grad(x)
        errors = [np.linalg.norm(g - exact) / np.linalg.norm(exact) for g in (got, forward)]
        return "matches; relative error against the exact gradient {:.1e}, forward differences {:.1e}.".format(*errors)

    def task5(gradient_check):
        "a gradient check"
        x = np.array([0.5, -1.0, 2.0])
        right = number(call(gradient_check, _bumpy, _bumpy_grad, x.copy()), "the error of the right gradient")
        if not right < 1e-7:
            fail(f"the right gradient gets relative error {right:.2g}; it should be tiny (< 1e-7). "
                 "Compare grad(x) with central_difference(f, x) and divide by the larger norm.")

        def slipped(z):
            return _bumpy_grad(z) * np.array([1.0, -1.0, 1.0])

        g, numeric = slipped(x), gradients.numerical_gradient(_bumpy, x, h=1e-5)
        gap, expected = np.linalg.norm(g - numeric), gradients.gradient_check(_bumpy, slipped, x, h=1e-5)
        bug = close(call(gradient_check, _bumpy, slipped, x.copy()), expected,
                    "the relative error of a gradient with one wrong sign", {
                        "that is the absolute error ||g - g_num||; divide by max(||g||, ||g_num||)": gap,
                        "divide by max(||g||, ||g_num||), not by ||g|| + ||g_num||":
                            gap / (np.linalg.norm(g) + np.linalg.norm(numeric)),
                        "divide by the larger of the two norms, max(||g||, ||g_num||)":
                            gap / min(np.linalg.norm(g), np.linalg.norm(numeric)),
                    }, rtol=1e-4)
        zero_case = "when both gradients are zero the relative error is 0/0: return 0.0 in that case"
        try:
            flat = number(call(gradient_check, lambda z: 3.0, lambda z: np.zeros(3), x.copy()), "your error")
        except _Fail as failure:
            fail(f"{failure} ({zero_case}).")
        if flat != 0.0:
            fail(f"{zero_case}; you returned {flat:.3g}.")
        return f"right gradient < 1e-7, a sign slip in one component gives {float(bug):.3f}: the check catches it."

    def task6(best_step):
        "the best step size"
        hs, xs, chosen = 10.0 ** -np.arange(1, 13), np.linspace(0.0, 2.0, 21), []
        for dtype in (np.float64, np.float32):
            def f(z, dtype=dtype):
                return np.exp(np.asarray(z).astype(dtype))

            central = np.array([np.max(abs((f(xs + h) - f(xs - h)) / (2 * h) - np.exp(xs))) for h in hs])
            forward = np.array([np.max(abs((f(xs + h) - f(xs)) / h - np.exp(xs))) for h in hs])
            h = number(call(best_step, f, np.exp, xs.copy(), hs.copy()), f"your best h in {dtype.__name__}")
            match = np.isclose(hs, h, rtol=1e-9, atol=0)
            if not match.any():
                what = "an index: return the step itself, hs[i]" if h in range(len(hs)) else \
                    "not one of hs: return the step h with the smallest error (not the error)"
                fail(f"{h:g} is {what}.")
            chosen.append(h)
            if central[match][0] <= 1.5 * central.min():
                continue
            best = hs[np.argmin(central)]
            if match[-1]:
                fail(f"in {dtype.__name__} the smallest h is not the best: round-off error (about eps/h) grows "
                     f"as h shrinks; measure the error for every h (the best here is {best:.0e}).")
            if match[np.argmin(forward)]:
                fail(f"{h:.0e} is the best step for forward differences; with central differences "
                     f"(f(x + h) - f(x - h)) / 2h the best step in {dtype.__name__} is larger.")
            fail(f"in {dtype.__name__}, h = {h:.0e} has a largest error of {central[match][0]:.1e}, "
                 f"but h = {best:.0e} gives {central.min():.1e}.")
        return f"the bottom of the U is at h = {chosen[0]:.0e} in float64 and h = {chosen[1]:.0e} in float32."


# ---------------------------------------------------------------------------------------------
# 02 · Gradient descent

_Q2 = Quadratic([[3.0, 1.0], [1.0, 2.0]], [1.0, 0.0])


def _rotated(L, mu):
    c, s = np.cos(0.5), np.sin(0.5)
    R = np.array([[c, -s], [s, c]])
    return Quadratic(R @ np.diag([L, mu]) @ R.T)


def _descend(grad, x0, lr, steps, sign=-1.0):
    xs = [np.array(x0, dtype=float)]
    for _ in range(steps):
        xs.append(xs[-1] + sign * lr * grad(xs[-1]))
    return np.array(xs)


def _outcome(trace):
    return {"converged": f"converges in {trace.steps} steps",
            "diverged": f"diverges (step {trace.steps})",
            "max_steps": f"has not converged after {trace.steps} steps"}[trace.status]


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
        })
        if not np.array_equal(given, x0):
            fail("your function changed the caller's x0 in place; start from x = np.array(x0, dtype=float).")
        return f"{steps} updates, {steps + 1} points, x0 untouched."

    def task2(steps_to_tolerance):
        "a stopping criterion"
        cases = [  # (x0, lr, max_steps, why None would be right)
            (np.array([2.0, -1.0]), 0.3, 10_000, None),
            (_Q2.minima[0], 0.3, 10_000, None),
            (np.array([2.0, -1.0]), 0.6, 10_000, "lr = 0.6 > 2/L diverges"),
            (np.array([2.0, -1.0]), 1e-4, 50, "lr = 1e-4 is far too slow to reach tol in 50 steps"),
        ]
        for x0, lr, max_steps, why in cases:
            expected = _steps(_Q2, x0, lr, max_steps=max_steps)
            got = call(steps_to_tolerance, _Q2.grad, x0.copy(), lr, 1e-6, max_steps)
            where = f"from x0 = {_show(x0)} with lr = {lr:g}, max_steps = {max_steps}"
            if expected is None:
                if got is not None:
                    fail(f"{where}: you returned {got!r}; {why}, so return None.")
                continue
            got = number(got, f"your step count {where}")
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
        for A in (_Q2.A, np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])):
            eig = np.linalg.eigvalsh(A)
            close(call(largest_stable_lr, A.copy()), 2 / eig[-1], f"your lr for A = {A.tolist()}", {
                "1/L guarantees that the loss decreases every step, but GD still converges up to 2/L": 1 / eig[-1],
                "that is 2/μ, from the smallest eigenvalue; the bound comes from the largest, L": 2 / eig[0],
                "use the largest eigenvalue of A, not its largest diagonal entry": 2 / A.diagonal().max(),
                "that is L itself; the bound is 2/L": eig[-1],
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
        got = number(call(fastest_lr, q.grad, x0.copy(), lrs.copy()), "your fastest lr")
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
        fail(f"lr = {got:g} takes {steps[k]} steps; another lr in lrs needs fewer.")

    def task5(standardize):
        "feature scaling"
        rng = np.random.default_rng(5)
        n = 200
        X = np.column_stack([rng.uniform(18, 70, n), rng.normal(50_000, 15_000, n), rng.integers(8, 21, n)])
        y = X @ np.array([0.02, 3e-5, 0.1]) + rng.normal(0, 0.1, n)
        mean, std = X.mean(axis=0), X.std(axis=0)
        got = _array(call(standardize, X.copy()), "your standardised X")
        with_ddof1 = (X - mean) / X.std(axis=0, ddof=1)  # the sample std is fine too
        Z = close(got, with_ddof1 if _near(got, with_ddof1, 1e-6, 1e-9) else (X - mean) / std, "your standardised X", {
            "you standardised each row; standardise each column (axis=0)":
                (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True),
            "subtract the column mean too": X / std,
            "divide by the standard deviation, not the variance": (X - mean) / X.var(axis=0),
            "use per-column statistics (axis=0), not one mean and std for the whole matrix": (X - X.mean()) / X.std(),
            "that is min-max scaling; here each column should get mean 0 and standard deviation 1":
                (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0)),
            "now divide each column by its standard deviation": X - mean,
        })
        report = []
        for features in (X, Z):
            H = 2 / n * features.T @ features
            q = Quadratic((H + H.T) / 2, 2 / n * features.T @ y)
            trace = descent.gradient_descent(q, q.grad, np.zeros(3), 1 / q.L, steps=2000, tol=1e-6)
            report.append(f"condition number {q.condition_number:.3g}, GD with lr = 1/L {_outcome(trace)}")
        return f"raw features: {report[0]}; standardised: {report[1]}."
