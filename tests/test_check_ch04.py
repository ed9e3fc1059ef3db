"""gdlab.check.ch04: right answers PASS, untouched tasks TODO, and planted mistakes FAIL with the right hint."""
import functools

import numpy as np
import pytest

from conftest import assert_reports, stub
from gdlab import check, optim
from gdlab.check.chapter04 import _rotated
from gdlab.descent import minimize
from gdlab.functions import rosenbrock

# ---------------------------------------------------------------------------------------------
# Tasks 1 and 2: momentum runs, right and with planted mistakes


def momentum_run(grad, x0, lr, momentum, dampening, steps, first=None, weight=None, nesterov=None, sign=-1.0,
                 extra=0, keep_buffer=True):
    """torch's SGD with momentum, and its common mistakes by keyword:
    first: the first buffer as a multiple of g (torch: 1); weight: of new gradients (torch: 1 - dampening);
    nesterov: None (heavy ball), "new" or "old" (the buffer after or before its update)."""
    first = 1.0 if first is None else first
    weight = 1 - dampening if weight is None else weight
    x = np.array(x0, dtype=float)
    xs, b = [x], None
    for _ in range(steps + extra):
        g = grad(x)
        old = np.zeros_like(g) if b is None else b
        b = first * g if b is None or not keep_buffer else momentum * b + weight * g
        step = b if nesterov is None else g + momentum * (b if nesterov == "new" else old)
        x = x + sign * lr * step
        xs.append(x)
    return np.array(xs)


def sgd_momentum(grad, x0, lr, momentum, dampening, steps):
    return momentum_run(grad, x0, lr, momentum, dampening, steps)


def polyak(grad, x0, lr, momentum, dampening, steps):
    """Polyak's form is the same method when dampening = 0, but it has no dampening: this fails the second case."""
    x_prev = x = np.array(x0, dtype=float)
    xs = [x]
    for _ in range(steps):
        x, x_prev = x - lr * grad(x) + momentum * (x - x_prev), x
        xs.append(x)
    return np.array(xs)


def zero_initialised_buffer(grad, x0, lr, momentum, dampening, steps):
    x, b = np.array(x0, dtype=float), np.zeros(len(x0))
    xs = [x]
    for _ in range(steps):
        b = momentum * b + (1 - dampening) * grad(x)
        x = x - lr * b
        xs.append(x)
    return np.array(xs)


def moves_x0_in_place(grad, x0, lr, momentum, dampening, steps):
    xs = momentum_run(grad, x0, lr, momentum, dampening, steps)
    x0 -= 1.0
    return xs


def appends_the_same_array(grad, x0, lr, momentum, dampening, steps):
    x = np.array(x0, dtype=float)
    xs, b = [x], None
    for _ in range(steps):
        g = grad(x)
        b = g if b is None else momentum * b + (1 - dampening) * g
        x -= lr * b
        xs.append(x)
    return np.array(xs)


def damped_step(grad, x0, lr, momentum, dampening, steps):
    """(1 - dampening) on the whole step instead of on the new gradients: the same iterates as a damped first buffer."""
    x, b = np.array(x0, dtype=float), None
    xs = [x]
    for _ in range(steps):
        g = grad(x)
        b = g if b is None else momentum * b + g
        x = x - lr * (1 - dampening) * b
        xs.append(x)
    return np.array(xs)


def aliased_first_row(grad, x0, lr, momentum, dampening, steps):
    """xs = [x], then x changed in place and copies appended: row 0 follows x to the end."""
    x = np.array(x0, dtype=float)
    xs, b = [x], None
    for _ in range(steps):
        g = grad(x)
        b = g if b is None else momentum * b + (1 - dampening) * g
        x -= lr * b
        xs.append(x.copy())
    return np.array(xs)


def nesterov(grad, x0, lr, momentum, steps, **mistake):
    return momentum_run(grad, x0, lr, momentum, 0.0, steps, nesterov=mistake.pop("form", "new"), **mistake)


def textbook_nesterov(grad, x0, lr, momentum, steps):
    x_prev = x = np.array(x0, dtype=float)
    xs = [x]
    for _ in range(steps):
        y = x + momentum * (x - x_prev)
        x, x_prev = y - lr * grad(y), x
        xs.append(x)
    return np.array(xs)


def raise_value_error(*_):
    raise ValueError("boom")


# ---------------------------------------------------------------------------------------------
# Task 3: the best constants


