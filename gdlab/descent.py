"""Descent runners, each returning a Trace: gradient descent (fixed step or backtracking line search), Newton's
method, any gdlab optimizer (`minimize`), and mini-batch descent on a linear regression; with the rate of
heavy-ball momentum on a quadratic.

Every runner stops at the same divergence rule, `diverged`, and says how a run ended in `Trace.status`.
"""
import math
from dataclasses import dataclass

import numpy as np

from gdlab._validate import as_point, count, non_negative, positive, strictly_between_0_and_1
from gdlab.data import minibatches
from gdlab.functions import Objective
from gdlab.models import LinearRegressionObjective, _mse_grad

__all__ = ["Trace", "diverged", "gradient_descent", "minimize", "newton", "backtracking_descent",
           "minibatch_descent", "heavy_ball_rate", "heavy_ball_best"]

EXPLOSION = 1e12  # a loss this many times larger than where it started (and than 1) counts as diverged


def diverged(loss, start_loss):
    """The divergence rule of every gdlab runner: True where `loss` is not finite, or more than EXPLOSION
    times larger than max(1, |start_loss|). Either may be an array (e.g. one start loss per run of a batch of
    runs); they broadcast."""
    if np.ndim(start_loss) == 0:
        limit = _limit(float(start_loss))
    else:
        start = np.abs(np.asarray(start_loss, dtype=float))
        limit = np.where(np.isfinite(start), EXPLOSION * np.maximum(1.0, start), EXPLOSION)
    return ~(np.abs(loss) <= limit)  # `~(<=)` also catches NaN


def _limit(start_loss):
    """The largest |loss| that is not a divergence, for a run whose loss started at the float start_loss."""
    return EXPLOSION * max(1.0, abs(start_loss)) if math.isfinite(start_loss) else EXPLOSION


@dataclass(repr=False, eq=False)
class Trace:
    """What a descent run did: every point visited, its loss and gradient norm, and how it ended.

    Read `status` ("converged", "diverged" or "max_steps") to know how it ended; `message` says the same
    for a person. Two Traces are equal (==) when they hold the same points, losses, gradient norms and status.
    """

    xs: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    status: str
    message: str

    @property
    def steps(self):
        return len(self.xs) - 1

    @property
    def x(self):
        """The last point."""
        return self.xs[-1]

    @property
    def loss(self):
        return float(self.losses[-1])

    def __eq__(self, other):
        if not isinstance(other, Trace):
            return NotImplemented
        return self.status == other.status and all(
            np.array_equal(a, b, equal_nan=True) for a, b in ((self.xs, other.xs), (self.losses, other.losses),
                                                               (self.grad_norms, other.grad_norms)))

    __hash__ = None  # it holds arrays, which can change

    def __repr__(self):
        return f"Trace({self.message})"


def gradient_descent(f, grad, x0, lr, steps=1000, tol=1e-8):
    """x_{k+1} = x_k - lr * grad(x_k) until ||grad|| <= tol, divergence, or `steps` updates."""
    lr = positive(lr, "lr")
    return _run(f, grad, x0, lambda x, g: x - lr * g, steps, tol, advice="try a smaller learning rate")


def _run(f, grad, x0, update, steps, tol, advice):
    """Iterate x = update(x, grad(x)) and record a Trace; shared by every descent method.

    Everything is checked once, at x0; the loop then does only the maths and the bookkeeping, with the
    divergence rule on plain floats (a step of a 2-parameter run costs a few microseconds).
    tol=None never stops on the gradient: every run takes all `steps` (unless it diverges). Use it with
    momentum, which keeps moving x where the gradient is exactly zero."""
    x = as_point(x0, "x0", getattr(f, "dim", None))
    steps = count(steps, "steps")
    tol = None if tol is None else non_negative(tol, "tol")
    f, grad = _unchecked(f, grad)
    xs, losses, grad_norms = [], [], []
    status = "max_steps"
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        loss, g = f(x), grad(x)
        _check_first_call(loss, g, x)
        limit = _limit(float(loss))
        for k in range(steps + 1):
            if k:
                loss, g = f(x), grad(x)
            loss, g = float(loss), np.asarray(g, dtype=float)
            g_norm = math.sqrt(g.dot(g)) if g.ndim == 1 else float(np.linalg.norm(g))
            xs.append(x.copy())  # an optimizer updates x in place
            losses.append(loss)
            grad_norms.append(g_norm)
            if not (abs(loss) <= limit and math.isfinite(g_norm)):  # diverged(loss, losses[0]), on floats
                status = "diverged"
                break
            if tol is not None and g_norm <= tol:
                status = "converged"
                break
            if k < steps:
                x = update(x, g)
    k = len(xs) - 1
    if status == "converged":
        message = f"converged in {k} steps: loss {loss:.6g}, |grad| {g_norm:.2e} <= tol {tol:.0e}"
    elif status == "diverged":
        message = f"diverged at step {k}: loss {loss:.3g}; {advice}"
    else:
        message = (f"stopped after {k} steps (max_steps): loss {loss:.6g}, |grad| {g_norm:.2e}"
                   + ("" if tol is None else f" > tol {tol:.0e}"))
    return Trace(np.array(xs), np.array(losses), np.array(grad_norms), status, message)


