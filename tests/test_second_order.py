"""gdlab.descent.newton and gdlab.descent.backtracking_descent (Armijo line search)."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize as scipy_minimize

from gdlab.descent import backtracking_descent, gradient_descent, newton
from gdlab.functions import Quadratic, beale, booth, himmelblau, rosenbrock, saddle


def newton_by_hand(f, x0, steps):
    x, xs = np.array(x0, dtype=float), []
    for _ in range(steps + 1):
        xs.append(x)
        x = x - np.linalg.solve(f.hessian(x), f.grad(x))
    return np.array(xs)


# ---------------------------------------------------------------------------------------------
# Newton


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_newton_solves_a_quadratic_in_one_step(d, seed):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(d, d))
    q = Quadratic(M @ M.T + 0.5 * np.eye(d), rng.normal(size=d))
    trace = newton(q, q.grad, q.hessian, 10 * rng.normal(size=d), tol=1e-8 * max(1.0, q.L))
    assert trace.status == "converged" and trace.steps == 1
    np.testing.assert_allclose(trace.x, q.minima[0], rtol=1e-8, atol=1e-8)


def test_newton_is_the_update_rule_bit_for_bit():
    trace = newton(rosenbrock, rosenbrock.grad, rosenbrock.hessian, [-1.2, 1.0], steps=5, tol=0.0)
    np.testing.assert_array_equal(trace.xs, newton_by_hand(rosenbrock, [-1.2, 1.0], 5))
    assert trace.status == "max_steps" and trace.steps == 5


def test_newton_converges_quadratically_on_rosenbrock():
    trace = newton(rosenbrock, rosenbrock.grad, rosenbrock.hessian, [1.2, 1.2], tol=1e-12)
    errors = np.linalg.norm(trace.xs - 1.0, axis=1)
    assert trace.status == "converged" and trace.steps <= 6
    close = [k for k in range(len(errors) - 1) if errors[k + 1] > 1e-12 and errors[k] < 0.05]
    assert len(close) >= 2
    for k in close:  # e_{k+1} <= C e_k^2 with a modest C: the number of correct digits doubles
        assert errors[k + 1] <= errors[k] ** 2
        assert -np.log10(errors[k + 1]) >= 1.8 * -np.log10(errors[k])
    # gradient descent at its best fixed step is linear: the error ratio stays near 1
    gd = gradient_descent(rosenbrock, rosenbrock.grad, [1.2, 1.2], lr=0.001, steps=2000, tol=0.0)
    gd_errors = np.linalg.norm(gd.xs - 1.0, axis=1)
    assert gd_errors[-1] / gd_errors[-2] > 0.9


def test_newton_is_attracted_to_saddles_and_maxima():
    to_saddle = newton(saddle, saddle.grad, saddle.hessian, [0.5, 0.3])
    assert to_saddle.status == "converged"
    np.testing.assert_allclose(to_saddle.x, saddle.saddle_point, atol=1e-8)
    assert np.linalg.eigvalsh(saddle.hessian(to_saddle.x)).min() < 0
    to_maximum = newton(himmelblau, himmelblau.grad, himmelblau.hessian, [0.0, 0.0])
    assert to_maximum.status == "converged" and to_maximum.loss > 180
    assert np.linalg.eigvalsh(himmelblau.hessian(to_maximum.x)).max() < 0


@pytest.mark.parametrize("f, grad, hessian, x0", [
    (saddle, saddle.grad, saddle.hessian, [1.0, 1 / np.sqrt(3)]),  # d2f/dy2 = 3y^2 - 1 = 0 there
    (lambda x: float(x.sum()), np.ones_like, lambda x: np.zeros((2, 2)), [1.0, 2.0]),  # a plane
])
def test_newton_says_so_when_the_hessian_is_singular(f, grad, hessian, x0):
    with pytest.raises(np.linalg.LinAlgError, match=r"the Hessian at x = \[.*\] is singular .* undefined"):
        newton(f, grad, hessian, x0)


def test_newton_divergence_is_a_status_not_warnings():
    def f(x):
        return float(np.sqrt(1 + x @ x))

    def grad(x):
        return x / np.sqrt(1 + x @ x)

    def hessian(x):
        return (np.eye(x.size) * (1 + x @ x) - np.outer(x, x)) / (1 + x @ x) ** 1.5

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = newton(f, grad, hessian, [1.5])  # x -> -x^3: converges only from |x| < 1
    assert trace.status == "diverged" and "pure Newton converges only from close enough" in trace.message
    np.testing.assert_allclose(trace.xs[:3, 0], [1.5, -1.5**3, 1.5**9])
    assert newton(f, grad, hessian, [0.9]).status == "converged"


@pytest.mark.parametrize("kwargs, error, match", [
    ({"steps": -1}, ValueError, "steps must be an integer >= 0"),
    ({"steps": 2.0}, TypeError, "steps must be an integer"),
    ({"tol": -1.0}, ValueError, "tol must be >= 0"),
    ({"x0": [np.inf, 0.0]}, ValueError, "x0 must be finite"),
    ({"hessian": lambda x: np.eye(3)}, ValueError, r"hessian\(x\) must have shape \(2, 2\) for x0 of shape \(2,\); "
                                                   r"got \(3, 3\)"),
])
def test_newton_bad_input_names_the_parameter(kwargs, error, match):
    args = {"f": booth, "grad": booth.grad, "hessian": booth.hessian, "x0": [0.0, 0.0]} | kwargs
    with pytest.raises(error, match=match):
        newton(**args)


# ---------------------------------------------------------------------------------------------
# Backtracking (Armijo) line search


def accepted_steps(trace, grad):
    """The step size alpha_k of every update, from x_{k+1} = x_k - alpha_k g_k, while |g_k| > 1e-6.

    (Below that, x_k - x_{k+1} is too few rounding units to give alpha_k accurately.)
    """
    xs = trace.xs[: np.argmax(np.r_[trace.grad_norms, 0.0] <= 1e-6) + 1]
    gs = np.array([grad(x) for x in xs[:-1]])
    moves = xs[:-1] - xs[1:]
    alphas = np.linalg.norm(moves, axis=1) / np.linalg.norm(gs, axis=1)
    np.testing.assert_allclose(moves, alphas[:, None] * gs, rtol=1e-9, atol=1e-15)  # along -g
    return alphas, gs


@pytest.mark.parametrize("f, x0, lr, c, shrink", [
    (rosenbrock, [-1.2, 1.0], 1.0, 1e-4, 0.5),
    (beale, [1.0, 1.0], 1.0, 0.3, 0.8),
    (himmelblau, [0.0, 0.0], 0.05, 1e-4, 0.5),
])
def test_armijo_holds_at_every_step_and_each_step_is_the_first_that_does(f, x0, lr, c, shrink):
    trace = backtracking_descent(f, f.grad, x0, lr=lr, steps=300, tol=0.0, c=c, shrink=shrink)
    alphas, gs = accepted_steps(trace, f.grad)
    assert len(alphas) >= 20
    slopes = np.sum(gs**2, axis=1)
    losses = trace.losses[: len(alphas) + 1]
    assert np.all(losses[1:] <= losses[:-1] - c * alphas * slopes)
    powers = np.log(alphas / lr) / np.log(shrink)  # alpha = lr * shrink^j, j = 0, 1, 2, ...
    np.testing.assert_allclose(powers, np.round(powers), atol=1e-6)
    for x, g, j in zip(trace.xs, gs, np.round(powers).astype(int)):
        if j > 0:  # the previous, longer trial step broke the condition
            longer = lr * shrink ** (j - 1)
            assert f(x - longer * g) > f(x) - c * longer * (g @ g)
    assert len(np.unique(np.round(powers))) > 1, "the test should exercise backtracking"


def test_backtracking_converges_where_a_fixed_step_of_the_same_size_diverges():
    fixed = gradient_descent(rosenbrock, rosenbrock.grad, [-1.2, 1.0], lr=1.0)
    searched = backtracking_descent(rosenbrock, rosenbrock.grad, [-1.2, 1.0], lr=1.0, steps=30_000, tol=1e-5)
    assert fixed.status == "diverged" and searched.status == "converged"
    np.testing.assert_allclose(searched.x, [1.0, 1.0], atol=1e-4)


def test_backtracking_takes_the_full_step_when_it_is_good_enough():
    q = Quadratic(np.diag([1.0, 1.0]), [1.0, -2.0])  # lr = 1 = 1/L lands on the minimum
    trace = backtracking_descent(q, q.grad, [5.0, 5.0])
    assert trace.steps == 1 and trace.status == "converged"
    np.testing.assert_allclose(trace.x, [1.0, -2.0])


def test_backtracking_rejects_nan_trial_points():
    def f(x):
        return float(x @ x) if np.all(np.abs(x) < 2) else float("nan")

    trace = backtracking_descent(f, lambda x: 2 * x, [1.0, -1.5], lr=10.0)
    assert trace.status == "converged" and np.all(np.isfinite(trace.losses))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"lr": 0.0}, ValueError, "lr must be > 0"),
    ({"lr": "1"}, TypeError, "lr must be a real number"),
    ({"c": 0.0}, ValueError, r"c must be in \(0, 1\), got 0.0"),
    ({"c": 1.0}, ValueError, r"c must be in \(0, 1\), got 1.0"),
    ({"c": float("nan")}, ValueError, "c must be a number, got NaN"),
    ({"shrink": 1.0}, ValueError, r"shrink must be in \(0, 1\), got 1.0"),
    ({"shrink": 0}, ValueError, r"shrink must be in \(0, 1\), got 0.0"),
    ({"shrink": None}, TypeError, "shrink must be a real number"),
    ({"steps": -1}, ValueError, "steps must be an integer >= 0"),
    ({"tol": -1e-8}, ValueError, "tol must be >= 0"),
    ({"x0": "start"}, TypeError, "x0 must be an array of numbers"),
])
def test_backtracking_bad_input_names_the_parameter(kwargs, error, match):
    args = {"x0": [0.0, 0.0]} | kwargs
    with pytest.raises(error, match=match):
        backtracking_descent(booth, booth.grad, **args)


# ---------------------------------------------------------------------------------------------
# Both agree with scipy.optimize.minimize


@pytest.mark.parametrize("f, x0", [(rosenbrock, [-1.2, 1.0]), (beale, [2.0, 0.0]), (himmelblau, [2.5, 1.5])])
def test_same_minimiser_as_scipy(f, x0):
    reference = scipy_minimize(f, x0, jac=f.grad, method="BFGS", options={"gtol": 1e-10})
    assert reference.success
    by_newton = newton(f, f.grad, f.hessian, x0)
    by_line_search = backtracking_descent(f, f.grad, x0, steps=30_000, tol=1e-6)
    assert by_newton.status == by_line_search.status == "converged"
    np.testing.assert_allclose(by_newton.x, reference.x, atol=1e-8)
    np.testing.assert_allclose(by_line_search.x, reference.x, atol=1e-5)