def constants(A, lr_rule="polyak", momentum_rule="polyak", diagonal=False, eigvals_order=False, L_rule=None,
              mu_rule=None):
    values = np.diag(A) if diagonal else np.linalg.eigvalsh(A)
    mu, L = values.min(), values.max()
    if L_rule == "trace":
        L = np.trace(A)
    if mu_rule == "second":
        mu = np.sort(values)[1]
    if eigvals_order:  # the habit of taking np.linalg.eigvals(A)[0] and [-1] as mu and L
        mu, L = np.linalg.eigvals(A)[[0, -1]].real
    kappa = L / mu
    s = np.sqrt(kappa)
    lr = {"polyak": 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2, "gd": 2 / (L + mu),
          "no square": 4 / (np.sqrt(L) + np.sqrt(mu)), "no roots": 4 / (L + mu), "1/L": 1 / L}[lr_rule]
    momentum = {"polyak": ((s - 1) / (s + 1)) ** 2, "rate": (s - 1) / (s + 1),
                "kappa": ((kappa - 1) / (kappa + 1)) ** 2, "gd rate": (kappa - 1) / (kappa + 1)}[momentum_rule]
    return lr, momentum


# ---------------------------------------------------------------------------------------------
# Task 4: convergence rates


def errors(trace, x_star):
    return np.linalg.norm(trace.xs - x_star, axis=1)


def tail_rate(values, n, start=None, extra=0, root=True):
    h = n // 2 if start is None else start
    return (values[n] / values[h]) ** (1 / (n - h + extra) if root else 1)


def loss_gaps(trace):
    """f(x_k) - f* on the check's quadratics: Hessian diag(1/50, 1) (200 steps) or diag(0.01, 1) (300), x* = (1, -2)."""
    smallest = {200: 1 / 50, 300: 0.01}[trace.steps]
    return trace.losses + 0.5 * (smallest * 1.0**2 + 1.0 * (-2.0) ** 2)


def rate_from(trace, x_star, quantity="errors", **kwargs):
    values = {"errors": errors(trace, x_star), "squared": errors(trace, x_star) ** 2, "losses": trace.losses,
              "gaps": loss_gaps(trace), "max abs": np.abs(trace.xs - x_star).max(axis=1),
              "mean abs": np.abs(trace.xs - x_star).mean(axis=1),
              "grad_norms": trace.grad_norms, "from 0": np.linalg.norm(trace.xs, axis=1),
              "no axis": np.linalg.norm(trace.xs - x_star), "axis 0": np.linalg.norm(trace.xs - x_star, axis=0),
              "per coordinate": np.abs(trace.xs - x_star)}[quantity]
    return tail_rate(values, trace.steps, **kwargs)


def arithmetic_mean_rate(trace, x_star):
    e, h = errors(trace, x_star), trace.steps // 2
    return np.mean(e[h + 1:] / e[h:-1])


