"""Datasets: reproducible from the seed and true to their documented model; scaling, split, mini-batches."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdlab.data import Dataset, StandardScaler, linear_regression, minibatches, purchase, train_val_split
from gdlab.models import LogisticObjective


def assert_same(a, b):
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.true_w, b.true_w)
    assert a.true_b == b.true_b and a.feature_names == b.feature_names


@pytest.mark.parametrize("make", [linear_regression, purchase])
def test_same_seed_same_data_other_seed_other_data(make):
    assert_same(make(seed=3), make(seed=3))
    assert not np.array_equal(make(seed=3).X, make(seed=4).X)
    assert not np.array_equal(make(seed=3).y, make(seed=4).y)


def test_linear_regression_follows_its_model():
    ds = linear_regression(n=50, n_features=3, noise=0.0, seed=1)
    assert isinstance(ds, Dataset) and repr(ds) == "Dataset(n=50, features=('x1', 'x2', 'x3'))"
    assert ds.X.shape == (50, 3) and ds.y.shape == (50,) and ds.true_w.shape == (3,)
    np.testing.assert_allclose(ds.y, ds.X @ ds.true_w + ds.true_b, rtol=0, atol=1e-12)
    assert np.all(np.abs(ds.true_w) <= 3) and abs(ds.true_b) <= 2
    noisy = linear_regression(n=20_000, n_features=2, noise=0.5, seed=1)
    residual = noisy.y - noisy.X @ noisy.true_w - noisy.true_b
    assert abs(residual.std() - 0.5) < 0.01 and abs(residual.mean()) < 0.01
    assert abs(noisy.X.mean()) < 0.02 and abs(noisy.X.std() - 1) < 0.02


def test_linear_regression_weights_do_not_depend_on_n():
    small, large = linear_regression(n=10, n_features=2, seed=5), linear_regression(n=1000, n_features=2, seed=5)
    np.testing.assert_array_equal(small.true_w, large.true_w)
    assert small.true_b == large.true_b


def test_purchase_columns_and_documented_ranges():
    ds = purchase()
    assert ds.X.shape == (1000, 3) and ds.y.shape == (1000,)
    assert ds.feature_names == ("age", "income", "education")
    np.testing.assert_array_equal(ds.true_w, [-0.04, 0.03, 0.4])
    assert ds.true_b == -0.6
    age, income, education = ds.X.T
    assert age.min() == 18 and age.max() == 80 and np.all(age == np.round(age))
    assert set(np.unique(education)) == {0, 1, 2, 3}
    assert np.all(income > 0) and 35 < np.median(income) < 55
    assert set(np.unique(ds.y)) == {0, 1}


def test_purchase_class_balance_as_documented():
    shares = [purchase(seed=seed).y.mean() for seed in range(20)]
    assert all(0.34 <= share <= 0.45 for share in shares)
    assert 0.37 < np.mean(shares) < 0.42


def test_purchase_is_the_documented_logistic_model():
    """Maximum likelihood (Newton's method) on many rows recovers the documented coefficients."""
    ds = purchase(n=100_000, seed=7)
    objective = LogisticObjective(ds.X, ds.y)
    theta = np.zeros(4)
    for _ in range(12):
        theta -= np.linalg.solve(objective.hessian(theta), objective.grad(theta))
    assert np.linalg.norm(objective.grad(theta)) < 1e-10
    standard_error = np.sqrt(np.diag(np.linalg.inv(objective.hessian(theta))) / len(ds.y))
    assert np.all(np.abs(theta - np.append(ds.true_w, ds.true_b)) < 4 * standard_error)


def test_purchase_classes_overlap():
    ds = purchase()
    objective = LogisticObjective(StandardScaler().fit_transform(ds.X), ds.y)
    theta = np.zeros(4)
    for _ in range(20):
        theta -= np.linalg.solve(objective.hessian(theta), objective.grad(theta))
    assert np.linalg.norm(theta) < 5  # a separable set would send the maximum-likelihood weights to infinity


def test_standard_scaler_uses_training_statistics():
    rng = np.random.default_rng(0)
    X_train, X_val = rng.normal(5, 3, size=(100, 3)), rng.normal(5, 3, size=(40, 3))
    scaler = StandardScaler().fit(X_train)
    Z = scaler.transform(X_train)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-12)
    np.testing.assert_allclose(scaler.transform(X_val), (X_val - X_train.mean(0)) / X_train.std(0))
    np.testing.assert_array_equal(StandardScaler().fit_transform(X_train), Z)


def test_standard_scaler_matches_sklearn_and_keeps_constant_columns_finite():
    from sklearn.preprocessing import StandardScaler as SkStandardScaler

    X = np.column_stack([np.arange(6.0), np.full(6, 0.1), [1, 0, 1, 0, 1, 1]])
    ours, theirs = StandardScaler().fit(X), SkStandardScaler().fit(X)
    np.testing.assert_allclose(ours.mean_, theirs.mean_)
    np.testing.assert_allclose(ours.scale_, theirs.scale_)
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), atol=1e-15)
    assert ours.scale_[1] == 1.0 and np.all(np.abs(ours.transform(X)[:, 1]) < 1e-15)