def _unchecked(f, grad):
    """A gdlab Objective and its own gradient, as the runners call them: their maths without the input checks
    of f(x) and f.grad(x), which x0 has passed (every later x is a float64 array of x0's shape)."""
    if (isinstance(f, Objective) and type(f).__call__ is Objective.__call__
            and getattr(grad, "__self__", None) is f and getattr(grad, "__func__", None) is Objective.grad):
        return f._f, f._grad
    return f, grad


def _check_first_call(value, g, x0):
    """Clear errors for the usual mix-ups, from f(x0) and grad(x0): f and grad swapped, a missing `return`."""
    if value is None or g is None:
        raise TypeError(f"{'f' if value is None else 'grad'}(x0) returned None: did you forget `return`?")
    if np.ndim(value) != 0:
        swapped = " (are f and grad swapped? the order is f, grad, x0)" if np.ndim(g) == 0 else ""
        raise TypeError(f"f(x0) must return one number, the loss; got an array of shape {np.shape(value)}{swapped}")
    if np.shape(g) != x0.shape:
        raise ValueError(f"grad(x0) must return an array of the shape of x0, {x0.shape}; got {np.shape(g)}")


def minimize(f, grad, x0, optimizer, steps=1000, tol=1e-8):
    """Run a gdlab.optim optimizer, x = optimizer.step(x, grad(x)), from x0; same stopping rules and Trace.

    The optimizer's state is reset first, so every call starts afresh (its hyperparameters are kept):
        minimize(rosenbrock, rosenbrock.grad, [-1.0, 1.0], gdlab.optim.Adam(lr=0.01), steps=5000)
    """
    _check_optimizer(optimizer)
    optimizer.reset()
    return _run(f, grad, x0, optimizer.step, steps, tol, advice=f"try a smaller learning rate than lr={optimizer.lr:g}")


def _check_optimizer(optimizer):
    if isinstance(optimizer, type):
        raise TypeError(f"optimizer must be an optimizer object, not the class {optimizer.__name__}: "
                        f"make one with its settings, e.g. {optimizer.__name__}(lr=0.01)")
    if not (callable(getattr(optimizer, "step", None)) and callable(getattr(optimizer, "reset", None))):
        raise TypeError("optimizer must be a gdlab.optim optimizer such as Adam(lr=0.01), "
                        f"got {type(optimizer).__name__}")


def newton(f, grad, hessian, x0, steps=100, tol=1e-8):
    """x_{k+1} = x_k - H(x_k)^{-1} grad(x_k): pure Newton (Nocedal & Wright, Numerical Optimization, 2006, sec. 3.3).

    Raises numpy.linalg.LinAlgError where the Hessian is singular: the Newton step is undefined there.
    """

    def newton_step(x, g):
        H = np.asarray(hessian(x), dtype=float)
        if H.shape != (x.size, x.size):
            raise ValueError(f"hessian(x) must have shape {(x.size, x.size)} for x0 of shape {x.shape}; got {H.shape}")
        condition = np.linalg.cond(H)
        if not condition < 1 / np.finfo(float).eps:  # `not <` also catches inf and NaN
            raise np.linalg.LinAlgError(
                f"newton: the Hessian at x = {np.array2string(x, precision=6)} is singular (condition number "
                f"{condition:.1e}), so the Newton step H^-1 grad is undefined; start elsewhere or use "
                "backtracking_descent")
        return x - np.linalg.solve(H, g)

    return _run(f, grad, x0, newton_step, steps, tol,
                advice="pure Newton converges only from close enough to a minimum: start closer, or use a line search")


def backtracking_descent(f, grad, x0, lr=1.0, steps=1000, tol=1e-8, c=1e-4, shrink=0.5):
    """Gradient descent whose step starts at lr and shrinks until f(x - a g) <= f(x) - c a ||g||^2 (Armijo).

    Backtracking line search: Nocedal & Wright, Numerical Optimization, 2006, Algorithm 3.1.
    """
    lr = positive(lr, "lr")
    c, shrink = strictly_between_0_and_1(c, "c"), strictly_between_0_and_1(shrink, "shrink")

    def armijo_step(x, g):
        fx, slope, alpha = f(x), g @ g, lr
        while not f(x - alpha * g) <= fx - c * alpha * slope:  # `not <=` also rejects a NaN trial point
            alpha *= shrink
        return x - alpha * g

    return _run(f, grad, x0, armijo_step, steps, tol, advice="the loss fell without bound: is f bounded below?")


