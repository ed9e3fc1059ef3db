"""Adadelta, as torch.optim.Adadelta."""
import numpy as np

from gdlab._validate import fraction, non_negative
from gdlab.optim.optimizer import Optimizer


class Adadelta(Optimizer):
    """Zeiler 2012, Algorithm 1: the step has the units of x, RMS[dx] / RMS[g] * g.

    E[g^2] = rho E[g^2] + (1 - rho) g^2;  dx = sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g;
    E[dx^2] = rho E[dx^2] + (1 - rho) dx^2;  x -= lr * dx.
    The paper has no learning rate (lr=1.0, torch's default, is the paper's algorithm).
    """

    def __init__(self, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0):
        super().__init__(lr, weight_decay)
        self.rho = fraction(rho, "rho")
        self.eps = non_negative(eps, "eps")

    def _update(self, x, g, state):
        rho, eps = self.rho, self.eps
        Eg2 = state["square_avg"] = rho * state.get("square_avg", 0.0) + (1 - rho) * g**2
        Edx2 = state.get("acc_delta", 0.0)  # E[dx^2] of the steps before this one
        dx = np.sqrt(Edx2 + eps) / np.sqrt(Eg2 + eps) * g
        state["acc_delta"] = rho * Edx2 + (1 - rho) * dx**2
        x -= self.lr * dx
