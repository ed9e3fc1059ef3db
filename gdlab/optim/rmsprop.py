"""RMSprop, plain or centered, with optional momentum, as torch.optim.RMSprop."""
import numpy as np

from gdlab._validate import non_negative
from gdlab.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    """v = alpha v + (1 - alpha) g^2; x -= lr * g / (sqrt(v) + eps). Hinton, lecture 6e (2012).

    centered=True divides by an estimate of the gradient's standard deviation instead,
    sqrt(v - g_avg^2) with g_avg = alpha g_avg + (1 - alpha) g (Graves 2013).
    momentum > 0 accumulates b = momentum b + g / (sqrt(v) + eps) and steps x -= lr * b.
    """

    def __init__(self, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
        super().__init__(lr, weight_decay)
        self.alpha = non_negative(alpha, "alpha")
        self.eps = non_negative(eps, "eps")
        self.momentum = non_negative(momentum, "momentum")
        self.centered = bool(centered)

    def _update(self, x, g, state):
        alpha = self.alpha
        v = state["square_avg"] = alpha * state.get("square_avg", 0.0) + (1 - alpha) * g**2
        if self.centered:
            g_avg = state["grad_avg"] = alpha * state.get("grad_avg", 0.0) + (1 - alpha) * g
            v = v - g_avg**2
        step = g / (np.sqrt(v) + self.eps)
        if self.momentum > 0:
            step = state["momentum_buffer"] = self.momentum * state.get("momentum_buffer", 0.0) + step
        x -= self.lr * step
