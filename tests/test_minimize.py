import warnings

import numpy as np
import pytest

from gdlab import optim
from gdlab.descent import gradient_descent, minimize
from gdlab.functions import Quadratic, booth, rosenbrock


def test_equals_the_manual_loop():
    opt = optim.Adam(lr=0.05)
    trace = minimize(rosenbrock, rosenbrock.grad, [-1.0, 1.0], opt, steps=200, tol=0.0)
    manual, x = optim.Adam(lr=0.05), np.array([-1.0, 1.0])
    for k in range(201):
        np.testing.assert_array_equal(trace.xs[k], x)
        assert trace.losses[k] == rosenbrock(x)
        x = manual.step(x, rosenbrock.grad(x))
    assert trace.status == "max_steps" and trace.steps == 200


def test_sgd_equals_gradient_descent():
    q = Quadratic(np.diag([1.0, 10.0]), [1.0, -1.0])
    ours = minimize(q, q.grad, [2.0, 2.0], optim.SGD(lr=0.15), steps=500)
    plain = gradient_descent(q, q.grad, [2.0, 2.0], lr=0.15, steps=500)
    np.testing.assert_array_equal(ours.xs, plain.xs)
    assert ours.status == plain.status == "converged" and ours.message == plain.message


def test_converges():
    trace = minimize(booth, booth.grad, [0.0, 0.0], optim.SGD(lr=0.02, momentum=0.9, nesterov=True), tol=1e-10)
    assert trace.status == "converged" and trace.grad_norms[-1] <= 1e-10 < trace.grad_norms[-2]
    np.testing.assert_allclose(trace.x, [1.0, 3.0], atol=1e-10)


def test_divergence_is_a_status_with_advice_not_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = minimize(rosenbrock, rosenbrock.grad, [-1.0, 1.0], optim.SGD(lr=0.1, momentum=0.9))
    assert trace.status == "diverged" and trace.steps < 30
    assert "try a smaller learning rate than lr=0.1" in trace.message


def test_every_call_starts_afresh_and_x0_is_left_alone():
    opt, x0 = optim.RMSprop(lr=0.01, momentum=0.5), np.array([-1.0, 1.0])
    first = minimize(rosenbrock, rosenbrock.grad, x0, opt, steps=50)
    second = minimize(rosenbrock, rosenbrock.grad, x0, opt, steps=50)
    np.testing.assert_array_equal(first.xs, second.xs)
    np.testing.assert_array_equal(x0, [-1.0, 1.0])
    assert opt.state[0]["step"] == 50


def test_not_an_optimizer_raises():
    with pytest.raises(TypeError, match=r"optimizer must be a gdlab.optim optimizer such as Adam\(lr=0.01\), got"):
        minimize(booth, booth.grad, [0.0, 0.0], 0.1)


def test_an_optimizer_class_instead_of_an_object_says_what_to_do():
    with pytest.raises(TypeError, match=r"optimizer must be an optimizer object, not the class Adam: make one with "
                                        r"its settings, e.g. Adam\(lr=0.01\)"):
        minimize(booth, booth.grad, [0.0, 0.0], optim.Adam)


def test_tol_none_runs_every_step_even_through_a_zero_gradient():
    """Heavy ball keeps moving where the gradient is exactly zero: with tol=None the run goes on."""
    q = Quadratic(np.diag([1.0, 1.0]))
    stopped = minimize(q, q.grad, [0.0, 1.5], optim.SGD(lr=1.0, momentum=0.5), steps=5, tol=0.0)
    assert stopped.status == "converged" and stopped.steps == 1  # lr = 1/L lands on the minimum's gradient zero
    full = minimize(q, q.grad, [0.0, 1.5], optim.SGD(lr=1.0, momentum=0.5), steps=5, tol=None)
    assert full.status == "max_steps" and full.steps == 5 and full.xs[2][1] == -0.75
    assert "tol" not in full.message