def minibatch_descent(X, y, optimizer, batch_size, epochs, seed=0, scheduler=None, x0=None):
    """Mini-batch descent on the MSE of a linear model, theta = [w, b], from x0 (None: zeros; chapter 03's loop).

    Each epoch visits the rows in a new order (data.minibatches with one generator seeded by `seed`); each
    batch gives one step theta = optimizer.step(theta, gradient of models.mse_loss on the batch);
    scheduler.step(), if given, ends each epoch. Returns a Trace with one row per update: xs[k] is theta
    after k updates, losses[k] and grad_norms[k] the MSE and its gradient's norm on all the data there.
    status is "diverged" (at the first update where `diverged` holds) or "max_steps" (every epoch ran).
    The optimizer is reset first; a scheduler must be a fresh one, built on this optimizer.
    """
    _check_optimizer(optimizer)
    objective = LinearRegressionObjective(X, y)
    epochs = count(epochs, "epochs")
    rng = np.random.default_rng(count(seed, "seed"))
    theta = np.zeros(objective.dim) if x0 is None else as_point(x0, "x0", objective.dim)
    if theta.ndim != 1:
        raise ValueError(f"x0 must be one point [w, b] of shape ({objective.dim},), got shape {theta.shape}")
    thetas, losses = [theta.copy()], objective(theta[:, None])
    status, message = "max_steps", ""
    optimizer.reset()
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(1, epochs + 1):
            first = len(thetas)
            for X_batch, y_batch in minibatches(objective.X, objective.y, batch_size, rng):
                dw, db = _mse_grad(theta[:-1], theta[-1], X_batch, y_batch)  # the data is checked
                theta = optimizer.step(theta, np.append(dw, db))
                thetas.append(theta.copy())
            losses = np.append(losses, objective(np.array(thetas[first:]).T))  # the epoch's updates at once
            bad = np.flatnonzero(diverged(losses, losses[0]))
            if len(bad):
                status, thetas, losses = "diverged", thetas[: bad[0] + 1], losses[: bad[0] + 1]
                message = (f"diverged at update {bad[0]} (epoch {epoch}): loss {losses[-1]:.3g}; "
                           "try a smaller learning rate or a larger batch")
                break
            if scheduler is not None:
                scheduler.step()
        xs = np.array(thetas)
        grad_norms = np.linalg.norm(objective.grad(xs.T), axis=0)
    if status == "max_steps":
        message = f"stopped after {len(xs) - 1} updates ({epochs} epochs, max_steps): loss {losses[-1]:.6g}"
    return Trace(xs, losses, grad_norms, status, message)


def heavy_ball_rate(lr, momentum, eigenvalue):
    """Per-step contraction of heavy-ball momentum along one eigendirection (eigenvalue) of a quadratic.

    The error along it follows e_{k+1} = (1 + momentum - lr * eigenvalue) e_k - momentum e_{k-1}, so it shrinks
    by the larger |root| of z^2 - a z + momentum, a = 1 + momentum - lr * eigenvalue: the spectral radius of
    [[a, -momentum], [1, 0]] (Polyak 1964; Goh, "Why Momentum Really Works", 2017). Above 1 the run diverges.
    """
    a = 1 + momentum - lr * eigenvalue
    discriminant = a * a - 4 * momentum
    if discriminant < 0:  # complex roots of modulus sqrt(momentum): the error spirals
        return math.sqrt(momentum)
    return (abs(a) + math.sqrt(discriminant)) / 2


def heavy_ball_best(L, mu):
    """Polyak's best heavy-ball settings for a quadratic whose Hessian has eigenvalues in [mu, L]: the pair
    (lr, momentum) = (4 / (sqrt(L) + sqrt(mu))^2, ((sqrt(L) - sqrt(mu)) / (sqrt(L) + sqrt(mu)))^2).

    They make both extreme eigendirections critically damped, so every direction shrinks at the same rate,
    heavy_ball_rate = sqrt(momentum) = (sqrt(kappa) - 1) / (sqrt(kappa) + 1), kappa = L / mu (Polyak 1964).
    """
    L, mu = positive(L, "L"), positive(mu, "mu")
    if mu > L:
        raise ValueError(f"mu must be <= L (the smallest and the largest eigenvalue), got mu={mu:g} > L={L:g}")
    root_L, root_mu = math.sqrt(L), math.sqrt(mu)
    return 4 / (root_L + root_mu) ** 2, ((root_L - root_mu) / (root_L + root_mu)) ** 2
