import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdlab import optim
from gdlab.data import linear_regression, minibatches
from gdlab.descent import diverged, gradient_descent, heavy_ball_best, heavy_ball_rate, minibatch_descent, minimize
from gdlab.functions import Quadratic, beale, booth, himmelblau, rosenbrock, saddle
from gdlab.models import LinearRegressionObjective, mse_grad, mse_loss
from gdlab.optim import lr_scheduler


def test_update_rule_and_trace_fields():
    q = Quadratic(np.diag([1.0, 4.0]), [1.0, 2.0])
    trace = gradient_descent(q, q.grad, [3.0, -1.0], lr=0.1, steps=5, tol=0.0)
    x = np.array([3.0, -1.0])
    for k in range(6):
        np.testing.assert_array_equal(trace.xs[k], x)
        assert trace.losses[k] == q(x) and trace.grad_norms[k] == np.linalg.norm(q.grad(x))
        x = x - 0.1 * q.grad(x)
    assert trace.steps == 5 and trace.status == "max_steps" and "stopped after 5 steps" in trace.message


def test_converges_to_the_minimiser():
    trace = gradient_descent(booth, booth.grad, [0.0, 0.0], lr=0.05, tol=1e-10)
    assert trace.status == "converged"
    assert trace.grad_norms[-1] <= 1e-10 < trace.grad_norms[-2]
    np.testing.assert_allclose(trace.x, [1.0, 3.0], atol=1e-10)


def test_stability_bound_two_over_L():
    q = Quadratic(np.diag([1.0, 10.0]))
    below = gradient_descent(q, q.grad, [1.0, 1.0], lr=0.99 * 2 / q.L, steps=100_000)
    above = gradient_descent(q, q.grad, [1.0, 1.0], lr=1.01 * 2 / q.L, steps=100_000)
    assert below.status == "converged"
    assert above.status == "diverged"


def test_divergence_is_a_status_not_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = gradient_descent(rosenbrock, rosenbrock.grad, [-1.0, 1.0], lr=0.1, steps=1000)
    assert trace.status == "diverged"
    assert trace.message.startswith(f"diverged at step {trace.steps}:")
    assert "try a smaller learning rate" in trace.message
    assert trace.steps < 20


def test_zero_steps_evaluates_the_start_only():
    trace = gradient_descent(booth, booth.grad, [0.0, 0.0], lr=0.1, steps=0)
    assert trace.steps == 0 and trace.status == "max_steps" and len(trace.losses) == 1


def test_start_at_the_minimum_converges_immediately():
    trace = gradient_descent(booth, booth.grad, [1.0, 3.0], lr=0.1)
    assert trace.status == "converged" and trace.steps == 0


def test_does_not_modify_x0():
    x0 = np.array([0.0, 0.0])
    gradient_descent(booth, booth.grad, x0, lr=0.05, steps=10)
    assert np.all(x0 == 0)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(0, 2**32 - 1), st.floats(0.01, 0.99))
def test_loss_decreases_monotonically_below_two_over_L(d, seed, fraction):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(d, d))
    q = Quadratic(M @ M.T + 0.1 * np.eye(d), rng.normal(size=d))
    trace = gradient_descent(q, q.grad, rng.normal(size=d), lr=fraction * 2 / q.L, steps=200, tol=0.0)
    assert np.all(np.diff(trace.losses) <= 1e-12 * (1 + np.abs(trace.losses[:-1])))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"lr": 0.0}, ValueError, "lr must be > 0"),
    ({"lr": -0.1}, ValueError, "lr must be > 0"),
    ({"lr": float("nan")}, ValueError, "lr must be a number, got NaN"),
    ({"lr": float("inf")}, ValueError, "lr must be > 0 and finite"),
    ({"lr": "0.1"}, TypeError, "lr must be a real number"),
    ({"steps": -1}, ValueError, "steps must be an integer >= 0"),
    ({"steps": 10.5}, TypeError, "steps must be an integer"),
    ({"tol": -1e-8}, ValueError, "tol must be >= 0"),
    ({"x0": [np.nan, 0.0]}, ValueError, "x0 must be finite"),
    ({"x0": [0.0, 0.0, 0.0]}, ValueError, r"x0 must have 2 coordinates along its first axis, got shape \(3,\)"),
    ({"x0": "origin"}, TypeError, "x0 must be an array of numbers"),
    ({"x0": 1.0}, ValueError, "x0 must be an array of shape \\(d,\\)"),
])
def test_bad_input_names_the_parameter(kwargs, error, match):
    args = {"x0": [0.0, 0.0], "lr": 0.1} | kwargs
    with pytest.raises(error, match=match):
        gradient_descent(booth, booth.grad, **args)


