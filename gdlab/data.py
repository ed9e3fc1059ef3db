"""Synthetic datasets, feature scaling, a train/validation split and mini-batches (chapters 03 and 08).

Every generator is seeded: the same seed gives the same data, bit for bit.
"""
from dataclasses import dataclass

import numpy as np

from gdlab._validate import as_real, count, non_negative
from gdlab.models import sigmoid

__all__ = ["Dataset", "linear_regression", "purchase", "StandardScaler", "train_val_split", "minibatches"]


@dataclass(repr=False, eq=False)
class Dataset:
    """Features X (n, d), targets y (n,), and the weights and bias that generated them."""

    X: np.ndarray
    y: np.ndarray
    true_w: np.ndarray
    true_b: float
    feature_names: tuple

    def __repr__(self):
        return f"Dataset(n={len(self.y)}, features={self.feature_names})"


def linear_regression(n=200, n_features=1, noise=0.5, seed=0):
    """y = X @ true_w + true_b + noise * eps, the data of chapter 03.

    With rng = np.random.default_rng(seed), drawn in this order:
    true_w ~ Uniform(-3, 3) per feature, true_b ~ Uniform(-2, 2),
    X ~ N(0, 1) entry by entry, eps ~ N(0, 1) per row.
    The weights come first, so the same seed with a larger n gives the same true line.
    """
    n, d = count(n, "n", minimum=1), count(n_features, "n_features", minimum=1)
    noise = non_negative(noise, "noise")
    rng = np.random.default_rng(count(seed, "seed"))
    true_w = rng.uniform(-3, 3, size=d)
    true_b = float(rng.uniform(-2, 2))
    X = rng.standard_normal((n, d))
    y = X @ true_w + true_b + noise * rng.standard_normal(n)
    return Dataset(X, y, true_w, true_b, tuple(f"x{j}" for j in range(1, d + 1)))


def purchase(n=1000, seed=0):
    """n people and whether each bought the product, the data of chapter 08.

    Columns of X, feature_names ("age", "income", "education"); with rng = np.random.default_rng(seed),
    drawn in this order:
      age:       years, an integer uniform on 18..80
      education: 0 = none/primary, 1 = secondary, 2 = bachelor, 3 = master or above,
                 with probabilities 0.2, 0.4, 0.25, 0.15
      income:    thousands per year, log-normal:
                 log(income) = log(22) + 0.012 (age - 18) + 0.25 education + 0.4 N(0, 1)
    y = bought (0 or 1) ~ Bernoulli(sigmoid(z)), a logistic model with
      z = -0.6 - 0.04 age + 0.03 income + 0.4 education
    so true_w = (-0.04, 0.03, 0.4) and true_b = -0.6. Measured over seeds 0 to 99 at n = 1000:
    39% bought on average (36% to 43%); the classes overlap, so no line separates them (ROC AUC of the
    true z about 0.75); the median income is about 44, and income correlates with age (about 0.4).
    """
    n = count(n, "n", minimum=1)
    rng = np.random.default_rng(count(seed, "seed"))
    true_w, true_b = np.array([-0.04, 0.03, 0.4]), -0.6
    age = rng.integers(18, 81, size=n).astype(float)
    education = rng.choice(4, size=n, p=[0.2, 0.4, 0.25, 0.15]).astype(float)
    income = np.exp(np.log(22.0) + 0.012 * (age - 18) + 0.25 * education + 0.4 * rng.standard_normal(n))
    X = np.column_stack([age, income, education])
    bought = (rng.random(n) < sigmoid(X @ true_w + true_b)).astype(int)
    return Dataset(X, bought, true_w, true_b, ("age", "income", "education"))


class StandardScaler:
    """Rescale each feature to mean 0 and standard deviation 1, using statistics of the training set only.

    Named and behaving like sklearn.preprocessing.StandardScaler: `fit` on the training set, then
    `transform` the training, validation and test sets with the same mean_ and scale_.
    A constant column (zero variance) keeps scale_ 1: it is only centred, to 0 up to rounding, not divided by 0.
    """

    def fit(self, X):
        X = _as_matrix(X, "X")
        self.mean_ = X.mean(axis=0)
        self.scale_ = np.where(np.ptp(X, axis=0) == 0, 1.0, X.std(axis=0))
        return self

    def transform(self, X):
        if not hasattr(self, "mean_"):
            raise RuntimeError("call fit(X_train) before transform(X)")
        X = _as_matrix(X, "X")
        if X.shape[1] != len(self.mean_):
            raise ValueError(f"X must have {len(self.mean_)} columns, as when fitted; got shape {X.shape}")
        return (X - self.mean_) / self.scale_

    def fit_transform(self, X):
        return self.fit(X).transform(X)


def train_val_split(X, y, val_fraction=0.2, seed=0):
    """Shuffle the rows with np.random.default_rng(seed) and hold out ceil(val_fraction * n) of them.

    Returns X_train, X_val, y_train, y_val (the order of sklearn's train_test_split).
    """
    X, y = _as_data(X, y)
    val_fraction = as_real(val_fraction, "val_fraction")
    n = len(y)
    n_val = int(np.ceil(val_fraction * n)) if 0 < val_fraction < 1 else 0
    if not 0 < n_val < n:
        raise ValueError(f"val_fraction must be in (0, 1) and leave rows in both sets; "
                         f"got {val_fraction} with n = {n} rows")
    order = np.random.default_rng(count(seed, "seed")).permutation(n)
    val, train = order[:n_val], order[n_val:]
    return X[train], X[val], y[train], y[val]


def minibatches(X, y, batch_size, rng=None, shuffle=True):
    """(X_batch, y_batch) pairs covering every row exactly once (one epoch); the last batch may be smaller.

    `rng` is a np.random.Generator or a seed. Make one generator and pass it every epoch: each epoch
    then gets a new order, and the whole run is reproducible. With shuffle=False rows come in order.
    """
    X, y = _as_data(X, y)
    n = len(y)
    batch_size = count(batch_size, "batch_size", minimum=1)
    if batch_size > n:
        raise ValueError(f"batch_size must be between 1 and the number of rows, {n}; got {batch_size}")
    order = np.random.default_rng(rng).permutation(n) if shuffle else np.arange(n)
    batches = [order[start:start + batch_size] for start in range(0, n, batch_size)]
    return ((X[rows], y[rows]) for rows in batches)  # not a generator function: bad input fails at the call


def _as_matrix(X, name):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"{name} must be a 2-D array of shape (n, d) with n >= 1, got shape {X.shape}")
    return X


def _as_data(X, y):
    """X as an (n, d) float array and y as an (n,) array, with matching n."""
    X, y = _as_matrix(X, "X"), np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of shape (n,), got shape {y.shape}")
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows; got X {X.shape[0]}, y {y.shape[0]}")
    return X, y
