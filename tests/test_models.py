"""Losses and gradients of linear and logistic regression; fits agree with least squares and scikit-learn."""
import warnings

import numpy as np
import pytest

from gdlab.data import StandardScaler, linear_regression, purchase
from gdlab.descent import gradient_descent
from gdlab.gradients import gradient_check, numerical_gradient
from gdlab.models import (
    LinearRegressionObjective,
    LogisticObjective,
    design_matrix,
    logistic_grad,
    logistic_loss,
    mse_grad,
    mse_loss,
    predict_proba,
    sigmoid,
)


def random_problem(seed, n=30, d=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d)
    return rng, X, rng.normal(size=n), (rng.random(n) < 0.4).astype(int)


def objectives(seed):
    _, X, y_real, y_binary = random_problem(seed)
    return [LinearRegressionObjective(X, y_real), LogisticObjective(X, y_binary),
            LogisticObjective(X, y_binary, l2=0.7)]


@pytest.mark.parametrize("seed", range(10))
def test_gradients_match_central_differences(seed):
    rng = np.random.default_rng(100 + seed)
    for objective in objectives(seed):
        theta = rng.normal(size=objective.dim)
        assert gradient_check(objective, objective.grad, theta) < 1e-6, objective.name


@pytest.mark.parametrize("seed", range(5))
def test_hessians_match_differences_of_the_gradient(seed):
    rng = np.random.default_rng(200 + seed)
    for objective in objectives(seed):
        theta = rng.normal(size=objective.dim)
        H = objective.hessian(theta)
        numeric = np.array([numerical_gradient(lambda t, f=objective, i=i: f.grad(t)[i], theta)
                            for i in range(objective.dim)])
        np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-12)
        np.testing.assert_allclose(H, numeric, rtol=1e-6, atol=1e-7)


def test_functions_are_the_formulas_and_the_objectives_use_them():
    _, X, y_real, y_binary = random_problem(0)
    w, b = np.array([0.5, -1.0, 2.0]), 0.3
    z = X @ w + b
    assert mse_loss(w, b, X, y_real) == pytest.approx(np.mean((z - y_real) ** 2), rel=1e-14)
    p = 1 / (1 + np.exp(-z))
    cross_entropy = -np.mean(y_binary * np.log(p) + (1 - y_binary) * np.log(1 - p))
    assert logistic_loss(w, b, X, y_binary) == pytest.approx(cross_entropy, rel=1e-12)
    assert logistic_loss(w, b, X, y_binary, l2=0.4) == pytest.approx(cross_entropy + 0.2 * w @ w, rel=1e-12)
    np.testing.assert_allclose(predict_proba(w, b, X), p, rtol=1e-14)
    theta = np.append(w, b)
    assert LinearRegressionObjective(X, y_real)(theta) == mse_loss(w, b, X, y_real)
    dw, db = mse_grad(w, b, X, y_real)
    np.testing.assert_array_equal(LinearRegressionObjective(X, y_real).grad(theta), np.append(dw, db))
    assert LogisticObjective(X, y_binary, l2=0.4)(theta) == logistic_loss(w, b, X, y_binary, l2=0.4)
    dw, db = logistic_grad(w, b, X, y_binary, l2=0.4)
    np.testing.assert_array_equal(LogisticObjective(X, y_binary, l2=0.4).grad(theta), np.append(dw, db))


def test_bias_is_not_penalised():
    _, X, _, y = random_problem(1)
    w = np.array([1.0, 2.0, -1.0])
    assert logistic_grad(w, 0.5, X, y, l2=3.0)[1] == logistic_grad(w, 0.5, X, y)[1]
    np.testing.assert_allclose(logistic_grad(w, 0.5, X, y, l2=3.0)[0] - logistic_grad(w, 0.5, X, y)[0], 3.0 * w)


def test_stacked_points_evaluate_like_single_points():
    ds = linear_regression(n=40, seed=2)
    objective = LinearRegressionObjective(ds.X, ds.y)
    grid = np.stack(np.meshgrid(np.linspace(-2, 2, 4), np.linspace(-1, 1, 3)))
    values, grads = objective(grid), objective.grad(grid)
    assert values.shape == (3, 4) and grads.shape == (2, 3, 4)
    for i, j in np.ndindex(3, 4):
        assert values[i, j] == pytest.approx(objective(grid[:, i, j]), rel=1e-13, abs=0)
        np.testing.assert_allclose(grads[:, i, j], objective.grad(grid[:, i, j]), rtol=1e-12, atol=1e-13)
    assert objective(objective.minima[0][:, None])[0] == objective.f_min  # f - f* is exactly 0 at the fit
    logistic = LogisticObjective(ds.X, (ds.y > 0).astype(int), l2=0.3)
    np.testing.assert_allclose(logistic(grid)[2, 1], logistic(grid[:, 2, 1]), rtol=1e-13)
    with pytest.raises(ValueError, match="theta must be one point"):
        logistic.grad(grid)


def test_design_matrix_appends_a_column_of_ones():
    X = np.arange(6.0).reshape(3, 2)
    Z = design_matrix(X)
    np.testing.assert_array_equal(Z, [[0, 1, 1], [2, 3, 1], [4, 5, 1]])
    w, b = np.array([0.5, -2.0]), 0.25
    np.testing.assert_array_equal(Z @ np.append(w, b), X @ w + b)


