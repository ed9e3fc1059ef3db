"""Checks for exercises/04_momentum_nesterov.ipynb."""
import functools
import re

import numpy as np

from gdlab import optim
from gdlab.check.core import Chapter, Failed, call, close, fail, number
from gdlab.descent import minimize
from gdlab.functions import Quadratic, rosenbrock

_Q2 = Quadratic([[3.0, 1.0], [1.0, 2.0]], [1.0, 0.0])
_ROSENBROCK_START, _ROSENBROCK_LR, _ROSENBROCK_TOL, _ROSENBROCK_STEPS = (-1.2, 1.0), 1e-3, 1e-6, 20_000
_MOMENTA = (0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995)
_UNSORTED = ("np.linalg.eigvals does not sort the eigenvalues, so its first and last are not mu and L: take their "
             "min() and max(), or use np.linalg.eigvalsh (sorted, for symmetric matrices)")
_TRACE = "L is the largest eigenvalue of A, not its trace (the sum of all the eigenvalues)"
_SECOND = ("mu is the smallest eigenvalue of A; with more than two, take the first of np.linalg.eigvalsh(A), or "
           "min()")


def _rotated(eigenvalues, angle=0.5):
    """A symmetric matrix with these eigenvalues whose axes are turned in the plane of the first two coordinates."""
    d = len(eigenvalues)
    R = np.eye(d)
    R[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    A = R @ np.diag(eigenvalues) @ R.T
    return (A + A.T) / 2


def _sgd(x0, lr, steps, **hyperparameters):
    """The iterates of gdlab.optim.SGD (torch's arithmetic) on _Q2."""
    return minimize(_Q2, _Q2.grad, x0, optim.SGD(lr=lr, **hyperparameters), steps=steps, tol=0.0).xs


def _variant(x0, lr, steps, momentum, weight=1.0, first=1.0, nesterov=False):
    """Iterates of a momentum method on _Q2, right or wrong: the buffer starts at first * g, then
    b = momentum * b + weight * g; the step is lr * b, or lr * (g + momentum * b) for Nesterov."""
    x, b = np.array(x0, dtype=float), None
    xs = [x]
    for _ in range(steps):
        g = _Q2.grad(x)
        b = first * g if b is None else momentum * b + weight * g
        step = g + momentum * b if nesterov else b
        x = x - lr * step
        xs.append(x)
    return np.array(xs)


def _textbook_nesterov(x0, lr, momentum, steps):
    """The points x_k of Nesterov's textbook form (gradients at y_k = x_k + momentum * (x_k - x_{k-1}))."""
    x_prev = x = np.array(x0, dtype=float)
    xs = [x]
    for _ in range(steps):
        y = x + momentum * (x - x_prev)
        x, x_prev = y - lr * _Q2.grad(y), x
        xs.append(x)
    return np.array(xs)


def _iterates_mistakes(right, lr, steps, run):
    """The off-by-one and shape mistakes of any run returning iterates; `run(lr, steps)` makes the iterates."""
    return {
        "you moved uphill: the step is x - lr * (...), not x + lr * (...)": run(-lr, steps),
        "x0 is missing: the first row is the starting point, then one row per update": right[1:],
        "one update short: `steps` updates give steps + 1 points, x0 included": right[:-1],
        "one update too many: `steps` updates give steps + 1 points, x0 included": run(lr, steps + 1),
        "you returned only the last point; return every iterate, stacked: np.array(xs)": right[-1],
        "every row is the same point: x changed in place after you stored it; store x.copy() "
        "or write x = x - lr * ...": np.tile(right[-1], (steps + 1, 1)),
        "the first row is not x0 but the last point: you stored x itself first (xs = [x]), then changed it in "
        "place (x -= ...); store a copy, xs = [x.copy()], or write x = x - lr * ...":
            np.vstack([right[-1], right[1:]]),
    }


def _quadratic_trace(eigenvalues, lr, momentum, steps, x_star=(0.0, 0.0)):
    """SGD with momentum on the quadratic with Hessian diag(eigenvalues) and minimum x_star, from (-2.5, 1.5)."""
    A = np.diag(eigenvalues)
    q = Quadratic(A, A @ np.asarray(x_star))
    return minimize(q, q.grad, [-2.5, 1.5], optim.SGD(lr=lr, momentum=momentum), steps=steps, tol=0.0)


@functools.lru_cache(maxsize=None)
def _rosenbrock_runs(nesterov, start=_ROSENBROCK_START, tol=_ROSENBROCK_TOL):
    """{momentum: (status, steps)} of SGD on Rosenbrock in Task 5's setting (or from another start, to another tol)."""
    return {m: (t.status, t.steps) for m in _MOMENTA for t in [minimize(
        rosenbrock, rosenbrock.grad, start, optim.SGD(lr=_ROSENBROCK_LR, momentum=m, nesterov=nesterov),
        steps=_ROSENBROCK_STEPS, tol=tol)]}


# Task 5 run in another setting than the one asked: {what to say: keyword arguments of _rosenbrock_runs}
_OTHER_SETTINGS = {
    "that is the count from chapter 04's start (-1.5, 2); this task starts at the classic (-1.2, 1)":
        {"start": (-1.5, 2.0)},
    "that is the count with minimize's default tol = 1e-8; this task stops at |grad| <= 1e-6, tol=1e-6":
        {"tol": 1e-8},
}


def _fastest(runs):
    return min((steps, m) for m, (status, steps) in runs.items() if status == "converged")[::-1]


def _quadratic_min(eigenvalues, x_star):
    """f* of the quadratic of _quadratic_trace: f(x*) = -x*ᵀ A x* / 2."""
    return -0.5 * np.sum(np.asarray(eigenvalues) * np.asarray(x_star) ** 2)


def _call_rate(convergence_rate, trace, x_star, n):
    """The learner's convergence_rate(trace, x_star); a hint for the index errors of a wrongly shaped error array."""
    try:
        return call(convergence_rate, trace, x_star)
    except Failed as failure:
        message = str(failure)
        if "invalid index to scalar variable" in message or re.search(r"with size 2\b", message):
            fail("your errors are not one number per step: the error of step k is the norm of row k, "
                 "np.linalg.norm(trace.xs - x_star, axis=1) (without axis=1, norm returns one number for the whole "
                 "array; axis=0 gives one per coordinate).")
        if f"index {n + 1} is out of bounds" in message:
            fail(f"n is trace.steps = {n}: a run of n updates has n + 1 points, indexed 0 to n, so len(trace.xs) "
                 "is one more than n.")
        raise


class ch04(Chapter):
    """04 · Momentum and Nesterov."""

    def task1(sgd_momentum):
        "heavy ball in torch's form"
        x0, steps = np.array([2.0, -1.0]), 12
        for lr, momentum, dampening in ((0.1, 0.9, 0.0), (0.2, 0.5, 0.3)):
            given = x0.copy()
            right = _sgd(x0, lr, steps, momentum=momentum, dampening=dampening)
            got = call(sgd_momentum, _Q2.grad, given, lr, momentum, dampening, steps)
            close(got, right, f"your iterates (lr = {lr}, momentum = {momentum}, dampening = {dampening})", {
                "momentum has no effect: that is plain gradient descent; keep the buffer b from one step to the next":
                    _variant(x0, lr, steps, 0.0),
                "the first buffer must be the first gradient, undamped (torch's b_0 = g_0), and only the later "
                "gradients enter it multiplied by (1 - dampening). Starting from b = 0, or multiplying the whole step "
                "by (1 - dampening), damps the first gradient too":
                    _variant(x0, lr, steps, momentum, 1 - dampening, first=1 - dampening),
                "the first gradient entered the buffer twice (b = g, then b = momentum * b + ... at the same step); "
                "at the first step b = g only": _variant(x0, lr, steps, momentum, 1 - dampening,
                                                          first=momentum + 1 - dampening),
                "dampening is ignored: new gradients enter the buffer multiplied by (1 - dampening)":
                    _variant(x0, lr, steps, momentum),
                "the gradient is multiplied by dampening; it should be (1 - dampening)":
                    _variant(x0, lr, steps, momentum, dampening),
                "that is an exponential moving average, b = momentum * b + (1 - momentum) * g; torch adds "
                "(1 - dampening) * g": _variant(x0, lr, steps, momentum, 1 - momentum),
                **_iterates_mistakes(right, lr, steps,
                                     lambda lr_, n, m=momentum, d=dampening: _variant(x0, lr_, n, m, 1 - d)),
            })
            if not np.array_equal(given, x0):
                fail("your function changed the caller's x0 in place; start from x = np.array(x0, dtype=float).")
        return f"equal to gdlab.optim.SGD (torch's arithmetic), dampening included, over {steps} steps."

    def task2(nesterov_momentum):
        "Nesterov's step"
        x0, lr, momentum, steps = np.array([2.0, -1.0]), 0.1, 0.9, 12
        right = _sgd(x0, lr, steps, momentum=momentum, nesterov=True)
        got = call(nesterov_momentum, _Q2.grad, x0.copy(), lr, momentum, steps)
        close(got, right, f"your iterates (lr = {lr}, momentum = {momentum})", {
            "that is heavy ball, x -= lr * b (g + momentum * b with the buffer from before its update is the same "
            "thing); update b first, then step with g + momentum * b": _variant(x0, lr, steps, momentum),
            "those are the points x_k of the textbook form; torch's parameters are the look-ahead points "
            "y_k = x_k + momentum * (x_k - x_{k-1}), which the form g + momentum * b follows":
                _textbook_nesterov(x0, lr, momentum, steps),
            "momentum has no effect: that is plain gradient descent": _variant(x0, lr, steps, 0.0),
            "that buffer is an exponential moving average, b = momentum * b + (1 - momentum) * g; torch's adds the "
            "whole gradient, b = momentum * b + g": _variant(x0, lr, steps, momentum, 1 - momentum, nesterov=True),
            **_iterates_mistakes(right, lr, steps, lambda lr_, n: _variant(x0, lr_, n, momentum, nesterov=True)),
        })
        return "equal to gdlab.optim.SGD(nesterov=True), whose iterates are Nesterov's look-ahead points."

    def task3(best_heavy_ball):
        "the best constants from the Hessian"
        for eigenvalues in ((0.25, 1.0, 4.0), (4.0, 1.0, 9.0), (1.0, 100.0)):
            A = _rotated(eigenvalues)
            mu, L = min(eigenvalues), max(eigenvalues)
            s = np.sqrt(L / mu)
            where = f"for A with eigenvalues {', '.join(f'{v:g}' for v in sorted(eigenvalues))}"
            first, last = np.linalg.eigvals(A)[[0, -1]].real  # LAPACK's order, not sorted
            unsorted = np.sqrt(max(first, last) / min(first, last))
            got = call(best_heavy_ball, A.copy())
            if not (isinstance(got, (tuple, list)) and len(got) == 2):
                fail(f"{where}: return a pair (lr, momentum), got {type(got).__name__}.")
            lr, momentum = number(got[0], f"your lr {where}"), number(got[1], f"your momentum {where}")
            d_mu, d_L = A.diagonal().min(), A.diagonal().max()
            trace_L, second = np.trace(A), sorted(eigenvalues)[1]
            close(lr, 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2, f"your lr {where}", {
                "that is gradient descent's best step 2/(L + μ); heavy ball's is 4/(√L + √μ)²": 2 / (L + mu),
                "square the denominator: lr = 4/(√L + √μ)²": 4 / (np.sqrt(L) + np.sqrt(mu)),
                "use the square roots of the eigenvalues: lr = 4/(√L + √μ)²": 4 / (L + mu),
                "that is 1/L; heavy ball's best step is 4/(√L + √μ)², larger": 1 / L,
                "use the eigenvalues of A, not its diagonal entries": 4 / (np.sqrt(d_L) + np.sqrt(d_mu)) ** 2,
                _UNSORTED: 4 / (np.sqrt(first) + np.sqrt(last)) ** 2,
                _TRACE: 4 / (np.sqrt(trace_L) + np.sqrt(mu)) ** 2,
                _SECOND: 4 / (np.sqrt(L) + np.sqrt(second)) ** 2,
            })
            close(momentum, ((s - 1) / (s + 1)) ** 2, f"your momentum {where}", {
                "that is the rate (√κ - 1)/(√κ + 1); the momentum is its square": (s - 1) / (s + 1),
                "use √κ, not κ: momentum = ((√κ - 1)/(√κ + 1))²": ((s**2 - 1) / (s**2 + 1)) ** 2,
                "that is gradient descent's rate (κ - 1)/(κ + 1); the momentum is ((√κ - 1)/(√κ + 1))²":
                    (s**2 - 1) / (s**2 + 1),
                "use the eigenvalues of A, not its diagonal entries":
                    ((np.sqrt(d_L / d_mu) - 1) / (np.sqrt(d_L / d_mu) + 1)) ** 2,
                _UNSORTED: ((unsorted - 1) / (unsorted + 1)) ** 2,
                _TRACE: ((np.sqrt(trace_L / mu) - 1) / (np.sqrt(trace_L / mu) + 1)) ** 2,
                _SECOND: ((np.sqrt(L / second) - 1) / (np.sqrt(L / second) + 1)) ** 2,
            })
        errors = np.linalg.norm(_quadratic_trace((mu, L), lr, momentum, 1000).xs, axis=1)
        measured = (errors[-1] / errors[500]) ** (1 / 500)
        return (f"for κ = {L / mu:g}: lr = {lr:.4f}, momentum = {momentum:.4f}; a run with them contracts by "
                f"{measured:.4f} per step (theory (√κ - 1)/(√κ + 1) = {(s - 1) / (s + 1):.4f}; the run is a little "
                f"slower because of the double root, chapter 04 section 4; gradient descent at its best: "
                f"{(L / mu - 1) / (L / mu + 1):.4f}).")

    def task4(convergence_rate):
        "measure a convergence rate"
        runs = [("gradient descent, lr = 2/(L+μ), κ = 50", (1 / 50, 1.0), 2 / (1 + 1 / 50), 0.0, 200, 49 / 51),
                ("heavy ball, lr = 1, momentum = 0.9, κ = 100", (0.01, 1.0), 1.0, 0.9, 300, np.sqrt(0.9))]
        x_star = np.array([1.0, -2.0])
        report = []
        for name, eigenvalues, lr, momentum, steps, theory in runs:
            trace = _quadratic_trace(eigenvalues, lr, momentum, steps, x_star)
            e = np.linalg.norm(trace.xs - x_star, axis=1)
            n, h = steps, steps // 2
            gaps = trace.losses - _quadratic_min(eigenvalues, x_star)  # f(x_k) - f*

            def tail(values, n=n, h=h):
                return (values[n] / values[h]) ** (1 / (n - h))

            got = close(_call_rate(convergence_rate, trace, x_star, n), tail(e), f"your rate for {name}", {
                "that shrinks like the rate squared: squared errors |x_k - x*|² (and the losses f(x) - f*) fall "
                "like rate² per step; use the errors |x_k - x*| themselves, np.linalg.norm(trace.xs - x_star, "
                "axis=1)": tail(e**2),
                "that is measured on the losses f(x) - f*, which shrink like the rate squared; use the errors "
                "|x_k - x*|": tail(gaps),
                "that is the square root of the loss ratio: close, but measure the errors |x_k - x*| as asked":
                    np.sqrt(tail(gaps)),
                "that is measured on the losses f(x) themselves, which approach f*, not 0; use the errors "
                "|x_k - x*|": tail(trace.losses),
                "that measures |x_k|, the distance to 0; the error is the distance to the minimum, |x_k - x_star|":
                    tail(np.linalg.norm(trace.xs, axis=1)),
                "that is one rate per coordinate; the error of a point is one number, the norm of its row: "
                "np.linalg.norm(trace.xs - x_star, axis=1)": tail(np.abs(trace.xs - x_star)),
                "that is the shrink over all n - h steps of the second half; the rate per step is its (n - h)-th "
                "root": e[n] / e[h],
                "that is the arithmetic mean of the ratios; a rate multiplies, so take the geometric mean, "
                "(e_n / e_h)^(1/(n - h))": np.mean(e[h + 1:] / e[h:-1]),
                "that is measured over the whole run, start-up included; use the second half, from h = n // 2":
                    (e[n] / e[0]) ** (1 / n),
                "that is measured over the first half; use the second half, from h = n // 2 to n":
                    (e[h] / e[0]) ** (1 / h),
                "count the ratios: from index h to n there are n - h of them, so the exponent is 1/(n - h)":
                    (e[n] / e[h]) ** (1 / (n - h + 1)),
                "that uses the gradient norms; measure the errors |x_k - x*|": tail(trace.grad_norms),
                "that is a straight-line fit of log e_k over the second half; the task asks for the geometric "
                "mean of the ratios, (e_n / e_h)^(1/(n - h)), which uses only its two ends":
                    np.exp(np.polyfit(np.arange(h, n + 1), np.log(e[h:]), 1)[0]),
                "that is the median of the ratios; the task asks for their geometric mean, (e_n / e_h)^(1/(n - h))":
                    np.median(e[h + 1:] / e[h:-1]),
                "use the Euclidean norm of each row, np.linalg.norm(trace.xs - x_star, axis=1), not the largest "
                "coordinate": tail(np.abs(trace.xs - x_star).max(axis=1)),
                "use the Euclidean norm of each row, np.linalg.norm(trace.xs - x_star, axis=1), not the mean of "
                "the absolute values": tail(np.abs(trace.xs - x_star).mean(axis=1)),
            })
            report.append(f"{name}: {float(got):.5f} (theory {theory:.5f})")
        return "; ".join(report) + "."

    def task5(fastest_momentum):
        "the best momentum on Rosenbrock"
        found = {}
        for nesterov in (False, True):
            runs = _rosenbrock_runs(nesterov)
            best, best_steps = _fastest(runs)
            name = "Nesterov" if nesterov else "heavy ball"
            got = call(fastest_momentum, list(_MOMENTA), nesterov)
            if not (isinstance(got, (tuple, list)) and len(got) == 2):
                fail(f"{name}: return a pair (momentum, steps), got {type(got).__name__}.")
            momentum, steps = number(got[0], f"{name}: your momentum"), number(got[1], f"{name}: your step count")
            match = np.isclose(_MOMENTA, momentum, rtol=1e-9, atol=0)
            if not match.any():
                fail(f"{name}: {momentum:g} is not one of momenta; return the momentum itself, "
                     "not an index or a count.")
            momentum = _MOMENTA[int(np.argmax(match))]
            if (momentum, steps) != (best, best_steps):
                for hint, setting in _OTHER_SETTINGS.items():
                    if _rosenbrock_runs(nesterov, **setting)[momentum] == ("converged", steps):
                        fail(f"{name}: momentum {momentum:g} in {steps:g} steps: {hint}.")
            status, its_steps = runs[momentum]
            if status == "diverged":
                fail(f"{name}: momentum {momentum:g} diverged (at step {its_steps}); a diverged run cannot win: "
                     "look at trace.status, not only trace.steps.")
            if nesterov and (momentum, steps) == _fastest(_rosenbrock_runs(False)) != (best, best_steps):
                fail("Nesterov: that is heavy ball's answer; pass nesterov=nesterov to optim.SGD.")
            if momentum != best:
                largest = " More momentum is not always faster." if momentum == max(_MOMENTA) else ""
                fail(f"{name}: momentum {momentum:g} needs {its_steps} steps; another momentum needs fewer.{largest}")
            if steps in (best_steps - 1, best_steps + 1):
                fail(f"{name}: momentum {momentum:g} is right but it needs {best_steps} updates, not {steps:g}: "
                     "count updates (trace.steps), not points.")
            if steps != best_steps:
                fail(f"{name}: momentum {momentum:g} is right but it needs {best_steps} steps, not {steps:g}.")
            found[name] = (best, best_steps)
        diverged = [m for m, (status, _) in _rosenbrock_runs(True).items() if status == "diverged"]
        (hb, hb_steps), (nag, nag_steps) = found.values()
        return (f"heavy ball: momentum {hb:g} in {hb_steps} steps; Nesterov: momentum {nag:g} in {nag_steps} steps, "
                f"but it diverges from momentum {min(diverged):g} on, where heavy ball still converges.")