# ---------------------------------------------------------------------------------------------
# The divergence rule, Trace, and the learner's usual mix-ups


def test_one_divergence_rule_for_numbers_and_arrays():
    assert not diverged(5.0, 1.0) and not diverged(1e12, 0.5) and diverged(1.1e12, 0.5)
    assert diverged(2.1e13, 20.0) and not diverged(1.9e13, 20.0)  # relative to the start beyond 1
    assert diverged(float("nan"), 1.0) and diverged(float("inf"), 1.0) and diverged(-float("inf"), 1.0)
    np.testing.assert_array_equal(diverged(np.array([1.0, np.nan, 2e12, -3.0]), 1.0), [False, True, True, False])
    per_run = diverged(np.array([[5.0, 1.9e13], [2e12, 2.1e13]]), np.array([1.0, 20.0]))  # one start loss per column
    np.testing.assert_array_equal(per_run, [[False, False], [True, True]])
    np.testing.assert_array_equal(diverged(np.array([1e13, 1e11]), np.array([np.inf, np.nan])), [True, False])


def test_runners_stop_where_the_rule_says():
    q = Quadratic(np.diag([1.0, 10.0]))
    trace = gradient_descent(q, q.grad, [1.0, 1.0], lr=0.5, steps=10_000)
    assert trace.status == "diverged"
    assert diverged(trace.losses[-1], trace.losses[0]) and not np.any(diverged(trace.losses[:-1], trace.losses[0]))


def test_traces_compare_by_their_contents():
    run = lambda: gradient_descent(booth, booth.grad, [0.0, 0.0], lr=0.05, steps=20)  # noqa: E731
    a, b = run(), run()
    assert a == b and a is not b
    assert a != gradient_descent(booth, booth.grad, [0.0, 0.0], lr=0.05, steps=21)
    assert a != "a trace"
    with pytest.raises(TypeError, match="unhashable"):
        hash(a)


@pytest.mark.parametrize("f", [rosenbrock, himmelblau, beale, booth, saddle, Quadratic(np.diag([0.5, 4.0]), [1.0, 0])])
def test_an_objectives_own_maths_is_called_unchecked_with_the_same_result(f):
    """Runners call an Objective's maths without the checks of f(x) after checking x0: the same Trace, bit for bit,
    as through plain functions, which take the checked road at every step."""

    def value(x):
        return f(x)

    def gradient(x):
        return f.grad(x)

    fast = minimize(f, f.grad, [-1.2, 0.8], optim.Adam(lr=0.01), steps=60, tol=0.0)
    assert fast == minimize(value, gradient, [-1.2, 0.8], optim.Adam(lr=0.01), steps=60, tol=0.0) and fast.steps == 60


def test_the_usual_mix_ups_get_a_clear_error():
    q = Quadratic(np.diag([1.0, 10.0]))
    with pytest.raises(TypeError, match=r"f\(x0\) must return one number.*are f and grad swapped"):
        gradient_descent(q.grad, q, [1.0, 1.0], lr=0.1)
    with pytest.raises(TypeError, match=r"f\(x0\) must return one number, the loss; got an array of shape \(2,\)$"):
        gradient_descent(lambda x: x**2, lambda x: 2 * x, [1.0, 1.0], lr=0.1)
    with pytest.raises(TypeError, match=r"grad\(x0\) returned None: did you forget `return`\?"):
        gradient_descent(q, lambda x: None, [1.0, 1.0], lr=0.1)
    with pytest.raises(ValueError, match=r"x0 must have 2 coordinates along its first axis, got shape \(3,\)"):
        gradient_descent(q, q.grad, [1.0, 1.0, 1.0], lr=0.1)
    calls = []
    gradient_descent(lambda x: calls.append(1) or float(x @ x), lambda x: 2 * x, [1.0], lr=0.1, steps=3, tol=0.0)
    assert len(calls) == 4  # the checks use the first evaluation: f is called once per point


# ---------------------------------------------------------------------------------------------
# Heavy-ball rate


def test_heavy_ball_rate_is_the_spectral_radius_of_the_iteration():
    rng = np.random.default_rng(0)
    for _ in range(2000):
        lr, momentum, eigenvalue = 10 ** rng.uniform(-3, 1), rng.uniform(0, 0.999), 10 ** rng.uniform(-3, 1)
        iteration = np.array([[1 + momentum - lr * eigenvalue, -momentum], [1.0, 0.0]])
        radius = np.abs(np.linalg.eigvals(iteration)).max()
        assert heavy_ball_rate(lr, momentum, eigenvalue) == pytest.approx(radius, rel=1e-7)