def test_standard_scaler_errors():
    with pytest.raises(RuntimeError, match="call fit"):
        StandardScaler().transform(np.ones((2, 2)))
    with pytest.raises(ValueError, match="X must have 2 columns"):
        StandardScaler().fit(np.ones((3, 2))).transform(np.ones((3, 3)))
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        StandardScaler().fit(np.ones(3))


def test_train_val_split_partitions_rows_reproducibly():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    X_train, X_val, y_train, y_val = train_val_split(X, y, val_fraction=0.25, seed=1)
    assert len(y_val) == 3 and len(y_train) == 7  # ceil(0.25 * 10), as scikit-learn's test_size
    assert sorted(np.concatenate([y_train, y_val])) == list(range(10))
    np.testing.assert_array_equal(X_train[:, 0], 2 * y_train)  # rows stay paired with their targets
    np.testing.assert_array_equal(X_val[:, 0], 2 * y_val)
    again = train_val_split(X, y, val_fraction=0.25, seed=1)
    np.testing.assert_array_equal(again[3], y_val)
    assert not np.array_equal(train_val_split(X, y, val_fraction=0.25, seed=2)[3], y_val)
    assert not np.array_equal(np.concatenate([y_train, y_val]), y)  # shuffled


@given(n=st.integers(1, 60), batch_size=st.integers(1, 60), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=100, deadline=None)
def test_minibatches_cover_every_row_once(n, batch_size, seed):
    batch_size = min(batch_size, n)
    X, y = np.arange(2.0 * n).reshape(n, 2), np.arange(n)
    batches = list(minibatches(X, y, batch_size, rng=seed))
    full, rest = divmod(n, batch_size)
    assert [len(yb) for _, yb in batches] == [batch_size] * full + ([rest] if rest else [])
    rows = np.concatenate([yb for _, yb in batches])
    assert sorted(rows) == list(range(n))
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb[:, 0], 2 * yb)


def test_minibatches_reproducible_and_new_order_each_epoch():
    X, y = np.zeros((50, 1)), np.arange(50)

    def epochs(rng):
        return [np.concatenate([yb for _, yb in minibatches(X, y, 8, rng=rng)]) for _ in range(3)]

    first, again = epochs(np.random.default_rng(0)), epochs(np.random.default_rng(0))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])  # one generator: a fresh order each epoch
    np.testing.assert_array_equal(epochs(0)[0], epochs(0)[1])  # an int seed: the same order every call
    in_order = np.concatenate([yb for _, yb in minibatches(X, y, 8, shuffle=False)])
    np.testing.assert_array_equal(in_order, y)


ONES_X, ONES_Y = np.ones((5, 1)), np.ones(5)


@pytest.mark.parametrize("call, error, match", [
    (lambda: linear_regression(n=0), ValueError, "n must be an integer >= 1"),
    (lambda: linear_regression(n=2.5), TypeError, "n must be an integer"),
    (lambda: linear_regression(n_features=0), ValueError, "n_features must be an integer >= 1"),
    (lambda: linear_regression(noise=-1.0), ValueError, "noise must be >= 0"),
    (lambda: linear_regression(seed=-1), ValueError, "seed must be an integer >= 0"),
    (lambda: purchase(n=-5), ValueError, "n must be an integer >= 1"),
    (lambda: purchase(seed="a"), TypeError, "seed must be an integer"),
    (lambda: train_val_split(ONES_X, ONES_Y, val_fraction=0.0), ValueError, r"val_fraction must be in \(0, 1\)"),
    (lambda: train_val_split(ONES_X, ONES_Y, val_fraction=1.0), ValueError, r"val_fraction must be in \(0, 1\)"),
    (lambda: train_val_split(ONES_X, ONES_Y, val_fraction=0.9), ValueError, "leave rows in both sets"),
    (lambda: train_val_split(ONES_X, np.ones(4)), ValueError, "X and y must have the same number of rows"),
    (lambda: minibatches(ONES_X, ONES_Y, 0), ValueError, "batch_size must be an integer >= 1"),
    (lambda: minibatches(ONES_X, ONES_Y, 6), ValueError, "batch_size must be between 1 and the number of rows, 5"),
    (lambda: minibatches(ONES_X, np.ones(4), 2), ValueError, "X and y must have the same number of rows"),
    (lambda: minibatches(ONES_X, np.ones((5, 1)), 2), ValueError, "y must be a 1-D array"),
])
def test_bad_input_names_the_parameter(call, error, match):
    with pytest.raises(error, match=match):
        call()
