"""Gradient descent (fixed step or backtracking line search), Newton's method, and a runner for any gdlab
optimizer, each returning a Trace."""
from dataclasses import dataclass

import numpy as np

from gdlab._validate import as_point, count, non_negative, positive, strictly_between_0_and_1

__all__ = ["Trace", "gradient_descent", "minimize", "newton", "backtracking_descent"]

EXPLOSION = 1e12  # a loss this many times larger than where it started counts as diverged


@dataclass(repr=False)
class Trace:
    """What a descent run did: every point visited, its loss and gradient norm, and how it ended."""

    xs: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    status: str  # "converged", "diverged" or "max_steps"
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

    def __repr__(self):
        return f"Trace({self.message})"


def gradient_descent(f, grad, x0, lr, steps=1000, tol=1e-8):
    """x_{k+1} = x_k - lr * grad(x_k) until ||grad|| <= tol, divergence, or `steps` updates."""
    lr = positive(lr, "lr")
    return _run(f, grad, x0, lambda x, g: x - lr * g, steps, tol, advice="try a smaller learning rate")


def _run(f, grad, x0, update, steps, tol, advice):
    """Iterate x = update(x, grad(x)) and record a Trace; shared by every descent method."""
    x = as_point(x0, "x0")
    steps = count(steps, "steps")
    tol = non_negative(tol, "tol")
    xs, losses, grad_norms = [], [], []
    status = "max_steps"
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(steps + 1):
            loss, g = float(f(x)), np.asarray(grad(x), dtype=float)
            if g.shape != x.shape:
                raise ValueError(f"grad(x) must have the shape of x0, {x.shape}; got {g.shape}")
            g_norm = float(np.linalg.norm(g))
            xs.append(x.copy())
            losses.append(loss)
            grad_norms.append(g_norm)
            if not np.isfinite(loss) or not np.isfinite(g_norm) or abs(loss) > EXPLOSION * max(1.0, abs(losses[0])):
                status = "diverged"
                break
            if g_norm <= tol:
                status = "converged"
                break
            if k < steps:
                x = update(x, g)
    k = len(xs) - 1
    message = {
        "converged": f"converged in {k} steps: loss {loss:.6g}, |grad| {g_norm:.2e} <= tol {tol:.0e}",
        "diverged": f"diverged at step {k}: loss {loss:.3g}; {advice}",
        "max_steps": f"stopped after {k} steps (max_steps): loss {loss:.6g}, |grad| {g_norm:.2e} > tol {tol:.0e}",
    }[status]
    return Trace(np.array(xs), np.array(losses), np.array(grad_norms), status, message)


def minimize(f, grad, x0, optimizer, steps=1000, tol=1e-8):
    """Run a gdlab.optim optimizer, x = optimizer.step(x, grad(x)), from x0; same stopping rules and Trace.

    The optimizer's state is reset first, so every call starts afresh (its hyperparameters are kept):
        minimize(rosenbrock, rosenbrock.grad, [-1.0, 1.0], gdlab.optim.Adam(lr=0.01), steps=5000)
    """
    if not (callable(getattr(optimizer, "step", None)) and callable(getattr(optimizer, "reset", None))):
        raise TypeError("optimizer must be a gdlab.optim optimizer such as Adam(lr=0.01), "
                        f"got {type(optimizer).__name__}")
    optimizer.reset()
    return _run(f, grad, x0, optimizer.step, steps, tol, advice=f"try a smaller learning rate than lr={optimizer.lr:g}")


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