def test_heavy_ball_rate_textbook_values():
    assert heavy_ball_rate(1.0, 0.0, 0.5) == pytest.approx(0.5)  # plain gradient descent: |1 - lr * eigenvalue|
    assert heavy_ball_rate(1.0, 0.0, 2.5) == pytest.approx(1.5)
    kappa = 100.0
    lr, beta = (2 / (1 + np.sqrt(1 / kappa))) ** 2, ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
    rate = max(heavy_ball_rate(lr, beta, eigenvalue) for eigenvalue in (1 / kappa, 1.0))
    assert rate == pytest.approx((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1), rel=1e-6)  # Polyak's optimum


def test_heavy_ball_best_is_polyaks_pair_and_its_rate():
    for L, mu in ((1.0, 0.01), (25.0, 1.0), (10.0, 10.0), (3.0, 1e-6)):
        lr, momentum = heavy_ball_best(L, mu)
        kappa = L / mu
        assert lr == pytest.approx(4 / (np.sqrt(L) + np.sqrt(mu)) ** 2, rel=1e-14)
        assert momentum == pytest.approx(((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2, rel=1e-12, abs=1e-15)
        rates = [heavy_ball_rate(lr, momentum, eigenvalue) for eigenvalue in (mu, (L + mu) / 2, L)]
        assert rates == pytest.approx([np.sqrt(momentum)] * 3, rel=1e-6, abs=1e-12)  # every direction alike


def test_heavy_ball_best_beats_every_pair_of_a_grid():
    L, mu = 1.0, 0.01
    best = max(heavy_ball_rate(*heavy_ball_best(L, mu), eigenvalue) for eigenvalue in (mu, L))
    grid = [max(heavy_ball_rate(lr, m, eigenvalue) for eigenvalue in (mu, L))
            for lr in np.linspace(0.05, 4.5, 60) for m in np.linspace(0.0, 0.98, 50)]
    assert best == pytest.approx(0.9 / 1.1) and best < min(grid)


@pytest.mark.parametrize("L, mu, error, match", [
    (1.0, 2.0, ValueError, r"mu must be <= L .* got mu=2 > L=1"),
    (1.0, 0.0, ValueError, "mu must be > 0"),
    (-1.0, 0.5, ValueError, "L must be > 0"),
    ("1", 0.5, TypeError, "L must be a real number"),
])
def test_heavy_ball_best_bad_input(L, mu, error, match):
    with pytest.raises(error, match=match):
        heavy_ball_best(L, mu)


def test_heavy_ball_rate_predicts_the_run():
    q = Quadratic(np.diag([0.05, 1.0]))
    lr, momentum = 1.0, 0.6
    trace = minimize(q, q.grad, [1.0, 1.0], optim.SGD(lr=lr, momentum=momentum), steps=400, tol=0.0)
    rate = max(heavy_ball_rate(lr, momentum, eigenvalue) for eigenvalue in q.eigenvalues)
    measured = (np.abs(trace.xs[400]).max() / np.abs(trace.xs[200]).max()) ** (1 / 200)
    assert measured == pytest.approx(rate, rel=1e-2)


# ---------------------------------------------------------------------------------------------
# Mini-batch descent on a linear regression


def minibatch_by_hand(X, y, batch_size, lr, epochs, seed):
    """Chapter 03's loop, written out."""
    rng, w, b, thetas = np.random.default_rng(seed), np.zeros(X.shape[1]), 0.0, [np.zeros(X.shape[1] + 1)]
    for _ in range(epochs):
        for X_batch, y_batch in minibatches(X, y, batch_size, rng):
            dw, db = mse_grad(w, b, X_batch, y_batch)
            w, b = w - lr * dw, b - lr * db
            thetas.append(np.append(w, b))
    return np.array(thetas)


@pytest.mark.parametrize("batch_size, epochs", [(1, 2), (10, 5), (32, 3), (200, 4)])
def test_minibatch_descent_is_chapter_03s_loop(batch_size, epochs):
    ds = linear_regression(n=200, n_features=2, noise=1.0, seed=1)
    trace = minibatch_descent(ds.X, ds.y, optim.SGD(lr=0.05), batch_size, epochs, seed=3)
    expected = minibatch_by_hand(ds.X, ds.y, batch_size, 0.05, epochs, seed=3)
    np.testing.assert_allclose(trace.xs, expected, rtol=0, atol=1e-14)
    assert trace.status == "max_steps" and trace.steps == epochs * -(-200 // batch_size)
    full = LinearRegressionObjective(ds.X, ds.y)
    for k in range(0, trace.steps + 1, 7):
        assert trace.losses[k] == pytest.approx(mse_loss(trace.xs[k, :2], trace.xs[k, 2], ds.X, ds.y), rel=1e-12)
        assert trace.grad_norms[k] == pytest.approx(np.linalg.norm(full.grad(trace.xs[k])), rel=1e-9, abs=1e-12)
    assert trace.message == f"stopped after {trace.steps} updates ({epochs} epochs, max_steps): loss {trace.loss:.6g}"


def test_minibatch_descent_divergence_is_a_status_not_warnings():
    ds = linear_regression(n=200, n_features=1, noise=1.0, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = minibatch_descent(ds.X, ds.y, optim.SGD(lr=1.5), 5, 30)
    assert trace.status == "diverged" and trace.steps < 40 * 30
    assert diverged(trace.losses[-1], trace.losses[0]) and not np.any(diverged(trace.losses[:-1], trace.losses[0]))
    assert trace.message.startswith(f"diverged at update {trace.steps} (epoch ")
    assert trace.message.endswith("try a smaller learning rate or a larger batch")


def test_minibatch_descent_steps_the_scheduler_once_per_epoch():
    ds = linear_regression(n=60, n_features=1, noise=0.5, seed=0)
    opt = optim.SGD(lr=0.1)
    scheduler = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    trace = minibatch_descent(ds.X, ds.y, opt, 20, 3, scheduler=scheduler)
    by_hand = [np.zeros(2)]
    rng, theta = np.random.default_rng(0), np.zeros(2)
    for lr in (0.1, 0.05, 0.025):
        for X_batch, y_batch in minibatches(ds.X, ds.y, 20, rng):
            dw, db = mse_grad(theta[:1], theta[1], X_batch, y_batch)
            theta = theta - lr * np.append(dw, db)
            by_hand.append(theta)
    np.testing.assert_allclose(trace.xs, by_hand, rtol=0, atol=1e-15)
    assert scheduler.last_epoch == 3


def test_minibatch_descent_starts_at_x0():
    ds = linear_regression(n=60, n_features=2, noise=0.5, seed=2)
    start = np.array([1.5, -2.0, 0.5])
    trace = minibatch_descent(ds.X, ds.y, optim.SGD(lr=0.05), 7, 2, seed=5, x0=start)
    rng, theta, by_hand = np.random.default_rng(5), start.copy(), [start]
    for _ in range(2):
        for X_batch, y_batch in minibatches(ds.X, ds.y, 7, rng):
            dw, db = mse_grad(theta[:2], theta[2], X_batch, y_batch)
            theta = theta - 0.05 * np.append(dw, db)
            by_hand.append(theta)
    np.testing.assert_allclose(trace.xs, by_hand, rtol=0, atol=1e-14)
    assert trace.losses[0] == pytest.approx(mse_loss(start[:2], start[2], ds.X, ds.y), rel=1e-12)
    np.testing.assert_array_equal(start, [1.5, -2.0, 0.5])  # left alone
    from_zero = minibatch_descent(ds.X, ds.y, optim.SGD(lr=0.05), 7, 2, seed=5)
    assert from_zero == minibatch_descent(ds.X, ds.y, optim.SGD(lr=0.05), 7, 2, seed=5, x0=np.zeros(3))


def test_minibatch_descent_bad_input():
    ds = linear_regression(n=20, seed=0)
    with pytest.raises(ValueError, match="batch_size must be between 1 and the number of rows, 20"):
        minibatch_descent(ds.X, ds.y, optim.SGD(lr=0.1), 21, 1)
    with pytest.raises(TypeError, match=r"not the class SGD: make one with its settings, e.g. SGD\(lr=0.01\)"):
        minibatch_descent(ds.X, ds.y, optim.SGD, 5, 1)
    with pytest.raises(ValueError, match="epochs must be an integer >= 0"):
        minibatch_descent(ds.X, ds.y, optim.SGD(lr=0.1), 5, -1)
    with pytest.raises(ValueError, match=r"x0 must have 2 coordinates along its first axis, got shape \(3,\)"):
        minibatch_descent(ds.X, ds.y, optim.SGD(lr=0.1), 5, 1, x0=[0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"x0 must be one point \[w, b\] of shape \(2,\), got shape \(2, 1\)"):
        minibatch_descent(ds.X, ds.y, optim.SGD(lr=0.1), 5, 1, x0=[[0.0], [0.0]])
    with pytest.raises(ValueError, match="x0 must be finite"):
        minibatch_descent(ds.X, ds.y, optim.SGD(lr=0.1), 5, 1, x0=[np.nan, 0.0])