def test_sigmoid_and_logistic_loss_are_stable_for_huge_logits():
    z = np.array([-1e308, -1e4, -800.0, -40.0, 0.0, 40.0, 800.0, 1e4, 1e308])
    X = z[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(z)
        assert np.all((s >= 0) & (s <= 1)) and s[4] == 0.5 and s[0] == 0 and s[-1] == 1
        tiny = np.exp(-40.0)
        np.testing.assert_allclose(sigmoid(np.array([-40.0, 40.0])), [tiny / (1 + tiny), 1 / (1 + tiny)], rtol=1e-14)
        wrong = np.array([1, 1, 0, 0])  # every label on the wrong side of a huge logit
        loss = logistic_loss([1.0], 0.0, np.array([[-1e4], [-800.0], [800.0], [1e4]]), wrong)
        assert loss == pytest.approx(np.mean([1e4, 800, 800, 1e4]))  # log(1 + e^z) - y z = |z| here
        right = 1 - wrong
        assert logistic_loss([1.0], 0.0, np.array([[-1e4], [-800.0], [800.0], [1e4]]), right) == 0.0
        dw, db = logistic_grad([1.0], 0.0, X[1:-1], (z[1:-1] > 0).astype(int))
        assert np.all(np.isfinite(dw)) and np.isfinite(db)


def test_linear_regression_by_gradient_descent_matches_lstsq():
    ds = linear_regression(n=200, n_features=3, noise=0.5, seed=0)
    objective = LinearRegressionObjective(ds.X, ds.y)
    Z = np.column_stack([ds.X, np.ones(200)])
    lstsq = np.linalg.lstsq(Z, ds.y, rcond=None)[0]
    np.testing.assert_allclose(objective.minima[0], lstsq, rtol=1e-12)
    trace = gradient_descent(objective, objective.grad, np.zeros(4), lr=0.2, tol=1e-10)
    assert trace.status == "converged"
    np.testing.assert_allclose(trace.x, lstsq, atol=1e-9)
    assert trace.loss == pytest.approx(objective.f_min, rel=1e-12)


def test_linear_regression_step_size_bound_two_over_L():
    ds = linear_regression(n=100, n_features=2, seed=1)
    objective = LinearRegressionObjective(ds.X, ds.y)
    L = np.linalg.eigvalsh(objective.hessian(np.zeros(3)))[-1]
    below = gradient_descent(objective, objective.grad, np.zeros(3), lr=0.98 * 2 / L, steps=20_000)
    above = gradient_descent(objective, objective.grad, np.zeros(3), lr=1.02 * 2 / L, steps=20_000)
    assert below.status == "converged" and above.status == "diverged"


@pytest.mark.parametrize("l2", [0.0, 0.05])
def test_logistic_regression_by_gradient_descent_matches_sklearn(l2):
    from sklearn.linear_model import LogisticRegression

    ds = purchase()
    X = StandardScaler().fit_transform(ds.X)
    objective = LogisticObjective(X, ds.y, l2=l2)
    trace = gradient_descent(objective, objective.grad, np.zeros(4), lr=4.0, tol=1e-10)
    assert trace.status == "converged"
    C = np.inf if l2 == 0 else 1 / (l2 * len(ds.y))  # sklearn minimises C sum(loss) + ||w||^2 / 2
    sk = LogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(X, ds.y)
    np.testing.assert_allclose(trace.x, np.append(sk.coef_[0], sk.intercept_), rtol=0, atol=1e-6)


def test_divergence_is_a_status_not_warnings():
    ds = purchase(n=200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        regression = LinearRegressionObjective(ds.X, ds.X[:, 1])
        assert gradient_descent(regression, regression.grad, np.zeros(4), lr=1.0).status == "diverged"
        classification = LogisticObjective(ds.X, ds.y)  # raw features, a far too large step: logits of 1e5
        trace = gradient_descent(classification, classification.grad, np.zeros(4), lr=100.0, steps=200)
        assert np.all(np.isfinite(trace.losses)) and trace.losses.max() > 1e3


@pytest.mark.parametrize("call, match", [
    (lambda: mse_loss(np.zeros(2), 0.0, np.ones((4, 3)), np.ones(4)), r"w must have shape \(3,\)"),
    (lambda: mse_grad(np.zeros(3), np.zeros(2), np.ones((4, 3)), np.ones(4)), "b must be a scalar"),
    (lambda: mse_loss(np.zeros(3), 0.0, np.ones(4), np.ones(4)), "X must be a 2-D array"),
    (lambda: mse_loss(np.zeros(3), 0.0, np.ones((4, 3)), np.ones(5)), r"y must have shape \(4,\)"),
    (lambda: logistic_loss(np.zeros(3), 0.0, np.ones((4, 3)), [0, 1, 2, 1]), "y must hold class labels 0 and 1"),
    (lambda: logistic_grad(np.zeros(3), 0.0, np.ones((4, 3)), [0, 1, 1, 1], l2=-1.0), "l2 must be >= 0"),
    (lambda: LogisticObjective(np.ones((4, 3)), [0, 1, 0.5, 1]), "y must hold class labels 0 and 1"),
    (lambda: LinearRegressionObjective(np.ones((4, 3)), np.ones(3)), r"y must have shape \(4,\)"),
    (lambda: LinearRegressionObjective(np.ones((4, 3)), np.ones(4))(np.zeros(3)), "x must have 4 coordinates"),
])
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()
