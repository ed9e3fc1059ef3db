"""Finite-difference gradients and the gradient check.

Forward difference: (f(x + h e_i) - f(x)) / h, error O(h).
Central difference: (f(x + h e_i) - f(x - h e_i)) / 2h, error O(h^2).
"""
import numpy as np

from gdlab._validate import as_point, one_of, positive

__all__ = ["numerical_gradient", "gradient_check"]


def numerical_gradient(f, x, h=1e-6, method="central"):
    """Approximate the gradient of scalar `f` at `x` (any shape) by finite differences."""
    x = as_point(x, "x")
    h = positive(h, "h")
    one_of(method, "method", ("central", "forward"))
    g = np.empty_like(x)
    f_x = float(f(x)) if method == "forward" else None
    step = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step[i] = h
        if method == "central":
            g[i] = (f(x + step) - f(x - step)) / (2 * h)
        else:
            g[i] = (f(x + step) - f_x) / h
        step[i] = 0.0
    return g


def gradient_check(f, grad, x, h=1e-6):
    """Relative error ||g - g_num|| / max(||g||, ||g_num||) between `grad(x)` and central differences.

    Around 1e-8 or less: the analytic gradient is right. Around 1e-2 or more: it is wrong.
    """
    x = as_point(x, "x")
    analytic = np.asarray(grad(x), dtype=float)
    if analytic.shape != x.shape:
        raise ValueError(f"grad(x) must have the shape of x, {x.shape}; got {analytic.shape}")
    numeric = numerical_gradient(f, x, h=h)
    scale = max(np.linalg.norm(analytic), np.linalg.norm(numeric))
    return 0.0 if scale == 0 else float(np.linalg.norm(analytic - numeric) / scale)
