import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdlab.descent import gradient_descent
from gdlab.functions import Quadratic, booth, rosenbrock


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
    ({"x0": [0.0, 0.0, 0.0]}, ValueError, "grad\\(x\\) must have the shape of x0|x must have 2 coordinates"),
    ({"x0": "origin"}, TypeError, "x0 must be an array of numbers"),
    ({"x0": 1.0}, ValueError, "x0 must be an array of shape \\(d,\\)"),
])
def test_bad_input_names_the_parameter(kwargs, error, match):
    args = {"x0": [0.0, 0.0], "lr": 0.1} | kwargs
    with pytest.raises(error, match=match):
        gradient_descent(booth, booth.grad, **args)
