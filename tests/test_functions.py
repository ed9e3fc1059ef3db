"""Objectives: analytic gradients and Hessians against finite differences, minima, shapes."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdlab.functions import Quadratic, Rastrigin, Rosenbrock, beale, booth, himmelblau, rastrigin, rosenbrock, saddle
from gdlab.gradients import gradient_check, numerical_gradient

OBJECTIVES = [
    rosenbrock, himmelblau, beale, booth, saddle, rastrigin,
    Rosenbrock(dim=5), Rastrigin(dim=3), Quadratic([[3.0, 1.0], [1.0, 2.0]], [1.0, -1.0]),
    Quadratic(np.diag([1.0, 10.0, 100.0])), Quadratic([[2.0]]),
]
IDS = [f.name for f in OBJECTIVES]


def points_in_domain(f, n, seed=0):
    rng = np.random.default_rng(seed)
    low, high = np.array(f.domain).T
    return rng.uniform(low, high, size=(n, f.dim)) * 0.5  # inner half: keeps Beale's terms moderate


@pytest.mark.parametrize("f", OBJECTIVES, ids=IDS)
def test_gradient_matches_central_differences(f):
    for x in points_in_domain(f, 50):
        assert gradient_check(f, f.grad, x) < 1e-6


@pytest.mark.parametrize("f", OBJECTIVES, ids=IDS)
def test_hessian_matches_differences_of_gradient(f):
    for x in points_in_domain(f, 20, seed=1):
        H = f.hessian(x)
        H_num = np.array([numerical_gradient(lambda z, i=i: f.grad(z)[i], x, h=1e-5) for i in range(f.dim)])
        assert H.shape == (f.dim, f.dim)
        np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-12)
        np.testing.assert_allclose(H, H_num, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(H).max()))


@pytest.mark.parametrize("f", OBJECTIVES, ids=IDS)
def test_known_minima_have_zero_gradient_and_positive_definite_hessian(f):
    assert f.minima
    for m in f.minima:
        assert np.linalg.norm(f.grad(m)) < 1e-12 * max(1.0, abs(f(m)))
        assert np.linalg.eigvalsh(f.hessian(m)).min() > 0
        assert f(m) == pytest.approx(f.f_min, abs=1e-12)


@pytest.mark.parametrize("f", OBJECTIVES, ids=IDS)
def test_minima_are_lowest_on_a_grid(f):
    assert f(points_in_domain(f, 2000, seed=2).T).min() >= f.f_min - 1e-12


@pytest.mark.parametrize("f", OBJECTIVES, ids=IDS)
def test_stacked_points_agree_with_single_points(f):
    stack = points_in_domain(f, 12, seed=3).T.reshape(f.dim, 3, 4)
    values, grads, hessians = f(stack), f.grad(stack), f.hessian(stack)
    assert values.shape == (3, 4) and grads.shape == stack.shape and hessians.shape == (f.dim, f.dim, 3, 4)
    for i, j in np.ndindex(3, 4):
        x = stack[:, i, j]
        assert values[i, j] == pytest.approx(f(x), rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(grads[:, i, j], f.grad(x), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(hessians[..., i, j], f.hessian(x), rtol=1e-12, atol=1e-12)


def test_single_point_gives_a_python_float():
    assert type(rosenbrock([0.0, 0.0])) is float
    assert rosenbrock([0.0, 0.0]) == 1.0
    assert rosenbrock([1.0, 1.0]) == 0.0


def test_textbook_values():
    assert himmelblau([3.0, 2.0]) == 0.0
    assert booth([1.0, 3.0]) == 0.0
    assert beale([3.0, 0.5]) == 0.0
    assert rastrigin([0.5, 0.5]) == pytest.approx(40.5)
    assert saddle([0.0, 0.0]) == 0.0 and np.all(saddle.grad([0.0, 0.0]) == 0)
    assert np.linalg.eigvalsh(saddle.hessian([0.0, 0.0])).tolist() == [-1.0, 2.0]
    assert saddle.f_min == -0.25


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_quadratic_minimiser_solves_the_linear_system(d, seed):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(d, d))
    A, b = M @ M.T + d * np.eye(d), rng.normal(size=d)
    q = Quadratic(A, b)
    np.testing.assert_allclose(A @ q.minima[0], b, atol=1e-9)
    assert np.linalg.eigvalsh(A).max() == pytest.approx(q.L)
    assert q.mu == pytest.approx(np.linalg.eigvalsh(A).min())
    assert q.condition_number == pytest.approx(q.L / q.mu)
    assert gradient_check(q, q.grad, rng.normal(size=d)) < 1e-6


def test_indefinite_quadratic_has_no_minimum():
    q = Quadratic([[1.0, 0.0], [0.0, -1.0]])
    assert q.minima == [] and q.f_min is None and q.condition_number == float("inf")


@pytest.mark.parametrize("A, match", [
    ([[1.0, 2.0], [0.0, 1.0]], "A must be symmetric"),
    ([[1.0, 2.0, 3.0]], "A must be a square matrix"),
    ("abc", "A must be an array of numbers"),
    ([[np.nan]], "A must be finite"),
])
def test_quadratic_rejects_bad_matrices(A, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Quadratic(A)


def test_bad_points_and_parameters():
    with pytest.raises(ValueError, match="x must have 2 coordinates"):
        rosenbrock([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="x must be an array of numbers"):
        himmelblau.grad(["a", "b"])
    with pytest.raises(ValueError, match="b must have 2 coordinates"):
        Quadratic(np.eye(2), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="dim must be an integer >= 2"):
        Rosenbrock(dim=1)
    with pytest.raises(TypeError, match="dim must be an integer"):
        Rastrigin(dim=2.5)