def fitted_rate(trace, x_star):
    e, n = errors(trace, x_star), trace.steps
    return np.exp(np.polyfit(np.arange(n // 2, n + 1), np.log(e[n // 2:]), 1)[0])


def median_rate(trace, x_star):
    e, h = errors(trace, x_star), trace.steps // 2
    return np.median(e[h + 1:] / e[h:-1])


def first_half_rate(trace, x_star):
    e, h = errors(trace, x_star), trace.steps // 2
    return (e[h] / e[0]) ** (1 / h)


# ---------------------------------------------------------------------------------------------
# Task 5: the best momentum on Rosenbrock


@functools.lru_cache(maxsize=None)
def rosenbrock_run(momentum, nesterov, start=(-1.2, 1.0), tol=1e-6):
    trace = minimize(rosenbrock, rosenbrock.grad, list(start), optim.SGD(lr=1e-3, momentum=momentum, nesterov=nesterov),
                     steps=20_000, tol=tol)
    return trace.status, trace.steps


def fastest(momenta, nesterov, count_diverged=False, offset=0, ignore_flag=False, largest=False, **setting):
    runs = [(rosenbrock_run(m, False if ignore_flag else nesterov, **setting), m) for m in momenta]
    candidates = [(m if largest else -steps, m, steps) for (status, steps), m in runs
                  if count_diverged or status == "converged"]
    _, m, steps = max(candidates)
    return m, steps + offset


CH04 = [
    ("task1", sgd_momentum, "PASS", "equal to gdlab.optim.SGD (torch's arithmetic), dampening included"),
    ("task1", stub(1), "TODO", "not implemented yet"),
    ("task1", raise_value_error, "FAIL", "raised ValueError: boom"),
    ("task1", polyak, "FAIL", "dampening is ignored"),
    ("task1", zero_initialised_buffer, "FAIL", "the first buffer must be the first gradient, undamped"),
    ("task1", lambda *a: momentum_run(*a, first=a[3] + 1 - a[4]), "FAIL", "the first gradient entered the buffer"),
    ("task1", lambda *a: momentum_run(*a, keep_buffer=False), "FAIL", "that is plain gradient descent"),
    ("task1", lambda *a: momentum_run(*a, weight=a[4]), "FAIL", "multiplied by dampening; it should be (1 - damp"),
    ("task1", lambda *a: momentum_run(*a, weight=1 - a[3]), "FAIL", "that is an exponential moving average"),
    ("task1", lambda *a: momentum_run(*a, sign=1.0), "FAIL", "you moved uphill"),
    ("task1", lambda *a: momentum_run(*a)[1:], "FAIL", "x0 is missing"),
    ("task1", lambda *a: momentum_run(*a)[:-1], "FAIL", "one update short"),
    ("task1", lambda *a: momentum_run(*a, extra=1), "FAIL", "one update too many"),
    ("task1", lambda *a: momentum_run(*a)[-1], "FAIL", "only the last point"),
    ("task1", appends_the_same_array, "FAIL", "every row is the same point"),
    ("task1", aliased_first_row, "FAIL", "the first row is not x0 but the last point"),
    ("task1", damped_step, "FAIL", "multiplying the whole step by (1 - dampening), damps the first gradient too"),
    ("task1", moves_x0_in_place, "FAIL", "changed the caller's x0 in place"),
    ("task1", lambda *a: momentum_run(*a)[:, None], "FAIL", "has shape (13, 1, 2), expected (13, 2)"),
    ("task2", nesterov, "PASS", "look-ahead points"),
    ("task2", stub(2), "TODO", "not implemented yet"),
    ("task2", lambda *a: nesterov(*a, form=None), "FAIL", "that is heavy ball"),
    ("task2", lambda *a: nesterov(*a, form="old"), "FAIL", "with the buffer from before its update is the same thing"),
    ("task2", textbook_nesterov, "FAIL", "points x_k of the textbook form"),
    ("task2", lambda *a: nesterov(*a, sign=1.0), "FAIL", "you moved uphill"),
    ("task2", lambda *a: nesterov(*a)[1:], "FAIL", "x0 is missing"),
    ("task2", lambda *a: nesterov(*a, extra=1), "FAIL", "one update too many"),
    ("task2", lambda *a: nesterov(*a, weight=1 - a[3]), "FAIL", "that buffer is an exponential moving average"),
    ("task3", constants, "PASS", "lr = 0.0331, momentum = 0.6694; a run with them contracts by 0.8193"),
    ("task3", stub(3), "TODO", "not implemented yet"),
    ("task3", lambda A: constants(A)[0], "FAIL", "return a pair (lr, momentum), got float64"),
    ("task3", lambda A: constants(A, lr_rule="gd"), "FAIL", "gradient descent's best step 2/(L + μ)"),
    ("task3", lambda A: constants(A, lr_rule="no square"), "FAIL", "square the denominator"),
    ("task3", lambda A: constants(A, lr_rule="no roots"), "FAIL", "use the square roots of the eigenvalues"),
    ("task3", lambda A: constants(A, lr_rule="1/L"), "FAIL", "that is 1/L"),
    ("task3", lambda A: constants(A, diagonal=True), "FAIL", "not its diagonal entries"),
    ("task3", lambda A: constants(A, L_rule="trace"), "FAIL", "not its trace"),
    ("task3", lambda A: constants(A, mu_rule="second"), "FAIL", "mu is the smallest eigenvalue of A"),
    ("task3", lambda A: constants(A, momentum_rule="rate"), "FAIL", "the momentum is its square"),
    ("task3", lambda A: constants(A, momentum_rule="kappa"), "FAIL", "use √κ, not κ"),
    ("task3", lambda A: constants(A, momentum_rule="gd rate"), "FAIL", "that is gradient descent's rate"),
    ("task3", lambda A: constants(A)[::-1], "FAIL", "your lr for A with eigenvalues 0.25, 1, 4 is 0.36, expected 0.64"),
    ("task4", rate_from, "PASS", "0.96078 (theory 0.96078)"),
    ("task4", stub(4), "TODO", "not implemented yet"),
    ("task4", lambda t, x: rate_from(t, x, "squared"), "FAIL", "squared errors |x_k - x*|²"),
    ("task4", lambda t, x: rate_from(t, x, "gaps"), "FAIL", "the losses f(x) - f*"),
    ("task4", lambda t, x: rate_from(t, x, "max abs"), "FAIL", "not the largest coordinate"),
    ("task4", lambda t, x: rate_from(t, x, "mean abs"), "FAIL", "not the mean of the absolute values"),
    ("task4", fitted_rate, "FAIL", "straight-line fit of log e_k"),
    ("task4", median_rate, "FAIL", "the median of the ratios"),
    ("task4", lambda t, x: np.sqrt(rate_from(t, x, "gaps")), "FAIL", "the square root of the loss ratio"),
    ("task4", lambda t, x: rate_from(t, x, "losses"), "FAIL", "the losses f(x) themselves"),
    ("task4", lambda t, x: rate_from(t, x, "from 0"), "FAIL", "the distance to 0"),
    ("task4", lambda t, x: rate_from(t, x, "no axis"), "FAIL", "not one number per step"),
    ("task4", lambda t, x: rate_from(t, x, "axis 0"), "FAIL", "not one number per step"),
    ("task4", lambda t, x: rate_from(t, x, "per coordinate"), "FAIL", "one rate per coordinate"),
    ("task4", lambda t, x: rate_from(t, x, root=False), "FAIL", "the rate per step is its (n - h)-th root"),
    ("task4", arithmetic_mean_rate, "FAIL", "take the geometric mean"),
    ("task4", lambda t, x: rate_from(t, x, start=0), "FAIL", "over the whole run"),
    ("task4", first_half_rate, "FAIL", "measured over the first half"),
    ("task4", lambda t, x: rate_from(t, x, extra=1), "FAIL", "the exponent is 1/(n - h)"),
    ("task4", lambda t, x: rate_from(t, x, "grad_norms"), "FAIL", "that uses the gradient norms"),
    ("task4", lambda t, x: errors(t, x)[1:] / errors(t, x)[:-1], "FAIL", "return one number"),
    ("task4", lambda t, x: tail_rate(errors(t, x), len(t.xs)), "FAIL", "n is trace.steps = 200"),
    ("task5", fastest, "PASS", "heavy ball: momentum 0.97 in 992 steps; Nesterov: momentum 0.97 in 599 steps"),
    ("task5", stub(5), "TODO", "not implemented yet"),
    ("task5", lambda m, n: fastest(m, n, count_diverged=True), "FAIL", "momentum 0.995 diverged (at step 80)"),
    ("task5", lambda m, n: fastest(m, n, largest=True), "FAIL", "More momentum is not always faster"),
    ("task5", lambda m, n: fastest(m, n, offset=1), "FAIL", "count updates (trace.steps), not points"),
    ("task5", lambda m, n: fastest(m, n, offset=-1), "FAIL", "count updates (trace.steps), not points"),
    ("task5", lambda m, n: fastest(m, n, ignore_flag=True), "FAIL", "that is heavy ball's answer"),
    ("task5", lambda m, n: fastest(m, n, start=(-1.5, 2.0)), "FAIL", "the count from chapter 04's start (-1.5, 2)"),
    ("task5", lambda m, n: fastest(m, n, tol=1e-8), "FAIL", "minimize's default tol = 1e-8"),
    ("task5", lambda m, n: (list(m).index(fastest(m, n)[0]), fastest(m, n)[1]), "FAIL", "is not one of momenta"),
    ("task5", lambda m, n: fastest(m, n)[0], "FAIL", "return a pair (momentum, steps)"),
    ("task5", lambda m, n: None, "FAIL", "return a pair (momentum, steps), got NoneType"),
]


@pytest.mark.parametrize("task, answer, status, hint", CH04, ids=[f"{t}-{s}-{h[:30]}" for t, _, s, h in CH04])
def test_ch04(task, answer, status, hint, capsys):
    assert_reports(capsys, getattr(check.ch04, task)(answer), status, hint)


def test_the_rates_reported_are_measured(capsys):
    result = check.ch04.task4(rate_from)
    capsys.readouterr()
    assert "heavy ball, lr = 1, momentum = 0.9, κ = 100: 0.94984 (theory 0.94868)" in result.message


def test_unsorted_eigvals_are_named(capsys):
    """np.linalg.eigvals(A)[0] and [-1] taken as mu and L: FAIL with a hint where LAPACK's order is not sorted."""
    eigenvalues = np.linalg.eigvals(_rotated((4.0, 1.0, 9.0))).real
    if eigenvalues[0] == eigenvalues.min() and eigenvalues[-1] == eigenvalues.max():
        pytest.skip("this LAPACK returns these eigenvalues sorted: the habit cannot be caught here")
    result = check.ch04.task3(lambda A: constants(A, eigvals_order=True))
    assert_reports(capsys, result, "FAIL", "np.linalg.eigvals does not sort the eigenvalues")
