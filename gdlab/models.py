"""Linear and logistic regression: losses and their gradients, written like the maths (chapters 03 and 08).

A model has weights w, shape (d,), and a bias b; for rows X, shape (n, d), its scores are z = X @ w + b.
The loss functions take (w, b, X, y); the gradient functions return the pair (dL/dw, dL/db).
The gdlab optimizers and gdlab.descent work on one flat vector instead: theta = [w_1, ..., w_d, b]
(theta = np.append(w, b); w, b = theta[:-1], theta[-1]). LinearRegressionObjective and
LogisticObjective wrap a dataset into such an f(theta) with .grad(theta) and .hessian(theta).
"""
import numpy as np

from gdlab._validate import non_negative
from gdlab.functions import Objective

__all__ = [
    "sigmoid", "predict_proba", "mse_loss", "mse_grad", "logistic_loss", "logistic_grad", "design_matrix",
    "LinearRegressionObjective", "LogisticObjective",
]


def design_matrix(X):
    """Z = [X, 1], a column of ones after the features, so that Z @ theta = X @ w + b for theta = [w, b]."""
    X = np.asarray(X, dtype=float)
    return np.column_stack([X, np.ones(len(X))])


def sigmoid(z):
    """1 / (1 + exp(-z)), computed as exp(-log(1 + exp(-z))) so that no z overflows."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=float)))


def predict_proba(w, b, X):
    """P(y = 1 | x) = sigmoid(x @ w + b) for each row x of X."""
    w, b, X, _ = _check(w, b, X)
    return sigmoid(X @ w + b)


def mse_loss(w, b, X, y):
    """Mean squared error: L = mean_i (x_i @ w + b - y_i)^2."""
    w, b, X, y = _check(w, b, X, y)
    residual = X @ w + b - y
    return float(np.mean(residual**2))


def mse_grad(w, b, X, y):
    """dL/dw = 2/n X^T r, dL/db = 2 mean(r), with residuals r = X @ w + b - y."""
    return _mse_grad(*_check(w, b, X, y))


def _mse_grad(w, b, X, y):
    """mse_grad on checked arrays: what a runner calls once per batch after checking the data once."""
    residual = X @ w + b - y
    return 2 * X.T @ residual / len(y), 2 * float(residual.sum()) / len(y)  # sum / n: np.mean, without its overhead


def logistic_loss(w, b, X, y, l2=0.0):
    """Mean binary cross-entropy of p = sigmoid(z), z = X @ w + b, plus the L2 penalty l2/2 ||w||^2.

    -[y log p + (1 - y) log(1 - p)] equals log(1 + e^z) - y z, computed as np.logaddexp(0, z) - y z:
    finite for any finite z, where log(sigmoid(z)) would give log(0) = -inf once z < -745.
    The bias is not penalised (as in scikit-learn, where C = 1 / (l2 n)).
    """
    w, b, X, y = _check(w, b, X, y, binary=True)
    l2 = non_negative(l2, "l2")
    z = X @ w + b
    return float(np.mean(np.logaddexp(0.0, z) - y * z) + l2 / 2 * (w @ w))


def logistic_grad(w, b, X, y, l2=0.0):
    """dL/dw = X^T (p - y) / n + l2 w, dL/db = mean(p - y), with p = sigmoid(X @ w + b)."""
    w, b, X, y = _check(w, b, X, y, binary=True)
    l2 = non_negative(l2, "l2")
    error = sigmoid(X @ w + b) - y
    return X.T @ error / len(y) + l2 * w, float(np.mean(error))


class _DatasetObjective(Objective):
    """f(theta) for theta = [w, b] on fixed data X, y; subclasses define _loss, _loss_grad, _hessian."""

    def __init__(self, X, y, binary=False):
        self.X, self.y = _check_data(X, y, binary)
        self.Z = design_matrix(self.X)
        self.dim = self.X.shape[1] + 1

    def _f(self, theta):
        if theta.ndim > 1:  # a stack of points of shape (d + 1, ...), such as a contour grid or a path
            return self._losses(theta.reshape(self.dim, -1)).reshape(theta.shape[1:])
        return self._loss(theta[:-1], theta[-1])

    def _grad(self, theta):
        dw, db = self._loss_grad(_single(theta)[:-1], theta[-1])
        return np.append(dw, db)


class LinearRegressionObjective(_DatasetObjective):
    """f(theta) = mse_loss(w, b, X, y), theta = [w_1, ..., w_d, b]; minima holds the least-squares fit."""

    def __init__(self, X, y):
        super().__init__(X, y)
        self.name = f"linear regression MSE (n={len(self.y)}, d={self.dim - 1})"
        self.minima = [np.linalg.lstsq(self.Z, self.y, rcond=None)[0]]
        self.domain = tuple((float(c) - 3.0, float(c) + 3.0) for c in self.minima[0])
        self._f_min = self._loss(self.minima[0][:-1], self.minima[0][-1])
        self._H = 2 * self.Z.T @ self.Z / len(self.y)

    @property
    def f_min(self):
        return self._f_min

    def _loss(self, w, b):
        return mse_loss(w, b, self.X, self.y)

    def _loss_grad(self, w, b):
        return mse_grad(w, b, self.X, self.y)

    def _losses(self, thetas):
        """The MSE at each column of thetas, shape (d + 1, m), all at once, from its exact expansion about the
        least-squares fit theta*: f(theta) = f* + (theta - theta*)^T (Z^T Z / n) (theta - theta*). Its cost per
        point does not grow with n, and f - f* keeps its digits even where it is far smaller than f*."""
        offsets = thetas - self.minima[0][:, None]
        return self.f_min + np.sum(offsets * (self._H / 2 @ offsets), axis=0)

    def _grad(self, theta):
        if theta.ndim > 1:  # a stack of points: grad f = (2 Z^T Z / n) (theta - theta*) at each, all at once
            offsets = theta.reshape(self.dim, -1) - self.minima[0][:, None]
            return (self._H @ offsets).reshape(theta.shape)
        return super()._grad(theta)

    def _hessian(self, _theta):
        """2/n Z^T Z, the same at every theta: its largest eigenvalue is L, and lr < 2/L is stable."""
        return self._H.copy()


class LogisticObjective(_DatasetObjective):
    """f(theta) = logistic_loss(w, b, X, y, l2), theta = [w_1, ..., w_d, b]; y holds 0s and 1s."""

    def __init__(self, X, y, l2=0.0):
        super().__init__(X, y, binary=True)
        self.l2 = non_negative(l2, "l2")
        self.name = f"logistic loss (n={len(self.y)}, d={self.dim - 1}, l2={self.l2:g})"
        self.domain = ((-3.0, 3.0),) * self.dim

    def _loss(self, w, b):
        return logistic_loss(w, b, self.X, self.y, self.l2)

    def _loss_grad(self, w, b):
        return logistic_grad(w, b, self.X, self.y, self.l2)

    def _losses(self, thetas):
        """The loss at each column of thetas, shape (d + 1, m), all at once."""
        z = self.Z @ thetas
        w = thetas[:-1]
        return np.mean(np.logaddexp(0.0, z) - self.y[:, None] * z, axis=0) + self.l2 / 2 * np.sum(w * w, axis=0)

    def _hessian(self, theta):
        """Z^T diag(p (1 - p)) Z / n, plus l2 on the weights."""
        Z = self.Z
        p = sigmoid(Z @ _single(theta))
        H = Z.T @ (Z * (p * (1 - p))[:, None]) / len(self.y)
        return H + np.diag(np.append(np.full(self.dim - 1, self.l2), 0.0))


def _single(theta):
    if theta.ndim != 1:
        raise ValueError(f"theta must be one point of shape (d + 1,), got shape {theta.shape}")
    return theta


def _check(w, b, X, y=None, binary=False):
    """Arrays of matching shapes, or a ValueError naming the parameter."""
    X, y = _check_data(X, y, binary)
    w = np.asarray(w, dtype=float)
    if w.shape != (X.shape[1],):
        raise ValueError(f"w must have shape ({X.shape[1]},), one weight per column of X; got shape {w.shape}")
    if np.ndim(b) != 0:
        raise ValueError(f"b must be a scalar, got shape {np.shape(b)}")
    return w, float(b), X, y


def _check_data(X, y, binary):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"X must be a 2-D array of shape (n, d) with n >= 1, got shape {X.shape}")
    if y is not None:
        y = np.asarray(y, dtype=float)
        if y.shape != (len(X),):
            raise ValueError(f"y must have shape ({len(X)},), one target per row of X; got shape {y.shape}")
        if binary and not np.all((y == 0) | (y == 1)):
            raise ValueError("y must hold class labels 0 and 1 only")
    return X, y
