import warnings

import numpy as np
import pytest

from gdlab.optim import clip_grad_norm, clip_grad_value

torch = pytest.importorskip("torch")


def random_grads(scale=1.0):
    rng = np.random.default_rng(0)
    return [scale * rng.standard_normal(s) for s in [(3,), (2, 4), ()]]


def torch_clip_norm(grads, max_norm, norm_type):
    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    return [p.grad.numpy() for p in params], float(total)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.0, 0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    grads = random_grads()
    before = [g.copy() for g in grads]
    clipped, total = clip_grad_norm(grads, max_norm, norm_type)
    expected, expected_total = torch_clip_norm(grads, max_norm, norm_type)
    assert total == pytest.approx(expected_total, rel=1e-13)
    for ours, theirs in zip(clipped, expected):
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=0)
    for g, b in zip(grads, before):  # inputs are not modified
        np.testing.assert_array_equal(g, b)


def test_clip_grad_norm_scales_to_max_norm_and_leaves_small_gradients():
    g = np.array([3.0, 4.0])
    clipped, total = clip_grad_norm(g, max_norm=1.0)
    assert total == 5.0 and isinstance(clipped, np.ndarray)
    np.testing.assert_allclose(clipped, [0.6, 0.8], rtol=1e-6)  # 1e-6 short of 1.0: torch's 1e-6 guard
    assert np.linalg.norm(clipped) < 1.0
    same, _ = clip_grad_norm(g, max_norm=10.0)  # the coefficient is clamped to 1
    np.testing.assert_array_equal(same, g)


def test_clip_grad_norm_of_a_non_finite_gradient_is_a_result_not_warnings():
    grads = [np.array([np.inf, 1.0]), np.array([2.0])]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clipped, total = clip_grad_norm(grads, max_norm=1.0)
    expected, expected_total = torch_clip_norm(grads, 1.0, 2.0)
    assert total == expected_total == np.inf
    for ours, theirs in zip(clipped, expected):
        np.testing.assert_array_equal(ours, theirs)  # inf * 0 is NaN, finite * 0 is 0, as in torch


def test_clip_grad_norm_of_no_gradients():
    assert clip_grad_norm([], 1.0) == ([], 0.0)


@pytest.mark.parametrize("clip_value", [0.0, 0.3, 10.0])
def test_clip_grad_value_matches_torch(clip_value):
    grads = random_grads(scale=2.0)
    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_value_(params, clip_value)
    clipped = clip_grad_value(grads, clip_value)
    for ours, p in zip(clipped, params):
        np.testing.assert_array_equal(ours, p.grad.numpy())
    np.testing.assert_array_equal(clip_grad_value(np.array([-5.0, 0.1, 5.0]), 1.0), [-1.0, 0.1, 1.0])


@pytest.mark.parametrize("call, error, message", [
    (lambda: clip_grad_norm(np.ones(2), -1.0), ValueError, "max_norm must be >= 0"),
    (lambda: clip_grad_norm(np.ones(2), 1.0, norm_type=0), ValueError, "norm_type must be > 0 or float"),
    (lambda: clip_grad_norm(np.ones(2), 1.0, norm_type=-float("inf")), ValueError, "norm_type must be > 0"),
    (lambda: clip_grad_value(np.ones(2), -0.5), ValueError, "clip_value must be >= 0"),
    (lambda: clip_grad_value("grad", 0.5), TypeError, "grads must be an array or a list of arrays"),
])
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()
