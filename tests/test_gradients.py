import numpy as np
import pytest

from gdlab.functions import Quadratic, rosenbrock
from gdlab.gradients import gradient_check, numerical_gradient


def test_central_is_second_order_and_forward_first_order():
    f, x = rosenbrock, np.array([-0.7, 1.3])
    exact = f.grad(x)
    err = {m: [np.linalg.norm(numerical_gradient(f, x, h, m) - exact) for h in (1e-2, 1e-3)]
           for m in ("forward", "central")}
    assert 8 < err["forward"][0] / err["forward"][1] < 12  # error ~ h
    assert 80 < err["central"][0] / err["central"][1] < 120  # error ~ h^2


def test_works_for_any_shape():
    W = np.arange(6.0).reshape(2, 3)
    g = numerical_gradient(lambda w: np.sum(w**3), W)
    np.testing.assert_allclose(g, 3 * W**2, rtol=1e-7, atol=1e-7)


def test_gradient_check_catches_wrong_gradients():
    q = Quadratic([[3.0, 1.0], [1.0, 2.0]], [1.0, 0.0])
    x = np.array([0.3, -1.2])
    assert gradient_check(q, q.grad, x) < 1e-8
    assert gradient_check(q, lambda z: -q.grad(z), x) == pytest.approx(2.0)
    assert gradient_check(q, lambda z: 2 * q.grad(z), x) == pytest.approx(0.5)
    assert gradient_check(q, lambda z: q.A.T @ z, x) > 1e-2
    assert gradient_check(lambda z: 0.0, lambda z: np.zeros(2), x) == 0.0


@pytest.mark.parametrize("kwargs, error, match", [
    ({"h": 0.0}, ValueError, "h must be > 0"),
    ({"h": -1e-3}, ValueError, "h must be > 0"),
    ({"h": float("nan")}, ValueError, "h must be a number"),
    ({"h": "small"}, TypeError, "h must be a real number"),
    ({"method": "backward"}, ValueError, "method must be one of 'central', 'forward'"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        numerical_gradient(rosenbrock, [0.0, 0.0], **kwargs)


def test_gradient_check_rejects_wrong_shape():
    with pytest.raises(ValueError, match="grad\\(x\\) must have the shape of x"):
        gradient_check(rosenbrock, lambda z: np.zeros(3), [0.0, 0.0])
